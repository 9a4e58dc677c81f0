"""Publishing 1 M canonical rows into PostgreSQL: ``pandas.to_sql`` vs the exchange's publish step.

Same table, one run: (1) ``DataFrame.to_sql`` through SQLAlchemy/psycopg (the obvious way), (2) the
floor: one ADBC ``adbc_ingest`` (COPY) of the table, (3) ``SharedStore.publish``, the real step: sort by
key, content hash, Parquet version + atomic symlink swap, ADBC bulk load into a side table and
DROP/RENAME swap in one transaction, registry update.

Run: .venv/bin/python benchmarks/publish.py [--rows 1000000]  (writes benchmarks/results/publish.md)
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); uses a throwaway database.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "qc_bench_publish"
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"


def table(n: int) -> pa.Table:
    rng = np.random.default_rng(7)
    keys = np.char.add("2019-370102-47-01-", np.char.zfill(np.arange(n).astype(str), 6))
    cents = rng.integers(1_000_00, 9_000_000_000_00, n)
    return pa.table({
        "_source_system": pa.array(["ndrc_investment"] * n),
        "_source_table": pa.array(["TZ_XMBA"] * n),
        "_source_key": pa.array(keys),
        "_batch_id": pa.array(["bench"] * n),
        "project_code": pa.array(keys),
        "project_name": pa.array(np.char.add("济南项目", np.arange(n).astype(str))),
        "total_investment": pa.array([Decimal(int(c)) / 100 for c in cents[:n]], pa.decimal128(20, 2)),
        "total_land_area": pa.array(np.round(rng.uniform(100, 1e6, n), 2)),
        "planned_start_date": pa.array(rng.integers(17000, 20000, n).astype("int32")).cast(pa.date32()),
        "construction_site_division": pa.array(rng.choice(["370102", "370103", "370112", "370114"], n)),
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    import adbc_driver_postgresql.dbapi as pg
    import sqlalchemy as sa
    from quancheng.publish.store import SharedStore

    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {DB}"))
        c.execute(sa.text(f"CREATE DATABASE {DB}"))
    t = table(args.rows)
    rows: list[tuple[str, float]] = []
    try:
        df = t.to_pandas()
        eng = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg://"))
        t0 = time.perf_counter()
        df.to_sql("bench_pandas", eng, if_exists="replace", index=False, chunksize=10_000)
        rows.append(("pandas.to_sql (psycopg executemany, chunks of 10k)", time.perf_counter() - t0))
        eng.dispose()

        with pg.connect(URL) as conn:
            cur = conn.cursor()
            t0 = time.perf_counter()
            cur.adbc_ingest("bench_floor", t, mode="replace")
            conn.commit()
            rows.append(("floor: one ADBC adbc_ingest (COPY)", time.perf_counter() - t0))

        home = Path(tempfile.mkdtemp(prefix="qc_pub_"))
        store = SharedStore(home, sql_url=URL)
        t0 = time.perf_counter()
        store.publish("ndrc_investment.ndrc_filing", t, kind="system", batch_id="bench")
        rows.append(("SharedStore.publish (sort, hash, Parquet swap, ADBC load + swap, registry)",
                     time.perf_counter() - t0))
        t0 = time.perf_counter()
        store.publish("ndrc_investment.ndrc_filing", t, kind="system", batch_id="bench")
        rows.append(("SharedStore.publish again, same content (idempotent: hash only)", time.perf_counter() - t0))
        store.engine.dispose()
        shutil.rmtree(home, ignore_errors=True)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
    n = args.rows
    lines = ["# Publishing into PostgreSQL", "",
             f"Reproduce: `.venv/bin/python benchmarks/publish.py --rows {n}` (2-core machine, one run, same table).",
             "", "| method | seconds | rows/s |", "|---|---:|---:|",
             *[f"| {m} | {s:.1f} | {n / s:,.0f} |" for m, s in rows]]
    out = ROOT / "benchmarks" / "results" / "publish.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
