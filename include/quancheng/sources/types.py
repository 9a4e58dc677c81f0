"""Arrow types of native columns, and the small batch helpers every source kind shares.

A database source yields each column in the Arrow type of its catalog ``native_type``
(:func:`native_schema`); a file drop yields every column as text, since a CSV or Excel cell has no
type the pipeline may trust (:func:`text_schema`). Rules:

- text -> string; integer -> int64; decimal -> decimal128(24, 4) (exact, never float);
  date -> date32; datetime -> timestamp[us] (naive: source clocks are read as UTC);
  boolean -> bool.
- a cell the native type cannot hold never stops the extraction: when a column has one (a SQLite date
  ``0000-00-00``, a REAL ``1e20`` or ``inf`` in a decimal column, which an unsafe cast would turn into a
  valid-looking ``0.0000``), the whole column of that batch is passed on as text, so normalization reads
  every value and rejects the bad ones with their reason (``date.invalid``, ``quantity.too_large``,
  ``quantity.not_finite``) and the row is quarantined with the raw value;
- text that is not valid UTF-8 (SQLite stores any bytes) is repaired by the declared rule of the Unicode
  standard: each invalid byte sequence becomes U+FFFD, so every later step holds valid strings;
  normalization then rejects such a value as ``text.invalid_utf8``;
- :func:`unify` gives the batches of one read one schema (a column that went to text in one batch is
  text in all);
- :func:`rechunk` cuts any stream of batches into batches of at most ``chunk_rows`` rows, so memory
  is bounded by the chunk size whatever the driver's own batch size is.
- :func:`source_keys` renders a form's primary key as one string per row (``a|b`` for composite
  keys): the ``_source_key`` provenance value and the demo manifest's ``source_key``. A NUL byte in a key
  is written ``\\x00`` (PostgreSQL cannot store it; a mapped key column also quarantines the row as
  ``text.nul_byte``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

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

    A column holding a value its native type cannot hold stays text (see the module rules); text that is
    not valid UTF-8 is repaired with U+FFFD.
    """
    arrays = []
    fields = []
    for field in schema:
        if field.name not in batch.schema.names:
            raise SourceError(system_id, table, "the source returned no such column", column=field.name)
        col = batch.column(field.name)
        if isinstance(col.type, pa.ExtensionType):
            col = col.storage  # e.g. PostgreSQL numeric arrives as an opaque string extension
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = valid_utf8(col)
        if col.type != field.type:
            col = _cast_or_text(col, field.type)
        arrays.append(col)
        fields.append(pa.field(field.name, col.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _cast_or_text(col: pa.Array, target: pa.DataType) -> pa.Array:
    """``col`` in ``target``, or as text when one of its values does not fit (never a silent wrong value)."""
    if pa.types.is_decimal(target) and pa.types.is_floating(col.type):
        # decimals round to the native scale (SQLite keeps them as binary floats), so the cast is unsafe;
        # what an unsafe cast cannot hold (inf, nan, >= 10^(precision - scale)) must not reach it
        limit = float(10 ** (target.precision - target.scale))
        fits = pc.and_kleene(pc.is_finite(col), pc.less(pc.abs(col), limit))
        if pc.all(pc.fill_null(fits, True)).as_py():
            return pc.cast(col, target, safe=False)
        return pc.cast(col, pa.string())
    try:
        return pc.cast(col, target, safe=not pa.types.is_decimal(target))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pc.cast(col, pa.string())


def valid_utf8(col: pa.Array) -> pa.Array:
    """``col`` itself when it is valid UTF-8, else a copy where each invalid sequence became U+FFFD."""
    try:
        col.validate(full=True)
        return col
    except pa.ArrowInvalid:
        pass
    raw = pc.cast(col, pa.large_binary() if pa.types.is_large_string(col.type) else pa.binary())
    fixed = [None if v is None else v.decode("utf-8", errors="replace") for v in raw.to_pylist()]
    return pa.array(fixed, col.type)


def unify(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """The batches of one read in one schema: a column that is text in any batch is text in all."""
    if len({b.schema for b in batches}) <= 1:
        return batches
    names = batches[0].schema.names
    text = {n for b in batches for n in names if pa.types.is_string(b.schema.field(n).type)}
    schema = pa.schema([pa.field(n, pa.string() if n in text else batches[0].schema.field(n).type) for n in names])
    return [b if b.schema == schema else pa.RecordBatch.from_arrays(
        [pc.cast(b.column(n), schema.field(n).type) for n in names], schema=schema) for b in batches]


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
    return pa.Table.from_batches(unify(parts)).combine_chunks().to_batches()[0]


def local_naive(moment: datetime, zone: str) -> datetime:
    """A window bound as the naive local time of ``zone``, which a source's zone-less timestamps are compared
    with. An aware bound (Airflow's data interval, the CLI's window) is converted; a naive one is taken as
    already in the source's clock."""
    from zoneinfo import ZoneInfo

    return moment if moment.tzinfo is None else moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def source_keys(table: pa.Table | pa.RecordBatch, key_columns: Iterable[str]) -> pa.Array | pa.ChunkedArray:
    """One string per row: the primary key's values as text, joined with ``|``."""
    parts = [_nul_escaped(pc.cast(table.column(c), pa.string())) for c in key_columns]
    if not parts:
        raise ValueError("a source key needs at least one key column")
    if len(parts) == 1:
        return pc.fill_null(parts[0], "")
    filled = [pc.fill_null(p, "") for p in parts]
    return pc.binary_join_element_wise(*filled, KEY_SEP)


def _nul_escaped(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``text`` with each NUL character written ``\\x00``; as it is (no copy) when its bytes hold none, as
    nearly every key's do: the day's listing of ten million keys then allocates no second copy of them."""
    import numpy as np

    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    data = [c.buffers()[2] for c in chunks]  # a string array's bytes (of its slice and maybe beyond)
    if all(d is None or d.size == 0 or np.frombuffer(d, np.uint8).min() > 0 for d in data):
        return text
    return pc.replace_substring(text, "\x00", "\\x00")
