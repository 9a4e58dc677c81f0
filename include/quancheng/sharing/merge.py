"""Merge a day's rows into an area copy: the touched keys' rows replaced, every other row as it was.

What a consolidation that recomputed some projects only (:mod:`quancheng.consolidate.incremental`) does to
the area copies of its outputs, instead of splitting, sorting and loading every row again:

- the new version's rows are the current version's, read row group by row group, without the touched
  keys' rows, with the touched keys' new rows put in key order among them (:func:`merged_rows`): the same
  rows, in the same order, as sharing the whole output would give, so the same content hash;
- the SQL table is changed in place, in one transaction, as a system dataset's is by a sync
  (:func:`quancheng.publish.store.apply_change`): the touched keys' rows deleted and the new rows inserted.
  The table is not replaced, so its grants, comments and any view on it stay.

The copy must be ordered by the key first (``sort_by[0] == key``), and each key's rows must all be either
touched or not: a project's rows are recomputed together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quancheng.publish.delta import Batch

READ_ROWS = 100_000  # the current version is read this many rows at a time


def merged_rows(files: list[Path], rows: pa.Table, touched: pa.Array, *, key: str, sort_by: list[str]) -> Batch:
    """The rows of ``files`` (a version ordered by ``sort_by``) without those whose ``key`` is in ``touched``,
    and ``rows`` (whose keys are all in ``touched``) each put in its place: a batch read part by part."""
    if not sort_by or sort_by[0] != key:
        raise ValueError(f"an area copy merged by {key!r} must be ordered by it first, not by {sort_by}")
    schema = pq.read_schema(files[0])
    order = [(k, "ascending") for k in sort_by]
    new = rows.select(schema.names).cast(schema).sort_by(order) if rows.num_rows else schema.empty_table()
    gone = sum(int(pc.sum(pc.is_in(pq.read_table(f, columns=[key])[key], value_set=touched)).as_py() or 0)
               for f in files)
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files) - gone + new.num_rows

    def parts() -> Iterator[pa.Table]:
        taken = 0  # the new rows placed so far (they are in key order)
        for f in files:
            for rb in pq.ParquetFile(f).iter_batches(batch_size=READ_ROWS):
                part = pa.Table.from_batches([rb], schema)
                if not part.num_rows:
                    continue
                last = part[key][part.num_rows - 1]
                kept = part.filter(pc.invert(pc.is_in(part[key], value_set=touched)))
                upto = int(pc.sum(pc.less_equal(new[key], last)).as_py() or 0) if last.is_valid else taken
                if upto > taken:  # the new rows whose keys fall within this part's range
                    kept = pa.concat_tables([kept, new.slice(taken, upto - taken)]).sort_by(order)
                    taken = upto
                if kept.num_rows:
                    yield kept
        if taken < new.num_rows:
            yield new.slice(taken)

    return Batch(schema, parts, total)
