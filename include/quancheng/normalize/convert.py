"""One group of the plan -> typed canonical values: what every transform of ``mappings.csv`` shares.

The transforms themselves are registered by name, each with its rules in its docstring
(:mod:`quancheng.normalize.transforms`); :func:`run_group` looks the group's transform up and runs it.
The transform says how the source writes a value, the element's data type what it becomes
(:func:`typed`, the ``copy`` conversion every other transform ends in).

Before any transform, a text cell holding a NUL byte is the error ``text.nul_byte`` (PostgreSQL cannot
store it and other readers cut the value there) and one holding U+FFFD, the mark the source put where
bytes were not UTF-8 (:func:`quancheng.sources.types.valid_utf8`), is ``text.invalid_utf8``: the value
is null in every element the column feeds and the row is quarantined with the value.
Native (non-text) columns are read as text, except dates and date-times that feed date or date-time
elements, which are used as they are (:func:`native`: a time-zone-aware time is taken in Asia/Shanghai)
within the same 1900-2100 bound as dates read from text (``date.out_of_range``; ``datetime.unparseable``
for a date-time, as for text).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.normalize.base import Outcome, first_code, mark, no_codes, null_where, on_distinct
from quancheng.normalize.dates import YEARS, parse_dates, parse_datetimes
from quancheng.normalize.plan import Group, Target
from quancheng.normalize.quantity import UnitTable, parse_booleans, parse_integers, parse_quantities
from quancheng.normalize.text import normalize_text
from quancheng.registry import TRANSFORMS

LOCAL_TZ = "Asia/Shanghai"
# first match wins: a NUL byte is reported before a repaired byte sequence
BROKEN_TEXT = (("\x00", "text.nul_byte"), ("\ufffd", "text.invalid_utf8"))


def as_text(col: pa.ChunkedArray | pa.Array) -> pl.Series:
    """A source column as polars text (all-null and dictionary columns included)."""
    if pa.types.is_null(col.type):
        return pl.Series([None] * len(col), dtype=pl.String)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    s = pl.Series(col)
    return s if s.dtype == pl.String else s.cast(pl.String)


class Sources:
    """The raw batch's columns, converted to polars once and only as far as a transform needs.

    Text is made only for the columns read as text: a native date, number or time that feeds an
    element of its own kind is used as it is (casting a million timestamps to text costs 0.4 s).
    """

    def __init__(self, raw: pa.Table):
        self.raw = raw
        self._text: dict[str, pl.Series] = {}
        self._broken: dict[str, pl.Series | None] = {}

    def arrow(self, column: str) -> pa.ChunkedArray:
        return self.raw[column]

    def text(self, column: str) -> pl.Series:
        if column not in self._text:
            self._text[column] = as_text(self.raw[column])
        return self._text[column]

    def number_or_text(self, column: str) -> pl.Series:
        """Integers and decimals as they are (exact), anything else as text (floats by their shortest repr)."""
        t = self.raw[column].type
        if pa.types.is_integer(t) or pa.types.is_decimal(t):
            return pl.Series(self.raw[column])
        return self.text(column)

    def broken(self, column: str) -> pl.Series | None:
        """Per row, ``text.nul_byte`` or ``text.invalid_utf8`` where the cell is broken text (else null);
        None when no cell of ``column`` is (the usual case: one substring scan per code)."""
        if column in self._broken:
            return self._broken[column]
        col = self.raw[column]
        codes: pl.Series | None = None
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            for needle, code in BROKEN_TEXT:
                if not _holds(col, needle.encode()):
                    continue
                hit = pc.fill_null(pc.match_substring(col, needle), False)
                if pc.any(hit).as_py():
                    codes = mark(no_codes(len(col)) if codes is None else codes, pl.Series(hit), code)
        self._broken[column] = codes
        return codes

    def text_at(self, column: str, idx: pl.Series) -> pl.Series:
        """The source values of ``column`` at ``idx`` as text (for issues: no whole-column cast)."""
        if column in self._text:
            return self._text[column].gather(idx)
        return as_text(self.raw[column].take(idx.to_arrow()))


def _holds(col: pa.ChunkedArray | pa.Array, needle: bytes) -> bool:
    """Whether the bytes of a text column contain ``needle`` (1-3 bytes) anywhere: a vectorized compare over
    the data buffers, without copying them; the rows are scanned only when this finds something."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    for chunk in chunks:
        buf = chunk.buffers()[2]
        if buf is None or buf.size < len(needle):
            continue
        data = np.frombuffer(buf, np.uint8)
        n = len(data) - len(needle) + 1
        hit = data[:n] == needle[0]
        for i, byte in enumerate(needle[1:], start=1):
            if not hit.any():
                break
            hit &= data[i:i + n] == byte
        if hit.any():
            return True
    return False


def native(col: pa.ChunkedArray | pa.Array, target: Target) -> Outcome | None:
    """Dates and date-times used as they are, when source and element agree on it."""
    dt = target.element.data_type
    if not (pa.types.is_date(col.type) or pa.types.is_timestamp(col.type)) or dt not in ("date", "datetime"):
        return None
    s = pl.Series(col)
    if isinstance(s.dtype, pl.Datetime) and s.dtype.time_zone:
        s = s.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
    s = s.cast(pl.Date) if dt == "date" else s.cast(pl.Datetime("us"))
    # the same 1900-2100 bound as a date read from text: year 0 is a valid Arrow date that pandas and
    # Python's datetime cannot read
    outside = ~s.dt.year().is_between(YEARS[0], YEARS[1]).fill_null(True)
    code = "date.out_of_range" if dt == "date" else "datetime.unparseable"
    return Outcome(null_where(s, outside), mark(no_codes(len(s)), outside, code))


def typed(text: pl.Series, t: Target, units: UnitTable, cleaned: bool = False) -> Outcome:
    """Text -> the element's data type (the ``copy`` transform)."""
    match t.element.data_type:
        case "string":
            if t.codes is not None:
                return on_distinct(text, t.codes.resolve)
            return normalize_text(text) if cleaned else Outcome(text, no_codes(len(text)))
        case "integer":
            return parse_integers(text, t.element.unit)
        case "decimal":
            return parse_quantities(text, t.declared_unit, t.target_unit, units, t.scale)
        case "date":
            return on_distinct(text, parse_dates)
        case "datetime":
            return parse_datetimes(text)
        case "boolean":
            return on_distinct(text, parse_booleans)
    raise AssertionError(t.element.data_type)


def run_group(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Outcomes of every target of ``g`` in order; broken text rejected first (see the module rules)."""
    outs = TRANSFORMS.get(g.transform).run(g, src, units)
    if len(outs) != len(g.targets):  # a transform's own mistake, named before the engine zips them up
        raise AssertionError(f"transform {g.transform!r} returned {len(outs)} outcome(s) for {len(g.targets)} "
                             f"element(s) of column(s) {list(g.columns)}")
    broken = [b for b in (src.broken(c) for c in g.columns) if b is not None]
    if not broken:
        return outs
    code = first_code(*broken)
    hit = code.is_not_null()
    return [Outcome(null_where(o.values, hit), pl.select(pl.when(hit).then(code).otherwise(o.codes)).to_series())
            for o in outs]

