"""SQL database sources: SQLite, PostgreSQL and MariaDB read through Arrow-native drivers.

One class does the work; the engine is chosen by the connection URI's scheme, so a system the catalog
lists as ``postgresql`` can be served from a SQLite file in the embedded demo without a code change:

- ``sqlite:////abs/path.db``: ADBC SQLite, opened read-only (a missing file is an outage, never a new
  empty database). SQLite types values per cell, and the driver infers a column's type from its first
  rows, so the query casts every column to its native affinity and puts one typed sentinel row first.
  A cast would turn text in a numeric column into 0 (``CAST('不详' AS REAL)``): such cells are read beside
  it as text, and a batch holding one passes that column on as text, for normalization to reject them.
- ``postgresql://user@host:port/db``: ADBC PostgreSQL (binary COPY, batches bounded by a byte hint).
- ``mysql://user@host:port/db`` (MariaDB): ConnectorX's Arrow stream when installed, else PyMySQL's
  unbuffered (server-side) cursor turned into Arrow batches. Both hold one chunk at a time.
  ``?ssl_mode=DISABLED`` turns TLS off for a server that has none (PyMySQL otherwise builds a TLS
  context for every connection, ~0.1 s, to offer it).

Column names, order and types come from SQLAlchemy reflection (:meth:`SqlSource.live_columns`,
:meth:`SqlSource.live_types`: a retyped column is schema drift, see :func:`_accepts`). Incremental
forms read ``start <= updated < end`` (the first window, ``start=None``, also takes rows
with no timestamp); snapshot forms read the whole table. Every batch is cut to at most
``chunk_rows`` rows and cast to the native schema (:meth:`Source.schema`). A server that refuses,
times out or is missing raises :class:`SourceUnavailable` with the URI's password removed.
:meth:`SqlSource.list_keys` streams ``SELECT`` of the primary key columns of the whole table through the
same readers (bounded batches, never the whole key list in one result), for delete reconciliation.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog.models import NativeType, SourceField, SourceForm
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources.base import LiveType, Source, Window, redact, register
from quancheng.sources.types import NATIVE_ARROW, conform, rechunk

Engine = Literal["sqlite", "postgresql", "mariadb"]
CONNECT_TIMEOUT_S = 10
_SCHEMES: dict[str, Engine] = {
    "sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql",
    "mysql": "mariadb", "mariadb": "mariadb", "mysql+pymysql": "mariadb",
}
# SQLite affinity each native type is read with, and the sentinel that fixes the driver's type guess
_SQLITE_CAST: dict[NativeType, tuple[str, str]] = {
    "text": ("TEXT", "''"), "integer": ("INTEGER", "0"), "decimal": ("REAL", "0.5"),
    "date": ("TEXT", "''"), "datetime": ("TEXT", "''"), "boolean": ("INTEGER", "0"),
}
_SQLITE_TS = "%Y-%m-%d %H:%M:%S"
_NOT_A_NUMBER = "__qc_not_a_number__"  # prefix of the helper columns of _numbers_or_text
_TLS_MODE = ("ssl_mode", "ssl-mode")


def engine_of(uri: str) -> Engine:
    """The database engine a connection URI points at."""
    scheme = uri.split("://", 1)[0].lower()
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise SourceError("?", None, f"unsupported database URI scheme {scheme!r}; "
                                     f"known: {sorted(_SCHEMES)}") from None


def live_type(engine: Engine, sql_type: Any, dialect: Any) -> LiveType:
    """What a reflected SQL type can hold, in catalog native types (see :func:`_accepts`)."""
    try:
        declared = str(sql_type.compile(dialect=dialect))
    except Exception:  # noqa: BLE001 -- a type SQLAlchemy cannot render still gets a name in the message
        declared = type(sql_type).__name__
    return LiveType(declared, _accepts(engine, sql_type))


def _accepts(engine: Engine, sql_type: Any) -> frozenset[NativeType]:
    """Native types a live SQL type can hold (empty: none, so any catalog type is a retype).

    - text types hold text; in SQLite also dates and times, which it keeps as ISO text;
    - integer types hold integers; in SQLite and MariaDB also booleans (no boolean type: 0/1,
      ``TINYINT(1)``); numeric, decimal and floating types hold decimals; date holds date;
      date-time and timestamp types hold datetime; boolean holds boolean.
    """
    import sqlalchemy as sa

    if isinstance(sql_type, sa.Boolean):
        return frozenset({"boolean"})
    if isinstance(sql_type, sa.Integer):
        return frozenset({"integer", "boolean"} if engine in ("sqlite", "mariadb") else {"integer"})
    if isinstance(sql_type, sa.Numeric | sa.Float):  # Float is no Numeric since SQLAlchemy 2.1
        return frozenset({"decimal"})
    if isinstance(sql_type, sa.DateTime):
        return frozenset({"datetime"})
    if isinstance(sql_type, sa.Date):
        return frozenset({"date"})
    if isinstance(sql_type, sa.String):
        return frozenset({"text", "date", "datetime"} if engine == "sqlite" else {"text"})
    return frozenset()


def sqlite_path(uri: str) -> str:
    """``sqlite:////abs/path.db`` -> ``/abs/path.db`` (``sqlite:///rel.db`` -> ``rel.db``)."""
    rest = uri.split("://", 1)[1].split("?", 1)[0]
    return unquote(rest[1:])


def sqlalchemy_url(uri: str) -> str:
    """The SQLAlchemy URL (read-only for SQLite) of one of our connection URIs, for reflection and counts."""
    engine = engine_of(uri)
    parts = urlsplit(uri)
    if engine == "sqlite":
        return f"sqlite:///file:{sqlite_path(uri)}?mode=ro&uri=true"
    driver = "postgresql+psycopg" if engine == "postgresql" else "mysql+pymysql"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("connect_timeout", *_TLS_MODE)])
    return urlunsplit((driver, parts.netloc, parts.path, query, ""))


def _quote(engine: Engine, name: str) -> str:
    if engine == "mariadb":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


class StreamedSql(Source):
    """SQL kinds read a window, and the key columns of every row, through one ``_stream`` of their own."""

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        yield from self._stream(form, window, chunk_rows, self.catalog.fields_of(form.form_id))

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """``SELECT`` of the primary key columns only, streamed in batches of at most ``chunk_rows``."""
        keys = [f for f in self.catalog.fields_of(form.form_id) if f.column in form.primary_key]
        yield from self._stream(form, None, chunk_rows, keys)

    def _stream(self, form: SourceForm, window: Window | None, chunk_rows: int,
                fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError


class SqlSource(StreamedSql):
    """A departmental database; the engine follows the URI (see the module docstring)."""

    kind: ClassVar[str] = "sql"
    _memo: dict[str, list[tuple[str, LiveType]]] | None = None

    @property
    def engine(self) -> Engine:
        return engine_of(self.uri)

    # --- errors ---
    def _down(self, form: SourceForm | None, exc: BaseException | str) -> SourceUnavailable:
        return SourceUnavailable(self.system.system_id, form.table if form else None,
                                 f"{self.engine} source unavailable: {redact(str(exc))}")

    # --- reflection ---
    def _sqlalchemy_url(self) -> str:
        return sqlalchemy_url(self.uri)

    def _check_file(self, form: SourceForm | None) -> None:
        if self.engine == "sqlite":
            import os

            path = sqlite_path(self.uri)
            if not os.path.isfile(path):
                raise self._down(form, f"database file {path} does not exist")
            with open(path, "rb") as fh:  # SQLite opens an empty file as an empty database: no table, "drift"
                head = fh.read(16)
            if head != b"SQLite format 3\x00":
                what = "is empty (0 bytes)" if not head else "does not start with the SQLite header"
                raise self._down(form, f"database file {path} {what}: not a SQLite database (fix: restore the "
                                       "department's database file or point the connection at it)")

    def _reflect(self, form: SourceForm) -> list[tuple[str, LiveType]]:
        """The table's columns in order with their live types; [] when the table does not exist."""
        import sqlalchemy as sa

        self._check_file(form)
        if self._memo is not None and form.table in self._memo:
            return self._memo[form.table]
        engine = self._sa_engine()
        try:
            inspector = sa.inspect(engine)
            columns = [(str(c["name"]), live_type(self.engine, c["type"], engine.dialect))
                       for c in inspector.get_columns(form.table)] if inspector.has_table(form.table) else []
            if self._memo is not None:
                self._memo[form.table] = columns
            return columns
        except sa.exc.DBAPIError as exc:
            raise self._down(form, exc.orig or exc) from None
        finally:
            engine.dispose()

    def _sa_engine(self) -> Any:
        """A SQLAlchemy engine for reflection and counts (the reads themselves go through Arrow drivers)."""
        import sqlalchemy as sa

        connect_args: dict[str, Any] = {}
        if self.engine != "sqlite":
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        if self.engine == "mariadb":
            connect_args.update(self._mariadb_tls())
        return sa.create_engine(self._sqlalchemy_url(), connect_args=connect_args, poolclass=sa.pool.NullPool)

    def live_columns(self, form: SourceForm) -> list[str]:
        return [name for name, _ in self._reflect(form)]

    def future_rows(self, form: SourceForm, window: Window) -> int | None:
        """``COUNT(*)`` of the rows stamped at or after the window's end, in the system's own clock."""
        if not form.updated_column:
            return None
        import sqlalchemy as sa

        self._check_file(form)
        end: Any = self.local(window.end)
        if self.engine == "sqlite":
            end = end.strftime(_SQLITE_TS)
        col = _quote(self.engine, form.updated_column)
        sql = sa.text(f"SELECT COUNT(*) FROM {_quote(self.engine, form.table)} WHERE {col} >= :end")
        engine = self._sa_engine()
        try:
            with engine.connect() as c:
                return int(c.execute(sql, {"end": end}).scalar() or 0)
        except sa.exc.DBAPIError as exc:
            raise self._down(form, exc.orig or exc) from None
        finally:
            engine.dispose()

    def check_schema(self, form: SourceForm) -> list[str]:
        self._memo = {}  # names and types from one reflection
        try:
            return super().check_schema(form)
        finally:
            self._memo = None

    def _mariadb_tls(self) -> dict[str, Any]:
        """PyMySQL's TLS arguments: ``ssl_mode=DISABLED`` in the URI turns TLS off; otherwise PyMySQL's
        default (TLS whenever the server offers it) applies."""
        query = {k.replace("-", "_"): v for k, v in parse_qsl(urlsplit(self.uri).query)}
        return {"ssl_disabled": True} if query.get("ssl_mode", "").upper() == "DISABLED" else {}

    def live_types(self, form: SourceForm) -> dict[str, LiveType]:
        return dict(self._reflect(form))

    # --- reading ---
    def _where(self, form: SourceForm, window: Window | None) -> tuple[str, list[datetime]]:
        if not form.updated_column or window is None:  # None: every row (a snapshot form, or the key listing)
            return "", []
        col = _quote(self.engine, form.updated_column)
        if window.start is None:  # the first read also takes rows that never got a timestamp
            return f" WHERE ({col} < ? OR {col} IS NULL)", [self.local(window.end)]
        return f" WHERE {col} >= ? AND {col} < ?", [self.local(window.start), self.local(window.end)]

    def _stream(self, form: SourceForm, window: Window | None, chunk_rows: int,
                fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([pa.field(f.column, NATIVE_ARROW[f.native_type]) for f in fields])
        readers = {"sqlite": self._read_sqlite, "postgresql": self._read_postgresql,
                   "mariadb": self._read_mariadb}
        raw = readers[self.engine](form, window, chunk_rows, fields)
        for batch in rechunk(raw, chunk_rows):
            yield conform(batch, schema, self.system.system_id, form.table)

    def _read_sqlite(self, form: SourceForm, window: Window | None, chunk_rows: int,
                     fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        import adbc_driver_manager
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        self._check_file(form)
        sentinel = ", ".join(f"{_SQLITE_CAST[f.native_type][1]} AS {_quote('sqlite', f.column)}" for f in fields)
        cols = ", ".join(f"CAST({_quote('sqlite', f.column)} AS {_SQLITE_CAST[f.native_type][0]})"
                         for f in fields)
        # CAST('不详' AS REAL) is 0.0: beside each numeric column, the cells that are not numbers, as text
        numeric = [f.column for f in fields if _SQLITE_CAST[f.native_type][0] in ("INTEGER", "REAL")]
        for c in numeric:
            q = _quote("sqlite", c)
            sentinel += f", '' AS {_quote('sqlite', _NOT_A_NUMBER + c)}"
            cols += f", CASE WHEN typeof({q}) IN ('integer', 'real', 'null') THEN NULL ELSE CAST({q} AS TEXT) END"
        where, params = self._where(form, window)
        sql = f"SELECT {sentinel} UNION ALL SELECT {cols} FROM {_quote('sqlite', form.table)}{where}"
        try:
            conn = adbc_sqlite.connect(f"file:{sqlite_path(self.uri)}?mode=ro")
        except adbc_driver_manager.Error as exc:
            raise self._down(form, exc) from None
        try:
            cur = conn.cursor()
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(min(chunk_rows, 65536))})
            try:
                cur.execute(sql, [p.strftime(_SQLITE_TS) for p in params] or None)
                reader = cur.fetch_record_batch()
            except adbc_driver_manager.OperationalError as exc:
                raise self._down(form, exc) from None
            first = True
            for batch in reader:
                if first:  # drop the typed sentinel row
                    batch, first = batch.slice(1), False
                if batch.num_rows:
                    yield _numbers_or_text(batch, numeric)
        finally:
            conn.close()

    def _pg_uri(self) -> str:
        parts = urlsplit(self.uri)
        query = dict(parse_qsl(parts.query))
        query.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
        return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))

    def _read_postgresql(self, form: SourceForm, window: Window | None, chunk_rows: int,
                         fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as adbc_pg

        cols = ", ".join(_quote("postgresql", f.column) for f in fields)
        where, params = self._where(form, window)
        # Bound parameters make the driver run an extended-protocol query whose whole result libpq holds
        # in memory (RSS grew with the table: 3 GiB for 10 M rows); without them it streams COPY batches.
        # The values are window bounds (datetimes) this code formats itself, never text from outside.
        for p in params:
            where = where.replace("?", _timestamp_literal(p), 1)
        sql = f"SELECT {cols} FROM {_quote('postgresql', form.table)}{where}"
        try:
            conn = adbc_pg.connect(self._pg_uri())
        except adbc_driver_manager.Error as exc:
            raise self._down(form, exc) from None
        try:
            cur = conn.cursor()
            # about 200 bytes a row: keeps the driver's own batches near chunk_rows
            hint = max(1 << 16, min(chunk_rows * 200, 64 << 20))
            cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(hint)})
            try:
                cur.execute(sql)
                reader = cur.fetch_record_batch()
            except adbc_driver_manager.OperationalError as exc:
                raise self._down(form, exc) from None
            yield from reader
        finally:
            conn.close()

    def _probe(self, form: SourceForm) -> None:
        parts = urlsplit(self.uri)
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 3306),
                                          timeout=CONNECT_TIMEOUT_S):
                pass
        except OSError as exc:
            raise self._down(form, f"cannot reach {parts.hostname}:{parts.port}: {exc}") from None

    def _read_mariadb(self, form: SourceForm, window: Window | None, chunk_rows: int,
                      fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        self._probe(form)  # fail fast: ConnectorX's pool retries a refused connection for half a minute
        try:
            import connectorx  # noqa: F401
        except ImportError:
            yield from self._read_mariadb_pymysql(form, window, chunk_rows, fields)
        else:
            yield from self._read_mariadb_connectorx(form, window, chunk_rows, fields)

    def _mariadb_sql(self, form: SourceForm, window: Window | None, placeholder: str,
                     fields: list[SourceField]) -> tuple[str, list[datetime]]:
        cols = ", ".join(_quote("mariadb", f.column) for f in fields)
        where, params = self._where(form, window)
        return f"SELECT {cols} FROM {_quote('mariadb', form.table)}{where.replace('?', placeholder)}", params

    def _read_mariadb_connectorx(self, form: SourceForm, window: Window | None, chunk_rows: int,
                                 fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        import connectorx as cx

        sql, params = self._mariadb_sql(form, window, "{}", fields)
        # ConnectorX takes no bind parameters; the values are datetimes this code formats itself
        sql = sql.format(*(_timestamp_literal(p) for p in params))
        parts = urlsplit(self.uri)
        uri = urlunsplit(("mysql", parts.netloc, parts.path, "", ""))
        try:
            reader = cx.read_sql(uri, sql, return_type="arrow_stream", batch_size=chunk_rows)
        except RuntimeError as exc:
            raise self._down(form, exc) from None
        yield from reader

    def _read_mariadb_pymysql(self, form: SourceForm, window: Window | None, chunk_rows: int,
                              fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        import pymysql
        import pymysql.cursors

        sql, params = self._mariadb_sql(form, window, "%s", fields)
        parts = urlsplit(self.uri)
        try:
            conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                                   user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
                                   database=parts.path.lstrip("/"), charset="utf8mb4",
                                   connect_timeout=CONNECT_TIMEOUT_S, cursorclass=pymysql.cursors.SSCursor,
                                   **self._mariadb_tls())
        except pymysql.err.OperationalError as exc:
            raise self._down(form, exc) from None
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                while rows := cur.fetchmany(chunk_rows):
                    columns = list(zip(*rows, strict=True))
                    yield pa.RecordBatch.from_arrays(
                        [_typed(col, NATIVE_ARROW[f.native_type]) for col, f in zip(columns, fields, strict=True)],
                        names=[f.column for f in fields])
        except pymysql.err.OperationalError as exc:
            raise self._down(form, exc) from None
        finally:
            conn.close()


def _numbers_or_text(batch: pa.RecordBatch, numeric: list[str]) -> pa.RecordBatch:
    """A SQLite batch without its not-a-number columns; a numeric column holding such a cell becomes text
    (its numbers written out, the other cells as they were), for normalization to reject those cells."""
    out = batch.select([n for n in batch.schema.names if not n.startswith(_NOT_A_NUMBER)])
    for c in numeric:
        raw = batch.column(_NOT_A_NUMBER + c)
        if raw.null_count == len(raw):
            continue
        text = pc.coalesce(raw, pc.cast(out.column(c), pa.string()))
        i = out.schema.get_field_index(c)
        out = out.set_column(i, pa.field(c, pa.string()), text)
    return out


def _timestamp_literal(moment: datetime) -> str:
    """A window bound as an SQL literal; the column's type decides how it compares (timestamp, or ISO text,
    which is why whole seconds are written without a fraction)."""
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return f"'{moment:%Y-%m-%d %H:%M:%S}{fraction}'"


def _typed(values: tuple[Any, ...], target: pa.DataType) -> pa.Array:
    # a column MariaDB computes (e.g. DATE_ADD on text) arrives as str: pass it as text for conform to cast
    try:
        return pa.array(values, type=target)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


@register
class SqliteSource(SqlSource):
    """A system kept in a SQLite file."""

    kind = "sqlite"


@register
class PostgresqlSource(SqlSource):
    """A system kept in PostgreSQL."""

    kind = "postgresql"


@register
class MariadbSource(SqlSource):
    """A system kept in MariaDB (MySQL protocol)."""

    kind = "mariadb"
