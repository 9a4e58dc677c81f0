"""The demo's wall time, and how much of it is Airflow's own overhead.

One seeded world, two ways, in one run:
1. every system's sync in one plain Python process (``pipeline.run_system``), timed per system;
2. every system's DAG through Airflow (``tools/run_dags.py``: one process, ``dag.test`` per DAG),
   timed per phase (import, metadata DB migration, DAG parse, DAG runs), twice: as Airflow 3.3's
   ``dag.test`` does it (re-parse and re-sync the whole bundle before every run,
   ``QUANCHENG_RESYNC_EACH_RUN=1``) and as the demo does it (parse and sync once per process).
The difference between them and the plain process is what Airflow costs on top of the work itself.

Run: .venv/bin/python benchmarks/demo_overhead.py [--scale 200]  (writes benchmarks/results/demo.md)
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = {"dag.test as shipped (re-parse per run)": {"QUANCHENG_RESYNC_EACH_RUN": "1"},
         "parse once per process (the demo)": {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=200)
    args = ap.parse_args()

    from quancheng import pipeline
    from quancheng.catalog import load_catalog
    from quancheng.demo.run import _ceil_to_day, _world_dict, airflow_env, run_dags, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world
    from quancheng.sources import Window

    catalog = load_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="qc_demo_bench_"))
    try:
        t = time.perf_counter()
        seed_world(catalog, tmp / "world", scale=args.scale, seed=7)
        seed_s = time.perf_counter() - t
        world = _world_dict(load_world(tmp / "world"))
        end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"]))
        with served_world(tmp / "world", world) as uris:
            plain_home = tmp / "plain"
            t = time.perf_counter()
            rows = 0
            for system in catalog.systems:
                uri = uris.get(system.system_id, world["systems"][system.system_id]["uri"])
                ref = pipeline.run_system(system.system_id, Window(None, end), catalog=catalog, home=plain_home,
                                          uri=uri)
                rows += pipeline.totals(ref)["extracted"]
            plain_s = time.perf_counter() - t

            runs = {}
            for mode, extra in MODES.items():
                af_home = tmp / f"airflow_{len(runs)}"
                env = {**airflow_env(af_home, world, uris), **extra}
                t = time.perf_counter()
                result = run_dags(env, end.isoformat(), log=af_home / "airflow" / "bench.log", full_refresh=True)
                runs[mode] = (time.perf_counter() - t, result)
        lines = [
            "# Demo wall time and Airflow overhead",
            "",
            f"Reproduce: `.venv/bin/python benchmarks/demo_overhead.py --scale {args.scale}` "
            f"({len(catalog.systems)} systems, {rows} source rows, 2-core machine, load average "
            f"{os.getloadavg()[0]:.1f} at the end).",
            "",
            f"| phase | {' | '.join(MODES)} |",
            "|---|" + "---:|" * len(MODES),
            f"| seed the world | {seed_s:.1f} |" + " |" * (len(MODES) - 1),
            f"| all syncs in one plain Python process (the work itself) | {plain_s:.1f} |" + " |" * (len(MODES) - 1),
        ]
        table: dict[str, list[str]] = {}
        for airflow_s, result in runs.values():
            phases = {e["event"]: e.get("seconds", 0.0) for e in result.events}
            dag_s = sum(v for k, v in result.seconds.items())
            for label, v in [("all syncs through Airflow, total", airflow_s),
                             ("of which: import Airflow", phases.get("imported", 0)),
                             ("of which: migrate the metadata DB", phases.get("migrated", 0)),
                             ("of which: parse the DAG folder", phases.get("parsed", 0)),
                             (f"of which: {len(result.states)} `dag.test` runs", dag_s),
                             ("**Airflow overhead** (through Airflow − plain)", airflow_s - plain_s)]:
                table.setdefault(label, []).append(f"{v:.1f}")
        lines += [f"| {label} | {' | '.join(vs)} |" for label, vs in table.items()]
        lines += [
            "",
            "Airflow 3.3's `dag.test` re-parses every file of the bundle and re-syncs every DAG to the metadata",
            "database before each run; `tools/run_dags.py` runs all DAGs in one process and, since the folder",
            "does not change during a demo, lets that happen on the first run only.",
        ]
        out = ROOT / "benchmarks" / "results" / "demo.md"
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
