"""Area copies whose Parquet versions live in an S3 bucket (SeaweedFS, ``tests/seaweed.py``): two versions
published, their objects in the bucket, the current and an earlier version read through the data service's
own reading code, a pruned version gone from the bucket; and the local default laid out as before.

The S3 work runs in a child process (``s3_areas_child.py``); the SQL side is a SQLite file in the test's
folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from paths import ROOT, SLICE
from scratch_pg import postgres_database
from seaweed import SeaweedS3, bucket_keys, seaweed_s3

CHILD = Path(__file__).with_name("s3_areas_child.py")
DS = "stage.demo_filing"
OPEN = "shared_open"


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    with seaweed_s3() as server:
        yield server



@pytest.mark.xdist_group("seaweed")
@pytest.mark.parametrize("sql", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_area_versions_in_the_bucket(seaweed: SeaweedS3, home: Path, tmp_path: Path, sql: str) -> None:
    """With SQLite, and with PostgreSQL (where the SQL side is already shared between workers)."""
    roles = f"qc_a{uuid.uuid4().hex[:8]}_"
    with contextlib.ExitStack() as stack:
        sql_url = (stack.enter_context(postgres_database("qc_areas_s3_", drop_roles=roles)) if sql == "postgres"
                   else f"sqlite:///{tmp_path / 'exchange.db'}")
        got = run_child(seaweed, home, sql_url, roles)
        check(seaweed, got, sql_url)


def run_child(seaweed: SeaweedS3, home: Path, sql_url: str, roles: str) -> dict[str, Any]:
    """The child's JSON, with the bucket prefix it used."""
    prefix = f"areas{time.monotonic_ns()}"
    env = {**os.environ, "QUANCHENG_STORAGE_URL": f"s3://{seaweed.bucket}/{prefix}",
           "AWS_ENDPOINT_URL": seaweed.endpoint,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")])}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)  # SeaweedFS without identities: anonymous requests
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps({
        "home": str(home), "sql_url": sql_url, "catalog": str(SLICE), "role_prefix": roles})],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {**json.loads(proc.stdout.splitlines()[-1]), "prefix": prefix}


def check(seaweed: SeaweedS3, got: dict[str, Any], sql_url: str) -> None:
    prefix = got["prefix"]
    v1, v2 = got["v1v2"]
    base = f"s3://{seaweed.bucket}/{prefix}"
    folder = f"{prefix}/_areas/{OPEN}/{DS}"

    # two versions, then the second again: nothing written
    assert [[p["rows"], p["changed"]] for p in got["published"]] == [[3, True], [2, True], [2, False]]
    assert v1 != v2 and got["published"][2]["content_hash"] == v2
    assert [p["parquet_path"] for p in got["published"]] == [f"{base}/_areas/{OPEN}/{DS}/{v}" for v in (v1, v2, v2)]
    assert got["listing"] == [{"schema_name": OPEN, "dataset_id": DS, "parquet_path": f"{base}/_areas/{OPEN}/{DS}/{v2}",
                               "rows": 2, "content_hash": v2}]

    # the first version's two parts and each version's manifest are objects in the bucket (listed over HTTP)
    keys = sorted(k.removeprefix(folder + "/") for k in bucket_keys(seaweed, folder + "/")
                  if not k.startswith(f"{folder}/{got['merged']['content_hash']}/"))  # the day merged in at the end
    assert sorted(k.split("/")[0] for k in keys) == [v2, v2]  # after the prune: version 2 only
    assert re.fullmatch(r"part-00000-\w+\.parquet", keys[1].split("/")[1]) and keys[0] == f"{v2}/_manifest.json"

    # read through the service: current, as of version 1 by hash and by time, each download cached under the home
    assert got["current"][0] == v2 and [r[0] for r in got["current"][1]] == [
        "2024-370102-01-01-000001", "2024-370102-01-01-000004"]
    assert got["index"] == [1]
    assert got["as_of_hash"][0] == v1 and len(got["as_of_hash"][1]) == 3 and got["as_of_hash"][2]
    assert got["as_of_time"] == v1
    assert got["hot_copies"] == []  # the demo stage is not one the prefill reads
    assert got["cached"] == sorted([".under-way.2.live", v1, v2])  # a killed download's folder removed
    assert sorted(got["cached_files"])[0] == "_manifest.json" and len(got["cached_files"]) == 3  # two parts

    # a folder without a manifest (a killed writer's) is never read
    assert got["orphan"] == [False, True, True]

    # prune: version 1's row, objects and download gone, the orphan swept; as of version 1 is a 404
    assert got["pruned"] == 1
    assert got["cached_after_prune"] == [".under-way.2.live", v2]
    status, code, message = got["as_of_pruned"]
    assert (status, code) == (404, "version_not_kept") and v2 in message
    assert got["current_after_prune"][0] == v2 and len(got["current_after_prune"][1]) == 2
    assert not bucket_keys(seaweed, f"{folder}/{v1}/") and not bucket_keys(seaweed, f"{folder}/0123456789abcdef/")

    # the clear-ID scan reads the bucket's copies; the browser reads a Delta table's columns there
    assert got["scan"] == [[OPEN, DS, 2]]
    assert got["schema_columns"] == ["project_code", "project_name", "total_investment"]
    assert got["schema_columns_missing"] == []

    # nothing under shared/areas but the area's SQLite file
    if sql_url.startswith("postgresql"):
        assert got["local_areas"] == []
    assert all(re.fullmatch(rf"shared/areas(/{OPEN}\.db(-wal|-shm)?)?", p) for p in got["local_areas"]), \
        got["local_areas"]

    # a day merged in: its version in the bucket, read back; the SQL table changed in place
    merged = got["merged"]
    assert merged["changed"] and merged["rows"] == 3 and merged["parquet_path"] == f"{base}/_areas/{OPEN}/{DS}/" \
        + merged["content_hash"]
    assert got["merged_rows"] == [merged["content_hash"], [
        ["2024-370102-01-01-000001", "济南项目1", 10], ["2024-370102-01-01-000004", "济南项目4（改）", 41],
        ["2024-370102-01-01-000005", "济南项目5", 50]]]
    if sql_url.startswith("postgresql"):  # the SQL table holds the current version
        engine = sa.create_engine(sql_url, poolclass=sa.pool.NullPool)
        with engine.connect() as c:
            assert c.execute(sa.text(f"SELECT project_code, total_investment FROM {OPEN}.stage__demo_filing "
                                     "ORDER BY 1")).all() == [("2024-370102-01-01-000001", 10),
                                                               ("2024-370102-01-01-000004", 41),
                                                               ("2024-370102-01-01-000005", 50)]


    # a department's copy withdrawn: its objects (two versions, each parts and a manifest) and record gone
    assert got["dept_before"] >= 4 and got["dept_after"] == 0 and got["schemas_after_withdrawal"] == [OPEN]


def test_local_default_is_unchanged(home: Path, monkeypatch: pytest.MonkeyPatch, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    """Without $QUANCHENG_STORAGE_URL a version is ``.versions/<dataset>/<hash>/data.parquet`` behind the link,
    read by the service from there; nothing goes to a cache folder."""
    from quancheng.publish.store import SharedStore
    from quancheng.serve.service import Service
    from quancheng.serve.sources import LinkedAreas
    from quancheng.sharing.areas import AreaStore, prune_versions
    from quancheng.sharing.rules import OPEN as AUDIENCE

    monkeypatch.delenv("QUANCHENG_STORAGE_URL", raising=False)
    store = SharedStore(home)
    areas = AreaStore(store, slice_catalog)
    assert areas.objects is None
    hashes = []
    for rows in (["a", "b"], ["a"]):
        p = areas.publish(AUDIENCE, DS, pa.table({"project_code": rows}), kind="stage_form", batch_id="b",
                          columns={}, table_meta={})
        assert p.parquet_path == str(home / "shared" / "areas" / OPEN / DS)
        hashes.append(p.content_hash)
    root = home / "shared" / "areas" / OPEN
    assert os.readlink(root / DS) == f".versions/{DS}/{hashes[1]}"
    assert sorted(p.name for p in (root / ".versions" / DS).iterdir()) == sorted(hashes)
    assert [p.name for p in (root / ".versions" / DS / hashes[0]).iterdir()] == ["data.parquet"]
    service = Service(home, slice_catalog)
    assert isinstance(service.cache.source, LinkedAreas)
    copy = service.cache.get(OPEN, DS)
    assert copy is not None and copy.version == hashes[1] and copy.table.num_rows == 1
    older = service.cache.get_version(OPEN, DS, hashes[0])
    assert older is not None and older.table.num_rows == 2
    assert prune_versions(store, retention_hours=0) == 1
    assert not (root / ".versions" / DS / hashes[0]).exists() and not (home / "cache").exists()
