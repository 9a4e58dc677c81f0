"""Benchmark: extraction rows/s and peak memory, pandas.read_sql vs the chosen drivers, same data, one run.

Builds one table of ``--rows`` rows (text, decimal, date, timestamp columns) in PostgreSQL, MariaDB and
SQLite, then reads it with each method in a fresh subprocess (peak RSS of that process is its memory).
Reproduce: .venv/bin/python benchmarks/extract.py --rows 1000000 [--write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

SETUP_PG = """DROP TABLE IF EXISTS bench_extract;
CREATE TABLE bench_extract AS SELECT i AS id, 'project-' || i AS name, '济南市历下区经十路' || i || '号' AS addr,
 (i * 1.25)::numeric(24,4) AS amount, DATE '2015-01-01' + (i % 3650) AS issued,
 TIMESTAMP '2025-01-01' + (i || ' seconds')::interval AS updated FROM generate_series(1, {n}) i;"""
SETUP_MY = """DROP TABLE IF EXISTS bench_extract;
CREATE TABLE bench_extract AS SELECT seq AS id, CONCAT('project-', seq) AS name,
 CONCAT('济南市历下区经十路', seq, '号') AS addr, CAST(seq * 1.25 AS DECIMAL(24,4)) AS amount,
 DATE_ADD(DATE '2015-01-01', INTERVAL seq % 3650 DAY) AS issued,
 DATE_ADD(TIMESTAMP '2025-01-01 00:00:00', INTERVAL seq SECOND) AS updated FROM seq_1_to_{n};"""
PG = "postgresql://postgres@127.0.0.1:5432/qc_bench_extract"
MY = "mysql://root@127.0.0.1:3306/qc_bench_extract"
SQLITE = "/tmp/qc_bench_extract.db"

CHILD = r'''
import json, resource, sys, time
method, uri, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter(); rows = 0
if method.startswith("pandas"):
    import pandas as pd, sqlalchemy as sa
    eng = sa.create_engine(uri)
    rows = len(pd.read_sql("SELECT * FROM bench_extract", eng))
else:
    from quancheng.catalog.models import SourceField, SourceForm, System
    from quancheng.sources.base import Window, source_class
    from datetime import datetime
    class Cat:
        def fields_of(self, _):
            return [SourceField(form_id="b", column=c, label_zh=c, native_type=t) for c, t in
                    [("id", "integer"), ("name", "text"), ("addr", "text"), ("amount", "decimal"),
                     ("issued", "date"), ("updated", "datetime")]]
    form = SourceForm(form_id="b", system_id="bench", name_zh="b", name_en="b", table="bench_extract",
                      stage_id="s1", primary_key=("id",), updated_column="updated")
    system = System(system_id="bench", name_zh="b", name_en="b", department_zh="d", department_en="d",
                    stages=("s1",), kind="sqlite", conn_id="b", extract_mode="incremental")
    src = source_class("sqlite")(system, Cat(), uri)
    if method == "pymysql":
        it = src._read_mariadb_pymysql(form, Window(None, datetime(9999, 1, 1)), chunk)
        from quancheng.sources.types import rechunk
        it = rechunk(it, chunk)
    else:
        it = src.read(form, Window(None, datetime(9999, 1, 1)), chunk)
    for b in it:
        rows += b.num_rows
secs = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": secs, "peak_mib": peak}))
'''


def setup(n: int) -> None:
    import sqlite3

    import psycopg
    import pymysql

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS qc_bench_extract WITH (FORCE)")
        c.execute("CREATE DATABASE qc_bench_extract")
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(SETUP_PG.format(n=n))
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS qc_bench_extract")
        cur.execute("CREATE DATABASE qc_bench_extract CHARACTER SET utf8mb4")
        cur.execute("USE qc_bench_extract")
        for stmt in SETUP_MY.format(n=n).split(";"):
            if stmt.strip():
                cur.execute(stmt)
    conn.close()
    Path(SQLITE).unlink(missing_ok=True)
    with psycopg.connect(PG) as src, sqlite3.connect(SQLITE) as dst:
        dst.execute("CREATE TABLE bench_extract (id INTEGER, name TEXT, addr TEXT, amount REAL, issued TEXT, "
                    "updated TEXT)")
        cur = src.cursor()
        cur.execute("SELECT id, name, addr, amount::float8, issued::text, to_char(updated, 'YYYY-MM-DD HH24:MI:SS') "
                    "FROM bench_extract")
        while rows := cur.fetchmany(50_000):
            dst.executemany("INSERT INTO bench_extract VALUES (?,?,?,?,?,?)", rows)


def run(method: str, uri: str, chunk: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, method, uri, str(chunk)], capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    setup(args.rows)
    print(f"set up {args.rows:,} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    cases = [
        ("PostgreSQL", "pandas.read_sql (psycopg)", "pandas", "postgresql+psycopg://postgres@127.0.0.1:5432/qc_bench_extract"),
        ("PostgreSQL", "ADBC (quancheng)", "source", PG),
        ("MariaDB", "pandas.read_sql (pymysql)", "pandas", "mysql+pymysql://root@127.0.0.1:3306/qc_bench_extract"),
        ("MariaDB", "PyMySQL SSCursor -> Arrow", "pymysql", MY),
        ("MariaDB", "ConnectorX arrow_stream (quancheng)", "source", MY),
        ("SQLite", "pandas.read_sql (sqlite3)", "pandas", f"sqlite:///{SQLITE}"),
        ("SQLite", "ADBC (quancheng)", "source", f"sqlite:///{SQLITE}"),
    ]
    lines = ["| engine | method | rows | seconds | rows/s | peak RSS MiB |", "| --- | --- | --- | --- | --- | --- |"]
    for engine, label, method, uri in cases:
        r = run(method, uri, args.chunk)
        rate = r["rows"] / r["seconds"]
        lines.append(f"| {engine} | {label} | {int(r['rows']):,} | {r['seconds']:.2f} | {rate:,.0f} "
                     f"| {r['peak_mib']:.0f} |")
        print(lines[-1], file=sys.stderr)
    lines += ["", f"chunk_rows={args.chunk:,}; command: `.venv/bin/python benchmarks/extract.py --rows {args.rows}`"]
    out = "\n".join(lines)
    print(out)
    if args.write:
        Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
        Path("benchmarks/results/extract.md").write_text("# Extraction\n\n" + out + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
