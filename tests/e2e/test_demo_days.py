"""The demo day after day through Airflow (``quancheng demo run --days N``): the seeded interval, then each
day of inserts, updates and deletes applied by ``demo advance`` and read by the next interval of every DAG.

Every day's counts reconcile with what the day changed, the published datasets end equal to the sources'
final state (every key published or quarantined, nothing else), and running again reruns the last interval
without changing a published byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paths import SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.publish.store import SharedStore

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]
DAYS = 2


@pytest.fixture(scope="module")
def days_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Any]]:
    from quancheng.demo.run import run_demo

    home = tmp_path_factory.mktemp("days")
    old = os.environ.get("QUANCHENG_CATALOG")
    os.environ["QUANCHENG_CATALOG"] = str(SLICE)
    try:
        first = run_demo(home, scale=60, seed=5, days=DAYS, fraction=0.1)
        hashes = {d["dataset_id"]: d["content_hash"] for d in SharedStore(home).datasets()}
        again = run_demo(home, scale=60, seed=5)
        yield home, first, (again, hashes)
    finally:
        if old is None:
            os.environ.pop("QUANCHENG_CATALOG", None)
        else:
            os.environ["QUANCHENG_CATALOG"] = old


def test_every_interval_runs_and_succeeds(days_home) -> None:  # type: ignore[no-untyped-def]
    _, first, _ = days_home
    assert [d["label"] for d in first.days] == ["seeded"] + [f"day {n}" for n in range(1, DAYS + 1)]
    assert first.failed == [] and all(d["failed"] == 0 for d in first.days)
    ends = [d["end"] for d in first.days]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)  # each day is the next interval


def test_each_day_s_counts_reconcile_with_its_changes(days_home) -> None:  # type: ignore[no-untyped-def]
    from quancheng.demo.world import load_world

    home, first, _ = days_home
    changes = load_world(home / "world").changes
    assert len(changes) == DAYS
    for day, change in zip(first.days[1:], changes, strict=True):
        assert change["inserts"] and change["updates"] and change["deletes"], change
        assert day["extracted"] == change["inserts"] + change["updates"], day
        assert day["deleted"] == change["deletes"], day
        assert day["published"] + day["quarantined"] == day["extracted"], day


def _keys(catalog: Catalog, world_dir: Path) -> dict[str, set[str]]:
    """form id -> every primary key its source holds now."""
    from quancheng.demo.advance import read_current
    from quancheng.demo.world import load_world
    from quancheng.sources.types import source_keys

    world = load_world(world_dir)
    return {f.form_id: set(source_keys(read_current(world, catalog, f), f.primary_key).to_pylist())
            for f in catalog.forms}


def test_published_equals_the_sources_final_state(days_home) -> None:  # type: ignore[no-untyped-def]
    home, _, _ = days_home
    catalog = load_catalog(SLICE)
    store = SharedStore(home)
    for form in catalog.forms:
        t = store.read(f"{form.system_id}.{form.form_id}")
        assert t is not None
        published = set(t["_source_key"].to_pylist())
        q = store.read(f"quarantine.{form.system_id}")
        quarantined = set() if q is None else {k for k, table in zip(q["_source_key"].to_pylist(),
                                                                      q["_source_table"].to_pylist(), strict=True)
                                               if table == form.table}
        source = _keys(catalog, home / "world")[form.form_id]
        assert source and not published & quarantined, form.form_id
        assert published | quarantined == source, (form.form_id, sorted(source ^ (published | quarantined))[:5])


def test_running_again_reruns_the_last_day_and_changes_nothing(days_home) -> None:  # type: ignore[no-untyped-def]
    home, _, (again, hashes) = days_home
    assert [d["label"] for d in again.days] == [f"day {DAYS}"] and again.failed == []
    assert {d["dataset_id"]: d["content_hash"] for d in SharedStore(home).datasets()} == hashes
