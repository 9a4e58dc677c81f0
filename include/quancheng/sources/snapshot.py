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

from collections.abc import Sequence

import pyarrow as pa

from quancheng.errors import SourceError

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
