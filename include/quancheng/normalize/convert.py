"""One group of the plan -> typed canonical values: the transforms of ``mappings.csv``.

Rules (the transform says how the source writes a value, the element's data type what it becomes):

- ``copy``: the value in the element's type: strings as they are, numbers, dates, date-times and
  yes/no values by their parsers (:mod:`~quancheng.normalize.dates`, :mod:`~quancheng.normalize.quantity`).
- ``text``: :func:`~quancheng.normalize.text.normalize_text`, then the element's type.
- ``date``: :func:`~quancheng.normalize.dates.parse_dates` (date-time elements: ``parse_datetimes``).
- ``quantity``: :func:`~quancheng.normalize.quantity.parse_quantities` from the field's unit to the
  element's; an integer element takes whole numbers only.
- ``code``: :meth:`~quancheng.normalize.codes.CodeTable.resolve`.
- ``identifier``: placeholders -> null (``placeholder.null``), then :func:`quancheng.ids.check_column`
  by the element's identifier kind; an invalid identifier is null with its reason (``uscc.checksum``);
  notes ``fullwidth.normalized`` and ``ric.upgraded`` record what compaction changed.
- ``split``: the cell (cleaned, full-width separator read as the field's ``packed_sep``, default ``/``)
  must have exactly as many parts as the mappings use (else ``split.parts`` on every part); a Chinese
  label before a number (``地上:1200``) is dropped; each part then converts as ``copy`` would, with the
  field's unit as the declared unit.
- ``date_range``: :func:`~quancheng.normalize.dates.parse_date_ranges`, part 0/1/2 = start/end/days.
- ``concat``: the cleaned texts of the columns in ``part`` order joined without separator (nulls skipped).
Before any transform, a text cell holding a NUL byte is the error ``text.nul_byte`` (PostgreSQL cannot
store it and other readers cut the value there) and one holding U+FFFD, the mark the source put where
bytes were not UTF-8 (:func:`quancheng.sources.types.valid_utf8`), is ``text.invalid_utf8``: the value
is null in every element the column feeds and the row is quarantined with the value.
Native (non-text) columns are read as text, except dates and date-times that feed date or date-time
elements, which are used as they are (a time-zone-aware time is taken in Asia/Shanghai) within the
same 1900-2100 bound as dates read from text (``date.out_of_range``; ``datetime.unparseable`` for a
date-time, as for text).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.ids import check_column
from quancheng.ids.arrays import compact_column
from quancheng.normalize.base import Outcome, first_code, mark, no_codes, null_where, on_distinct, on_distinct_parts
from quancheng.normalize.base import fullwidth as to_fullwidth
from quancheng.normalize.base import placeholder_mask as is_placeholder
from quancheng.normalize.dates import YEARS, parse_date_ranges, parse_dates, parse_datetimes
from quancheng.normalize.plan import Group, Target
from quancheng.normalize.quantity import UnitTable, parse_booleans, parse_integers, parse_quantities
from quancheng.normalize.text import clean_text, normalize_text

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


def _identifier(text: pl.Series, t: Target) -> Outcome:
    trimmed = text.str.strip_chars()
    ph = is_placeholder(trimmed, zero=True)
    codes = mark(no_codes(len(text)), ph, "placeholder.null")
    kind = t.element.identifier_kind
    if kind is None:  # an identifier without rules: compacted (NFKC, no spaces, upper-case), hyphens kept
        return Outcome(null_where(compact_column(trimmed, keep_hyphens=True, allow_cjk=True), ph), codes)
    res = check_column(null_where(trimmed, ph), kind)
    values = null_where(res.normalized, pl.Series(~res.valid))
    codes = first_code(codes, res.reason)
    if res.fullwidth is not None:
        codes = mark(codes, pl.Series(res.fullwidth) & values.is_not_null(), "fullwidth.normalized")
    if res.upgraded is not None:
        codes = mark(codes, pl.Series(res.upgraded), "ric.upgraded")
    return Outcome(values, codes)


def _split(text: pl.Series, g: Group, units: UnitTable) -> list[Outcome]:
    sep = g.field.packed_sep or "/"
    t = clean_text(text).str.replace_all(to_fullwidth(sep), sep, literal=True)
    ph = is_placeholder(t, zero=True)
    parts = t.str.split(sep)
    expected = max(x.part for x in g.targets) + 1
    wrong = (parts.list.len() != expected).fill_null(False) & ~ph & (t != "").fill_null(False)
    base = mark(mark(no_codes(len(t)), ph, "placeholder.null"), wrong, "split.parts")
    out = []
    for x in g.targets:
        piece = parts.list.get(x.part, null_on_oob=True).str.strip_chars()
        piece = piece.str.replace(r"^[\u4e00-\u9fff]+[:：]?\s*([+-]?[\d.])", "${1}")
        piece = null_where(piece, wrong | ph)
        o = typed(piece, x, units, cleaned=True)
        out.append(Outcome(o.values, first_code(base, o.codes)))
    return out


def run_group(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Outcomes of every target of ``g`` in order; broken text rejected first (see the module rules)."""
    outs = _run_group(g, src, units)
    broken = [b for b in (src.broken(c) for c in g.columns) if b is not None]
    if not broken:
        return outs
    code = first_code(*broken)
    hit = code.is_not_null()
    return [Outcome(null_where(o.values, hit), pl.select(pl.when(hit).then(code).otherwise(o.codes)).to_series())
            for o in outs]


def _run_group(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    if g.transform == "concat":
        cleaned = [clean_text(src.text(c)) for c in g.columns]
        joined = pl.select(pl.concat_str([c.fill_null("") for c in cleaned])).to_series()
        t = g.targets[0]
        return [typed(null_where(joined, joined == ""), t, units, cleaned=True)]
    col = g.columns[0]
    if g.transform == "split":
        return _split(src.text(col), g, units)
    if g.transform == "date_range":
        parts = on_distinct_parts(src.text(col), parse_date_ranges)
        return [_retype(parts[min(x.part, 2)], x) for x in g.targets]
    t = g.targets[0]
    direct = native(src.arrow(col), t)
    if direct is not None:
        return [direct]
    if t.element.data_type == "decimal" and g.transform in ("quantity", "copy", "text"):
        value = src.number_or_text(col)
        if value.dtype != pl.String:
            return [parse_quantities(value, t.declared_unit, t.target_unit, units, t.scale)]
    if g.transform in ("date", "code") and t.element.data_type != "datetime":
        lazy = partial(src.text, col)  # the text is made only when the values do not repeat
        if g.transform == "date":
            return [_retype(on_distinct(lazy, parse_dates, source=src.arrow(col)), t)]
        if t.codes is not None:
            return [on_distinct(lazy, t.codes.resolve, source=src.arrow(col))]
    text = src.text(col)
    match g.transform:
        case "text":
            o = normalize_text(text, source=src.arrow(col))
            return [o if t.element.data_type == "string" and t.codes is None
                    else _merge(o, typed(o.values, t, units, cleaned=True))]
        case "date":  # date-time elements (dates returned above)
            return [parse_datetimes(text)]
        case "quantity":
            if t.element.data_type == "integer":
                return [parse_integers(text, t.element.unit)]
            return [_retype(parse_quantities(text, t.declared_unit, t.target_unit, units, t.scale), t)]
        case "code":  # without a code list (coded ones returned above)
            return [normalize_text(text)]
        case "identifier":
            return [_identifier(text, t)]
    return [typed(text, t, units)]


def _merge(first: Outcome, then: Outcome) -> Outcome:
    return Outcome(then.values, first_code(first.codes, then.codes))


def _retype(o: Outcome, t: Target) -> Outcome:
    """Values of another type than the element's (a date into a string element, ...)."""
    if t.element.data_type == "string" and o.values.dtype != pl.String:
        return Outcome(o.values.cast(pl.String), o.codes)
    if t.element.data_type == "integer" and o.values.dtype != pl.Int64:
        return Outcome(o.values.cast(pl.Int64, strict=False), o.codes)
    return o
