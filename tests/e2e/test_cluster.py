"""The demo on Airflow's CeleryExecutor, shared-nothing: two workers that share no disk (issue 13).

Redis is the broker; PostgreSQL the metadata database and the shared SQL database; a bucket on a real S3
server (SeaweedFS) holds the datasets, staging, snapshot state and GX results, reached by the tasks through
the Airflow connection ``quancheng_storage``. Each worker has its own empty ``QUANCHENG_HOME``. The slice
catalog's world is synced through the real scheduler (one system routed to a queue of its own by the
catalog), sharing and consolidation follow on the Assets, and what was published, read back from the
bucket, equals what the embedded demo (``dag.test`` in one process, one local folder) publishes from the
same world. A worker killed mid-sync has its task retried on the other, nothing lost or published twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from paths import ROOT, SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.publish.store import SharedStore
from scratch_pg import postgres_database
from seaweed import SeaweedS3, bucket_keys, seaweed_s3

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("cluster")]
EXPORT = ROOT / "tests" / "export_child.py"
HEAVY = "hcb_construction_permit"  # routed to the queue "heavy" in this test's copy of the catalog
SCALE, SEED = 60, 11
# provenance of the batch that published a row (and, in consolidated datasets, of the values and of the
# last time an enterprise was seen)
BATCH_COLUMNS = ("_batch_id", "_extracted_at", "batch_id", "extracted_at", "last_seen")


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
def services() -> Iterator[tuple[SeaweedS3, str]]:
    """The bucket and the shared SQL database, the only state the workers share besides Airflow's."""
    with seaweed_s3() as s3, postgres_database("qc_shared_") as shared:
        yield s3, shared


@pytest.fixture(scope="module")
def cluster(catalog: Catalog, services: tuple[SeaweedS3, str],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Any, str]]:
    """The running cluster after the world's first sync: (home, cluster, what the sync did, interval end)."""
    from quancheng.demo.cluster import ClusterSpec, running_cluster, shared_nothing_env
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, airflow_env, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    s3, shared = services
    home = tmp_path_factory.mktemp("cluster_home")
    seed_world(catalog, home / "world", scale=SCALE, seed=SEED)
    world = load_world(home / "world").to_dict()
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
    with postgres_database("qc_cluster_") as url:
        spec = ClusterSpec(home, workers=2, port=_free_port(), metadata_url=url, queues=("default", "heavy"),
                           heartbeat_timeout=20, own_homes=True)
        with served_world(home / "world", world) as uris:
            env = {**airflow_env(home, world, uris), **shared_nothing_env(s3.endpoint, s3.bucket, shared)}
            with running_cluster(spec, env, REPO) as c:
                run = sync_everything(c, [s.system_id for s in catalog.systems], end, timeout=900)
                yield home, c, run, end


@pytest.fixture(scope="module")
def cluster_run(cluster):  # type: ignore[no-untyped-def]
    return cluster[0], cluster[2]


def bucket_store(home: Path, services: tuple[SeaweedS3, str]) -> SharedStore:
    """The cluster's store as seen from here: its SQL side (the Delta tables are read by :func:`exported`)."""
    return SharedStore(home / "reader", sql_url=services[1])


def exported(services: tuple[SeaweedS3, str], out: Path) -> dict[str, pa.Table]:
    """Every dataset of the cluster's store, read back from the bucket (in a child: ``export_child.py``)."""
    s3, shared = services
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANCHENG_", "AWS_"))}
    env.update(QUANCHENG_STORAGE_URL=f"s3://{s3.bucket}/exchange", AWS_ENDPOINT_URL=s3.endpoint,
               QUANCHENG_SHARED_DB=shared, PYTHONPATH=os.pathsep.join([str(ROOT / "include"), *sys.path]))
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, str(EXPORT), str(out / "home"), str(out / "data")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {ds: pq.read_table(out / "data" / f"{ds}.parquet") for ds in json.loads(done.stdout.splitlines()[-1])}


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
    for worker in ("worker1", "worker2"):  # each worker staged in its own folder and kept no dataset there
        home = cluster_run[0] / "cluster" / worker / "home"
        assert any((home / "staging").rglob("part-*.arrow")), worker
        assert not (home / "shared" / "parquet").exists() or not any((home / "shared" / "parquet").iterdir())


def test_the_bucket_holds_what_the_workers_hand_on(cluster_run, services) -> None:  # type: ignore[no-untyped-def]
    keys = bucket_keys(services[0], "exchange/")
    for system in ("ndrc_investment", "hcb_construction_permit", "amr_enterprise"):
        assert any(k.startswith(f"exchange/_exchange/staging/{system}/") for k in keys), system
    assert any(k.startswith("exchange/_exchange/state/hcb_construction_permit/snapshots/") for k in keys)
    assert any(k.startswith("exchange/_exchange/quality/validations/") for k in keys)
    assert any(k.startswith("exchange/_areas/") for k in keys)  # the share DAG's per-area copies
    assert any(k.startswith("exchange/stage.s1_project_land/_delta_log/") for k in keys)


def test_run_records_say_which_worker_ran_each_step(cluster_run, services) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa
    from quancheng.runs import runs_table

    home, run = cluster_run
    t = runs_table()
    with bucket_store(home, services).engine.connect() as c:
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


def _content(t: pa.Table | None, *, drop: tuple[str, ...] = ()) -> pa.Table:
    assert t is not None
    t = t.drop_columns([c for c in t.column_names if c in drop])
    keys = [c for c in t.column_names if c in ("_source_key", "reason", "column")] or [
        f.name for f in t.schema if not pa.types.is_nested(f.type)]  # a consolidated dataset: every plain column
    return t.select(sorted(t.column_names)).sort_by([(c, "ascending") for c in keys])


def test_published_equals_the_embedded_run(cluster_run, services, embedded_home, catalog,  # type: ignore[no-untyped-def]
                                           tmp_path) -> None:
    assert cluster_run[1].failed == []
    embedded = SharedStore(embedded_home)
    ids = sorted(d["dataset_id"] for d in embedded.datasets())
    systems = {s.system_id for s in catalog.systems}
    assert len([d for d in ids if d.split(".", 1)[0] in systems | {"quarantine"}]) >= len(systems)
    on_bucket = exported(services, tmp_path)
    assert sorted(on_bucket) == ids
    # Values equal; the batch columns may not: unpausing a sync DAG also lets the scheduler run its latest
    # interval (a quiet day in the demo world), and a file-drop system reads the newest export whatever the
    # window, so that run may be the one that published the rows first.
    assert {"stage.s1_project_land", "master.enterprise", "cases.approval"} <= set(ids)  # consolidation's too
    for d in ids:
        assert _content(on_bucket[d], drop=BATCH_COLUMNS).equals(_content(embedded.read(d), drop=BATCH_COLUMNS)), d


def test_a_killed_worker_s_task_is_retried_on_the_other(cluster, services, catalog,  # type: ignore[no-untyped-def]
                                                        tmp_path) -> None:
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
    store = bucket_store(home, services)
    datasets = [d["dataset_id"] for d in store.datasets() if d["dataset_id"].startswith(system + ".")]
    assert datasets
    on_bucket = exported(services, tmp_path / "before")
    before = {d: _content(on_bucket[d], drop=BATCH_COLUMNS) for d in datasets}
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
    on_bucket = exported(services, tmp_path / "after")
    for d, table in before.items():
        assert _content(on_bucket[d], drop=BATCH_COLUMNS).equals(table), d
    record = next(r for r in latest_runs(store) if r["system_id"] == system)
    assert record["batch_id"] == next_day_batch(next_day) and record["status"] == "success"
    assert record["published"] == sum(t.num_rows for t in before.values())  # one batch, each row once
