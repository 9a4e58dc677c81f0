"""Arrow types of native columns, and the small batch helpers every source kind shares.

A database source yields each column in the Arrow type of its catalog ``native_type``
(:func:`native_schema`); a file drop yields every column as text, since a CSV or Excel cell has no
type the pipeline may trust (:func:`text_schema`). Rules:

- text -> string; integer -> int64; decimal -> decimal128(24, 4) (exact, never float);
  date -> date32; datetime -> timestamp[us] (naive: source clocks are read as UTC);
  boolean -> bool.
- :func:`rechunk` cuts any stream of batches into batches of at most ``chunk_rows`` rows, so memory
  is bounded by the chunk size whatever the driver's own batch size is.
- :func:`source_keys` renders a form's primary key as one string per row (``a|b`` for composite
  keys): the ``_source_key`` provenance value and the demo manifest's ``source_key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.models import NativeType, SourceForm
from quancheng.errors import SourceError

DECIMAL = pa.decimal128(24, 4)

NATIVE_ARROW: dict[NativeType, pa.DataType] = {
    "text": pa.string(),
    "integer": pa.int64(),
    "decimal": DECIMAL,
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "boolean": pa.bool_(),
}

KEY_SEP = "|"


def native_schema(catalog: Catalog, form: SourceForm) -> pa.Schema:
    """The form's columns in fields.csv order, each in the Arrow type of its native type."""
    return pa.schema([pa.field(f.column, NATIVE_ARROW[f.native_type]) for f in catalog.fields_of(form.form_id)])


def text_schema(catalog: Catalog, form: SourceForm) -> pa.Schema:
    """The form's columns in fields.csv order, all as text (file drops)."""
    return pa.schema([pa.field(f.column, pa.string()) for f in catalog.fields_of(form.form_id)])


def conform(batch: pa.RecordBatch, schema: pa.Schema, system_id: str, table: str) -> pa.RecordBatch:
    """Select ``schema``'s columns in its order and cast each (extension types read as their storage).

    A value that does not fit its native type raises :class:`SourceError` naming the column and value.
    """
    arrays = []
    for field in schema:
        col = batch.column(field.name)
        if isinstance(col.type, pa.ExtensionType):
            col = col.storage  # e.g. PostgreSQL numeric arrives as an opaque string extension
        if col.type != field.type:
            try:
                # decimals round to the native scale (SQLite keeps them as binary floats)
                col = pc.cast(col, field.type, safe=not pa.types.is_decimal(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SourceError(system_id, table, f"value does not fit native type {field.type}: {exc}",
                                  column=field.name, value=_first_bad(col, field.type)) from None
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _first_bad(col: pa.Array, target: pa.DataType) -> object:
    for value in col.to_pylist():
        try:
            pc.cast(pa.array([value], col.type), target, safe=not pa.types.is_decimal(target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return value
    return None


def rechunk(batches: Iterable[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of batches into batches of at most ``chunk_rows`` rows (no empty batches)."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(chunk_rows - size, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            size += take
            offset += take
            if size == chunk_rows:
                yield _concat(pending)
                pending, size = [], 0
    if size:
        yield _concat(pending)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


def naive_utc(moment: datetime) -> datetime:
    """A window bound as the naive UTC time that source timestamps are compared with."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def source_keys(table: pa.Table | pa.RecordBatch, key_columns: Iterable[str]) -> pa.Array | pa.ChunkedArray:
    """One string per row: the primary key's values as text, joined with ``|``."""
    parts = [pc.cast(table.column(c), pa.string()) for c in key_columns]
    if not parts:
        raise ValueError("a source key needs at least one key column")
    if len(parts) == 1:
        return pc.fill_null(parts[0], "")
    filled = [pc.fill_null(p, "") for p in parts]
    return pc.binary_join_element_wise(*filled, KEY_SEP)
