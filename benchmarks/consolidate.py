"""Benchmark: consolidation after a sync of a large system (issue 12): peak RSS and wall time per step.

The slice catalog's investment system (``ndrc_investment``) on a SQLite source of ``--rows`` filings is
synced into a fresh embedded home with the real CLI (as ``benchmarks/incremental.py`` does); then each
consolidation step runs in its own process (``quancheng.consolidate.steps``), timed from outside with its
peak RSS (GNU time), on a copy of that home:

1. the sharing of the system datasets, the stage forms, the enterprise master and the materials with this
   checkout's code;
2. the stage forms again on the same home (nothing changed: a rerun), then every step again after a day's
   sync in which 0.1 % of the filings changed (incremental: only those projects are recomputed);
3. with ``--before DIR`` (the ``include`` folder of another checkout, e.g. ``/work/main/include``), the same
   steps with that code on a fresh copy of the home (the same day synced into it), each killed when its RSS
   passes ``--cap-gb``.

Reproduce: .venv/bin/python benchmarks/consolidate.py --rows 2000000 --before /work/main/include --write
(``--synced HOME --steps share`` measures one step on a home synced already, without the sync or the day)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import incremental

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "consolidate.md"
STEPS = ("share", "stage_forms", "enterprise_master", "materials")


def _rss_mb(pid: int) -> float:
    """Resident set of a process and its children (MB), from /proc."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 2**20


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def step(name: str, home: Path, code: Path, cap_gb: float | None) -> tuple[str, float, float]:
    """One consolidation step in its own process: (outcome, wall s, peak RSS MB). Under GNU time; with
    ``cap_gb`` the process is also watched and killed when its RSS passes the cap."""
    env = {**os.environ, "QUANCHENG_CATALOG": str(incremental.SLICE), "PYTHONPATH": str(code)}
    env.pop("QUANCHENG_SHARED_DB", None)
    cmd = [sys.executable, "-c", f"from quancheng.consolidate import steps; steps.{name}_step({str(home)!r})"]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        watched = 0.0
        killed = False
        while proc.poll() is None:
            watched = max(watched, _rss_mb(proc.pid))
            if cap_gb is not None and watched > cap_gb * 1024:
                for k in _children(proc.pid):
                    os.kill(k, 9)
                killed = True
                break
            time.sleep(0.1)
        _, err = proc.communicate()
        wall = time.perf_counter() - t
        text = out.read().split()
        peak = max(watched, int(text[-1]) / 1024 if text and text[-1].isdigit() else 0.0)
    if killed:
        return f"killed above {cap_gb:g} GB", wall, peak
    if proc.returncode != 0:
        return f"failed: {err.decode().strip().splitlines()[-1][:120]}", wall, peak
    return "ok", wall, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--before", type=Path, help="the include folder of the code to compare with")
    ap.add_argument("--cap-gb", type=float, default=8.0, help="kill a step of the code before above this")
    ap.add_argument("--steps", default=",".join(STEPS), help="the steps to measure (comma-separated)")
    ap.add_argument("--units", type=int, default=1,
                    help="distinct construction units the filings name (1: every filing names the same one)")
    ap.add_argument("--synced", type=Path, help="a home synced already (no sync, no day): e.g. to measure one step")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    lines: list[str] = []

    def row(code: str, what: str, outcome: str, wall: float, rss: float) -> None:
        lines.append(f"| {code} | {what} | {outcome} | {wall:.1f} | {rss:,.0f} |")
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory(prefix="qc_consol_") as tmp:
        db, synced = Path(tmp) / "ndrc.db", args.synced or Path(tmp) / "synced"
        env = {**os.environ, "QUANCHENG_CATALOG": str(incremental.SLICE), "PYTHONPATH": str(ROOT / "include")}
        env.pop("QUANCHENG_SHARED_DB", None)
        if args.synced is None:
            incremental.make_source(db, args.rows, unit_count=args.units)
            wall, rss = incremental.run(synced, db, incremental.FIRST_DAY, env, daily=False)
            row("-", f"full sync of {args.rows:,} rows (for reference)", "ok", wall, rss)
        codes = [("after", ROOT / "include", None)]
        changed: int | None = None
        if args.before is not None:
            codes.append(("before", args.before.resolve(), args.cap_gb))
        for label, code, cap in codes:
            home = Path(tmp) / label
            shutil.copytree(synced, home, symlinks=True)
            steps = args.steps.split(",")
            for name in steps:
                row(label, name, *step(name, home, code, cap))
            if "stage_forms" in steps:
                row(label, "stage_forms again (nothing changed)", *step("stage_forms", home, code, cap))
            if args.synced is None:  # a day: 0.1 % of the filings renamed (once, in the source), synced
                day = incremental.FIRST_DAY + incremental.timedelta(days=1)
                if changed is None:
                    changed = incremental.change(db, 1000, incremental.FIRST_DAY)
                incremental.run(home, db, day, env)
                for name in steps:
                    row(label, f"{name} after a day with {changed:,} filings changed", *step(name, home, code, cap))
            shutil.rmtree(home)
        db.unlink(missing_ok=True)
    if args.write:
        load = os.getloadavg()
        before = f" --before {args.before}" if args.before else ""
        RESULTS.write_text("\n".join([
            "# Consolidation after a large sync", "",
            f"Command: `.venv/bin/python benchmarks/consolidate.py --rows {args.rows}{before} --cap-gb {args.cap_gb:g}"
            " --write`",
            f"(load average at the end {load[0]:.2f}, {os.cpu_count()} cores; peak RSS by GNU time, and /proc "
            "polled every 0.1 s for the cap)", "",
            "| code | step | outcome | wall s | peak RSS MB |", "|---|---|---|---:|---:|", *lines, "",
        ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
