"""A quiet day is an ordinary run (issue 11): a system synced for an interval in which nothing changed
extracts nothing, publishes nothing new and keeps every content hash; the next day, with changes in only
one of its forms, it publishes what a sync from scratch publishes from the source as it then is.

Over a small demo world of the project catalog: one system of each embedded source kind (SQLite, CSV,
Excel, JSON API), each with several forms.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from quancheng import pipeline
from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id, quarantine_dataset_id
from quancheng.demo.run import served_world
from quancheng.demo.seed import INTERVAL, seed_world
from quancheng.demo.world import World
from quancheng.publish.store import KEY, SharedStore
from quancheng.runs import latest_runs
from quancheng.sources import Window
from quancheng.sources.types import source_keys
from world_edits import day_of_changes, hold_back, published_rows

SYSTEMS = ["ndrc_investment", "hcb_construction_permit", "glb_greening", "water_supply"]
# every seeded update stamp falls before it: the world's stamps are Beijing time, as the systems' catalog zone says
SEEDED_END = INTERVAL[1].replace(tzinfo=ZoneInfo("Asia/Shanghai"))
DAY = timedelta(days=1)
NOTHING = {"extracted": 0, "valid": 0, "quarantined": 0, "deleted": 0, "future_rows": 0}


@pytest.fixture(scope="module")
def world(full_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> World:
    return seed_world(full_catalog, tmp_path_factory.mktemp("quiet") / "world", scale=30, seed=5)


def sync(world: World, catalog: Catalog, system_id: str, window: Window, home: Path) -> dict[str, Any]:
    with served_world(Path(world.dir), world.to_dict()) as uris:
        uri = uris.get(system_id, world.systems[system_id]["uri"])
        return pipeline.run_system(system_id, window, catalog=catalog, home=home, uri=uri)


def hashes(ref: dict[str, Any]) -> dict[str, str]:
    return {ds: p["content_hash"] for ds, p in ref["published"].items()}


@pytest.mark.parametrize("system_id", SYSTEMS)
def test_quiet_day_then_a_change_in_one_form(world: World, full_catalog: Catalog, tmp_path: Path,
                                             system_id: str) -> None:
    catalog = full_catalog
    forms = catalog.forms_of(system_id)
    assert len(forms) > 1, "the case needs a form that changes and one that does not"
    changed = forms[0]
    held = hold_back(world, catalog, changed, 2, at=INTERVAL[1])
    home = tmp_path / "home"
    seeded = sync(world, catalog, system_id, Window(None, SEEDED_END), home)
    assert pipeline.totals(seeded)["extracted"] > 0
    registry = {d["dataset_id"]: (d["rows"], d["content_hash"]) for d in SharedStore(home).datasets()}
    links = {ds: (home / "shared" / "parquet" / ds).resolve() for ds in seeded["published"]}

    quiet = sync(world, catalog, system_id, Window(SEEDED_END, SEEDED_END + DAY), home)
    assert {f: c["extracted"] for f, c in quiet["forms"].items()} == {f.form_id: 0 for f in forms}
    assert pipeline.totals(quiet) == NOTHING
    assert hashes(quiet) == hashes(seeded)
    assert not [ds for ds, p in quiet["published"].items() if p["changed"]]
    assert {d["dataset_id"]: (d["rows"], d["content_hash"]) for d in SharedStore(home).datasets()} == registry
    assert {ds: (home / "shared" / "parquet" / ds).resolve() for ds in links} == links  # no new version
    record = next(r for r in latest_runs(SharedStore(home)) if r["system_id"] == system_id)
    assert (record["status"], record["batch_id"], record["extracted"]) == ("success", quiet["batch_id"], 0)

    written = day_of_changes(world, catalog, changed, held, 2, at=INTERVAL[1] + DAY + timedelta(hours=6))
    day2 = sync(world, catalog, system_id, Window(SEEDED_END + DAY, SEEDED_END + 2 * DAY), home)
    assert {f: c["extracted"] for f, c in day2["forms"].items()} == \
        {f.form_id: written.num_rows if f is changed else 0 for f in forms}
    assert [ds for ds, p in day2["published"].items() if p["changed"]] == [dataset_id(changed)]
    assert {ds: h for ds, h in hashes(day2).items() if ds != dataset_id(changed)} == \
        {ds: h for ds, h in hashes(seeded).items() if ds != dataset_id(changed)}

    # what the day left published is what a sync from scratch reads from the source now
    rebuilt = tmp_path / "rebuilt"
    sync(world, catalog, system_id, Window(None, SEEDED_END + 2 * DAY), rebuilt)
    for ds in [*map(dataset_id, forms), quarantine_dataset_id(system_id)]:
        assert published_rows(home, ds) == published_rows(rebuilt, ds), ds
    published = SharedStore(home).read(dataset_id(changed))
    assert published is not None
    assert set(source_keys(held, changed.primary_key).to_pylist()) <= set(published[KEY].to_pylist())
