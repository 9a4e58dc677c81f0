"""Write demo tables into the engines the departmental systems run on, and change them later.

One function per engine family, all taking a form's native Arrow table (columns in fields.csv order):

- SQLite (``sqlite`` systems, and every database system in embedded mode): tables created with the
  native affinities, bulk-loaded with ADBC ``adbc_ingest``; dates and times stored as ISO text
  (``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS``, which sort like the times they stand for).
- PostgreSQL: one database per system (created and dropped here), tables loaded with ADBC ingest (COPY).
- MariaDB: one database per system, loaded with ``LOAD DATA LOCAL INFILE`` from a CSV that pyarrow
  writes (every valid value quoted, null as the bare word ``NULL``, so text ``"NULL"`` stays text);
  a server that refuses local files gets batched multi-row INSERTs (PyMySQL ``executemany``).
- file drops: :func:`quancheng.sources.files.write_drop`; JSON API: one Parquet file per table under
  ``<world>/api/<system_id>/`` that :mod:`quancheng.demo.api` serves.

:class:`Loader` keeps one connection per database for a whole seeding (connecting costs more than
loading a small table); the ``load_*`` functions are one-off loads with their own connection.

Every table gets its catalog primary key and an index on its update column; :func:`apply_changes`
upserts and deletes rows by primary key in any engine (used by ``demo advance``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from quancheng.catalog import Catalog
from quancheng.catalog.models import NativeType, SourceForm
from quancheng.demo.vec import strftime
from quancheng.sources.sql import sqlite_path

DbEngine = Literal["sqlite", "postgresql", "mariadb"]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MARIADB_ADMIN = "mysql://root@127.0.0.1:3306"

_DDL: dict[DbEngine, dict[NativeType, str]] = {
    "sqlite": {"text": "TEXT", "integer": "INTEGER", "decimal": "REAL", "date": "TEXT", "datetime": "TEXT",
               "boolean": "INTEGER"},
    "postgresql": {"text": "TEXT", "integer": "BIGINT", "decimal": "NUMERIC(24,4)", "date": "DATE",
                   "datetime": "TIMESTAMP", "boolean": "BOOLEAN"},
    "mariadb": {"text": "TEXT", "integer": "BIGINT", "decimal": "DECIMAL(24,4)", "date": "DATE",
                "datetime": "DATETIME(6)", "boolean": "BOOLEAN"},
}


def quote(engine: DbEngine, name: str) -> str:
    if engine == "mariadb":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(engine: DbEngine, catalog: Catalog, form: SourceForm) -> list[str]:
    """CREATE TABLE (and index) statements for ``form`` in ``engine``'s native types."""
    def q(name: str) -> str:
        return quote(engine, name)

    cols = []
    for f in catalog.fields_of(form.form_id):
        sql_type = _DDL[engine][f.native_type]
        if engine == "mariadb" and f.column in form.primary_key and f.native_type == "text":
            sql_type = "VARCHAR(190)"  # MariaDB cannot key a TEXT column
        cols.append(f"{q(f.column)} {sql_type}")
    if form.primary_key:
        cols.append(f"PRIMARY KEY ({', '.join(q(k) for k in form.primary_key)})")
    stmts = [f"CREATE TABLE {q(form.table)} ({', '.join(cols)})"]
    if form.updated_column:
        index = q(f"ix_{form.form_id}_updated")
        stmts.append(f"CREATE INDEX {index} ON {q(form.table)} ({q(form.updated_column)})")
    return stmts


def sqlite_ready(table: pa.Table) -> pa.Table:
    """Dates and times as ISO text, decimals as floats, booleans as 0/1: what SQLite stores."""
    cols = []
    for col in table.columns:
        t = col.type
        if pa.types.is_date(t):
            col = strftime(col, "%Y-%m-%d")
        elif pa.types.is_timestamp(t):  # whole seconds, so the text sorts like the time
            col = strftime(col, "%Y-%m-%d %H:%M:%S")
        elif pa.types.is_decimal(t):
            col = pc.cast(col, pa.float64())
        elif pa.types.is_boolean(t):
            col = pc.cast(col, pa.int64())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


# --- loading ---
class Loader:
    """Creates and bulk-loads form tables, reusing one connection per database until closed."""

    def __init__(self) -> None:
        self._conns: dict[str, Any] = {}

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        conns, self._conns = self._conns, {}
        for conn in conns.values():
            conn.close()

    def _conn(self, engine: DbEngine, uri: str) -> Any:
        if uri not in self._conns:
            if engine == "sqlite":
                import adbc_driver_sqlite.dbapi as adbc_sqlite

                path = Path(sqlite_path(uri))
                path.parent.mkdir(parents=True, exist_ok=True)
                self._conns[uri] = adbc_sqlite.connect(str(path))
            elif engine == "postgresql":
                import adbc_driver_postgresql.dbapi as adbc_pg

                self._conns[uri] = adbc_pg.connect(uri)
            else:
                self._conns[uri] = _mariadb(db_name(uri))
        return self._conns[uri]

    def load(self, engine: DbEngine, uri: str, catalog: Catalog, form: SourceForm, table: pa.Table) -> None:
        """(Re)create ``form``'s table in the database at ``uri`` and load ``table`` into it."""
        conn = self._conn(engine, uri)
        ddl = [f"DROP TABLE IF EXISTS {quote(engine, form.table)}", *create_table_sql(engine, catalog, form)]
        if engine == "mariadb":
            with conn.cursor() as cur:
                for stmt in ddl:
                    cur.execute(stmt)
                _insert_mariadb(cur, form, table)
            return
        cur = conn.cursor()
        try:
            for stmt in ddl:
                cur.execute(stmt)
            if table.num_rows:
                cur.adbc_ingest(form.table, sqlite_ready(table) if engine == "sqlite" else table, mode="append")
        finally:
            cur.close()
        conn.commit()


def load_sqlite(path: Path, catalog: Catalog, form: SourceForm, table: pa.Table) -> None:
    with Loader() as loader:
        loader.load("sqlite", f"sqlite:///{path}", catalog, form, table)


# --- PostgreSQL and MariaDB ---
def pg_uri(db: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{db}"


def mariadb_uri(db: str) -> str:
    return f"mysql://root@127.0.0.1:3306/{db}?ssl_mode=DISABLED"  # the local server has no TLS


def recreate_database(engine: Literal["postgresql", "mariadb"], db: str) -> str:
    """Drop and create database ``db``; returns its URI."""
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f"CREATE DATABASE \"{db}\" ENCODING 'UTF8' TEMPLATE template0")
        return pg_uri(db)
    with _mariadb(None) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    return mariadb_uri(db)


def database_exists(engine: Literal["postgresql", "mariadb"], db: str) -> bool:
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None
    with _mariadb(None) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (db,))
        return cur.fetchone() is not None


def drop_database(engine: Literal["postgresql", "mariadb"], db: str) -> None:
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        return
    with _mariadb(None) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")


def _mariadb(db: str | None) -> Any:
    import pymysql

    # the demo's own servers are local: no TLS (PyMySQL would build a TLS context per connection)
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=db,
                           charset="utf8mb4", autocommit=True, connect_timeout=10, local_infile=True,
                           ssl_disabled=True)


def db_name(uri: str) -> str:
    return unquote(urlsplit(uri).path.lstrip("/"))


def load_postgresql(uri: str, catalog: Catalog, form: SourceForm, table: pa.Table) -> None:
    with Loader() as loader:
        loader.load("postgresql", uri, catalog, form, table)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True)) if table.num_columns else []


def load_mariadb(uri: str, catalog: Catalog, form: SourceForm, table: pa.Table) -> None:
    with Loader() as loader:
        loader.load("mariadb", uri, catalog, form, table)


def mariadb_csv(table: pa.Table) -> pa.Table:
    """What LOAD DATA reads back exactly: booleans as 0/1, times with their microseconds."""
    cols = []
    for col in table.columns:
        if pa.types.is_boolean(col.type):
            col = pc.cast(col, pa.int8())
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(pc.cast(col, pa.timestamp("us")), "%Y-%m-%d %H:%M:%S")
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _insert_mariadb(cur: Any, form: SourceForm, table: pa.Table, batch_rows: int = 5000) -> None:
    import pymysql

    if not table.num_rows:
        return
    try:
        _load_data_mariadb(cur, form, table)
        return
    except pymysql.err.OperationalError as exc:
        # 1148/3948/4166: the server does not take local files; 2068: the client refused the request
        if exc.args[0] not in (1148, 2068, 3948, 4166):
            raise
    cols = ", ".join(quote("mariadb", c) for c in table.column_names)
    marks = ", ".join(["%s"] * table.num_columns)
    sql = f"INSERT INTO {quote('mariadb', form.table)} ({cols}) VALUES ({marks})"
    for batch in table.to_batches(batch_rows):
        cur.executemany(sql, _rows(pa.Table.from_batches([batch])))


def _load_data_mariadb(cur: Any, form: SourceForm, table: pa.Table) -> None:
    import os
    import tempfile

    import pyarrow.csv as pcsv

    fd, name = tempfile.mkstemp(prefix="qc_load_", suffix=".csv")
    os.close(fd)
    try:
        pcsv.write_csv(mariadb_csv(table), name, pcsv.WriteOptions(
            include_header=False, null_string="NULL", quoting_style="all_valid", batch_size=8192))
        cols = ", ".join(quote("mariadb", c) for c in table.column_names)
        cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote('mariadb', form.table)} CHARACTER SET utf8mb4 "
                    "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                    f"LINES TERMINATED BY '\n' ({cols})", (name,))
        loaded = cur.rowcount
        cur.execute("SELECT @@warning_count")
        warnings = int(cur.fetchone()[0])
        if warnings:  # a value MariaDB had to change (truncated, out of range ...) is a loader bug: say which
            cur.execute("SHOW WARNINGS LIMIT 5")
            raise RuntimeError(f"LOAD DATA into {form.table}: {warnings} warning(s), e.g. {cur.fetchall()}")
    finally:
        os.unlink(name)
    if loaded != table.num_rows:
        raise RuntimeError(f"LOAD DATA into {form.table} took {loaded} of {table.num_rows} rows")


# --- JSON API store ---
def api_path(world_dir: Path, system_id: str, table: str) -> Path:
    return world_dir / "api" / system_id / f"{table}.parquet"


def load_api(world_dir: Path, system_id: str, form: SourceForm, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    path = api_path(world_dir, system_id, form.table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)  # the API never sees half a file


# --- changes (demo advance) ---
def _key_params(table: pa.Table, keys: Sequence[str]) -> list[tuple[Any, ...]]:
    return _rows(table.select(list(keys)))


def apply_changes(engine: DbEngine, uri: str, catalog: Catalog, form: SourceForm,
                  upserts: pa.Table, deletes: pa.Table) -> None:
    """Delete ``deletes`` (by primary key) and write ``upserts`` (delete by key, then insert)."""
    keys = list(form.primary_key)

    def q(name: str) -> str:
        return quote(engine, name)

    gone = pa.concat_tables([upserts.select(keys), deletes.select(keys)]) if keys else upserts.select([])
    if engine == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        where = " AND ".join(f"{q(k)} = ?" for k in keys)
        path = sqlite_path(uri)
        with closing(sqlite3.connect(path)) as db:
            db.executemany(f"DELETE FROM {q(form.table)} WHERE {where}", _rows(sqlite_ready(gone)))
            db.commit()
        if upserts.num_rows:
            with adbc_sqlite.connect(path) as lite:
                cur = lite.cursor()
                cur.adbc_ingest(form.table, sqlite_ready(upserts), mode="append")
                cur.close()
                lite.commit()
    elif engine == "postgresql":
        import adbc_driver_postgresql.dbapi as adbc_pg
        import psycopg

        where = " AND ".join(f"{q(k)} = %s" for k in keys)
        with psycopg.connect(uri) as pgconn, pgconn.cursor() as pgcur:
            pgcur.executemany(f"DELETE FROM {q(form.table)} WHERE {where}", _key_params(gone, keys))
        if upserts.num_rows:
            with adbc_pg.connect(uri) as adbc_conn:
                acur = adbc_conn.cursor()
                acur.adbc_ingest(form.table, upserts, mode="append")
                acur.close()
                adbc_conn.commit()
    else:
        where = " AND ".join(f"{q(k)} = %s" for k in keys)
        with _mariadb(db_name(uri)) as conn, conn.cursor() as cur:
            cur.executemany(f"DELETE FROM {q(form.table)} WHERE {where}", _key_params(gone, keys))
            _insert_mariadb(cur, form, upserts)


def to_json_value(value: object) -> object:
    """A native value as JSON (decimals and dates as text)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
