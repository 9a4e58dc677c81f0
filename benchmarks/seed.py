"""Benchmark: demo-world generation speed (rows/s), embedded engines, one run.

Reproduce: .venv/bin/python benchmarks/seed.py [--catalog include/catalog] [--rows 1000000]
Prints a Markdown table (also written to benchmarks/results/seed.md with --write).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from quancheng.catalog import load_catalog
from quancheng.demo.seed import seed_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default="include/catalog")
    parser.add_argument("--rows", type=int, default=1_000_000, help="about how many rows in total")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    catalog = load_catalog(args.catalog)
    scale = max(20, args.rows // max(1, len(catalog.forms)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        world = seed_world(catalog, Path(tmp) / "w", scale=scale)
        seconds = time.perf_counter() - t0
    rows = sum(int(f["rows"]) for f in world.forms.values())
    lines = [
        "| catalog | systems | forms | scale | rows | seconds | rows/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {args.catalog} | {len(catalog.systems)} | {len(catalog.forms)} | {scale} | {rows:,} | {seconds:.1f} "
        f"| {rows / seconds:,.0f} |",
        "",
        f"command: `.venv/bin/python benchmarks/seed.py --catalog {args.catalog} --rows {args.rows}`",
    ]
    out = "\n".join(lines)
    print(out)
    if args.write:
        Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
        Path("benchmarks/results/seed.md").write_text("# Demo-world generation\n\n" + out + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
