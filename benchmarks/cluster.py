"""Benchmark: the demo's syncs on the CeleryExecutor with one worker against two (concurrency 1 each).

Seeds one world (``--scale``), then for each worker count runs ``quancheng demo cluster`` machinery in a fresh
demo folder over a copy of that world: the sync DAGs of the ``--systems`` largest systems triggered for the
seeded interval, sharing and consolidation on the Assets, until all is done. Reports the wall time of
that part (the cluster's start-up, the same for both, is reported apart) and how many tasks each worker
ran. On this 2-core machine the
scheduler, DAG processor and API server share the cores with the workers, so the ratio shows what a second
worker buys when the host is the limit. Needs the local PostgreSQL and Redis.
Reproduce: .venv/bin/python benchmarks/cluster.py --scale 2000
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
    from quancheng.catalog import load_catalog
    from quancheng.demo.cluster import ClusterSpec, running_cluster
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, airflow_env, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--systems", type=int, default=8, help="sync the N systems with the most seeded rows")
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
        for n in args.workers:
            home = Path(tmp) / f"w{n}"
            shutil.copytree(Path(tmp) / "seed" / "world", home / "world")
            world = load_world(home / "world").to_dict()
            end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
            db = f"postgresql+psycopg://postgres@127.0.0.1:5432/qc_bench_cluster_{uuid.uuid4().hex[:6]}"
            spec = ClusterSpec(home, workers=n, port=free_port(), metadata_url=db,
                               queues=tuple(sorted({"default", *(s.queue for s in catalog.systems)})))
            t1 = time.perf_counter()
            with served_world(home / "world", world) as uris, \
                    running_cluster(spec, airflow_env(home, world, uris), REPO) as c:
                up = time.perf_counter() - t1
                run = sync_everything(c, chosen, end, timeout=7200)
            _drop(db)
            per = ", ".join(f"{w} {k}" for w, k in sorted(run.workers().items()))
            rows.append(f"| {n} | {up:.0f} s | {run.seconds:.0f} s | {len(run.failed)} | {per} |")
            print(rows[-1], flush=True)
    print(f"\nscale {args.scale}: the {len(chosen)} largest systems, {sum(rows_of[s] for s in chosen):,} rows "
          f"({', '.join(chosen)}); seeding {seeded:.0f} s")
    print("| workers | cluster start | syncs + sharing + consolidation | failed DAGs | tasks per worker |")
    print("|---:|---:|---:|---:|---|")
    print("\n".join(rows))


def _drop(url: str) -> None:
    import psycopg

    db = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
