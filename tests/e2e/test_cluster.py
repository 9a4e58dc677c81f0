"""The demo on Airflow's CeleryExecutor: Redis as broker, PostgreSQL as metadata database, two workers.

The slice catalog's world is synced through the real scheduler and two Celery workers (one system routed
to a queue of its own by the catalog), sharing and consolidation follow on the Assets, and what was
published equals what the embedded demo (``dag.test`` in one process) publishes from the same world.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from paths import SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.publish.store import SharedStore
from scratch_pg import postgres_database

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("cluster")]
HEAVY = "hcb_construction_permit"  # routed to the queue "heavy" in this test's copy of the catalog
SCALE, SEED = 60, 11
BATCH_COLUMNS = ("_batch_id", "_extracted_at")  # provenance of the batch that published a row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The slice catalog with a ``queue`` column: one system on "heavy", the others on the default."""
    root = tmp_path_factory.mktemp("cluster_catalog") / "catalog"
    shutil.copytree(SLICE, root)
    path = root / "systems.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[0].append("queue")
    for r in rows[1:]:
        r.append("heavy" if r[0] == HEAVY else "default")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    old = os.environ.get("QUANCHENG_CATALOG")
    os.environ["QUANCHENG_CATALOG"] = str(root)
    try:
        yield root
    finally:
        if old is None:
            os.environ.pop("QUANCHENG_CATALOG", None)
        else:
            os.environ["QUANCHENG_CATALOG"] = old


@pytest.fixture(scope="module")
def catalog(catalog_dir: Path) -> Catalog:
    return load_catalog(catalog_dir)


@pytest.fixture(scope="module")
def cluster(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Any, str]]:
    """The running cluster after the world's first sync: (home, cluster, what the sync did, interval end)."""
    from quancheng.demo.cluster import ClusterSpec, running_cluster
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, airflow_env, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    home = tmp_path_factory.mktemp("cluster_home")
    seed_world(catalog, home / "world", scale=SCALE, seed=SEED)
    world = load_world(home / "world").to_dict()
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
    with postgres_database("qc_cluster_") as url:
        spec = ClusterSpec(home, workers=2, port=_free_port(), metadata_url=url, queues=("default", "heavy"),
                           heartbeat_timeout=20)
        with served_world(home / "world", world) as uris, running_cluster(spec, airflow_env(home, world, uris),
                                                                          REPO) as c:
            run = sync_everything(c, [s.system_id for s in catalog.systems], end, timeout=900)
            yield home, c, run, end


@pytest.fixture(scope="module")
def cluster_run(cluster):  # type: ignore[no-untyped-def]
    return cluster[0], cluster[2]


@pytest.fixture(scope="module")
def embedded_home(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same world run by the embedded demo (every DAG with ``dag.test`` in one process)."""
    from quancheng.demo.run import run_demo

    home = tmp_path_factory.mktemp("embedded_home")
    result = run_demo(home, scale=SCALE, seed=SEED)
    assert result.failed == []
    return home


def test_every_dag_succeeds_on_the_workers(cluster_run, catalog) -> None:  # type: ignore[no-untyped-def]
    _, run = cluster_run
    assert run.states == {f"sync__{s.system_id}": "success" for s in catalog.systems}
    assert run.failed == []
    assert all(run.downstream.values())  # sharing and consolidation ran on the syncs' Asset events


def test_both_workers_ran_tasks(cluster_run) -> None:  # type: ignore[no-untyped-def]
    _, run = cluster_run
    assert set(run.workers()) == {"worker1", "worker2"}
    assert all(n > 0 for n in run.workers().values())
    assert (cluster_run[0] / "cluster" / "worker1").is_dir()  # each worker ran in its own folder


def test_run_records_say_which_worker_ran_each_step(cluster_run) -> None:  # type: ignore[no-untyped-def]
    import json

    import sqlalchemy as sa
    from quancheng.runs import runs_table

    home, run = cluster_run
    t = runs_table()
    with SharedStore(home).engine.connect() as c:
        records = [dict(r) for r in c.execute(sa.select(t).where(t.c.status == "success")).mappings()]
    assert records
    hosts = {x["hostname"] for x in run.tasks if x["dag_id"].startswith("sync__")}
    for r in records:
        workers = json.loads(r["workers"])
        assert set(workers) == {"extract", "normalize", "validate", "publish"}, r["batch_id"]
        assert set(workers.values()) <= hosts <= {"worker1", "worker2"}, (r["batch_id"], workers)


def test_the_catalog_routes_a_system_to_its_queue(cluster_run) -> None:  # type: ignore[no-untyped-def]
    _, run = cluster_run
    syncs = [t for t in run.tasks if t["dag_id"].startswith("sync__")]
    assert syncs
    for t in syncs:
        assert t["queue"] == ("heavy" if t["dag_id"] == f"sync__{HEAVY}" else "default"), t


def _content(home: Path, dataset_id: str, *, drop: tuple[str, ...] = ()) -> pa.Table:
    t = SharedStore(home).read(dataset_id)
    assert t is not None, dataset_id
    t = t.drop_columns([c for c in t.column_names if c in drop])
    return t.sort_by([(c, "ascending") for c in t.column_names if c in ("_source_key", "reason", "column")])


def test_published_equals_the_embedded_run(cluster_run, embedded_home, catalog) -> None:  # type: ignore[no-untyped-def]
    home, _ = cluster_run
    ids = sorted(d["dataset_id"] for d in SharedStore(embedded_home).datasets())
    systems = {s.system_id for s in catalog.systems}
    compared = [d for d in ids if d.split(".", 1)[0] in systems | {"quarantine"}]
    assert len(compared) >= len(systems)
    assert sorted(d["dataset_id"] for d in SharedStore(home).datasets()) == ids
    # Values equal; the batch columns may not: unpausing a sync DAG also lets the scheduler run its latest
    # interval (a quiet day in the demo world), and a file-drop system reads the newest export whatever the
    # window, so that run may be the one that published the rows first.
    for d in compared:
        assert _content(home, d, drop=BATCH_COLUMNS).equals(_content(embedded_home, d, drop=BATCH_COLUMNS)), d


def test_a_killed_worker_s_task_is_retried_on_the_other(cluster, catalog) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the worker running a sync's task: the scheduler notices the missing heartbeat, the task is
    retried on the surviving worker, and the datasets end as they were (nothing lost, nothing twice)."""
    import time
    from datetime import timedelta

    from quancheng.runs import latest_runs
    from quancheng.steps import batch_of

    def next_day_batch(day: str) -> str:
        return batch_of(system, None, datetime.fromisoformat(day).astimezone(UTC), full_refresh=True)

    home, c, _, end = cluster
    system = "ndrc_investment"
    datasets = [d["dataset_id"] for d in SharedStore(home).datasets() if d["dataset_id"].startswith(system + ".")]
    before = {d: _content(home, d, drop=BATCH_COLUMNS) for d in datasets}
    dag_id, run_id = f"sync__{system}", "kill_test"
    next_day = (datetime.fromisoformat(end) + timedelta(days=1)).isoformat()
    c.trigger(dag_id, next_day, {"full_refresh": True}, run_id=run_id)
    deadline, victim = time.monotonic() + 300, None
    while victim is None and time.monotonic() < deadline:  # the first task that starts on a worker
        for task in ("extract", "normalize", "validate"):
            ti = c.task_instance(dag_id, run_id, task)
            if ti and ti["state"] == "running" and ti["hostname"]:
                victim = (task, ti["hostname"])
                break
        time.sleep(0.3)
    assert victim is not None, "no task of the run started"
    task, worker = victim
    c.kill(worker)
    assert c.wait_runs({dag_id: run_id}, 600) == {dag_id: "success"}
    ti = c.task_instance(dag_id, run_id, task)
    assert ti is not None and ti["try_number"] >= 2 and ti["hostname"] != worker, ti
    for d, table in before.items():
        assert _content(home, d, drop=BATCH_COLUMNS).equals(table), d
    record = next(r for r in latest_runs(SharedStore(home)) if r["system_id"] == system)
    assert record["batch_id"] == next_day_batch(next_day) and record["status"] == "success"
    assert record["published"] == sum(t.num_rows for t in before.values())  # one batch, each row once
