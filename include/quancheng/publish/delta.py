"""A shared dataset as a Delta Lake table: one merge commit per batch, history, time travel, maintenance.

The library layer the store will publish through (issue 12; choice and measurements in
``benchmarks/results/table_format.md``). A dataset lives at one stable path (or object-store URI) and
every publish is a Delta commit:
- :func:`merge_batch` upserts the batch's rows and deletes its removed keys in **one** ``MERGE`` (so one
  version, atomic: readers see the previous version or the new one, never part of a batch). Rows equal
  to the current ones are left alone, so re-running a batch, or publishing an empty one, commits nothing
  and returns the current version. The first publish creates the table.
- Column descriptions (Chinese/English names, comments) live in the Delta schema's field metadata, which
  DuckDB, polars, Spark and Trino carry along with the columns.
- :func:`history` lists the commits; :func:`read` reads the current version or the one current *as of*
  a version number or a time; :func:`changes` reads the rows changed since a version (the change data
  feed); :func:`maintain` compacts small files and vacuums files no version within the retention needs.

A killed writer leaves at most data files that no commit names: readers never see them and
:func:`maintain` removes them once older than the retention.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.errors import QuanchengError

KEY = "_source_key"
# the merge's marker column; a batch column of that name would be ambiguous, so it is refused
OP = "_qc_merge_op"
ROWS_ADDED = "quancheng.rows_added"  # in the metadata of the commit that created the table
COMPRESSION: Final = "ZSTD"
# files of about this size (delta-rs writes 100 MiB by default): a batch rewrites only the files holding
# its keys, so smaller files make a batch clustered in key order (new and recent projects) cheaper
TARGET_FILE_BYTES = 8 * 2**20
# a day's batch up to this many rows is merged collected (delta-rs prunes the target files by its key range
# first); above it, streamed, so its memory stays bounded: benchmarks/delta_merge.py measures both
COLLECTED_MERGE_ROWS = 250_000

# the change data feed records each commit's inserted, updated (before/after) and deleted rows, so the SQL
# copy and consolidation can read what changed since the version they last saw instead of everything.
# Every open of a table replays the commits since its last checkpoint, and a run opens each of its tables
# a few dozen times: with delta's default of a checkpoint every 100 commits, a day's fixed cost would grow
# day by day until the 100th (benchmarks/delta_log.py). A checkpoint every 10 commits bounds it; a
# checkpoint of a table of a few hundred files is written in milliseconds
CHECKPOINT_INTERVAL = 10
TABLE_PROPERTIES: Final = {"delta.targetFileSize": str(TARGET_FILE_BYTES), "delta.enableChangeDataFeed": "true",
                           "delta.checkpointInterval": str(CHECKPOINT_INTERVAL)}

PathOrUri = str | Path
ColumnMeta = Mapping[str, Mapping[str, str]]


class BatchError(QuanchengError):
    """A batch that cannot be merged as given (duplicate keys, a key both upserted and deleted, no key)."""


@dataclass(frozen=True)
class Commit:
    """One version of a dataset, as :func:`history` reports it."""

    version: int
    timestamp: datetime
    operation: str
    rows_added: int
    rows_updated: int
    rows_removed: int
    batch_id: str = ""  # the exchange's batch that made the commit (from the commit's metadata)
    batch_digest: str = ""  # a hash of that batch's rows and deleted keys, where the merge recorded one


@dataclass(frozen=True)
class Maintenance:
    """What :func:`maintain` did: files compacted (removed, added) and files vacuumed."""

    files_compacted: int
    files_written: int
    files_vacuumed: int
    version: int


def _uri(path_or_uri: PathOrUri) -> str:
    return str(path_or_uri)


def exists(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> bool:
    """Whether a Delta table (a committed version) exists at ``path_or_uri``."""
    from deltalake import DeltaTable

    return bool(DeltaTable.is_deltatable(_uri(path_or_uri), storage_options=storage_options))


def missing_files(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> list[str]:
    """Data files the current version names that are gone (a local table only: an object store is not
    listed file by file). A reader of such a table fails half-way, so the store refuses it up front."""
    if storage_options or "://" in str(path_or_uri):
        return []
    from urllib.parse import unquote

    return [u for u in current_files(path_or_uri) if not Path(unquote(u.removeprefix("file://"))).is_file()]


def current_version(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> int | None:
    """The table's current version, None if nothing was ever committed there."""
    from deltalake import DeltaTable

    if not exists(path_or_uri, storage_options=storage_options):
        return None
    return int(DeltaTable(_uri(path_or_uri), storage_options=storage_options).version())


def with_column_meta(table: pa.Table, metadata: ColumnMeta) -> pa.Table:
    """``table`` whose fields carry ``metadata[column]`` (string keys and values) as field metadata."""
    fields = [f.with_metadata({k: v for k, v in metadata[f.name].items()}) if f.name in metadata else f
              for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


class Batch:
    """The rows of one batch, held whole or read part by part from Parquet files: what a merge takes.

    :meth:`tables` yields the rows in order, reading them again on every call, so a batch of parts is never
    in memory whole; :meth:`column` gathers one column of every row (the keys, for the checks). :meth:`map`
    and :meth:`then` return new batches that apply a function to each part or add rows after the last.
    """

    def __init__(self, schema: pa.Schema, tables: Callable[[], Iterator[pa.Table]], num_rows: int,
                 read_column: Callable[[str], Iterator[pa.Array]] | None = None):
        self.schema, self._tables, self.num_rows = schema, tables, num_rows
        self._read_column = read_column

    @classmethod
    def of(cls, table: pa.Table) -> Batch:
        return cls(table.schema, lambda: iter([table]), table.num_rows)

    @classmethod
    def parts(cls, paths: list[Path], schema: pa.Schema | None = None) -> Batch:
        """The rows of Parquet files written with one schema, read one at a time."""
        import pyarrow.parquet as pq

        if not paths and schema is None:
            raise ValueError("a batch of no parts needs its schema")
        return cls.files(paths, schema or pq.read_schema(paths[0]), lambda p, c: pq.read_table(p, columns=c),
                         sum(pq.read_metadata(p).num_rows for p in paths))

    @classmethod
    def files(cls, paths: list[Path], schema: pa.Schema, read: Callable[[Path, list[str] | None], pa.Table],
              rows: int) -> Batch:
        """The ``rows`` rows of files written with ``schema``, read one at a time by ``read(path, columns)``
        (``columns`` None: all); a column alone is read without the others."""
        def read_column(name: str) -> Iterator[pa.Array]:  # that column only, not the rows
            return (read(p, [name])[name].combine_chunks() for p in paths)

        return cls(schema, lambda: (read(p, None) for p in paths), rows, read_column if paths else None)

    def tables(self) -> Iterator[pa.Table]:
        for t in self._tables():
            yield t if t.schema == self.schema else t.select(self.schema.names).cast(self.schema)

    def column(self, name: str) -> pa.Array:
        chunks = list(self.column_parts(name))
        return pa.concat_arrays(chunks) if chunks else pa.array([], self.schema.field(name).type)

    def column_parts(self, name: str) -> Iterator[pa.Array]:
        """One column, part by part (read without the other columns where the parts allow)."""
        typ = self.schema.field(name).type
        if self._read_column is not None:
            return (a.cast(typ) for a in self._read_column(name))
        return (t[name].combine_chunks() for t in self.tables())

    def map(self, fn: Callable[[pa.Table], pa.Table], *, same_values: bool = True) -> Batch:
        """``fn`` applied to each part. ``same_values``: ``fn`` leaves the values of the columns it keeps as they
        are (it adds, drops, casts or describes columns), so :meth:`column` may still read them from the parts."""
        schema = fn(self.schema.empty_table()).schema
        keep = self._read_column if same_values else None
        return Batch(schema, lambda: (fn(t) for t in self.tables()), self.num_rows, keep)

    def then(self, table: pa.Table) -> Batch:
        """This batch followed by ``table``'s rows (cast to this batch's schema; a column it lacks is null)."""
        if not table.num_rows:
            return self
        extra = conform(table, self.schema).select(self.schema.names).cast(self.schema)

        def read_column(name: str) -> Iterator[pa.Array]:
            return itertools.chain(self.column_parts(name), [extra[name].combine_chunks()])

        return Batch(self.schema, lambda: itertools.chain(self.tables(), [extra]), self.num_rows + table.num_rows,
                     read_column)

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(
            self.schema, (b for t in self.tables() for b in t.to_batches()))

    def to_table(self) -> pa.Table:
        return pa.concat_tables([self.schema.empty_table(), *self.tables()])


def check_batch(upserts: Batch, deleted_keys: pa.Array, key: str) -> None:
    """Refuse a batch the merge would mishandle: no key column, a null or repeated key, a key both upserted
    and deleted, or a column named like the merge's marker.

    Part by part, in memory that does not grow with the keys' text: each key is hashed to 64 bits and the
    hashes must be distinct; only keys whose hashes repeat are compared as text (a collision is no
    duplicate)."""
    import polars as pl

    if key not in upserts.schema.names:
        raise BatchError(f"batch has no key column {key!r} (columns: {', '.join(upserts.schema.names)})")
    if OP in upserts.schema.names:
        raise BatchError(f"batch column {OP!r} is reserved for the merge; rename it")
    deleted = deleted_keys.cast(upserts.schema.field(key).type)
    hashes: list[pl.Series] = []
    for keys in upserts.column_parts(key):
        if keys.null_count:
            raise BatchError(f"batch has {keys.null_count} row(s) with a null {key!r}")
        both = pc.is_in(keys, value_set=deleted)
        if pc.any(both).as_py():
            raise BatchError(f"batch both upserts and deletes key {key}={keys.filter(both)[0].as_py()!r}")
        hashes.append(pl.Series(keys).hash(seed=7))
    if not hashes:
        return
    every = pl.concat(hashes)
    if every.n_unique() == len(every):
        return
    repeated = every.filter(every.is_duplicated()).unique()
    suspects = pa.concat_arrays([keys.filter(pl.Series(keys).hash(seed=7).is_in(repeated).to_arrow())
                                 for keys in upserts.column_parts(key)])
    counts = pc.value_counts(suspects)
    dup = next((c["values"] for c in counts.to_pylist() if c["counts"] > 1), None)
    if dup is not None:
        raise BatchError(f"batch has key {key}={dup!r} more than once; a batch holds one row per key")


def merge_source(upserts: Batch, deleted_keys: pa.Array, key: str) -> pa.RecordBatchReader:
    """The merge's source, streamed: the upserts marked ``u``, then one row per deleted key marked ``d``
    (other columns null)."""
    schema = pa.schema([*storable(upserts.schema.empty_table()).schema.remove_metadata(),
                        pa.field(OP, pa.string())])

    def marked() -> Iterator[pa.RecordBatch]:
        for t in upserts.tables():
            t = storable(t).append_column(OP, pa.array(["u"] * t.num_rows, pa.string()))
            yield from t.cast(schema).to_batches()
        n = len(deleted_keys)
        if n:
            cols = [deleted_keys.cast(f.type) if f.name == key else pa.nulls(n, f.type) for f in schema
                    if f.name != OP]
            yield from pa.table([*cols, pa.array(["d"] * n, pa.string())], schema=schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, marked())


def _changed_predicate(columns: list[str], existing: set[str], key: str) -> str:
    """SQL true when the source row differs from the target row in any column but the key; a column the
    table does not have yet differs wherever the batch has a value in it."""
    parts = [f"(s.{_q(c)} IS DISTINCT FROM t.{_q(c)})" if c in existing else f"(s.{_q(c)} IS NOT NULL)"
             for c in columns if c != key]
    return " OR ".join(parts) if parts else "FALSE"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def merge_batch(path_or_uri: PathOrUri, upserts: pa.Table | Batch, deleted_keys: pa.Array, *, key: str = KEY,
                metadata: ColumnMeta | None = None, commit_info: Mapping[str, str] | None = None,
                storage_options: dict[str, str] | None = None) -> int:
    """Merge one batch into the dataset at ``path_or_uri`` in one commit; the version now current.

    ``upserts`` holds the new or changed rows (one per ``key``; a :class:`Batch` of parts is streamed into
    the merge, never held whole), ``deleted_keys`` the keys removed at the source. ``metadata`` maps
    column -> {name: value} (e.g. ``name_zh``, ``name_en``, ``comment``) and is kept as the Delta schema's
    field metadata; ``commit_info`` (e.g. the batch id) goes into the commit. The first publish creates
    the table from ``upserts``. A batch that changes nothing (empty, or rows equal to the current ones, or
    keys already deleted) commits nothing and returns the current version.
    """
    from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake

    batch = upserts if isinstance(upserts, Batch) else Batch.of(upserts)
    check_batch(batch, deleted_keys, key)
    uri = _uri(path_or_uri)
    if metadata:
        batch = batch.map(lambda t: with_column_meta(t, metadata))
    props = CommitProperties(custom_metadata=dict(commit_info or {}))
    writer = WriterProperties(compression=COMPRESSION)
    if not exists(uri, storage_options=storage_options):
        # each part sorted by key so the files' min/max statistics let later merges skip the files a batch misses
        first = batch.map(lambda t: storable(t.sort_by([(key, "ascending")]) if t.num_rows else t), same_values=False)
        if storage_options or "://" in uri:  # an object store: delta-rs's own writer (see _create)
            write_deltalake(uri, first.reader(), mode="error", storage_options=storage_options,
                            writer_properties=writer, target_file_size=TARGET_FILE_BYTES, commit_properties=props,
                            configuration=TABLE_PROPERTIES)
        else:
            _create(uri, first, dict(commit_info or {}))
        return int(DeltaTable(uri, storage_options=storage_options).version())
    dt = DeltaTable(uri, storage_options=storage_options)
    if batch.num_rows or len(deleted_keys):
        _merge(dt, batch, deleted_keys, key, writer, props)
    if metadata:  # after the merge, so a column the batch added gets its description in the same publish
        _update_column_meta(dt, metadata, props)
    return int(dt.version())


def _create(uri: str, batch: Batch, commit_info: dict[str, str], *, replace: bool = False) -> None:
    """Create the local table at ``uri`` with ``batch`` as version 0 (``replace``: as the next version of the
    table there, replacing its rows and schema): each part written as one Parquet file, then one commit naming
    them all. (``write_deltalake`` collects its whole input before writing, delta-rs issue 3578: a first
    publish of ten million rows would hold them all. On an object store it is still used: files written
    there by pyarrow's S3 filesystem were read back as corrupt by delta-rs on SeaweedFS.)"""
    import pyarrow.parquet as pq
    from deltalake import CommitProperties, Schema
    from deltalake.transaction import AddAction, create_table_with_add_actions

    root = Path(uri)
    root.mkdir(parents=True, exist_ok=True)
    actions: list[Any] = []
    for table in batch.tables():
        if not table.num_rows:
            continue
        name = f"part-{len(actions):05d}-{uuid.uuid4()}-c000.zstd.parquet"
        pq.write_table(table, root / name, compression=COMPRESSION.lower(), row_group_size=100_000)
        actions.append(AddAction(name, (root / name).stat().st_size, {}, int(time.time() * 1000), True,
                                 _stats(table)))
    schema = Schema.from_arrow(batch.schema)
    # a commit made of add actions has no operation metrics: its rows go in the commit's metadata
    props = CommitProperties(custom_metadata={**commit_info, ROWS_ADDED: str(batch.num_rows)})
    create_table_with_add_actions(uri, schema, actions, mode="overwrite" if replace else "error",
                                  configuration=TABLE_PROPERTIES, commit_properties=props)


def _stats(table: pa.Table) -> str:
    """A data file's statistics for the log: its row count, and min, max and null count of its text and
    integer columns (the kinds whose JSON form is plain; others go without, which only skips pruning)."""
    import json

    lo: dict[str, Any] = {}
    hi: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for f in table.schema:
        col = table[f.name]
        nulls[f.name] = col.null_count
        if (pa.types.is_string(f.type) or pa.types.is_integer(f.type)) and col.null_count < len(col):
            mm = pc.min_max(col)
            lo[f.name], hi[f.name] = mm["min"].as_py(), mm["max"].as_py()
    return json.dumps({"numRecords": table.num_rows, "minValues": lo, "maxValues": hi, "nullCount": nulls},
                      ensure_ascii=False)


def _merge(dt: Any, upserts: Batch, deleted_keys: pa.Array, key: str, writer: Any, props: Any) -> None:
    """One MERGE of the batch into ``dt``: update rows that differ, delete removed keys, insert new keys.

    A batch of at most :data:`COLLECTED_MERGE_ROWS` rows is collected by delta-rs, which then skips the
    files whose key range misses the batch's before the join; a larger one is streamed, never held whole."""
    source = merge_source(upserts, deleted_keys, key)
    existing = {f.name for f in dt.schema().fields}
    changed = _changed_predicate(upserts.schema.names, existing, key)
    # merge_schema: a column new in this batch is added to the table (null in the rows before it)
    (dt.merge(source, f"t.{_q(key)} = s.{_q(key)}", source_alias="s", target_alias="t", merge_schema=True,
              writer_properties=writer, commit_properties=props,
              streamed_exec=upserts.num_rows + len(deleted_keys) > COLLECTED_MERGE_ROWS)
       .when_matched_update_all(predicate=f"s.{OP} = 'u' AND ({changed})", except_cols=[OP])
       .when_matched_delete(predicate=f"s.{OP} = 'd'")
       .when_not_matched_insert_all(predicate=f"s.{OP} = 'u'", except_cols=[OP])
       .execute())  # delta-rs commits nothing when no row was inserted, updated or deleted


def _update_column_meta(dt: Any, metadata: ColumnMeta, props: Any) -> None:
    """Commit the columns whose metadata differs from ``metadata`` (a described column, a new comment):
    one small commit per changed column, none when the descriptions are unchanged."""
    dt.update_incremental()
    current = {f.name: f for f in dt.schema().fields}
    for name, meta in metadata.items():
        f = current.get(name)
        if f is not None and dict(f.metadata) != dict(meta):
            dt.alter.set_column_metadata(name, dict(meta), commit_properties=props)


def overwrite(path_or_uri: PathOrUri, table: pa.Table | Batch, *, metadata: ColumnMeta | None = None,
              commit_info: Mapping[str, str] | None = None, storage_options: dict[str, str] | None = None) -> int:
    """Make ``table`` the whole content of the dataset in one commit (created if absent); the new version.

    For datasets rebuilt in full (consolidation, a rebuild from a full read of the source): the previous
    versions stay readable as of their version, and columns may change (the schema is replaced). A
    :class:`Batch` of parts is written part by part into a local table (never held whole); on an object
    store it is collected first (see :func:`_create`)."""
    from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake

    uri = _uri(path_or_uri)
    if isinstance(table, Batch):
        if not (storage_options or "://" in uri):
            batch = table.map(lambda t: storable(with_column_meta(t, metadata) if metadata else t))
            _create(uri, batch, dict(commit_info or {}), replace=exists(uri))
            return int(DeltaTable(uri).version())
        table = table.to_table()
    if metadata:
        table = with_column_meta(table, metadata)
    new = not exists(uri, storage_options=storage_options)
    write_deltalake(uri, storable(table), mode="overwrite", schema_mode=None if new else "overwrite",
                    storage_options=storage_options, writer_properties=WriterProperties(compression=COMPRESSION),
                    target_file_size=TARGET_FILE_BYTES,
                    commit_properties=CommitProperties(custom_metadata=dict(commit_info or {})),
                    configuration=TABLE_PROPERTIES if new else None)
    return int(DeltaTable(uri, storage_options=storage_options).version())


def in_keys(column: str, keys: pa.Array) -> str:
    """A predicate for :func:`replace_where`: ``column`` is one of ``keys`` (quoted as SQL text)."""
    literal = ", ".join("'" + str(k).replace("'", "''") + "'" for k in keys.to_pylist())
    return f"{_q(column)} IN ({literal})"


def replace_where(path_or_uri: PathOrUri, table: pa.Table, predicate: str, *,
                  commit_info: Mapping[str, str] | None = None, storage_options: dict[str, str] | None = None) -> int:
    """Replace the rows matching ``predicate`` (SQL over the table's columns) by ``table``'s rows, which must
    all match it, in one commit; the new version. The other rows and the schema stay as they are."""
    from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake

    uri = _uri(path_or_uri)
    write_deltalake(uri, storable(table), mode="overwrite", predicate=predicate, storage_options=storage_options,
                    writer_properties=WriterProperties(compression=COMPRESSION), target_file_size=TARGET_FILE_BYTES,
                    commit_properties=CommitProperties(custom_metadata=dict(commit_info or {})))
    return int(DeltaTable(uri, storage_options=storage_options).version())


def storable(table: pa.Table) -> pa.Table:
    """``table`` with columns of Arrow's null type (a column with no value in any row) typed as strings:
    Delta has no null type."""
    if not any(pa.types.is_null(f.type) for f in table.schema):
        return table
    fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def conform(batch: pa.Table, schema: pa.Schema) -> pa.Table:
    """``batch`` shaped like the table it merges into: the table's columns first, in its order and types
    (a column the batch lacks is null), then the batch's new columns (which the merge adds)."""
    names = set(batch.column_names)
    cols, fields = [], []
    for f in schema:
        if f.name in names:
            col = batch[f.name]
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(batch.num_rows, f.type))
        fields.append(f.with_metadata(batch.schema.field(f.name).metadata) if f.name in names else f)
    for f in batch.schema:
        if f.name not in schema.names:
            cols.append(batch[f.name])
            fields.append(f)
    return storable(pa.table(cols, schema=pa.schema(fields)))


def row_count(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> int:
    """Rows of the current version, from the files' statistics in the log (no data file is read)."""
    from deltalake import DeltaTable

    actions = pa.table(DeltaTable(_uri(path_or_uri), storage_options=storage_options).get_add_actions(flatten=True))
    return int(pc.sum(actions["num_records"]).as_py() or 0) if actions.num_rows else 0


def schema(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> pa.Schema:
    """The current version's Arrow schema, with each column's field metadata."""
    from deltalake import DeltaTable

    return pa.schema(DeltaTable(_uri(path_or_uri), storage_options=storage_options).schema().to_arrow())


def read_keys(path_or_uri: PathOrUri, key: str, keys: pa.Array, *,
              storage_options: dict[str, str] | None = None) -> pa.Table:
    """The current rows whose ``key`` is one of ``keys`` (files whose key range misses them are skipped)."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    if not len(keys):
        return pa.schema(dt.schema().to_arrow()).empty_table()
    # file by file: the key column first, the rest only of files holding a wanted key. (delta-rs's own
    # filters and a Parquet dataset over its files both fail here: its merge writes string keys as
    # string_view, for which pyarrow 22 has no comparison or is_in kernel.) No deletion vectors or column
    # mapping are written here, so the files hold exactly the current rows.
    schema = pa.schema(dt.schema().to_arrow())
    wanted = keys.cast(pa.string()) if pa.types.is_string(schema.field(key).type) else keys
    filesystem = _filesystem(storage_options)
    parts = [schema.empty_table()]
    for uri in dt.file_uris():
        where = uri.removeprefix("file://") if filesystem is None else uri.split("://", 1)[1]
        column = pq.read_table(where, columns=[key], filesystem=filesystem)[key]
        hit = pc.is_in(column.cast(wanted.type), value_set=wanted)
        if pc.any(hit).as_py():
            part = conform(pq.read_table(where, filesystem=filesystem), schema).select(schema.names)
            parts.append(part.filter(hit))
    return pa.concat_tables(parts)


def _filesystem(storage_options: dict[str, str] | None) -> Any:
    """The pyarrow filesystem for the table's file URIs: local (None lets pyarrow infer it) or S3."""
    if not storage_options:
        return None
    from pyarrow import fs

    endpoint = storage_options.get("AWS_ENDPOINT_URL", "")
    return fs.S3FileSystem(endpoint_override=endpoint or None, region=storage_options.get("AWS_REGION"),
                           access_key=storage_options.get("AWS_ACCESS_KEY_ID"),
                           secret_key=storage_options.get("AWS_SECRET_ACCESS_KEY"),
                           session_token=storage_options.get("AWS_SESSION_TOKEN"),
                           anonymous="AWS_ACCESS_KEY_ID" not in storage_options,
                           scheme="http" if endpoint.startswith("http://") else "https")


def column_meta(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """The field metadata of each described column of the current version."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    return {f.name: {k: str(v) for k, v in f.metadata.items()} for f in dt.schema().fields if f.metadata}


def current_files(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> list[str]:
    """The Parquet files of the current version: what a reader without Delta support (DuckDB without its
    ``delta`` extension, a plain Parquet reader) reads to see exactly the current rows."""
    from deltalake import DeltaTable

    return [str(u) for u in DeltaTable(_uri(path_or_uri), storage_options=storage_options).file_uris()]


BATCH_DIGEST = "quancheng.batch_digest"  # the commit metadata key of :attr:`Commit.batch_digest`


def history(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> list[Commit]:
    """Every commit still in the log, newest first: version, time (UTC), operation and rows changed."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    return [_commit(h) for h in dt.history()]


def _commit(h: Mapping[str, Any]) -> Commit:
    m = h.get("operationMetrics") or {}

    def n(*names: str) -> int:
        return int(sum(int(m.get(x) or 0) for x in names))

    return Commit(
        version=int(h["version"]),
        timestamp=datetime.fromtimestamp(int(h["timestamp"]) / 1000, UTC),
        operation=str(h.get("operation", "")),
        rows_added=n("num_added_rows", "num_target_rows_inserted") or int(h.get(ROWS_ADDED) or 0),
        rows_updated=n("num_target_rows_updated", "num_updated_rows"),
        rows_removed=n("num_target_rows_deleted", "num_deleted_rows"),
        batch_id=str(h.get("quancheng.batch_id") or ""),
        batch_digest=str(h.get(BATCH_DIGEST) or ""),
    )


def last_commit(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> Commit:
    """The newest commit (the current version's), read without the rest of the log."""
    from deltalake import DeltaTable

    return _commit(DeltaTable(_uri(path_or_uri), storage_options=storage_options).history(1)[0])


def changes(path_or_uri: PathOrUri, since_version: int, *, columns: list[str] | None = None,
            storage_options: dict[str, str] | None = None) -> pa.Table:
    """The rows changed by the commits after ``since_version`` (up to the current one), from the change data
    feed: each row with ``_change_type`` (``insert``, ``update_preimage``, ``update_postimage``, ``delete``)
    and ``_commit_version`` (of ``columns`` only, if given). Empty when nothing was committed since."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    if since_version >= dt.version():
        schema = pa.schema([*pa.schema(dt.schema().to_arrow()), pa.field("_change_type", pa.string()),
                            pa.field("_commit_version", pa.int64()),
                            pa.field("_commit_timestamp", pa.timestamp("us"))])
        return schema.empty_table() if columns is None else pa.schema([schema.field(c) for c in columns]).empty_table()
    return pa.table(dt.load_cdf(starting_version=since_version + 1, columns=columns).read_all())


SCAN_PART_ROWS = 100_000


def scan(path_or_uri: PathOrUri, *, columns: list[str] | None = None, part_rows: int = SCAN_PART_ROWS,
         as_of: int | None = None, storage_options: dict[str, str] | None = None) -> Iterator[pa.Table]:
    """The current rows (or those of version ``as_of``), ``columns`` only, as tables of at most ``part_rows``
    rows read one at a time (in file order), so a reader of a large dataset holds one part, not the dataset."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    if as_of is not None:
        dt.load_as_version(as_of)
    # one file and two batches read ahead: the defaults (4 files, 16 batches each) held up to 64 parts (a
    # column of 2 M keys is read in 0.08 s instead of 0.05 s; the enterprise master's first build at 2 M rows
    # peaks 140 MB lower)
    for b in dt.to_pyarrow_dataset().to_batches(columns=columns, batch_size=part_rows, fragment_readahead=1,
                                                 batch_readahead=2):
        if b.num_rows:
            yield pa.Table.from_batches([b])


def read(path_or_uri: PathOrUri, as_of: int | datetime | None = None, *, columns: list[str] | None = None,
         storage_options: dict[str, str] | None = None) -> pa.Table:
    """The dataset's current rows, or those current as of version ``as_of`` (int) or time ``as_of``
    (an aware datetime: the last version whose commit time in :func:`history` is at or before it)."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    if isinstance(as_of, datetime):
        as_of = version_at(path_or_uri, as_of, storage_options=storage_options)
    if as_of is not None:
        dt.load_as_version(as_of)
    return pa.table(dt.to_pyarrow_table(columns=columns))


def version_at(path_or_uri: PathOrUri, when: datetime, *, storage_options: dict[str, str] | None = None) -> int:
    """The version current at time ``when`` (aware): the last one committed at or before it, by the commit
    times :func:`history` shows (delta-rs's own lookup uses log files' modification times, which can differ
    from them by milliseconds, so a time copied from the history could name the version before)."""
    if when.tzinfo is None:
        raise ValueError(f"as_of {when.isoformat()} has no time zone; give an aware datetime (e.g. UTC)")
    log = history(path_or_uri, storage_options=storage_options)
    found = [c.version for c in log if c.timestamp <= when]
    if not found:
        first = min(log, key=lambda c: c.version)
        raise ValueError(f"no version of {path_or_uri} at {when.isoformat()}: the oldest in its log is "
                         f"{first.version}, committed {first.timestamp.isoformat()}")
    return max(found)


def forget_versions(path_or_uri: PathOrUri, *, storage_options: dict[str, str] | None = None) -> int:
    """Delete every file the current version does not need (for a table only its current version is read
    from, such as a consolidation's state); how many were deleted."""
    from deltalake import DeltaTable

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    return len(dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False))


def maintain(path_or_uri: PathOrUri, retention_hours: int, *,
             storage_options: dict[str, str] | None = None) -> Maintenance:
    """Compact small files into larger ones, then delete files no version younger than
    ``retention_hours`` needs (including files of killed writes) and checkpoint the log.

    Versions older than the retention can no longer be read as of; the current one always can.
    """
    from deltalake import DeltaTable, WriterProperties

    dt = DeltaTable(_uri(path_or_uri), storage_options=storage_options)
    metrics = dt.optimize.compact(target_size=TARGET_FILE_BYTES,
                                  writer_properties=WriterProperties(compression=COMPRESSION))
    # full: also files no commit names (a killed writer's), once older than the retention like the rest
    removed = dt.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False, full=True)
    dt.create_checkpoint()
    return Maintenance(files_compacted=int(metrics.get("numFilesRemoved", 0)),
                       files_written=int(metrics.get("numFilesAdded", 0)),
                       files_vacuumed=len(removed), version=int(dt.version()))
