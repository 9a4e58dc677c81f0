"""Every system of a demo world synced at the same moment into one home: failures and total wall time.

One ``quancheng run`` process per system, all started together (as a scheduler starts the daily DAGs at
the same minute), against (1) the embedded SQLite shared store and (2) a PostgreSQL shared database
(``QUANCHENG_SHARED_DB``, a throwaway database); the sources are the seeded embedded world in both.
Then the same system twice, the second started once the first holds its lock: the second must stop at
once with the lock's one-line message.

Run: .venv/bin/python benchmarks/concurrency.py [--scale 60] [--systems N] [--write]
(``--systems`` takes the first N systems of the catalog; default all. ``--write`` writes
benchmarks/results/concurrency.md.) Needs PostgreSQL on 127.0.0.1:5432 for the second row.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_all(world: object, systems: list[str], home: Path, shared_db: str | None,
            staggered: bool = False) -> tuple[int, float, list[str]]:
    """Start one ``quancheng run`` per system at once (``staggered``: each once the previous one holds its
    lock); (failures, wall seconds, last error line of each failed run)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")]))
    env.pop("QUANCHENG_SHARED_DB", None)
    if shared_db:
        env["QUANCHENG_SHARED_DB"] = shared_db
    end = world.interval["end"][:19]  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    procs = []
    for s in systems:
        procs.append((s, subprocess.Popen([sys.executable, "-m", "quancheng.cli", "run", s, "--dir", str(home),
                                           "--uri", world.uri(s), "--end", end],  # type: ignore[attr-defined]
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        lock = home / "locks" / f"{s}.lock"
        while staggered and not (lock.exists() and lock.stat().st_size) and procs[-1][1].poll() is None:
            time.sleep(0.05)
    errors = []
    for s, p in procs:
        _, err = p.communicate()
        if p.returncode:
            errors.append(f"{s}: {(err.strip().splitlines() or ['?'])[-1][:300]}")
    return len(errors), time.perf_counter() - t0, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scale", type=int, default=60)
    ap.add_argument("--systems", type=int, default=0, help="first N systems of the catalog (default: all)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "include"))
    from quancheng.catalog import load_catalog
    from quancheng.demo import engines
    from quancheng.demo.seed import seed_world

    catalog = load_catalog()
    with tempfile.TemporaryDirectory(prefix="qc_bench_concurrency_") as tmp:
        world = seed_world(catalog, Path(tmp) / "world", scale=args.scale, seed=7)
        systems = [s for s, i in world.systems.items() if i["kind"] != "http"]  # the API needs a server
        systems = systems[: args.systems] if args.systems else systems
        rows = []
        n, secs, errs = run_all(world, systems, Path(tmp) / "embedded", None)
        rows.append(("embedded SQLite store", len(systems), n, secs, errs))
        db = f"qc_bench_{uuid.uuid4().hex[:8]}"
        try:
            url = engines.recreate_database("postgresql", db).replace("postgresql://", "postgresql+psycopg://")
            n, secs, errs = run_all(world, systems, Path(tmp) / "pg", url)
            rows.append(("PostgreSQL shared database", len(systems), n, secs, errs))
        finally:
            engines.drop_database("postgresql", db)
        same = [systems[0], systems[0]]
        n, secs, errs = run_all(world, same, Path(tmp) / "same", None, staggered=True)
        rows.append((f"the same system twice ({systems[0]})", 2, n, secs, errs))

    lines = ["# Concurrency: every system synced at the same moment", "",
             f"Command: `.venv/bin/python benchmarks/concurrency.py --scale {args.scale}"
             + (f" --systems {args.systems}" if args.systems else "") + " --write`", "",
             "| run | processes at once | failures | wall time (s) |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {k} | {n} | {secs:.1f} |" for name, k, n, secs, _ in rows]
    lines += ["", "The same system twice must give exactly one failure, the second run's message:", ""]
    lines += [f"    {e}" for e in rows[-1][4]] + [""]
    lines += [f"Errors: {e}" for _, _, _, _, errs in rows[:-1] for e in errs]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "results" / "concurrency.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
