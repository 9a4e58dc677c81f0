"""Quiet days for every system of the demo world (issue 11), by hand and on schedule.

A small demo world of the project catalog (all 35 systems) is synced for its seeded interval, then:

- quiet day 1: ``quancheng run`` of every system exits 0, extracts nothing and changes no hash;
- quiet day 2: the sync DAGs of :data:`ON_SCHEDULE`, run through Airflow (``dag.test`` in one process, as
  the demo does), succeed with nothing extracted and no hash changed. Not all 35: on this shared 2-core
  machine 35 ``dag.test`` runs took 165 s (load 10), and the plain runs above already cover every system's
  steps; the set holds every source kind, both extract modes and both schedules;
- changed day: one form of one system per embedded source kind is edited (rows arrive, values change)
  and those systems' DAGs run through Airflow: they succeed and what they published equals what a sync
  from scratch reads from the source as it now is.

The days follow each other: the DAGs' daily intervals end at midnight in Asia/Shanghai (16:00 UTC), so
the seeded sync ends at the first such midnight after every seeded update stamp. ``run_dags`` runs, for
each DAG, the interval that ends at the moment it is given; an hourly DAG reads the day's last hour. The
world's stamps are Beijing time (the systems' catalog zone), so the changed day's edits are stamped in it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from paths import FULL
from quancheng import pipeline
from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id, quarantine_dataset_id
from quancheng.cli import main
from quancheng.demo.run import DemoResult, airflow_env, run_dags, served_world
from quancheng.demo.seed import INTERVAL, seed_world
from quancheng.demo.world import World
from quancheng.publish.store import SharedStore
from quancheng.runs import runs_table
from quancheng.sources import Window
from world_edits import day_of_changes, hold_back, published_rows

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

DAY = timedelta(days=1)
E0 = datetime(2025, 7, 2, tzinfo=ZoneInfo("Asia/Shanghai"))  # the first DAG interval end after the seed
QUIET_1, QUIET_2, CHANGED = (E0, E0 + DAY), (E0 + DAY, E0 + 2 * DAY), (E0 + 2 * DAY, E0 + 3 * DAY)
# one daily system per embedded source kind; the edit touches its first form
EDITED = {"ndrc_investment": "sqlite", "telecom_access": "csv", "met_lightning": "excel", "tax_credit": "http"}
# quiet day through Airflow: the edited ones, a snapshot SQLite system, an hourly database and an hourly API
ON_SCHEDULE = [*EDITED, "gas_supply", "asb_one_window", "cmb_road_works"]


@dataclass
class Timeline:
    catalog: Catalog
    world: World
    home: Path
    seeded: dict[str, dict[str, str]]  # system -> content hashes after the seeded sync
    cli: dict[str, tuple[int, str]] = field(default_factory=dict)  # system -> (exit code, output)
    quiet: DemoResult | None = None
    changed: DemoResult | None = None
    written: dict[str, int] = field(default_factory=dict)  # edited system -> rows written on the changed day


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@contextlib.contextmanager
def full_catalog_env() -> Iterator[None]:
    old = os.environ.get("QUANCHENG_CATALOG")
    os.environ["QUANCHENG_CATALOG"] = str(FULL)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("QUANCHENG_CATALOG", None)
        else:
            os.environ["QUANCHENG_CATALOG"] = old


def quancheng(*argv: str) -> tuple[int, str]:
    """Run the ``quancheng`` console entry point in this process: (exit code, standard output)."""
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue()


@pytest.fixture(scope="module")
def timeline(full_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    catalog = full_catalog
    assert INTERVAL[1].replace(tzinfo=ZoneInfo("Asia/Shanghai")) <= E0  # every seeded (Beijing) stamp is before E0
    tmp = tmp_path_factory.mktemp("quiet_days")
    world = seed_world(catalog, tmp / "world", scale=20, seed=3)
    home = tmp / "home"
    held = {sid: hold_back(world, catalog, catalog.forms_of(sid)[0], 2, at=INTERVAL[1]) for sid in EDITED}
    with full_catalog_env(), served_world(Path(world.dir), world.to_dict()) as served:
        uris = {s: served.get(s, world.systems[s]["uri"]) for s in world.systems}
        seeded = {}
        for s in catalog.systems:
            ref = pipeline.run_system(s.system_id, Window(None, E0), catalog=catalog, home=home,
                                      uri=uris[s.system_id])
            seeded[s.system_id] = {ds: p["content_hash"] for ds, p in ref["published"].items()}
        t = Timeline(catalog, world, home, seeded)
        for s in catalog.systems:
            t.cli[s.system_id] = quancheng("run", s.system_id, "--start", utc(QUIET_1[0]), "--end", utc(QUIET_1[1]),
                                           "--dir", str(home), "--uri", uris[s.system_id])
        env = {**airflow_env(home, world.to_dict(), served), "QUANCHENG_CATALOG": str(FULL)}
        t.quiet = run_dags(env, QUIET_2[1].isoformat(), log=home / "airflow" / "quiet.log", full_refresh=False,
                           dag_ids=[f"sync__{sid}" for sid in ON_SCHEDULE])
        at = CHANGED[0].replace(tzinfo=None) + timedelta(hours=6)  # 06:00 Beijing time on the changed day
        for sid in EDITED:
            t.written[sid] = day_of_changes(world, catalog, catalog.forms_of(sid)[0], held[sid], 2, at).num_rows
        t.changed = run_dags(env, CHANGED[1].isoformat(), log=home / "airflow" / "changed.log", full_refresh=False,
                             dag_ids=[f"sync__{sid}" for sid in EDITED])
        yield t


def runs_ending(home: Path, end: datetime) -> dict[str, dict[str, Any]]:
    """The run records of batches whose window ends at ``end``, by system."""
    t = runs_table()
    with SharedStore(home).engine.connect() as c:
        rows = [dict(r) for r in c.execute(sa.select(t).order_by(t.c.id)).mappings()]
    return {r["system_id"]: r for r in rows if datetime.fromisoformat(r["window_end"]) == end}


def test_quancheng_run_of_every_system_exits_0_on_a_quiet_day(timeline: Timeline) -> None:
    assert set(timeline.cli) == {s.system_id for s in timeline.catalog.systems}
    assert len(timeline.cli) == len(timeline.catalog.systems) > 30
    failed = {sid: out for sid, (code, out) in timeline.cli.items() if code != 0}
    assert not failed, failed
    for sid, (_, out) in timeline.cli.items():
        result = json.loads(out)
        assert [result[k] for k in ("extracted", "valid", "quarantined", "deleted")] == [0, 0, 0, 0], sid
        assert {ds: p["content_hash"] for ds, p in result["published"].items()} == timeline.seeded[sid], sid
        assert not any(p["changed"] for p in result["published"].values()), sid


def test_sync_dags_succeed_on_the_next_quiet_day(timeline: Timeline) -> None:
    assert timeline.quiet is not None
    assert timeline.quiet.states == {f"sync__{sid}": "success" for sid in ON_SCHEDULE}
    systems = {s.system_id: s for s in timeline.catalog.systems}
    kinds = {(timeline.world.systems[sid]["kind"], systems[sid].extract_mode, systems[sid].schedule)
             for sid in ON_SCHEDULE}
    assert {k for k, _, _ in kinds} == {"sqlite", "csv", "excel", "http"}
    assert {m for _, m, _ in kinds} == {"incremental", "snapshot"} and {s for _, _, s in kinds} == {"@daily",
                                                                                                   "@hourly"}
    records = runs_ending(timeline.home, QUIET_2[1])  # daily and hourly intervals alike end there
    assert set(ON_SCHEDULE) <= set(records)
    for sid, r in records.items():
        assert (r["status"], r["extracted"], r["deleted"]) == ("success", 0, 0), sid
        assert json.loads(r["content_hashes"]) == timeline.seeded[sid], sid


def test_a_day_with_changes_after_the_quiet_ones_publishes_the_source(timeline: Timeline, tmp_path: Path) -> None:
    assert timeline.changed is not None
    assert timeline.changed.states == {f"sync__{sid}": "success" for sid in EDITED}
    assert {timeline.world.systems[sid]["kind"] for sid in EDITED} == set(EDITED.values())
    records = runs_ending(timeline.home, CHANGED[1])
    catalog = timeline.catalog
    with served_world(Path(timeline.world.dir), timeline.world.to_dict()) as served:
        for sid in EDITED:
            assert (records[sid]["status"], records[sid]["extracted"]) == ("success", timeline.written[sid]), sid
            forms = catalog.forms_of(sid)
            hashes = json.loads(records[sid]["content_hashes"])
            assert hashes[dataset_id(forms[0])] != timeline.seeded[sid][dataset_id(forms[0])], sid
            assert {ds: h for ds, h in hashes.items() if ds != dataset_id(forms[0])} == \
                {ds: h for ds, h in timeline.seeded[sid].items() if ds != dataset_id(forms[0])}, sid
            rebuilt = tmp_path / sid
            pipeline.run_system(sid, Window(None, CHANGED[1]), catalog=catalog, home=rebuilt,
                                uri=served.get(sid, timeline.world.systems[sid]["uri"]))
            for ds in [*map(dataset_id, forms), quarantine_dataset_id(sid)]:
                assert published_rows(timeline.home, ds) == published_rows(rebuilt, ds), ds
