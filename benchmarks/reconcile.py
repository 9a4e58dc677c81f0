"""Benchmark: what delete reconciliation costs a run, against the incremental read it accompanies.

Builds the slice catalog's investment filing table (``TZ_XMBA``, key ``XMDM``, 11 columns) with ``--rows``
rows in PostgreSQL and SQLite, one day's worth (``--changed`` rows) updated inside the window, and times:
the day's incremental read (``SqlSource.read``), the key listing (``SqlSource.list_keys``, key column only)
and the whole reconciliation (:func:`quancheng.deletes._reconcile`: listing plus the set difference
against ``--rows`` published keys). Peak memory is not measured: the listing streams bounded batches.
Reproduce: .venv/bin/python benchmarks/reconcile.py --rows 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
CREATE = """CREATE TABLE "TZ_XMBA" ("XMDM" TEXT PRIMARY KEY, "XMMC" TEXT, "JSXZ" TEXT, "JSDD" TEXT,
 "ZTZ" NUMERIC(24,4), "ZYDMJ" NUMERIC(24,4), "NKGSJ" TEXT, "XMDWMC" TEXT, "XMDWZJHM" TEXT, "GXSJ" {ts}, "BZ" TEXT)"""
DAY = (datetime(2026, 3, 2), datetime(2026, 3, 3))


def rows_sql(n: int, changed: int, engine: str) -> str:
    key = "'2019-370102-47-01-' || lpad(i::text, 8, '0')" if engine == "pg" else \
        "'2019-370102-47-01-' || substr('00000000' || i, -8, 8)"
    stamp = ("CASE WHEN i <= {c} THEN TIMESTAMP '2026-03-02 08:00:00' ELSE TIMESTAMP '2026-03-01 08:00:00' END"
             if engine == "pg" else
             "CASE WHEN i <= {c} THEN '2026-03-02 08:00:00' ELSE '2026-03-01 08:00:00' END").format(c=changed)
    body = (f"SELECT {key}, '济南项目' || i, '新建', '370102', 1200.5, 15, '2019-11-21', '山东某某建设有限公司', "
            f"'913701007874076393', {stamp}, ''")
    if engine == "pg":
        return f'INSERT INTO "TZ_XMBA" {body} FROM generate_series(1, {n}) i'
    return (f'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) '
            f'INSERT INTO "TZ_XMBA" {body} FROM s')


def measure(uri: str, n: int, published: Path) -> dict[str, float]:
    from quancheng.catalog import load_catalog
    from quancheng.deletes import _reconcile
    from quancheng.publish.store import SharedStore
    from quancheng.sources.base import Window, open_source

    catalog = load_catalog(ROOT / "tests" / "fixtures" / "slice_catalog")
    form = catalog.form["ndrc_filing"]
    source = open_source(catalog.system["ndrc_investment"], catalog, uri)
    out: dict[str, float] = {}
    list(source.read(form, Window(datetime(2000, 1, 1), datetime(2000, 1, 2)), 100_000))  # imports, connection
    t = time.perf_counter()
    day = pa.Table.from_batches(list(source.read(form, Window(*DAY), 100_000)))
    out["incremental read s"] = time.perf_counter() - t
    t = time.perf_counter()
    listed = sum(b.num_rows for b in source.list_keys(form, 100_000))
    out["key listing s"] = time.perf_counter() - t
    assert listed == n
    t = time.perf_counter()
    gone = _reconcile(source, form, day, SharedStore(published), 100_000)
    out["reconcile s"] = time.perf_counter() - t
    assert len(gone) == 1, len(gone)  # the one published key the source no longer has
    out["day rows"] = day.num_rows
    return out


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1_000)
    args = parser.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        ds = home / "shared" / "parquet" / "ndrc_investment.ndrc_filing"
        ds.mkdir(parents=True)
        keys = [f"2019-370102-47-01-{i:08d}" for i in range(1, n + 2)]  # one more than the source holds
        pq.write_table(pa.table({"_source_key": keys}), ds / "data.parquet")
        db = Path(tmp) / "src.db"
        con = sqlite3.connect(db)
        con.execute(CREATE.format(ts="TEXT"))
        con.execute(rows_sql(n, args.changed, "sqlite"))
        con.commit()
        con.close()
        results = {"sqlite": measure(f"sqlite:///{db}", n, home)}
        name = f"qc_bench_reconcile_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        try:
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True) as c:
                c.execute(CREATE.format(ts="TIMESTAMP"))
                c.execute(rows_sql(n, args.changed, "pg"))
                c.execute('CREATE INDEX ON "TZ_XMBA" ("GXSJ")')
                c.execute('ANALYZE "TZ_XMBA"')
            results["postgresql"] = measure(f"postgresql://postgres@127.0.0.1:5432/{name}", n, home)
        finally:
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"| engine | rows | day's rows | incremental read s | key listing s | reconcile s |  ({n:,} rows)")
    print("|---|---:|---:|---:|---:|---:|")
    for engine, r in results.items():
        print(f"| {engine} | {n:,} | {int(r['day rows']):,} | {r['incremental read s']:.2f} | "
              f"{r['key listing s']:.2f} | {r['reconcile s']:.2f} |")


if __name__ == "__main__":
    main()
