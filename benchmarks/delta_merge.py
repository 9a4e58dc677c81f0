"""Benchmark: a day's batch merged into a Delta table by delta-rs, the batch streamed vs collected.

``quancheng.publish.delta.merge_batch`` hands delta-rs the batch as a stream (``streamed_exec=True``: never
held whole) or, up to ``COLLECTED_MERGE_ROWS`` rows, collected (``streamed_exec=False``: delta-rs then takes
the batch's key range to skip the target files it misses before the join). A table of ``--rows`` rows (a
system dataset's shape: source key, name, a number, a wide text) is merged with a 1 % day, two ways:

- **spread**: every 100th key changed (every file of the table holds one);
- **newest**: the last 1 % of the keys changed (a day's updates falling on recent rows: few files).

Each merge is a fresh process on a fresh copy of the table, timed inside (the merge call only) with its
peak RSS from GNU time. Reproduce: .venv/bin/python benchmarks/delta_merge.py --rows 1000000,4000000 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "delta_merge.md"

CHILD = r'''
import sys, time
import numpy as np
import pyarrow as pa
import deltalake
from quancheng.publish import delta
path, which, streamed, n = sys.argv[1], sys.argv[2], sys.argv[3] == "streamed", int(sys.argv[4])
keys = np.arange(0, n, 100) if which == "spread" else np.arange(n - n // 100, n)
sys.path.insert(0, sys.argv[5])
from delta_merge import rows
merge = deltalake.DeltaTable.merge
deltalake.DeltaTable.merge = lambda self, *a, **k: merge(self, *a, **{**k, "streamed_exec": streamed})
t = time.perf_counter()
delta.merge_batch(path, rows(keys, "changed"), pa.array([], pa.string()))
print(f"{time.perf_counter() - t:.3f}", file=sys.stderr)
'''


def rows(keys: np.ndarray, tag: str) -> pa.Table:
    """Rows of the given integer keys, shaped like a system dataset's."""
    text = keys.astype(str)
    return pa.table({"_source_key": pa.array(np.char.zfill(text, 10)), "name": pa.array(np.char.add(tag, text)),
                     "amount": pa.array(keys * 1.5), "note": pa.array(np.char.add("备注" * 15, text))})


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", default="1000000,4000000", help="comma-separated table sizes")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "include"))
    from quancheng.publish import delta

    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    lines = ["| table rows | day | batch | merge s | peak RSS MB |", "|---:|---|---|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="qc_bench_merge_") as tmp:
        for n in (int(s) for s in args.rows.split(",") if s):
            base = Path(tmp) / f"t{n}"
            parts = range(0, n, 100_000)
            delta.merge_batch(base, delta.Batch(rows(np.arange(1), "v").schema, lambda n=n, parts=parts: (
                rows(np.arange(s, min(s + 100_000, n)), "v") for s in parts), n), pa.array([], pa.string()))
            for which in ("spread", "newest"):
                for mode in ("streamed", "collected"):
                    copy = Path(tmp) / f"{n}-{which}-{mode}"
                    shutil.copytree(base, copy)
                    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", CHILD, str(copy), which,
                                          mode, str(n), str(ROOT / "benchmarks")],
                                         capture_output=True, text=True, env=env, check=True)
                    seconds, peak = out.stderr.strip().splitlines()[-2:]
                    lines.append(f"| {n:,} | {which} 1 % | {mode} | {float(seconds):.2f} | {int(peak) // 1024:,} |")
                    print(lines[-1], flush=True)
                    shutil.rmtree(copy)
    if args.write:
        load = os.getloadavg()
        RESULTS.write_text("\n".join([
            "# A day's batch merged into a Delta table: streamed vs collected", "",
            f"Command: `.venv/bin/python benchmarks/delta_merge.py --rows {args.rows} --write` (load average at "
            f"the end {load[0]:.2f}, {os.cpu_count()} cores; one run)", "", *lines, "",
        ]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
