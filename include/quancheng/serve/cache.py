"""Area copies held in memory, one per current version, with a hash index on their key columns.

Why memory and not SQL: a prefill reads five datasets by project code; a dictionary lookup in an
in-memory Arrow table takes microseconds where a query to the shared database takes a connection and
a round trip (``benchmarks/results/serve.md`` has the measured figures). Freshness is kept by the
publish layout itself: an area copy is a symlink to ``.versions/<dataset>/<content hash>``, replaced
atomically, so one ``readlink`` per use tells whether the copy in memory is still current; a new version
is read once, and the old one dropped. When the copies are in a bucket the SQL record names the current
version instead, and a version is read from its local download (:mod:`quancheng.serve.sources`).
"""

from __future__ import annotations

import datetime as dt
import operator
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.serve.sources import AreaSource, LinkedAreas
from quancheng.sharing.rules import TOKENIZED

PY_CELLS = 2_000_000  # copies up to this many cells are held as Python lists


class Copy:
    """One version of one dataset in one area, in memory (chunks combined, so a row range is a cheap slice)."""

    def __init__(self, dataset_id: str, schema: str, version: str, table: pa.Table,
                 index: dict[str, dict[str, list[int]]]):
        self.dataset_id, self.schema, self.version = dataset_id, schema, version
        self.index = index
        self.types = {f.name: str(f.type) for f in table.schema}  # as published, before the text conversion
        self.columns: list[str] = list(table.column_names)
        # times, dates and decimals become the text JSON carries once, here, each distinct value converted
        # once (a provenance table has a few extraction times for 500,000 rows), not on every answer
        self.table = table.combine_chunks()
        for i, f in enumerate(self.table.schema):
            if pa.types.is_temporal(f.type) or pa.types.is_decimal(f.type):
                self.table = self.table.set_column(i, pa.field(f.name, pa.string(), metadata=f.metadata),
                                                   _as_text(self.table[f.name]))
        # Arrow converts one row of a wide table slowly (~30 µs a column) but whole columns fast, so a copy of
        # up to PY_CELLS cells is held as Python lists (a stage form at scale 2,000: 0.6 s once, then ~60 µs
        # a row); longer copies (provenance) are read as slices of consecutive rows, a project's being adjacent
        self._pycols: dict[str, list[Any]] | None = None
        self._rows: list[tuple[Any, ...]] = []  # the same cells as row tuples, for :meth:`getter`
        if self.table.num_rows * max(1, self.table.num_columns) <= PY_CELLS:
            self._pycols = {c: self.table[c].to_pylist() for c in self.columns}
            self._rows = list(zip(*self._pycols.values(), strict=True)) if self.columns else []
        self.column_set = frozenset(self.columns)
        # published copies carry the names and definitions as field metadata, ``tokenized`` among them
        # (quancheng.sharing.metadata.column_meta); a copy straight from the rules has TOKENIZED
        self._tokenized = frozenset(f.name for f in self.table.schema if f.metadata and b"true" in (
            f.metadata.get(TOKENIZED), f.metadata.get(b"tokenized")))

    def tokenized(self) -> frozenset[str]:
        return self._tokenized

    def find(self, column: str, value: str) -> list[int]:
        return self.index.get(column, {}).get(value, [])

    def rows(self, indices: Iterable[int] | None = None, columns: list[str] | None = None) -> list[dict[str, Any]]:
        """Rows as JSON-ready dictionaries (``indices`` ascending)."""
        names = self.columns if columns is None else columns
        if self._pycols is not None:
            lists = [self._pycols[c] for c in names]
            idx = range(self.table.num_rows) if indices is None else indices
            return [dict(zip(names, [col[i] for col in lists], strict=True)) for i in idx]
        t = self.table if columns is None else self.table.select(columns)
        if indices is None:
            return list(t.to_pylist())
        out: list[dict[str, Any]] = []
        for start, length in _runs(indices):
            out.extend(t.slice(start, length).to_pylist())
        return out


    def columns_of(self, indices: list[int], columns: list[str]) -> dict[str, list[Any]]:
        """The cells of ``indices`` (ascending) as one Python list per column: converting a provenance slice
        column by column is several times faster than row by row, and a prefill reads ~200 such rows."""
        if self._pycols is not None:
            return {c: [self._pycols[c][i] for i in indices] for c in columns}
        t = self.table.select(columns)
        if indices and indices[-1] - indices[0] == len(indices) - 1:  # one run: a project's rows are adjacent
            one: dict[str, list[Any]] = t.slice(indices[0], len(indices)).to_pydict()
            return one
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for start, length in _runs(indices):
            for c, values in t.slice(start, length).to_pydict().items():
                out[c].extend(values)
        return out

    def cells(self, index: int, columns: list[str]) -> list[Any]:
        """The cells of one row, in the order of ``columns``."""
        if self._pycols is not None:
            return [self._pycols[c][index] for c in columns]
        return [self.table[c][index].as_py() for c in columns]

    def getter(self, columns: Sequence[str]) -> Callable[[int], Sequence[Any]]:
        """A function giving the cells of ``columns`` of a row, in that order: for a copy held as Python values,
        one C-level gather from the row's tuple (a prefill reads ~200 cells of a row, a list comprehension over
        the columns took a sixth of its time); else :meth:`cells`."""
        names = list(columns)
        if self._pycols is None:
            return lambda index: self.cells(index, names)
        rows, at = self._rows, {c: i for i, c in enumerate(self.columns)}
        if len(names) == 1:
            one = at[names[0]]
            return lambda index: (rows[index][one],)
        if not names:
            return lambda index: ()
        gather = operator.itemgetter(*(at[c] for c in names))
        return lambda index: gather(rows[index])  # type: ignore[no-any-return]


def _as_text(col: pa.ChunkedArray) -> pa.Array:
    arr = col.combine_chunks()
    enc = pc.dictionary_encode(arr)
    texts = pa.array([plain(v) for v in enc.dictionary.to_pylist()], pa.string())
    return pc.take(texts, enc.indices)


def _runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][0] + out[-1][1] == i:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese as is), by orjson: a 169 kB prefill answer takes 0.59 ms instead of the
    standard library's 2.66 ms (300 answers of a scale-2,000 world), time every uncached call spent holding the
    interpreter lock. Anything JSON has no type for (times, dates, dataclasses) is written as its ``str``, as
    ``json.dumps(default=str)`` did."""
    import orjson

    return orjson.dumps(body, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                        | orjson.OPT_NON_STR_KEYS)


def plain(v: Any) -> Any:
    """A value JSON can carry: times and dates as ISO text, decimals as text (every digit kept)."""
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def build_index(table: pa.Table, columns: Iterable[str]) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for c in columns:
        if c not in table.column_names:
            continue
        idx: dict[str, list[int]] = {}
        for i, v in enumerate(table[c].to_pylist()):
            if v is not None:
                idx.setdefault(str(v), []).append(i)
        out[c] = idx
    return out


class AreaCache:
    """The current version of each area copy under ``areas_root`` (or in ``source``), loaded on first use."""

    def __init__(self, areas_root: Path, index_columns: Iterable[str], *, link_ttl: float = 1.0,
                 source: AreaSource | None = None):
        self.root = Path(areas_root)
        self.source: AreaSource = source if source is not None else LinkedAreas(self.root)
        self.link_ttl = link_ttl  # a publish is seen within this many seconds
        self._links: dict[tuple[str, str], tuple[str | None, float]] = {}
        self.index_columns = frozenset(index_columns)
        self._copies: dict[tuple[str, str], Copy] = {}
        self._older: dict[tuple[str, str, str], Copy] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def version(self, schema: str, dataset_id: str, *, fresh: bool = False) -> str | None:
        """The content hash of the current copy, or None when the area has no such dataset; looked up on disk at
        most once every ``link_ttl`` seconds per copy. A prefill looks up eight copies: a ``readlink`` for each
        gives up the interpreter lock eight times, and under load each wait to take it back (up to the 5 ms
        switch interval, while another thread encodes an answer) put 0.3 s on the slowest calls."""
        return self.version_seen(schema, dataset_id, fresh=fresh)[0]

    def version_seen(self, schema: str, dataset_id: str, *, fresh: bool = False) -> tuple[str | None, float]:
        """:meth:`version`, and when (``time.monotonic``) the link was read."""
        key = (schema, dataset_id)
        now = time.monotonic()
        seen = self._links.get(key)
        if seen is not None and not fresh and now - seen[1] < self.link_ttl:
            return seen
        version = self.source.current(schema, dataset_id, fresh=fresh)
        self._links[key] = (version, now)
        return version, now

    def held(self) -> list[tuple[str, str]]:
        """The (area, dataset) copies in memory now."""
        return list(self._copies)

    def holds(self, schema: str, dataset_id: str, version: str) -> bool:
        held = self._copies.get((schema, dataset_id))
        return held is not None and held.version == version

    def get(self, schema: str, dataset_id: str, *, fresh: bool = False, version: str | None = None) -> Copy | None:
        """The current copy (``version``: the current version as just looked up, which saves looking again)."""
        key = (schema, dataset_id)
        if version is not None:
            held = self._copies.get(key)
            if held is not None and held.version == version:
                return held
        version = self.version(schema, dataset_id, fresh=fresh)
        if version is None:
            return None
        held = self._copies.get(key)
        if held is not None and held.version == version:
            return held
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one reader per copy: concurrent first calls wait for it instead of reading it again
            held = self._copies.get(key)
            if held is not None and held.version == version:
                return held
            table = self.source.read_current(schema, dataset_id, version)
            copy = Copy(dataset_id, schema, version, table, build_index(table, self.index_columns))
            self._copies[key] = copy
            return copy


    def get_version(self, schema: str, dataset_id: str, version: str) -> Copy | None:
        """An earlier version of a copy (for ``as_of``), while its files are kept; the last few read are held."""
        key = (schema, dataset_id, version)
        held = self._older.get(key)
        if held is not None:
            return held
        table = self.source.read_version(schema, dataset_id, version)
        if table is None:
            return None
        copy = Copy(dataset_id, schema, version, table, build_index(table, self.index_columns))
        with self._guard:
            while len(self._older) >= OLDER_HELD:
                self._older.pop(next(iter(self._older)))
            self._older[key] = copy
        return copy


OLDER_HELD = 8  # earlier versions held in memory for as-of calls


class Refresher:
    """Keeps the copies in memory current from a background thread: every ``interval`` seconds, a copy whose
    area link now names a new version is read (and the old one dropped) before a caller asks for it, so a
    publish never makes the next caller wait for the read. ``warm`` reads the given copies once at start."""

    def __init__(self, cache: AreaCache, interval: float = 5.0):
        self.cache, self.interval = cache, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quancheng-refresh", daemon=True)

    def warm(self, keys: Iterable[tuple[str, str]]) -> int:
        """Read every (area, dataset) copy that exists; returns how many are held."""
        held = sum(self.cache.get(schema, dataset_id) is not None for schema, dataset_id in keys)
        settle()
        return held

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            loaded = False
            for schema, dataset_id in self.cache.held():
                try:
                    before = self.cache._copies.get((schema, dataset_id))
                    loaded |= self.cache.get(schema, dataset_id, fresh=True) is not before
                except Exception:  # noqa: BLE001 -- a copy half-written by a publish: the next round or a caller reads it
                    continue
            if loaded:
                settle()


def settle() -> None:
    """Move the objects alive now (the copies' millions of Python values) out of the garbage collector's view:
    every full collection would otherwise walk them all, a pause of a tenth of a second or more in the middle
    of some caller's request. Copies dropped later are still freed by reference counting."""
    import gc

    gc.collect()
    gc.freeze()


class Answers:
    """Encoded answers (or facts derived from copies) keyed by everything they depend on: the caller's
    department, the request, and the versions of the copies read, so a new version of any input is a miss,
    never a stale answer. Bounded by entries and by the bytes of the encoded answers held (a prefill is
    ~170 kB: 50,000 of them would be 8 GB); when either is reached it starts again empty (cheaper than LRU
    bookkeeping on every hit, and refilled within seconds)."""

    def __init__(self, limit: int = 50_000, max_bytes: int = 256 << 20):
        self.limit, self.max_bytes = limit, max_bytes
        self._held: dict[tuple[Any, ...], Any] = {}
        self._bytes = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        return self._held.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        size = len(value) if isinstance(value, bytes) else 0
        if len(self._held) >= self.limit or self._bytes + size > self.max_bytes:
            self._held, self._bytes = {}, 0
        self._held[key] = value
        self._bytes += size
