"""Staging parts: the files a sync's steps hand each other, in Arrow's IPC file format with LZ4 frames.

A part lives for one batch attempt, between two steps of one sync (the staging layout is in
:mod:`quancheng.pipeline`), and nothing outside the exchange reads it. Parquet, which the shared datasets
are, is made for storing and scanning: encoding, statistics and compression on every write and decoding on
every read. A part needs none of it: the Arrow IPC format writes the columns' buffers as they are in memory
(LZ4-compressed) and reads them back without decoding, schema and field metadata included. Measured on the
parts of a 35-column form (``benchmarks/results/staging.md``): written and read about 2.5x faster than
Parquet with snappy, at 1.6-3.5x its size on disk, for the one run a part lives (attempts are pruned when
the system's next run starts).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

SUFFIX = ".arrow"
_WRITE = pa.ipc.IpcWriteOptions(compression="lz4")


def write(path: Path, table: pa.Table) -> None:
    """Write ``table`` as one part (an Arrow IPC file, its buffers LZ4-compressed)."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=_WRITE) as writer:
        writer.write_table(table)


def read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A part's rows; ``columns`` only (in that order) if given: the others are not decompressed."""
    with pa.OSFile(str(path)) as source:
        reader = pa.ipc.open_file(source)
        if columns is None:
            return reader.read_all()
        names = reader.schema.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise KeyError(f"{path}: no column {', '.join(missing)} (it has {', '.join(names)})")
        wanted = pa.ipc.open_file(source, options=pa.ipc.IpcReadOptions(
            included_fields=[names.index(c) for c in columns]))
        return wanted.read_all().select(columns)


def schema(path: Path) -> pa.Schema:
    """A part's schema (metadata included), without its rows."""
    with pa.OSFile(str(path)) as source:
        return pa.ipc.open_file(source).schema


def num_rows(path: Path) -> int:
    """A part's row count, from its batches' headers."""
    with pa.OSFile(str(path)) as source:
        return int(pa.ipc.open_file(source).count_rows())
