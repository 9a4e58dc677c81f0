"""What every normalizer shares: its result type, placeholders, cheap NFKC, and work on distinct values.

Rules:

- a normalizer takes a text column and returns an :class:`Outcome`: the typed values (null where the
  value was missing or unusable) and an issue code per row (null when nothing happened).
- placeholders ('/', '\\', '-', '--', '—', '无', '暂无', 'NA', 'N/A', 'NULL', 'NONE', '#N/A', in any
  case, half- or full-width, surrounded by any spaces) become null with the note ``placeholder.null``;
  so does '0' (and '00', '0.0') where it is meaningless: text, codes that are not '0', identifiers and dates.
- an empty or all-space value is simply null (nothing was given, nothing to note).
- NFKC is applied only to the values that are not ASCII (it costs 0.1-0.8 s per million values and
  changes nothing in ASCII), and only where a key or a number is read, never to a stored display value.
- columns with few distinct values (dates, codes, most quantities) are normalized once per distinct
  value and the result gathered back to the rows (Arrow's dictionary encoding, ~30 ms per million).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

_TOKENS = ["/", "\\", "-", "--", "---", "—", "——", "－", "无", "暂无", "NA", "N/A", "NULL", "NONE", "NAN", "#N/A"]
_ZEROS = ["0", "00", "0.0", "0.00"]
WHITESPACE = [" ", "\t", "\n", "\r", "\u3000", "\xa0"]


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms (the inverse of what NFKC does to them)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _variants(tokens: list[str]) -> list[str]:
    out: set[str] = set()
    for t in tokens:
        for v in (t, t.lower(), t.upper(), t.title()):
            out |= {v, fullwidth(v)}
    return sorted(out)


PLACEHOLDERS = _variants(_TOKENS)
ZERO_PLACEHOLDERS = _variants(_ZEROS)


@dataclass(frozen=True)
class Outcome:
    """Typed values and one issue code per row (null: no issue).

    ``arrow`` optionally holds the same values already as an Arrow array (text the normalizer did not
    rewrite: the source's own buffers with a new validity bitmap), so the output table need not copy
    them back out of polars.
    """

    values: pl.Series
    codes: pl.Series
    arrow: pa.Array | None = None

    def gather(self, idx: pl.Series) -> Outcome:
        return Outcome(self.values.gather(idx), self.codes.gather(idx))


def with_nulls(col: pa.ChunkedArray | pa.Array, mask: np.ndarray) -> pa.Array | None:
    """``col`` with nulls where ``mask`` is true, sharing its offsets and data buffers (None: not possible)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.offset != 0 or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    keep = ~mask
    if arr.null_count:
        keep &= arr.is_valid().to_numpy(zero_copy_only=False)
    if keep.all():
        return arr
    validity = pa.py_buffer(np.packbits(keep, bitorder="little").tobytes())
    bufs = arr.buffers()
    return pa.Array.from_buffers(arr.type, len(arr), [validity, bufs[1], bufs[2]])


def no_codes(n: int) -> pl.Series:
    """A column of ``n`` null issue codes."""
    return pl.repeat(None, n, eager=True, dtype=pl.String)


def nfkc(s: pl.Series) -> pl.Series:
    """NFKC of the non-ASCII values; ASCII values are returned as they are."""
    non_ascii = (s.str.len_bytes() != s.str.len_chars()).fill_null(False)
    if not non_ascii.any():
        return s
    idx = non_ascii.arg_true()
    fixed = pl.Series(pc.utf8_normalize(s.gather(idx).to_arrow(), "NFKC")).cast(pl.String)
    return s.clone().scatter(idx, fixed)  # scatter works in place: never on the caller's series


def placeholder_mask(trimmed: pl.Series, zero: bool) -> pl.Series:
    """True where a trimmed value is a placeholder ('0' and its kin only when ``zero``)."""
    tokens = PLACEHOLDERS + ZERO_PLACEHOLDERS if zero else PLACEHOLDERS
    return trimmed.is_in(tokens).fill_null(False)


def mark(codes: pl.Series, mask: pl.Series | np.ndarray, code: str) -> pl.Series:
    """``codes`` with ``code`` set where ``mask`` is true and no earlier code was set."""
    m = mask if isinstance(mask, pl.Series) else pl.Series(mask)
    if not m.any():  # the usual case: nothing to mark, no column rewritten
        return codes
    return pl.select(pl.when(m & codes.is_null()).then(pl.lit(code)).otherwise(codes)).to_series()


def null_where(values: pl.Series, mask: pl.Series | np.ndarray) -> pl.Series:
    """``values`` with nulls where ``mask`` is true."""
    m = mask if isinstance(mask, pl.Series) else pl.Series(mask)
    if not m.any():
        return values
    return pl.select(pl.when(m).then(None).otherwise(values)).to_series().cast(values.dtype)


def reject(values: pl.Series, codes: pl.Series, mask: pl.Series | np.ndarray, code: str) -> tuple[pl.Series, pl.Series]:
    """A value that was read but must not be used: null where ``mask`` is true, with the error ``code``, which
    replaces a note on the same cell (a cell still holding a value has no error yet)."""
    m = (mask if isinstance(mask, pl.Series) else pl.Series(mask)) & values.is_not_null()
    if not m.any():
        return values, codes
    return null_where(values, m), pl.select(pl.when(m).then(pl.lit(code)).otherwise(codes)).to_series()


def first_code(*codes: pl.Series) -> pl.Series:
    """Per row, the first non-null code of ``codes`` (a coalesce that skips all-null columns)."""
    live = [c for c in codes if c.null_count() < len(c)]
    if not live:
        return codes[0]
    if len(live) == 1:
        return live[0]
    return pl.select(pl.coalesce(live)).to_series()


def distinct_ratio(arr: pa.ChunkedArray | pa.Array, sample: int = 65536) -> float:
    """Distinct values / rows on an evenly spread sample (a cheap estimate of cardinality).

    The sample is large on purpose: 11 000 distinct dates in a million rows look unique in a sample
    of 4 000 rows but repeat five times in one of 65 000.
    """
    n = len(arr)
    if n == 0:
        return 0.0
    step = max(1, n // sample)
    part = arr if step == 1 else arr.take(pa.array(np.arange(0, n, step)))
    return float(pc.count_distinct(part).as_py()) / len(part)


def distinct(text: pl.Series | None, max_ratio: float = 0.3,
             source: pa.ChunkedArray | pa.Array | None = None) -> tuple[pl.Series, pl.Series] | None:
    """(distinct values, index of each row's value) when values repeat enough to be worth it, else None.

    ``source``, the Arrow column the text comes from, is encoded directly (no trip through polars).
    """
    arr = source if source is not None and _is_text(source.type) else (text.to_arrow() if text is not None else None)
    if arr is None or len(arr) < 64 or distinct_ratio(arr) > max_ratio:
        return None
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
        if isinstance(enc, pa.ChunkedArray):  # no chunks at all
            return None
    return pl.Series(enc.dictionary).cast(pl.String), pl.Series(enc.indices)


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def on_distinct(text: pl.Series | Callable[[], pl.Series], fn: Callable[[pl.Series], Outcome],
                max_ratio: float = 0.3, source: pa.ChunkedArray | pa.Array | None = None) -> Outcome:
    """``fn`` applied once per distinct value and gathered back, when values repeat enough.

    ``text`` may be a callable making the column: it is called only when the values do not repeat.
    """
    d = distinct(text if isinstance(text, pl.Series) else None, max_ratio, source)
    if d is None:
        return fn(text if isinstance(text, pl.Series) else text())
    return fn(d[0]).gather(d[1])


def on_distinct_parts(text: pl.Series, fn: Callable[[pl.Series], dict[int, Outcome]],
                      max_ratio: float = 0.3) -> dict[int, Outcome]:
    """:func:`on_distinct` for normalizers that return several parts (date ranges)."""
    d = distinct(text, max_ratio)
    if d is None:
        return fn(text)
    return {k: o.gather(d[1]) for k, o in fn(d[0]).items()}
