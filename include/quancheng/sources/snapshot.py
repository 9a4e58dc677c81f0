"""Change detection for systems without an update timestamp: compare two full snapshots.

:func:`diff_snapshots` is pure and vectorized (polars row hashes and hash joins, no Python loop over
rows). Rules:

- a row is identified by its ``key_columns`` (nulls in a key compare equal to nulls);
- **inserts**: current rows whose key is not in the previous snapshot (all rows when there is none);
- **deletes**: previous rows whose key is not in the current snapshot;
- **updates**: current rows whose key is in the previous snapshot but whose whole-row hash is not
  among the previous rows of that key (so a key held by several rows is still handled, and nothing
  is dropped);
- unchanged rows appear in none of the three. Each result keeps the input's Arrow schema and order.

Both snapshots are hashed in the same call, so the hash function never needs to be stable across
versions; the previous snapshot is stored as data, not as hashes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from quancheng.errors import SourceError
from quancheng.sources.types import source_keys

_IDX = "__qc_row"
_HASH = "__qc_hash"


def diff_snapshots(previous: pa.Table | None, current: pa.Table,
                   key_columns: Sequence[str]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(inserts, updates, deletes) that turn ``previous`` into ``current``; see the module docstring."""
    import polars as pl

    keys = list(key_columns)
    missing = [k for k in keys if k not in current.column_names]
    if not keys or missing:
        raise SourceError("?", None, f"snapshot diff needs key columns present in the table; missing {missing}"
                                     if keys else "snapshot diff needs at least one key column")
    if previous is None or previous.num_rows == 0:
        return current, current.schema.empty_table(), (previous if previous is not None
                                                       else current.schema.empty_table())
    if previous.column_names != current.column_names:
        raise SourceError("?", None, "snapshots have different columns: "
                                     f"{previous.column_names} vs {current.column_names}")

    def frame(table: pa.Table) -> pl.DataFrame:
        # hash every column as text, so a type change between snapshots does not count as a change of all rows
        text = pl.from_arrow(table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names])))
        assert isinstance(text, pl.DataFrame)
        return text.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(_IDX))

    prev, cur = frame(previous), frame(current)
    prev = prev.with_columns(prev.select(previous.column_names).hash_rows().alias(_HASH))
    cur = cur.with_columns(cur.select(current.column_names).hash_rows().alias(_HASH))

    inserted = cur.join(prev.select(keys), on=keys, how="anti", nulls_equal=True)
    deleted = prev.join(cur.select(keys), on=keys, how="anti", nulls_equal=True)
    kept = cur.join(prev.select(keys).unique(), on=keys, how="semi", nulls_equal=True)
    updated = kept.join(prev.select([*keys, _HASH]), on=[*keys, _HASH], how="anti", nulls_equal=True)

    def rows(table: pa.Table, found: pl.DataFrame) -> pa.Table:
        return table.take(pa.array(found[_IDX].sort().to_numpy()))

    return rows(current, inserted), rows(current, updated), rows(previous, deleted)


class StreamedDiff:
    """:func:`diff_snapshots` over a read that comes batch by batch, in memory bounded by a batch and an index.

    Each batch is kept on disk as it came (its own types: a text column in one batch of a CSV is not an
    error) and appended, as text, to the next snapshot. Only a slim index of each row (its key columns as
    text, a hash of the whole row as text, its position in the read) is compared with the same index of the
    previous snapshot, split by a hash of the key into buckets of about ``index_rows`` rows that are compared
    one at a time. The rows to upsert are then taken from the kept batches by position, in the read's order.
    The rules are those of :func:`diff_snapshots`; snapshots are stored as text, which hashes exactly as the
    typed columns cast to text do, so a snapshot written by earlier versions compares the same.
    """

    def __init__(self, previous: Path | None, key_columns: Sequence[str], work: Path, *, snapshot_out: Path | None,
                 metadata: dict[bytes, bytes] | None = None, index_rows: int = 1_000_000):
        self.keys = list(key_columns)
        if not self.keys:
            raise SourceError("?", None, "snapshot diff needs at least one key column")
        self.previous = previous if previous is not None and previous.exists() else None
        prev_rows = pq.ParquetFile(self.previous).metadata.num_rows if self.previous else 0
        self.buckets = max(1, -(-prev_rows // index_rows))
        self.work, self.snapshot_out, self.metadata = work, snapshot_out, metadata or {}
        work.mkdir(parents=True, exist_ok=True)
        self.names: list[str] | None = None
        self.rows = 0
        self._kept: list[Path] = []
        self._index: _Buckets | None = None
        self._snapshot: pq.ParquetWriter | None = None

    def add(self, batch: pa.Table) -> None:
        """One batch of the read, in order."""
        if self.names is None:
            self._start(batch)
        elif batch.column_names != self.names:
            raise SourceError("?", None, f"a batch of the read has columns {batch.column_names}, not {self.names}")
        missing = [k for k in self.keys if k not in batch.column_names]
        if missing:
            raise SourceError("?", None, f"snapshot diff needs key columns present in the table; missing {missing}")
        path = self.work / f"read-{len(self._kept):05d}.parquet"
        pq.write_table(batch, path)
        self._kept.append(path)
        text = _as_text(batch)
        if self._snapshot is not None:
            self._snapshot.write_table(text)
        if self._index is not None:
            self._index.add(_row_index(text, self.keys, self.rows))
        self.rows += batch.num_rows

    def _start(self, batch: pa.Table) -> None:
        self.names = batch.column_names
        if self.previous is not None:
            prev_names = pq.read_schema(self.previous).names
            if prev_names != self.names:
                raise SourceError("?", None, f"snapshots have different columns: {prev_names} vs {self.names}")
            self._index = _Buckets(self.work / "index", self.keys, self.buckets)
        if self.snapshot_out is not None:
            schema = pa.schema([pa.field(n, pa.string()) for n in self.names], metadata=self.metadata)
            self._snapshot = pq.ParquetWriter(self.snapshot_out, schema)

    def finish(self, declared: pa.Schema) -> tuple[Iterator[pa.Table], pa.Array]:
        """(the rows to upsert, in parts in the read's order; the source keys of the previous rows gone).
        ``declared``: the form's columns, for a read of no rows at all."""
        if self.names is None:  # an empty read: every previous row is gone
            self._start(declared.empty_table())
        if self._snapshot is not None:
            self._snapshot.close()
        if self._index is None:  # no previous snapshot: every row is new
            return self._parts(None), pa.array([], pa.string())
        previous = _Buckets(self.work / "previous", self.keys, self.buckets)
        assert self.previous is not None
        offset = 0
        for b in pq.ParquetFile(self.previous).iter_batches(batch_size=100_000):
            text = _as_text(pa.Table.from_batches([b]))
            previous.add(_row_index(text, self.keys, offset))
            offset += b.num_rows
        upsert: list[Any] = []
        gone: list[pa.Array] = []
        for cur, prev in zip(self._index.frames(), previous.frames(), strict=True):
            rows, deleted = _diff_index(prev, cur, self.keys)
            upsert.append(rows)
            if deleted.height:
                gone.append(source_keys(deleted.select(self.keys).to_arrow(), self.keys).cast(pa.string()))
        import numpy as np

        positions = np.sort(np.concatenate([np.array([], np.int64), *upsert]))
        deleted_keys = pa.concat_arrays([pa.array([], pa.string()), *[
            g.combine_chunks() if isinstance(g, pa.ChunkedArray) else g for g in gone]])
        return self._parts(positions), deleted_keys

    def _parts(self, positions: Any) -> Iterator[pa.Table]:
        """The kept batches, each cut down to the rows at ``positions`` (all rows when None)."""
        import numpy as np

        offset = 0
        for path in self._kept:
            table = pq.read_table(path)
            if positions is None:
                yield table
            else:
                lo, hi = np.searchsorted(positions, [offset, offset + table.num_rows])
                if hi > lo:
                    yield table.take(pa.array(positions[lo:hi] - offset))
            offset += table.num_rows
            path.unlink()


_POS = "__qc_pos"


def _as_text(table: pa.Table) -> pa.Table:
    return table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))


def _row_index(text: pa.Table, keys: list[str], offset: int) -> Any:
    """Key columns (text), the whole row's hash and the position in the read, as a polars frame."""
    import polars as pl

    frame = pl.from_arrow(text)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(
        *keys, frame.hash_rows(seed=0).alias(_HASH),
        pl.int_range(offset, offset + frame.height, dtype=pl.Int64).alias(_POS))


class _Buckets:
    """Row indexes split by a hash of the key into ``n`` buckets: in memory when one, else in files."""

    def __init__(self, folder: Path, keys: list[str], n: int):
        self.folder, self.keys, self.n = folder, keys, n
        self._held: list[Any] = []
        self._files = 0
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, index: Any) -> None:
        import polars as pl

        if self.n == 1:
            self._held.append(index)
            return
        bucket = index.select(pl.struct(self.keys).hash(seed=1) % self.n).to_series()
        for b, part in index.with_columns(bucket.alias("__qc_bucket")).partition_by(
                "__qc_bucket", as_dict=True, include_key=False).items():
            part.write_parquet(self.folder / f"b{int(b[0]):05d}-{self._files:06d}.parquet")
        self._files += 1

    def frames(self) -> Iterator[Any]:
        import polars as pl

        empty = pl.DataFrame(schema={**{k: pl.String for k in self.keys}, _HASH: pl.UInt64, _POS: pl.Int64})
        if self.n == 1:
            yield pl.concat([empty, *self._held]) if self._held else empty
            return
        for b in range(self.n):
            files = sorted(self.folder.glob(f"b{b:05d}-*.parquet"))
            yield pl.concat([empty, *(pl.read_parquet(f) for f in files)]) if files else empty
            for f in files:
                f.unlink()


def _diff_index(prev: Any, cur: Any, keys: list[str]) -> tuple[Any, Any]:
    """(positions of the current rows to upsert, previous rows gone) of one bucket: the rules of
    :func:`diff_snapshots` on the index."""
    inserted = cur.join(prev.select(keys), on=keys, how="anti", nulls_equal=True)
    deleted = prev.join(cur.select(keys), on=keys, how="anti", nulls_equal=True)
    kept = cur.join(prev.select(keys).unique(), on=keys, how="semi", nulls_equal=True)
    updated = kept.join(prev.select([*keys, _HASH]), on=[*keys, _HASH], how="anti", nulls_equal=True)
    import numpy as np

    return np.concatenate([inserted[_POS].to_numpy(), updated[_POS].to_numpy()]), deleted
