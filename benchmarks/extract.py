"""Benchmark: extraction rows/s and peak memory, pandas.read_sql vs the chosen drivers, same data, one run.

Builds one table of ``--rows`` rows (text, decimal, date, timestamp columns) in PostgreSQL, MariaDB and
SQLite, then reads it with each method in a fresh subprocess (peak RSS of that process is its memory).
The quancheng sources run at each ``--chunks`` size on ``--sweep`` (the first size elsewhere): their
memory follows the chunk, not the table. ``pandas.read_sql`` holds the whole result; it reads the first
``--pandas-rows`` rows of the same table (the whole table by default), and a watchdog stops any child
whose resident memory passes ``--mem-cap-gib`` (reported as such). PyMySQL, the slow fallback, reads
at most ``--pymysql-rows`` rows.
Reproduce: .venv/bin/python benchmarks/extract.py --rows 1000000 [--chunks 100000,10000] [--write]
   10 M:   .venv/bin/python benchmarks/extract.py --rows 10000000 --chunks 100000,10000 --write
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
method, uri, chunk, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if method.startswith("pandas"):  # imports before the clock starts: the read is measured, not start-up
    import pandas as pd, sqlalchemy as sa
else:
    import adbc_driver_postgresql.dbapi, adbc_driver_sqlite.dbapi, connectorx, pymysql, pyarrow
t0 = time.perf_counter(); rows = 0
if method.startswith("pandas"):
    eng = sa.create_engine(uri)
    rows = len(pd.read_sql(f"SELECT * FROM bench_extract WHERE id <= {limit}", eng))
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
                      stage_id="s1", form_kind="application", primary_key=("id",), updated_column="updated")
    system = System(system_id="bench", name_zh="b", name_en="b", department_zh="d", department_en="d",
                    stages=("s1",), kind="sqlite", conn_id="b", extract_mode="incremental")
    src = source_class("sqlite")(system, Cat(), uri)
    from datetime import timedelta
    window = Window(None, datetime(2025, 1, 1) + timedelta(seconds=limit + 1))  # updated = 2025-01-01 + id s
    if method == "pymysql":
        it = src._read_mariadb_pymysql(form, window, chunk)
        from quancheng.sources.types import rechunk
        it = rechunk(it, chunk)
    else:
        it = src.read(form, window, chunk)
    for b in it:
        rows += b.num_rows
secs = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": secs, "peak_mib": peak}))
'''


def setup(n: int) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg
    import adbc_driver_sqlite.dbapi as adbc_sqlite
    import psycopg
    import pymysql

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS qc_bench_extract WITH (FORCE)")
        c.execute("CREATE DATABASE qc_bench_extract")
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(SETUP_PG.format(n=n))
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True, ssl_disabled=True)
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS qc_bench_extract")
        cur.execute("CREATE DATABASE qc_bench_extract CHARACTER SET utf8mb4")
        cur.execute("USE qc_bench_extract")
        for stmt in SETUP_MY.format(n=n).split(";"):
            if stmt.strip():
                cur.execute(stmt)
    conn.close()
    Path(SQLITE).unlink(missing_ok=True)
    # PostgreSQL -> SQLite as one Arrow stream (SQLite stores dates and times as ISO text)
    with adbc_pg.connect(PG) as src, adbc_sqlite.connect(SQLITE) as dst:
        scur, dcur = src.cursor(), dst.cursor()
        scur.execute("SELECT id, name, addr, amount::float8 AS amount, issued::text AS issued, "
                     "to_char(updated, 'YYYY-MM-DD HH24:MI:SS') AS updated FROM bench_extract")
        dcur.adbc_ingest("bench_extract", scur.fetch_record_batch(), mode="create")
        dst.commit()


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(method: str, uri: str, chunk: int, limit: int, cap_mib: float) -> dict[str, float] | str:
    """The child's figures, or why it stopped (memory cap, error)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, method, uri, str(chunk), str(limit)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _rss_mib(proc.pid))
        if peak > cap_mib:
            proc.kill()
            proc.wait()
            return f"stopped above the {cap_mib / 1024:.0f} GiB memory cap"
        time.sleep(0.25)
    out, err = proc.communicate()
    if proc.returncode:
        return "failed: " + (err.strip().splitlines() or ["?"])[-1][:200]
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunks", default="100000", help="comma-separated chunk_rows for the quancheng sources")
    parser.add_argument("--sweep", default="PostgreSQL", help="engine that runs every chunk size")
    parser.add_argument("--pandas-rows", type=int, default=0, help="rows pandas.read_sql reads (0: all)")
    parser.add_argument("--pymysql-rows", type=int, default=1_000_000, help="rows the PyMySQL fallback reads")
    parser.add_argument("--mem-cap-gib", type=float, default=16.0)
    parser.add_argument("--no-setup", action="store_true", help="reuse the tables of a previous run")
    parser.add_argument("--only", default="", help="run only the cases whose 'engine method' contains this text")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    chunks = [int(c) for c in args.chunks.split(",")]
    pandas_rows = min(args.pandas_rows or args.rows, args.rows)
    if not args.no_setup:
        t0 = time.perf_counter()
        setup(args.rows)
        print(f"set up {args.rows:,} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    cases = [
        ("PostgreSQL", "pandas.read_sql (psycopg)", "pandas",
         "postgresql+psycopg://postgres@127.0.0.1:5432/qc_bench_extract"),
        ("PostgreSQL", "ADBC (quancheng)", "source", PG),
        ("MariaDB", "pandas.read_sql (pymysql)", "pandas", "mysql+pymysql://root@127.0.0.1:3306/qc_bench_extract"),
        ("MariaDB", "PyMySQL SSCursor -> Arrow", "pymysql", MY),
        ("MariaDB", "ConnectorX arrow_stream (quancheng)", "source", MY),
        ("SQLite", "pandas.read_sql (sqlite3)", "pandas", f"sqlite:///{SQLITE}"),
        ("SQLite", "ADBC (quancheng)", "source", f"sqlite:///{SQLITE}"),
    ]
    lines = ["| engine | method | rows | chunk_rows | seconds | rows/s | peak RSS MiB |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for engine, label, method, uri in cases:
        if args.only and args.only not in f"{engine} {label}":
            continue
        limit = {"pandas": pandas_rows, "pymysql": min(args.pymysql_rows, args.rows)}.get(method, args.rows)
        sizes = chunks if method == "source" and engine == args.sweep else chunks[:1]
        for chunk in sizes if method != "pandas" else [0]:
            r = run(method, uri, chunk or chunks[0], limit, args.mem_cap_gib * 1024)
            shown = "whole result" if method == "pandas" else f"{chunk:,}"
            if isinstance(r, str):
                lines.append(f"| {engine} | {label} | {limit:,} | {shown} | - | - | {r} |")
            else:
                lines.append(f"| {engine} | {label} | {int(r['rows']):,} | {shown} | {r['seconds']:.2f} "
                             f"| {r['rows'] / r['seconds']:,.0f} | {r['peak_mib']:,.0f} |")
            print(lines[-1], file=sys.stderr)
    command = (f".venv/bin/python benchmarks/extract.py --rows {args.rows} --chunks {args.chunks}"
               + (f" --pandas-rows {args.pandas_rows}" if args.pandas_rows else "")
               + (f" --pymysql-rows {args.pymysql_rows}" if args.pymysql_rows != 1_000_000 else ""))
    lines += ["", f"table: {args.rows:,} rows; command: `{command}`"]
    out = "\n".join(lines)
    print(out)
    if args.write:
        Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
        Path("benchmarks/results/extract.md").write_text("# Extraction\n\n" + out + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
