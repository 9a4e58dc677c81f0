"""The service reads the copies its hot endpoints use before serving, and keeps them current in the background:
no caller waits for a first read or for the read of a version a publish just made."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC
from pathlib import Path

from quancheng.consolidate.stage_forms import stage_dataset_id


def test_hot_copies_are_read_before_the_first_call(demo_home: Path, slice_catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    _, app = api_factory(demo_home, slice_catalog, warm=True)
    service = app.state.service
    hot = service.hot_copies()
    assert any(ds.startswith("stage.") for _, ds in hot) and any(a == "shared_open" for a, _ in hot)
    assert not any(a.startswith("src_") for a, _ in hot)
    assert set(hot) <= set(service.cache.held())  # read at start, before anyone asked


def test_without_warming_nothing_is_read_until_asked(demo_home: Path, slice_catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    _, app = api_factory(demo_home, slice_catalog, warm=False)
    assert app.state.service.cache.held() == []


def test_a_new_version_is_read_in_the_background(demo_home: Path, slice_catalog, api_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    _, app = api_factory(home, slice_catalog, warm=True, refresh_interval=0.05)
    cache = app.state.service.cache
    ds = stage_dataset_id(slice_catalog.stages[0].stage_id)
    link = home / "shared" / "areas" / "shared_open" / ds
    old = os.path.basename(os.readlink(link))
    assert cache._copies[("shared_open", ds)].version == old
    # a publish: the next version laid down beside the old one, then the link swapped atomically
    target = link.parent / ".versions" / ds / "feedfacefeedface"
    shutil.copytree(link.parent / ".versions" / ds / old, target)
    tmp_link = link.with_name(ds + ".swap")
    tmp_link.symlink_to(f".versions/{ds}/feedfacefeedface")
    os.replace(tmp_link, link)
    deadline = time.monotonic() + 10
    while cache._copies[("shared_open", ds)].version != "feedfacefeedface" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache._copies[("shared_open", ds)].version == "feedfacefeedface"  # no call was made


def test_an_area_link_is_read_at_most_once_a_ttl(tmp_path: Path) -> None:
    from quancheng.serve.cache import AreaCache

    area = tmp_path / "areas" / "shared_open"
    for v in ("aaaa", "bbbb"):
        (area / ".versions" / "ds" / v).mkdir(parents=True)
    (area / "ds").symlink_to(".versions/ds/aaaa")
    cache = AreaCache(tmp_path / "areas", [], link_ttl=60)
    assert cache.version("shared_open", "ds") == "aaaa"
    (area / "ds.new").symlink_to(".versions/ds/bbbb")
    os.replace(area / "ds.new", area / "ds")
    assert cache.version("shared_open", "ds") == "aaaa"  # within the TTL: no system call, the last answer
    assert cache.version("shared_open", "ds", fresh=True) == "bbbb"  # what the background refresher asks
    assert AreaCache(tmp_path / "areas", [], link_ttl=0).version("shared_open", "ds") == "bbbb"


def test_as_of_serves_the_current_version_and_refuses_others(demo_home: Path, slice_catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    from quancheng.publish.store import SharedStore
    from quancheng.serve.clients import ClientStore

    client, _ = api_factory(demo_home, slice_catalog)
    key = ClientStore(SharedStore(demo_home).engine).add(f"asof-{os.getpid()}", "Development and Reform Commission",
                                                         slice_catalog)
    auth = {"Authorization": f"Bearer {key}"}
    ds = stage_dataset_id(slice_catalog.stages[0].stage_id)
    now = client.get(f"/v1/datasets/{ds}/records", params={"page_size": 2}, headers=auth).json()
    version, since = now["dataset"]["version"], now["dataset"]["updated_at"]
    same = client.get(f"/v1/datasets/{ds}/records", params={"page_size": 2, "as_of": version}, headers=auth)
    assert same.status_code == 200 and same.json()["records"] == now["records"]
    later = (datetime.fromisoformat(since) + timedelta(seconds=1)).isoformat()
    assert client.get(f"/v1/datasets/{ds}/records", params={"as_of": later}, headers=auth).status_code == 200
    for old in ("0123456789abcdef", (datetime.fromisoformat(since) - timedelta(days=1)).isoformat()):
        r = client.get(f"/v1/datasets/{ds}/records", params={"as_of": old}, headers=auth)
        assert r.status_code == 404 and r.json()["error"]["code"] == "version_not_kept", r.text
        assert version in r.json()["error"]["message"]
    bad = client.get(f"/v1/datasets/{ds}/records", params={"as_of": "yesterday?"}, headers=auth)
    assert bad.status_code == 422


def test_as_of_serves_an_earlier_version_while_it_is_kept(demo_home: Path, slice_catalog, api_factory,
                                                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A new version of a copy is published; as of the old version (or a time before the new one) the caller
    gets the old rows, as of now the new ones; once maintenance prunes the old version it is a 404."""
    from datetime import datetime, timedelta

    import pyarrow.compute as pc
    from quancheng.publish.store import SharedStore
    from quancheng.serve.clients import ClientStore
    from quancheng.sharing.areas import AreaStore, prune_versions
    from quancheng.sharing.rules import OPEN

    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    client, _ = api_factory(home, slice_catalog)
    store = SharedStore(home)
    key = ClientStore(store.engine).add(f"asof-old-{os.getpid()}", "Development and Reform Commission", slice_catalog)
    auth = {"Authorization": f"Bearer {key}"}
    ds = stage_dataset_id(slice_catalog.stages[0].stage_id)

    def page(**params: str) -> dict:  # type: ignore[type-arg]
        r = client.get(f"/v1/datasets/{ds}/records", params={"page_size": 1000, **params}, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    before = page()
    old, published = before["dataset"]["version"], datetime.fromisoformat(before["dataset"]["updated_at"])
    current = store.root / "areas" / "shared_open" / ds / "data.parquet"
    import pyarrow.parquet as pq

    table = pq.read_table(current)
    table = table.filter(pc.not_equal(table["project_code"], before["records"][0]["project_code"]))
    AreaStore(store, slice_catalog).publish(OPEN, ds, table, kind="stage_form", batch_id="a later day", columns={},
                                            table_meta={})
    time.sleep(1.1)  # the link TTL
    now = page()
    assert now["dataset"]["version"] != old and now["total"] == before["total"] - 1
    then = page(as_of=old)
    assert then["dataset"]["version"] == old and then["records"] == before["records"]
    assert page(as_of=(published + timedelta(milliseconds=1)).isoformat())["dataset"]["version"] == old
    assert page(as_of=datetime.now(UTC).isoformat())["dataset"]["version"] == now["dataset"]["version"]

    assert prune_versions(store, retention_hours=0) >= 1
    gone = client.get(f"/v1/datasets/{ds}/records", params={"as_of": old}, headers=auth)
    assert gone.status_code == 404 and now["dataset"]["version"] in gone.json()["error"]["message"]
    assert not (store.root / "areas" / "shared_open" / ".versions" / ds / old).exists()
