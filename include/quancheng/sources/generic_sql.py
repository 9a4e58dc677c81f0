"""Any database SQLAlchemy has a dialect for, read through SQLAlchemy itself: the ``sql`` source kind.

Government systems also run on databases this project has no Arrow-native driver for (达梦 DM, 人大金仓
KingbaseES, 南大通用 GBase, 神通, Oracle ...); each ships a SQLAlchemy dialect. A system of kind ``sql`` names
the database by its SQLAlchemy URL (``dm+dmPython://user:pw@host:5236``, ``kingbase+psycopg2://...``,
``oracle+oracledb://...``; the driver package is the department's to install), and this source reads it:

- columns and types by reflection (a retyped column is drift, as for the built-in SQL kinds);
- the window ``start <= updated < end`` (the first window also takes rows without a timestamp) as a bound
  ``SELECT`` of the catalog's columns, streamed from a server-side cursor where the driver has one and turned
  into Arrow batches of at most ``chunk_rows`` rows, so memory is bounded as for the other kinds;
- the primary key columns of every row for delete reconciliation.

It is slower than the Arrow-native drivers of the built-in kinds (rows pass through Python objects), which is
why PostgreSQL, MariaDB and SQLite keep theirs; the contract test runs this kind against all three.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from quancheng.catalog.models import SourceField, SourceForm
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources.base import LiveType, Window, redact, register
from quancheng.sources.sql import StreamedSql
from quancheng.sources.types import NATIVE_ARROW, conform, rechunk


@register
class GenericSqlSource(StreamedSql):
    """A system in any database with a SQLAlchemy dialect, read through SQLAlchemy."""

    kind: ClassVar[str] = "sql"
    _sa: Any = None

    def _engine(self, form: SourceForm | None) -> Any:
        import sqlalchemy as sa

        if self._sa is None:
            try:
                self._sa = sa.create_engine(self.uri, poolclass=sa.pool.NullPool)
            except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
                raise SourceError(self.system.system_id, form.table if form else None,
                                  f"connection {self.system.conn_id!r} is no usable SQLAlchemy URL "
                                  f"({redact(str(exc))}; fix: a URL such as dialect+driver://user@host/db, with "
                                  "the dialect's package installed)") from None
        return self._sa

    def _down(self, form: SourceForm | None, exc: BaseException) -> SourceUnavailable:
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        return SourceUnavailable(self.system.system_id, form.table if form else None,
                                 f"database unavailable: {redact(first)}")

    def _columns(self, form: SourceForm) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        engine = self._engine(form)
        try:
            insp = sa.inspect(engine)
            return list(insp.get_columns(form.table)) if insp.has_table(form.table) else []
        except sa.exc.DBAPIError as exc:
            raise self._down(form, exc) from None

    def live_columns(self, form: SourceForm) -> list[str]:
        return [str(c["name"]) for c in self._columns(form)]

    def live_types(self, form: SourceForm) -> dict[str, LiveType]:
        from quancheng.sources.sql import live_type

        dialect = self._engine(form).dialect
        # SQLite and MySQL keep dates as text and booleans as integers: judged as the built-in kinds judge them
        engine = {"sqlite": "sqlite", "mysql": "mariadb", "mariadb": "mariadb"}.get(dialect.name, "postgresql")
        return {str(c["name"]): live_type(engine, c["type"], dialect) for c in self._columns(form)}  # type: ignore[arg-type]

    def _stream(self, form: SourceForm, window: Window | None, chunk_rows: int,
                fields: list[SourceField]) -> Iterator[pa.RecordBatch]:
        import sqlalchemy as sa

        schema = pa.schema([pa.field(f.column, NATIVE_ARROW[f.native_type]) for f in fields])
        table = sa.table(form.table, *(sa.column(f.column) for f in fields))
        stmt = sa.select(*(table.c[f.column] for f in fields))
        engine = self._engine(form)
        if form.updated_column and window is not None:
            updated: Any = sa.column(form.updated_column)

            def bound(moment: Any) -> Any:  # SQLite keeps time stamps as text: compare text with text
                local = self.local(moment)
                return local.strftime("%Y-%m-%d %H:%M:%S") if engine.dialect.name == "sqlite" else local

            if window.start is None:  # the first read also takes rows that never got a timestamp
                stmt = stmt.where(sa.or_(updated < bound(window.end), updated.is_(None)))
            else:
                stmt = stmt.where(updated >= bound(window.start), updated < bound(window.end))

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                with engine.connect() as conn:
                    result = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows).execute(stmt)
                    for rows in result.partitions(chunk_rows):
                        columns = list(zip(*rows, strict=True)) if rows else [()] * len(fields)
                        arrays = [_array(values) for values in columns]
                        yield pa.RecordBatch.from_arrays(arrays, names=[f.column for f in fields])
            except sa.exc.DBAPIError as exc:
                raise self._down(form, exc) from None

        for batch in rechunk(batches(), chunk_rows):
            yield conform(batch, schema, self.system.system_id, form.table)


def _array(values: tuple[Any, ...]) -> pa.Array:
    """Python values of one column as Arrow (mixed types, as SQLite allows, become text for normalization)."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
