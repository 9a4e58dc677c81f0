"""Benchmark: demo-world generation speed (rows/s) and peak memory, vectorized seeding vs the old per-row path.

Each case seeds a world in a fresh subprocess (imports warmed by a tiny seed first, so the timing is the
generation and loading, not Python's start-up); peak RSS is that process's. The old path is the package
as it was at ``--baseline-rev`` (git archive into a temporary folder, first on PYTHONPATH), so both run
in one invocation on the same catalog; it runs on ``--baseline-rows`` rows because it is ~20x slower.
``--rows`` is the target total; the scale that gives it is estimated from the catalog's forms.

Reproduce: .venv/bin/python benchmarks/seed.py --catalog include/catalog --rows 1000000 [--baseline-rows 100000]
[--engines embedded|services] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_REV = "53d6a52"  # the last commit with per-row generation (before the vectorized seeding)

CHILD = r'''
import json, resource, sys, tempfile, time
from pathlib import Path
from quancheng.catalog import load_catalog
from quancheng.demo.seed import seed_world
catalog_dir, scale, engines = sys.argv[1], int(sys.argv[2]), sys.argv[3]
catalog = load_catalog(catalog_dir)
with tempfile.TemporaryDirectory(prefix="qc_seed_bench_") as tmp:
    seed_world(catalog, Path(tmp) / "warm", scale=20)  # imports and first-use costs
    t0 = time.perf_counter()
    world = seed_world(catalog, Path(tmp) / "w", scale=scale, engines=engines, db_prefix="qcbench_")
    seconds = time.perf_counter() - t0
if engines == "services":
    from quancheng.demo.engines import drop_database
    for s in catalog.systems:
        if s.kind in ("postgresql", "mariadb"):
            drop_database(s.kind, "qcbench_" + s.system_id)
rows = sum(int(f["rows"]) for f in world.forms.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": peak}))
'''


def rows_per_scale(catalog_dir: str) -> float:
    """Rows a world holds per unit of scale (forms take 75-100 % of their eligible entities), probed once."""
    from quancheng.catalog import load_catalog
    from quancheng.demo.generate import select_rows
    from quancheng.demo.seed import build_values

    catalog = load_catalog(catalog_dir)
    probe = 2000
    values = build_values(catalog, 7, probe)
    return sum(len(select_rows(values, catalog, f, 7)[1]) for f in catalog.forms) / probe


def baseline_tree(rev: str, into: Path) -> Path:
    """``include/quancheng`` as it was at ``rev``; returns the folder to put first on PYTHONPATH."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "include/quancheng"], check=True,
                             capture_output=True).stdout
    tar = into / "baseline.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as tf:
        tf.extractall(into, filter="data")
    return into / "include"


def run(catalog_dir: str, scale: int, engines: str, pythonpath: Path | None = None) -> dict[str, float]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", CHILD, catalog_dir, str(scale), engines], capture_output=True,
                         text=True, env=env, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"seeding failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default="include/catalog")
    parser.add_argument("--rows", type=int, default=1_000_000, help="about how many rows in total (new path)")
    parser.add_argument("--baseline-rows", type=int, default=100_000, help="rows for the old path (0: skip it)")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--engines", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--write", action="store_true", help="also write benchmarks/results/seed.md")
    args = parser.parse_args()
    cases: list[tuple[str, int, Path | None]] = []
    with tempfile.TemporaryDirectory(prefix="qc_seed_baseline_") as tmp:
        per_scale = rows_per_scale(args.catalog)

        def scale_for(rows: int) -> int:
            return max(20, round(rows / per_scale))

        if args.baseline_rows:
            old = baseline_tree(args.baseline_rev, Path(tmp))
            cases.append((f"per-row ({args.baseline_rev})", scale_for(args.baseline_rows), old))
            cases.append(("vectorized", scale_for(args.baseline_rows), None))
        cases.append(("vectorized", scale_for(args.rows), None))
        lines = ["| path | engines | scale | rows | seconds | rows/s | peak RSS MiB |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for label, scale, path in cases:
            t0 = time.perf_counter()
            r = run(args.catalog, scale, args.engines, path)
            lines.append(f"| {label} | {args.engines} | {scale:,} | {int(r['rows']):,} | {r['seconds']:.1f} "
                         f"| {r['rows'] / r['seconds']:,.0f} | {r['peak_mib']:,.0f} |")
            print(lines[-1], f"(wall {time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    command = (f".venv/bin/python benchmarks/seed.py --catalog {args.catalog} --rows {args.rows} "
               f"--baseline-rows {args.baseline_rows} --engines {args.engines}")
    out = "\n".join([*lines, "", f"command: `{command}`"])
    print(out)
    if args.write:
        Path(REPO / "benchmarks/results").mkdir(parents=True, exist_ok=True)
        (REPO / "benchmarks/results/seed.md").write_text("# Demo-world generation\n\n" + out + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
