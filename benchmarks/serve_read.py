"""How the data service should read a dataset by key: Parquet held in memory (indexed) vs the SQL database.

For random project codes of a published home, the time to get a project's rows of
``stage.s3_construction`` (one wide row) and of ``stage.s3_construction.provenance`` (a few hundred
narrow rows) from the open area, three ways:
(1) the service's way: :class:`quancheng.serve.cache.AreaCache` (the Parquet copy read once per version,
    hash index on ``project_code``) then rows as dictionaries;
(2) the SQL copy as published (SQLite area database ``shared_open.db``; the area tables carry no index),
    one persistent connection, ``SELECT * ... WHERE project_code = ?``;
(3) the same with an index on ``project_code`` (on a temporary copy of the database, the published one is
    left alone): the best SQL can do without a server round trip.

Run: .venv/bin/python benchmarks/serve_read.py --dir work [--lookups 2000] [--write]
(writes benchmarks/results/serve_read.md with --write).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

DATASETS = ("stage.s3_construction", "stage.s3_construction.provenance")


def timed(fn: Callable[[str], Any], keys: list[str]) -> tuple[float, float, float]:
    """p50, p99 and mean in microseconds of ``fn(key)`` over ``keys``."""
    out = []
    for k in keys:
        t = time.perf_counter()
        fn(k)
        out.append((time.perf_counter() - t) * 1e6)
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1], statistics.fmean(out)


def sql_lookup(conn: sqlite3.Connection, table: str) -> Callable[[str], Any]:
    q = f'SELECT * FROM "{table}" WHERE project_code = ?'

    def get(key: str) -> list[dict[str, Any]]:
        cur = conn.execute(q, (key,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return get


def cached_lookup(copy: Any) -> Callable[[str], Any]:
    def get(key: str) -> list[dict[str, Any]]:
        return copy.rows(copy.find("project_code", key))  # type: ignore[no-any-return]
    return get


def main() -> None:
    from quancheng.publish.store import sql_name
    from quancheng.serve.cache import AreaCache

    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("work"))
    ap.add_argument("--lookups", type=int, default=2000)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    areas = a.dir.resolve() / "shared" / "areas"
    cache = AreaCache(areas, ["project_code"])
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        indexed_db = Path(tmp) / "shared_open.db"
        shutil.copy(areas / "shared_open.db", indexed_db)
        plain = sqlite3.connect(f"file:{areas / 'shared_open.db'}?mode=ro", uri=True, check_same_thread=False)
        indexed = sqlite3.connect(indexed_db)
        for ds in DATASETS:
            t = time.perf_counter()
            copy = cache.get("shared_open", ds)
            assert copy is not None, f"{ds} is not published under {areas}"
            load = time.perf_counter() - t
            codes = sorted(copy.index["project_code"])
            keys = random.Random(7).choices(codes, k=a.lookups)
            table = sql_name(ds)
            t = time.perf_counter()
            indexed.execute(f'CREATE INDEX "ix_{table}" ON "{table}" (project_code)')
            index_s = time.perf_counter() - t
            per_key = copy.table.num_rows / len(codes)
            cases = [("Parquet in memory, hash index (the service)", cached_lookup(copy),
                      f"{load:.2f} s read + index, once per version"),
                     ("SQLite area table as published (no index)", sql_lookup(plain, table), "none"),
                     ("SQLite with an index on project_code", sql_lookup(indexed, table),
                      f"{index_s:.2f} s CREATE INDEX")]
            for label, fn, setup in cases:
                n = a.lookups if "no index" not in label else min(a.lookups, 200)  # a full scan each: fewer
                p50, p99, mean = timed(fn, keys[:n])
                rows.append([ds, f"{copy.table.num_rows:,} x {copy.table.num_columns}", f"{per_key:.0f}", label,
                             str(n), f"{p50:,.0f}", f"{p99:,.0f}", f"{mean:,.0f}", setup])
        plain.close()
        indexed.close()
    head = ["dataset", "rows x columns", "rows per key", "how", "lookups", "p50 µs", "p99 µs", "mean µs", "setup"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    print("\n".join(lines))
    if a.write:
        out = ROOT / "benchmarks" / "results" / "serve_read.md"
        text = ["# Reading a dataset by key: Parquet in memory vs the SQL database", "",
                "The data service answers by project code, USCC or permit number; this decides where it reads. "
                "Open-area copies of a published home (one process, warm file cache; the SQL rows are turned "
                "into dictionaries like the service's).", "", *lines, "",
                f"command: `.venv/bin/python benchmarks/serve_read.py --dir {a.dir} --lookups {a.lookups} --write`"]
        out.write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
