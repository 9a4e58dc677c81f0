"""Benchmark: publishing a day's batch into the shared SQL table, merged in place vs loaded anew.

One dataset shaped like a system dataset (``_source_key`` plus provenance and ten typed columns, Chinese
text) of ``--rows`` rows is published into the SQL table of a shared store (SQLite and PostgreSQL); then
the same next-day version (``--changed`` share of the rows updated) is written three ways, each on a fresh
copy of the first table, through :meth:`SharedStore._swap_sql`:

- ``merged``: the touched keys deleted and inserted in one transaction (what publish does now);
- ``replaced in place``: every row deleted and inserted (what publish does without the batch's keys);
- ``created``: loaded into a side table and swapped in with DROP + RENAME (what publish did before: cost
  of the whole table, and the table's grants and views were lost).

Wall time of the SQL step only, median of ``--repeat``. Peak memory is not compared: all three hold the
same Arrow table. Reproduce: .venv/bin/python benchmarks/sqlmerge.py --rows 1000000 --changed 0.01
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]


def dataset(n: int) -> pa.Table:
    i = pa.array(range(n), pa.int64())
    keys = pc.binary_join_element_wise("2019-370102-47-01-", pc.utf8_lpad(pc.cast(i, pa.string()), 8, "0"), "")
    return pa.table({
        "_source_system": pa.array(["ndrc_investment"] * n), "_source_table": pa.array(["TZ_XMBA"] * n),
        "_source_key": keys, "_batch_id": pa.array(["b1"] * n),
        "project_code": keys, "project_name": pc.binary_join_element_wise("济南项目", pc.cast(i, pa.string()), ""),
        "construction_nature": pa.array(["01"] * n), "division": pa.array(["370102"] * n),
        "total_investment": pa.array([Decimal("1200.50")] * n, pa.decimal128(18, 2)),
        "land_area": pa.array([Decimal("15.00")] * n, pa.decimal128(18, 2)),
        "start_date": pa.array([19000] * n, pa.int32()).cast(pa.date32()),
        "unit_name": pa.array(["山东某某建设有限公司"] * n), "unit_uscc": pa.array(["913701007874076393"] * n),
        "remark": pa.array([""] * n),
    })


def next_day(t: pa.Table, share: float) -> tuple[pa.Table, pa.Array]:
    k = max(1, int(t.num_rows * share))
    names = t["project_name"].to_pylist()
    for j in range(k):
        names[j] = names[j] + "（变更）"
    batch = pa.array(["b2" if j < k else "b1" for j in range(t.num_rows)])
    t = t.set_column(t.column_names.index("project_name"), "project_name", pa.array(names))
    t = t.set_column(t.column_names.index("_batch_id"), "_batch_id", batch)
    return t, t["_source_key"].slice(0, k)


def run(store_url: str | None, home: Path, first: pa.Table, second: pa.Table, touched: pa.Array,
        repeat: int) -> dict[str, float]:
    from quancheng.publish.store import SharedStore

    store = SharedStore(home, sql_url=store_url)
    out: dict[str, list[float]] = {"merged": [], "replaced in place": [], "created": []}
    for _ in range(repeat):
        for how, keys in (("merged", touched), ("replaced in place", None), ("created", None)):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            assert store._swap_sql(name, first) == "created"
            if how == "created":
                with store.engine.begin() as c:
                    import sqlalchemy as sa

                    c.execute(sa.text(f'DROP TABLE "{name}"'))  # the old path: nothing to keep
            t0 = time.perf_counter()
            done = store._swap_sql(name, second, keys)
            out[how].append(time.perf_counter() - t0)
            assert done == how, (done, how)
            with store.engine.begin() as c:
                import sqlalchemy as sa

                c.execute(sa.text(f'DROP TABLE "{name}"'))
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--changed", type=float, default=0.01, help="share of rows the day changes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    first = dataset(args.rows)
    second, touched = next_day(first, args.changed)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(None, Path(tmp) / "sqlite", first, second, touched, args.repeat)
        if not args.no_postgres:
            import psycopg

            db = f"qc_bench_sqlmerge_{uuid.uuid4().hex[:6]}"
            admin = "postgresql://postgres@127.0.0.1:5432/postgres"
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{db}"')
            try:
                results["PostgreSQL"] = run(f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
                                            Path(tmp) / "pg", first, second, touched, args.repeat)
            finally:
                with psycopg.connect(admin, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    print(f"rows {args.rows:,}, changed {args.changed:.1%} ({len(touched):,} rows), median of {args.repeat}")
    print("| shared database | merged (touched keys) | replaced in place | DROP + RENAME (before) |")
    print("|---|---|---|---|")
    for db, r in results.items():
        print(f"| {db} | {r['merged']:.2f} s | {r['replaced in place']:.2f} s | {r['created']:.2f} s |")


if __name__ == "__main__":
    main()
