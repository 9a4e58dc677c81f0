"""Column building blocks for the demo generator: whole Arrow columns at once, never a loop over rows.

The generator builds every value of a column in one call, so seeding runs at Arrow/numpy speed:

- :func:`choose` draws from a list of choices (one draw of indices, then a take);
- :func:`concat` joins string columns and constants element-wise (a null anywhere gives null);
- :func:`zfill` renders integers zero-padded; :func:`digit_matrix` / :func:`from_matrix` go between
  integers, fixed-width ASCII byte matrices (where check characters are computed with array
  arithmetic, see :mod:`quancheng.demo.idgen`) and Arrow strings;
- :func:`lookup` maps a column through a dict (a value the dict lacks gets ``default``, or stays when
  ``default`` is None); :func:`dates` turns day numbers into ``date32``; :func:`strftime` formats dates,
  including the Chinese ``%Y年%m月%d日`` spellings (Arrow's formatter handles any literal text);
- :func:`num_text` renders numbers as a clerk types them: at most 4 decimals, no trailing zeros.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Column: TypeAlias = pa.Array | pa.ChunkedArray


def choose(rng: np.random.Generator, choices: Sequence[str], n: int, p: Sequence[float] | None = None) -> pa.Array:
    """``n`` draws from ``choices`` (uniform unless ``p`` is given) as a string column."""
    idx = rng.choice(len(choices), n, p=p) if p is not None else rng.integers(0, len(choices), n)
    return pa.array(list(choices), pa.string()).take(pa.array(idx))


def concat(*parts: Column | str) -> pa.Array:
    """Element-wise concatenation of string columns and constant strings."""
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else _array(p) for p in parts]
    return _array(pc.binary_join_element_wise(*args, ""))


def zfill(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as text, left-padded with zeros to ``width`` (wider values are kept whole)."""
    return _array(pc.utf8_lpad(pa.array(np.asarray(values, np.int64)).cast(pa.string()), width, "0"))


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """An ``(n, width)`` matrix of the ASCII digits of non-negative integers (zero-padded)."""
    v = np.asarray(values, np.int64).copy()
    out = np.empty((len(v), width), np.uint8)
    for j in range(width - 1, -1, -1):
        out[:, j] = 48 + v % 10
        v //= 10
    return out


def from_matrix(mat: np.ndarray) -> pa.Array:
    """Strings from an ``(n, width)`` ASCII byte matrix (one buffer copy)."""
    n, width = mat.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int64) * width).astype(np.int32))
    data = pa.py_buffer(np.ascontiguousarray(mat, np.uint8).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def lookup(keys: Column, table: Mapping[str, str], default: str | None = None) -> pa.Array:
    """Map each key through ``table``; a key it lacks gets ``default`` (None: the key itself)."""
    keys = _array(keys)
    if not table:
        return keys if default is None else pc.if_else(pc.is_null(keys), keys, default)
    idx = pc.index_in(keys, value_set=pa.array(list(table), pa.string()))
    mapped = pa.array(list(table.values()), pa.string()).take(idx)
    fallback = keys if default is None else pc.if_else(pc.is_null(keys), pa.scalar(None, pa.string()), default)
    return _array(pc.if_else(pc.is_null(idx), fallback, mapped))


def dates(days: np.ndarray) -> pa.Array:
    """Day numbers since 1970-01-01 as ``date32``."""
    return pa.array(np.asarray(days, np.int32), pa.date32())


_DATE_SEPARATORS = {"%Y/%m/%d": "/", "%Y.%m.%d": ".", "%Y%m%d": ""}


def strftime(col: Column, fmt: str) -> pa.Array:
    """Format dates or timestamps (whole seconds) with a strftime pattern; nulls stay null.

    The spellings the demo uses are cut from Arrow's ISO cast (several times faster than its
    general ``strftime``): ``%Y-%m-%d``, ``%Y-%m-%d %H:%M:%S``, ``%Y/%m/%d``, ``%Y.%m.%d``, ``%Y%m%d``
    and ``%Y年%m月%d日``; any other pattern goes through ``pyarrow.compute.strftime``.
    """
    col = _array(col)
    if fmt == "%Y-%m-%d %H:%M:%S":
        return _array(col.cast(pa.timestamp("s"), safe=False).cast(pa.string()))
    if fmt == "%Y-%m-%d" or fmt in _DATE_SEPARATORS or fmt == "%Y年%m月%d日":
        iso = _array(col.cast(pa.date32(), safe=False).cast(pa.string()) if not pa.types.is_date32(col.type)
                     else col.cast(pa.string()))
        if fmt == "%Y-%m-%d":
            return iso
        if fmt in _DATE_SEPARATORS:
            return _array(pc.replace_substring(iso, "-", _DATE_SEPARATORS[fmt]))
        part = [pc.utf8_slice_codeunits(iso, a, b) for a, b in ((0, 4), (5, 7), (8, 10))]
        return concat(part[0], "年", part[1], "月", part[2], "日")
    if pa.types.is_date(col.type):
        col = col.cast(pa.timestamp("s"))
    elif pa.types.is_timestamp(col.type) and col.type.unit != "s":
        col = col.cast(pa.timestamp("s"), safe=False)
    return _array(pc.strftime(col, fmt))


def num_text(values: Column) -> pa.Array:
    """Numbers as text with at most 4 decimals and no trailing zeros (``1234.5``, ``12``, ``0``)."""
    col = _array(values)
    if pa.types.is_integer(col.type):
        return col.cast(pa.string())
    rounded = pc.round(col.cast(pa.float64()), 4)
    text = pc.cast(rounded, pa.decimal128(38, 4), safe=False).cast(pa.string())
    return _array(pc.replace_substring_regex(text, r"\.?0+$", ""))


def _array(col: Column) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks()
    return col
