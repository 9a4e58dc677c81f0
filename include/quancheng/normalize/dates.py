"""Dates, date-times and date ranges in every spelling departmental forms use -> ISO values.

Rules of :func:`parse_dates` (the ``date`` transform; run once per distinct value):

- ``2019-11-21``, ``2019/11/21``, ``2019.11.21``, ``2019年11月21日`` (or ``…21号``), ``20191121``,
  single-digit months and days (``2019-3-1``), and any of these followed by a time (``2019-11-21 10:30``).
- full-width digits (``２０１９年１１月２１日``) are read through NFKC, with the note ``fullwidth.normalized``.
- Chinese numerals: ``二〇一九年十一月二十一日`` (〇/○/零 = 0, 一..九, 十 as in 十一, 二十, 二十一).
- spaces around the separators are ignored (``2019 年 11 月 21 日``).
- an unfilled template ``年 月 日`` is null with the note ``date.blank``; placeholders ('/', '无', '--',
  'NA', '0', ``0000-00-00``, ``00000000``) are null with ``placeholder.null``.
- a range (``…至…``) where one date is expected is the error ``date.range``; a date outside 1900-2100
  is ``date.out_of_range``; month 13 or 30 February is ``date.invalid``; anything else
  ``date.unparseable``.

Rules of :func:`parse_date_ranges` (the ``date_range`` transform; parts 0 = start, 1 = end, 2 = days):

- ``2019-03-01至2020-03-01`` (also ``到``, ``~``, ``～``, ``—``, ``--``, and a single ``-`` between two
  dotted, slashed, Chinese or 8-digit dates) -> start and end, each read by :func:`parse_dates`; the days
  part is end - start with the note ``duration.derived``; an end before the start is ``date_range.reversed``.
- ``365天`` / ``365日`` / ``365日历天`` -> days only (start and end stay null); ``12个月`` is
  ``duration.unit`` (months are not a whole number of days); anything else ``date_range.unparseable``.

Rules of :func:`parse_datetimes` (``datetime`` elements): ``YYYY-MM-DD HH:MM[:SS[.f]]`` with ``-``, ``/``
or ``T``; a bare date is midnight; otherwise ``datetime.unparseable``.
"""

from __future__ import annotations

import polars as pl

from quancheng.normalize.base import (
    Outcome,
    first_code,
    mark,
    nfkc,
    no_codes,
    null_where,
    on_distinct,
    placeholder_mask,
)

_CN_DIGITS = {"〇": "0", "○": "0", "零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
YEARS = (1900, 2100)  # the years a date may have; outside is date.out_of_range
_DATE_ZEROS = ["0000-00-00", "00000000", "0000/00/00", "0000.00.00", "0000年00月00日"]
_DATE = (r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{1,2}.*)?|(\d{4})(\d{2})(\d{2}))$")
_RANGE_SEP = r"(?:至|到|~|——|—|--)"
_ONE = r"\d{4}[./年]\d{1,2}[./月]\d{1,2}[日号]?|\d{8}"


def chinese_numerals(s: pl.Series) -> pl.Series:
    """Chinese numerals in dates -> digits (二〇一九 -> 2019, 十一 -> 11, 二十一 -> 21, 十 -> 10)."""
    for cn, d in _CN_DIGITS.items():
        s = s.str.replace_all(cn, d, literal=True)
    s = s.str.replace_all(r"(\d)十(\d)", "${1}${2}")
    s = s.str.replace_all(r"(\d)十", "${1}0")
    s = s.str.replace_all(r"十(\d)", "1${1}")
    return s.str.replace_all("十", "10", literal=True)


def _date_key(t: pl.Series) -> pl.Series:
    k = nfkc(t)
    k = k.str.replace_all(r"\s*([年月日号/.\-至到~])\s*", "${1}")
    if k.str.contains(r"[〇○零一二两三四五六七八九十]").any():
        k = chinese_numerals(k)
    return k


def parse_dates(s: pl.Series) -> Outcome:
    """ISO dates from any spelling; see the module rules."""
    s = s.cast(pl.String)
    t = s.str.strip_chars()
    k = _date_key(t)
    c = k.str.replace_all(r"[年月/.]", "-").str.replace(r"[日号]$", "")
    g = c.str.extract_groups(_DATE)
    y = pl.coalesce(g.struct.field("1"), g.struct.field("4")).cast(pl.Int32)
    m = pl.coalesce(g.struct.field("2"), g.struct.field("5")).cast(pl.Int32)
    d = pl.coalesce(g.struct.field("3"), g.struct.field("6")).cast(pl.Int32)
    parts = pl.select(y=y, m=m, d=d)
    iso = parts.select(pl.format("{}-{}-{}", pl.col("y"), pl.col("m").cast(pl.String).str.zfill(2),
                                 pl.col("d").cast(pl.String).str.zfill(2))).to_series()
    values = iso.str.to_date("%Y-%m-%d", strict=False)
    matched = parts["y"].is_not_null()
    in_range = parts["y"].is_between(*YEARS).fill_null(False)
    values = null_where(values, ~in_range)

    codes = no_codes(len(s))
    codes = mark(codes, placeholder_mask(t, zero=True) | t.is_in(_DATE_ZEROS), "placeholder.null")
    codes = mark(codes, k.str.replace_all(r"\s", "").str.contains(r"^[年月日]+$").fill_null(False), "date.blank")
    codes = mark(codes, matched & ~in_range, "date.out_of_range")
    codes = mark(codes, matched & values.is_null(), "date.invalid")
    codes = mark(codes, values.is_null() & k.str.contains(_RANGE_SEP).fill_null(False), "date.range")
    codes = mark(codes, values.is_null() & (t != "").fill_null(False), "date.unparseable")
    codes = mark(codes, values.is_not_null() & (k != t).fill_null(False)
                 & (t.str.len_bytes() != t.str.len_chars()) & t.str.contains(r"[０-９]"), "fullwidth.normalized")
    return Outcome(values, codes)


def parse_date_ranges(s: pl.Series) -> dict[int, Outcome]:
    """Start (0), end (1) and days (2) of packed ranges or durations; see the module rules.

    The cells are cut on the separator with literal string operations first; the two halves are
    date columns with few distinct values, read by :func:`parse_dates` once per distinct value. Only
    the cells without a ``至``-like separator go through the regular expressions.
    """
    s = s.cast(pl.String)
    t = s.str.strip_chars()
    seps = ["到", "~", "～", "——", "—", "--"]
    unified = t.str.replace_many(seps, ["至"] * len(seps))
    halves = unified.str.split_exact("至", 1).struct.unnest()
    a, b = halves["field_0"].str.strip_chars(), halves["field_1"].str.strip_chars()
    lone = b.is_null() & t.is_not_null()
    if lone.any():  # a single '-' between two dotted, slashed, Chinese or 8-digit dates
        idx = lone.arg_true()
        k = _date_key(t.gather(idx))
        dash = k.str.extract_groups(rf"^({_ONE}|\d{{4}}-\d{{1,2}}-\d{{1,2}})-({_ONE}|\d{{4}}-\d{{1,2}}-\d{{1,2}})$")
        a = a.clone().scatter(idx, pl.select(pl.when(dash.struct.field("2").is_not_null())
                                             .then(dash.struct.field("1")).otherwise(a.gather(idx))).to_series())
        b = b.clone().scatter(idx, dash.struct.field("2"))
    is_range = b.is_not_null()
    a = null_where(a, ~is_range)
    start, end = on_distinct(a, parse_dates), on_distinct(b, parse_dates)
    key = pl.select(pl.when(~is_range).then(t)).to_series()
    key = _date_key(key) if (~is_range & t.is_not_null()).any() else key
    days_txt = key.str.extract(r"^(\d+)个?(?:日历)?[天日]$", 1)
    other_unit = key.str.contains(r"^\d+个?(?:月|年|周|星期)$").fill_null(False)
    derived = (end.values - start.values).dt.total_days()
    days = pl.select(pl.coalesce(days_txt.cast(pl.Int64, strict=False), derived)).to_series()
    reversed_ = (derived < 0).fill_null(False)

    base = no_codes(len(s))
    base = mark(base, placeholder_mask(t, zero=True), "placeholder.null")
    base = mark(base, key.str.contains(r"^[年月日至到~]+$").fill_null(False), "date.blank")
    base = mark(base, other_unit, "duration.unit")
    base = mark(base, ~is_range & days_txt.is_null() & (t != "").fill_null(False), "date_range.unparseable")
    base = mark(base, reversed_, "date_range.reversed")
    out: dict[int, Outcome] = {}
    for part, o in ((0, start), (1, end)):
        out[part] = Outcome(null_where(o.values, reversed_), first_code(base, o.codes))
    bad = first_code(start.codes, end.codes)
    bad = null_where(bad, bad.is_in(["fullwidth.normalized"]).fill_null(False))
    derived_note = mark(no_codes(len(s)), is_range & derived.is_not_null(), "duration.derived")
    out[2] = Outcome(null_where(days, reversed_ | other_unit), first_code(base, bad, derived_note))
    return out


_DT_FORMATS = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S",
               "%Y/%m/%d %H:%M"]


def parse_datetimes(s: pl.Series) -> Outcome:
    """Naive date-times (microseconds) from the usual spellings; see the module rules."""
    s = s.cast(pl.String)
    t = s.str.strip_chars()
    values = t.str.to_datetime(_DT_FORMATS[0], strict=False, time_unit="us")
    for fmt in _DT_FORMATS[1:]:
        missing = values.is_null() & t.is_not_null()
        if not missing.any():
            break
        values = pl.select(pl.coalesce(values, t.str.to_datetime(fmt, strict=False, time_unit="us"))).to_series()
    missing = values.is_null() & (t != "").fill_null(False)
    codes = no_codes(len(s))
    if missing.any():
        as_date = parse_dates(t)
        values = pl.select(pl.coalesce(values, as_date.values.cast(pl.Datetime("us")))).to_series()
        codes = pl.select(pl.when(missing).then(as_date.codes).otherwise(codes)).to_series()
        codes = null_where(codes, codes.is_in(["fullwidth.normalized"]).fill_null(False) & values.is_not_null())
        codes = pl.select(pl.when(codes.str.starts_with("date.") & (codes != "date.blank"))
                          .then(pl.lit("datetime.unparseable")).otherwise(codes)).to_series()
    return Outcome(values, codes)
