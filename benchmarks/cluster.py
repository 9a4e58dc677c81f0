"""Benchmark: the demo's syncs on the CeleryExecutor, one worker against two (concurrency 1 each), with the
shared data on the local disk against a bucket.

Seeds one world (``--scale``), then for each store and worker count runs ``quancheng demo cluster``
machinery in a fresh demo folder over a copy of that world: the sync DAGs of the ``--systems`` largest
systems triggered for the seeded interval, sharing and consolidation on the Assets, until all is done.
Reports the wall time of that part (the cluster's start-up is reported apart) and how many tasks each
worker ran. The stores:
- ``local``: the workers share the demo folder (datasets, staging, state on this disk);
- ``bucket``: shared-nothing, each worker its own empty folder, datasets, staging, snapshot state and GX
  results in a SeaweedFS bucket on this machine (``quancheng demo cluster --object-store``).
Both use a fresh PostgreSQL database as the shared SQL database, so the store is the only difference.
On this 2-core machine the scheduler, DAG processor, API server (and SeaweedFS) share the cores with the
workers, so the ratios show what a second worker buys when the host is the limit. Needs the local
PostgreSQL and Redis.
Reproduce: .venv/bin/python benchmarks/cluster.py --scale 2000 --systems 8
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    import contextlib

    from quancheng.catalog import load_catalog
    from quancheng.demo.cluster import DEMO_BUCKET, ClusterSpec, running_cluster, shared_nothing_env
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, airflow_env, served_world
    from quancheng.demo.seaweed import running_seaweed
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--systems", type=int, default=8, help="sync the N systems with the most seeded rows")
    ap.add_argument("--stores", nargs="+", choices=["local", "bucket"], default=["local", "bucket"])
    args = ap.parse_args()
    catalog = load_catalog()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        seed_world(catalog, Path(tmp) / "seed" / "world", scale=args.scale)
        seeded = time.perf_counter() - t0
        forms = load_world(Path(tmp) / "seed" / "world").forms
        rows_of: dict[str, int] = {}
        for f in forms.values():
            rows_of[f["system_id"]] = rows_of.get(f["system_id"], 0) + int(f["rows"])
        chosen = sorted(rows_of, key=lambda s: -rows_of[s])[: args.systems]
        for store in args.stores:
            for n in args.workers:
                home = Path(tmp) / f"{store}{n}"
                shutil.copytree(Path(tmp) / "seed" / "world", home / "world")
                world = load_world(home / "world").to_dict()
                end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
                tag = uuid.uuid4().hex[:6]
                db, shared = (f"postgresql+psycopg://postgres@127.0.0.1:5432/qc_bench_{what}_{tag}"
                              for what in ("cluster", "shared"))
                _create(shared)
                spec = ClusterSpec(home, workers=n, port=free_port(), metadata_url=db, own_homes=store == "bucket",
                                   queues=tuple(sorted({"default", *(s.queue for s in catalog.systems)})))
                t1 = time.perf_counter()
                with contextlib.ExitStack() as stack:
                    uris = stack.enter_context(served_world(home / "world", world))
                    env = {**airflow_env(home, world, uris), "QUANCHENG_SHARED_DB": shared}
                    if store == "bucket":
                        s3 = stack.enter_context(running_seaweed(DEMO_BUCKET, home / "seaweed"))
                        env.update(shared_nothing_env(s3.endpoint, s3.bucket, shared))
                    c = stack.enter_context(running_cluster(spec, env, REPO))
                    up = time.perf_counter() - t1
                    run = sync_everything(c, chosen, end, timeout=7200)
                _drop(db)
                _drop(shared)
                per = ", ".join(f"{w} {k}" for w, k in sorted(run.workers().items()))
                rows.append(f"| {store} | {n} | {up:.0f} s | {run.seconds:.0f} s | {len(run.failed)} | {per} |")
                print(rows[-1], flush=True)
    print(f"\nscale {args.scale}: the {len(chosen)} largest systems, {sum(rows_of[s] for s in chosen):,} rows "
          f"({', '.join(chosen)}); seeding {seeded:.0f} s")
    print("| store | workers | cluster start | syncs + sharing + consolidation | failed DAGs | tasks per worker |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))


def _create(url: str) -> None:
    import psycopg

    db = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')


def _drop(url: str) -> None:
    import psycopg

    db = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
