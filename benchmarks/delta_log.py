"""Benchmark: a run's fixed cost day after day, as the Delta log grows: a checkpoint every 10 commits
(``quancheng.publish.delta.CHECKPOINT_INTERVAL``, this project's tables) vs every 100 (delta's default).

Opening a Delta table replays every commit since its last checkpoint, and one ``quancheng run`` of a
one-form system opens its tables about 30 times (a profile of a 1 % day: the store's checks, schema,
versions, key reads, the merge). Two tables of ``--rows`` rows, alike but for the interval, each take a day's
merge of ``--batch`` rows (spread over the table) for ``--days`` days, interleaved in one process; every 10th
day the time of ``--opens`` opens of each is measured (median of 5), and each day's merge time is kept (the
days that write a checkpoint included). The maintenance DAG also checkpoints every table once a day; this is
the cost where it does not run (the CLI) or between its runs (a dataset merged many times a day).

Reproduce: .venv/bin/python benchmarks/delta_log.py --write
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
RESULTS = ROOT / "benchmarks" / "results" / "delta_log.md"
KEY = "_source_key"


def rows(keys: np.ndarray, day: int) -> pa.Table:
    """A system dataset's shape: source key, a name, a number, a wide text."""
    return pa.table({KEY: np.char.add("2019-370102-47-01-", np.char.zfill(keys.astype(str), 7)),
                     "project_name": np.char.add(f"济南项目（第{day}天）", keys.astype(str)),
                     "total": keys * 1.5 + day, "note": np.full(len(keys), "备注" * 20)})


def opens(path: Path, n: int) -> float:
    """Median seconds (of 5) of ``n`` opens of the table (each reads its schema, as the store's checks do)."""
    from quancheng.publish import delta

    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            delta.schema(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    from deltalake import write_deltalake
    from quancheng.publish import delta

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--opens", type=int, default=30)
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    default = {k: v for k, v in delta.TABLE_PROPERTIES.items() if k != "delta.checkpointInterval"}
    intervals = {f"every {delta.CHECKPOINT_INTERVAL}": delta.TABLE_PROPERTIES, "every 100 (default)": default}
    lines = ["| day (commits since creation) | " + " | ".join(f"{args.opens} opens, checkpoint {k}, ms"
                                                            for k in intervals) + " |",
             "|---:|" + "---:|" * len(intervals)]
    merges: dict[str, list[float]] = {k: [] for k in intervals}
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="qc_dlog_") as tmp:
        paths = {k: Path(tmp) / f"t{i}" for i, k in enumerate(intervals)}
        first = rows(np.arange(args.rows), 0).sort_by(KEY)
        for k, path in paths.items():
            write_deltalake(str(path), first, configuration=intervals[k], target_file_size=delta.TARGET_FILE_BYTES)
        for day in range(1, args.days + 1):
            batch = rows(np.sort(rng.choice(args.rows, args.batch, replace=False)), day)
            for k, path in paths.items():
                t = time.perf_counter()
                delta.merge_batch(path, batch, pa.array([], pa.string()), key=KEY)
                merges[k].append(time.perf_counter() - t)
            if day % 10 == 0 or day == args.days or day in (1, 9, 99):
                lines.append(f"| {day} | " + " | ".join(f"{opens(p, args.opens) * 1000:.0f}"
                                                        for p in paths.values()) + " |")
                print(lines[-1], flush=True)
        checkpoints = {k: len(list((p / "_delta_log").glob("*.checkpoint.parquet"))) for k, p in paths.items()}
    lines += ["", "| checkpoint | merges | median merge ms | slowest merge ms | checkpoints written |",
              "|---|---:|---:|---:|---:|"]
    for k, ts in merges.items():
        lines.append(f"| {k} | {len(ts)} | {statistics.median(ts) * 1000:.0f} | {max(ts) * 1000:.0f} | "
                     f"{checkpoints[k]} |")
        print(lines[-1], flush=True)
    if args.write:
        load = os.getloadavg()
        RESULTS.write_text("\n".join([
            "# The Delta log day after day", "",
            "<!-- measured: start -->",
            f"Command: `.venv/bin/python benchmarks/delta_log.py {' '.join(sys.argv[1:])}`",
            f"({args.rows:,} rows, a {args.batch:,}-row merge a day; load average at the end {load[0]:.2f}, "
            f"{os.cpu_count()} cores)", "", *lines, "<!-- measured: end -->", "",
            "## Reading it", "",
            "See the script's docstring for what is measured. Written by the script; the reading below it is kept "
            "by hand.", ""]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
