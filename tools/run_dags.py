"""Run sync DAGs through Airflow itself (``dag.test``), all in this one process.

Started by ``quancheng demo run`` with AIRFLOW_HOME, the DAG folder, QUANCHENG_HOME and the
connections already in the environment; after migrating the metadata database it loads the pools and
variables of ``airflow_settings.yaml`` (``tools/load_settings.py``). Airflow's own log goes to
``--log``; this script's stdout carries one JSON line per event, which the demo turns into progress.
Importing Airflow costs seconds, so one process runs every DAG instead of one process per DAG.

Usage: python tools/run_dags.py --log FILE --interval-end ISO [--full-refresh] [--since ISO] [DAG_ID ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True, help="file that receives Airflow's own log")
    ap.add_argument("--interval-end", required=True,
                    help="ISO datetime: each DAG runs the schedule interval that ends there")
    ap.add_argument("--full-refresh", action="store_true", help="read each source from the beginning")
    ap.add_argument("--since", help="ISO datetime: every sync reads from there to the interval's end "
                                    "(a demo day, whatever each system's schedule)")
    ap.add_argument("dag_ids", nargs="*", help="DAGs to run (default: every sync__* DAG)")
    args = ap.parse_args()

    out = os.fdopen(os.dup(1), "w", buffering=1)
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)

    def emit(**event: object) -> None:
        out.write(json.dumps(event, default=str) + "\n")

    t0 = time.perf_counter()
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import upgradedb

    emit(event="imported", seconds=round(time.perf_counter() - t0, 2))
    t1 = time.perf_counter()
    upgradedb()
    emit(event="migrated", seconds=round(time.perf_counter() - t1, 2))
    from load_settings import apply_settings  # this script's folder is first on sys.path

    emit(event="settings", **apply_settings())
    t2 = time.perf_counter()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        emit(event="import_errors", errors={k: v[-2000:] for k, v in bag.import_errors.items()})
        return 3
    # the syncs first, then what their Assets trigger: sharing, then consolidation
    order = ("sync__", "share__", "consolidate__")
    dag_ids = args.dag_ids or [d for p in order for d in sorted(bag.dags) if d.startswith(p)]
    emit(event="parsed", seconds=round(time.perf_counter() - t2, 2), dags=dag_ids)
    if os.environ.get("QUANCHENG_RESYNC_EACH_RUN", "") != "1":
        _parse_bundle_once()
    end = pendulum.parse(args.interval_end)
    failed = 0
    for i, dag_id in enumerate(dag_ids, 1):
        emit(event="start", dag_id=dag_id, index=i, total=len(dag_ids))
        t = time.perf_counter()
        try:
            dag = bag.dags[dag_id]
            timed = hasattr(dag.timetable, "infer_manual_data_interval")  # Asset-scheduled DAGs are not
            # dag.test runs the interval Airflow infers for a manual run at the logical date: the one that ends
            # at ``end`` (given its start, it ran the interval before). An Asset-triggered DAG runs now, over
            # whatever the syncs just published.
            logical = end if timed else pendulum.now("UTC")
            conf = {"full_refresh": args.full_refresh, "since": args.since or ""} if dag_id.startswith("sync__") \
                else {}
            dr = dag.test(logical_date=logical, run_conf=conf)
            state = str(dr.state.value if hasattr(dr.state, "value") else dr.state)
        except Exception as exc:  # noqa: BLE001 - reported per DAG, the others still run
            state, dr = f"error: {exc}", None
        ok = state == "success"
        failed += not ok
        emit(event="end", dag_id=dag_id, index=i, total=len(dag_ids), state=state,
             seconds=round(time.perf_counter() - t, 2))
    emit(event="done", failed=failed, seconds=round(time.perf_counter() - t0, 2))
    return 1 if failed else 0


def _parse_bundle_once() -> None:
    """Make ``dag.test`` parse and sync the DAG bundle on its first call only.

    Airflow 3.3's ``dag.test`` re-parses every file of the bundle and re-syncs every DAG to the metadata
    database before each run, so sibling DAGs edited meanwhile are picked up. Within one demo run the
    folder does not change, so every call after the first would redo the same work (with 35 systems,
    most of a run's overhead; ``benchmarks/demo_overhead.py`` measures it).
    ``QUANCHENG_RESYNC_EACH_RUN=1`` keeps Airflow's behaviour.
    """
    import airflow.dag_processing.dagbag as dagbag

    bags: dict[tuple[str, str], object] = {}
    real_bag, real_sync = dagbag.BundleDagBag, dagbag.sync_bag_to_db
    synced: set[str] = set()

    def bundle_bag(*args: object, **kwargs: object) -> object:
        key = (str(kwargs.get("dag_folder", args[0] if args else "")), str(kwargs.get("bundle_name", "")))
        if key not in bags:
            bags[key] = real_bag(*args, **kwargs)
        return bags[key]

    def sync_once(bag: object, bundle_name: str, *args: object, **kwargs: object) -> None:
        if bundle_name not in synced:
            real_sync(bag, bundle_name, *args, **kwargs)
            synced.add(bundle_name)

    dagbag.BundleDagBag = bundle_bag  # type: ignore[assignment,misc]
    dagbag.sync_bag_to_db = sync_once  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main())
