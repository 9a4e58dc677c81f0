"""End to end through Airflow itself: seed the slice catalog's systems, run every sync DAG with
``dag.test`` in one Airflow process, and check what was published and quarantined, and that a rerun
of the same interval changes nothing."""

from __future__ import annotations

import json
import os

import pytest
from paths import SLICE
from quancheng.catalog import load_catalog
from quancheng.publish.store import SharedStore
from quancheng.runs import latest_runs

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from quancheng.demo.run import run_demo

    home = tmp_path_factory.mktemp("demo")
    old = os.environ.get("QUANCHENG_CATALOG")
    os.environ["QUANCHENG_CATALOG"] = str(SLICE)
    try:
        first = run_demo(home, scale=60, seed=11)
        second = run_demo(home, scale=60, seed=11)
    finally:
        if old is None:
            os.environ.pop("QUANCHENG_CATALOG", None)
        else:
            os.environ["QUANCHENG_CATALOG"] = old
    return home, first, second


def test_every_dag_succeeds(demo_home):  # type: ignore[no-untyped-def]
    _, first, second = demo_home
    catalog = load_catalog(SLICE)
    expected = {f"sync__{s.system_id}" for s in catalog.systems}
    assert {d for d in first.states if d.startswith("sync__")} == expected
    assert {"consolidate__stage_forms", "consolidate__enterprise_master"} <= set(first.states)
    published = {d["dataset_id"] for d in SharedStore(demo_home[0]).datasets()}
    assert {"master.enterprise", "materials.by_stage"} <= published  # the consolidation tasks really ran
    assert first.failed == [] and second.failed == []


def test_every_source_row_is_published_or_quarantined(demo_home):  # type: ignore[no-untyped-def]
    home, _, _ = demo_home
    catalog = load_catalog(SLICE)
    store = SharedStore(home)
    runs = {r["system_id"]: r for r in latest_runs(store)}
    for system in catalog.systems:
        published = quarantined = 0
        for form in catalog.forms_of(system.system_id):
            t = store.read(f"{system.system_id}.{form.form_id}")
            assert t is not None
            published += t.num_rows
        q = store.read(f"quarantine.{system.system_id}")
        quarantined = q.num_rows if q is not None else 0
        assert published > 0
        # the first run read everything: its counts are the world's rows for the system
        first = next(r for r in _all_runs(store) if r["system_id"] == system.system_id)
        assert first["extracted"] == first["published"] + first["quarantined"]
        assert published + quarantined == first["extracted"] - first["deleted"]
        assert runs[system.system_id]["status"] == "success"


def test_quarantine_reasons_are_machine_readable(demo_home):  # type: ignore[no-untyped-def]
    home, _, _ = demo_home
    seen = 0
    store = SharedStore(home)
    for f in (home / "shared" / "parquet").glob("quarantine.*"):
        t = store.read(f.name)
        assert t is not None
        for reasons in t["reasons"].to_pylist():
            parsed = json.loads(reasons)
            assert parsed and all({"rule", "element", "column", "value"} <= set(r) for r in parsed)
            seen += 1
    assert seen, "the demo quarantined nothing: the check would be empty"


def test_rerun_of_the_same_interval_changes_nothing(demo_home):  # type: ignore[no-untyped-def]
    home, _, _ = demo_home
    store = SharedStore(home)
    runs = _all_runs(store)
    by_system: dict[str, list[dict]] = {}
    for r in runs:
        by_system.setdefault(r["system_id"], []).append(r)
    assert set(by_system) == {s.system_id for s in load_catalog(SLICE).systems}
    for system_id, rs in by_system.items():
        assert len(rs) == 2, system_id
        assert json.loads(rs[0]["content_hashes"]) == json.loads(rs[1]["content_hashes"]), system_id


def _all_runs(store: SharedStore) -> list[dict]:
    import sqlalchemy as sa
    from quancheng.runs import runs_table

    t = runs_table()
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(t).order_by(t.c.id)).mappings()]


def test_demo_loads_airflow_settings(demo_home):  # type: ignore[no-untyped-def]
    import sqlite3

    from quancheng.airflow_settings import load_settings

    home, first, _ = demo_home
    settings = load_settings()
    assert next(e for e in first.events if e.get("event") == "settings")["pools"] == [p.name for p in settings.pools]
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        pools = dict(db.execute("select pool, slots from slot_pool").fetchall())
        variables = {k for (k,) in db.execute("select key from variable")}
    assert {p.name: p.slots for p in settings.pools}.items() <= pools.items()
    assert set(settings.variables) <= variables
