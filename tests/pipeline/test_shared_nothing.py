"""A sync whose four steps each run on a worker of their own that shares no disk with the others (issue 13).

The datasets, staging, snapshot state and GX results are on a real S3 store (SeaweedFS, ``tests/seaweed.py``)
and the shared SQL database is PostgreSQL; each step runs in its own process (as an Airflow task does) with
its own ``$QUANCHENG_HOME``, and the other worker's folder is wiped before it starts, so nothing a step reads
can come from a local disk another step wrote. Two days of the slice world's investment system (SQLite,
incremental) and permit system (CSV exports, snapshot: compared with the last snapshot, which must come from
the bucket) publish exactly what the embedded default (one process, one local folder) publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from paths import ROOT, SLICE
from quancheng.catalog import Catalog
from quancheng.demo.advance import advance_world
from quancheng.demo.seed import seed_world
from quancheng.demo.world import World, load_world
from quancheng.pipeline import run_system
from quancheng.sources import Window
from scratch_pg import postgres_database
from seaweed import SeaweedS3, bucket_keys, seaweed_s3

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("shared_nothing")]
CHILD = Path(__file__).with_name("steps_child.py")
SYSTEMS = ["ndrc_investment", "hcb_construction_permit"]  # incremental from SQLite; snapshot of CSV exports
STEPS = ["extract", "normalize", "validate", "publish"]


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    with seaweed_s3() as server:
        yield server


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with postgres_database("qc_nothing_") as url:
        yield url



def step(args: dict[str, Any], home: Path, env: dict[str, str]) -> dict[str, Any]:
    """One step in a child process whose home is ``home``; its ref."""
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps(args, default=str)],
                          env={**env, "QUANCHENG_HOME": str(home)}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def sync_on_workers(system_id: str, window: Window, uri: str, homes: list[Path], env: dict[str, str]) -> dict[str, Any]:
    """The four steps of one run, each on the next worker of ``homes`` whose folder is wiped first."""
    ref: dict[str, Any] = {}
    for i, name in enumerate(STEPS):
        home = homes[i % len(homes)]
        shutil.rmtree(home, ignore_errors=True)  # whatever this worker kept is gone: only the bucket remains
        home.mkdir(parents=True)
        args: dict[str, Any] = ({"step": name, "system_id": system_id, "uri": uri, "end": window.end.isoformat(),
                                 "start": window.start.isoformat() if window.start else None}
                                if name == "extract" else {"step": name, "ref": ref})
        ref = step(args, home, env)
        assert ref["home"] == str(home)  # the step worked in its own folder
    return ref


def registry(sql_url: str) -> dict[str, tuple[str, int]]:
    """Every published dataset's content hash and rows, from the registry of the shared database."""
    engine = sa.create_engine(sql_url, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT dataset_id, content_hash, rows FROM _exchange_datasets")).all()
    engine.dispose()
    return {str(d): (str(h), int(n)) for d, h, n in rows}


@pytest.fixture(scope="module")
def days(slice_catalog: Catalog, seaweed: SeaweedS3, pg: str,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two days synced both ways: on workers over the bucket, and embedded; what each published per day."""
    root = tmp_path_factory.mktemp("nothing")
    world: World = seed_world(slice_catalog, root / "world", scale=120, seed=5)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANCHENG_", "AWS_"))}
    env.update(QUANCHENG_CATALOG=str(SLICE), QUANCHENG_SHARED_DB=pg,
               QUANCHENG_STORAGE_URL=f"s3://{seaweed.bucket}/exchange", AWS_ENDPOINT_URL=seaweed.endpoint,
               PYTHONPATH=os.pathsep.join([str(ROOT / "include"), *sys.path]))
    homes = [root / "worker1", root / "worker2"]
    embedded = root / "embedded"
    out: dict[str, Any] = {"refs": [], "workers": [], "embedded": [], "pruned": []}
    windows = [Window(None, datetime.fromisoformat(world.interval["end"]))]
    for day in range(4):  # the first sync; a day of changes; that day again (a rerun); a quiet day
        if day == 1:
            change = advance_world(root / "world", seed=7, fraction=0.1)
            world = load_world(root / "world")
            windows.append(Window(datetime.fromisoformat(change["start"]), datetime.fromisoformat(change["end"])))
        elif day == 2:
            windows.append(windows[1])
        elif day == 3:
            windows.append(Window(windows[1].end, windows[1].end + timedelta(days=1)))
        window = windows[day]
        refs = {}
        for system_id in SYSTEMS:
            refs[system_id] = sync_on_workers(system_id, window, world.uri(system_id), homes, env)
            run_system(system_id, window, catalog=slice_catalog, home=embedded, uri=world.uri(system_id))
        out["refs"].append(refs)
        out["workers"].append(registry(pg))
        out["embedded"].append(registry(f"sqlite:///{embedded / 'shared' / 'exchange.db'}"))
        out["pruned"].append(bucket_keys(seaweed, "exchange/_exchange/staging/"))
    return out


def test_each_day_publishes_what_the_embedded_run_publishes(days: dict[str, Any]) -> None:
    for day in range(4):
        workers, embedded = days["workers"][day], days["embedded"][day]
        assert set(workers) == set(embedded) and len(embedded) >= 3  # two forms and the quarantines at least
        assert workers == embedded, day


def test_a_rerun_and_a_quiet_day_change_nothing(days: dict[str, Any]) -> None:
    assert days["workers"][2] == days["workers"][1] == days["workers"][3]
    for ref in days["refs"][3].values():  # the quiet day read nothing and published nothing new
        assert all(f["extracted"] == 0 for f in ref["forms"].values()), ref["forms"]
        assert not any(p["changed"] for p in ref["published"].values()), ref["published"]


def test_the_second_day_changed_what_the_world_changed(days: dict[str, Any]) -> None:
    first, second = days["workers"][:2]
    changed = {d for d in second if second[d][0] != first[d][0]}
    assert {"ndrc_investment.ndrc_filing", "hcb_construction_permit.hcb_permit"} <= changed
    permit = days["refs"][1]["hcb_construction_permit"]["forms"]["hcb_permit"]
    # a snapshot form's day is its changes only: compared with the snapshot the bucket kept, not read whole
    assert 0 < permit["extracted"] < first["hcb_construction_permit.hcb_permit"][1]


def test_staging_state_and_results_are_in_the_bucket(days: dict[str, Any], seaweed: SeaweedS3) -> None:
    keys = bucket_keys(seaweed, "exchange/_exchange/")
    ref = days["refs"][-1]["hcb_construction_permit"]  # the last day's attempt (the earlier ones are pruned)
    attempt = f"exchange/_exchange/{ref['attempt']}/"
    for stage in ("raw", "normalized", "issues", "valid", "quarantine"):
        assert any(k.startswith(f"{attempt}{stage}/hcb_permit/part-") for k in keys), stage
    assert f"{attempt}.published" in keys
    assert "exchange/_exchange/state/hcb_construction_permit/snapshots/hcb_permit.parquet" in keys
    assert any(k.startswith("exchange/_exchange/quality/validations/") for k in keys)


def test_a_day_prunes_the_published_attempts_of_the_days_before(days: dict[str, Any]) -> None:
    for day in range(1, 4):
        before = {r["attempt"] for refs in days["refs"][:day] for r in refs.values()}
        today = {r["attempt"] for r in days["refs"][day].values()}
        staged = {"/".join(k.split("/")[2:6]) for k in days["pruned"][day]}
        assert staged == today and not before & staged, day


def test_steps_ran_on_alternate_workers(days: dict[str, Any]) -> None:
    for refs in days["refs"]:
        for ref in refs.values():
            assert ref["home"].endswith("worker2")  # publish, the fourth step, on the second worker
