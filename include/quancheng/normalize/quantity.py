"""Quantities as exact decimals in the element's unit, whole numbers, and yes/no values.

Rules of :func:`parse_quantities` (the ``quantity`` transform; decimals never pass through floats):

- a plain number (``1234.5``, ``-3``, ``1e3``) is in the field's declared unit (``fields.csv`` ``unit``);
  thousands separators (``1,234.5``, ``1，234.5``), spaces and full-width digits (``７８９``) are accepted.
- a unit written in the value wins over the declared one (``12.5万元``, ``3亩``, ``1200㎡``), with the
  note ``unit.converted`` when it differs from the declared unit. Unit spellings are matched after NFKC
  and lower-casing, so ``平方米``, ``m2``, ``M2``, ``㎡``, ``M²`` and ``m&sup2;`` are one unit.
- conversion is exact: value × (factor of the value's unit / factor of the element's unit) with the
  integer factors of ``units.csv`` (万元 = 10000 元, 亩 = 10000/15 m², 公顷 = 10000 m²), rounded half away
  from zero to the element's scale.
- ``inf``, ``-inf`` or ``nan`` (a floating-point source column's overflow, passed on as text) is
  ``quantity.not_finite``;
- an unknown unit is ``unit.unknown``; a unit of another dimension (元 into m²) is ``unit.mismatch``;
  no number is ``quantity.unparseable``; more digits than decimal(20, scale) holds is ``quantity.too_large``.
- placeholders ('/', '无', '--', 'NA') are null with ``placeholder.null``; '0' is a real zero here.
- :func:`suspect_scale` finds values 10^3.5 or more times above the column's median (10+ positive values,
  else the median of the dataset published so far): the signature of 元 typed into a 万元 field. The caller
  nulls them with the error ``unit.suspect_scale``, so the row is quarantined with its raw value instead of
  published 10⁴ off.

Rules of :func:`parse_integers`: whole numbers, accepting separators, full-width digits, ``3.0``, and a
counting unit after the number (``18层``, ``3栋``); anything else ``integer.unparseable``.
Rules of :func:`parse_booleans`: 是/否, 有/无, Y/N, T/F, 1/0, true/false, yes/no (any case); else
``boolean.unparseable``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.catalog.models import Unit
from quancheng.normalize.base import Outcome, mark, nfkc, no_codes, null_where, on_distinct, placeholder_mask, reject

COUNT_UNITS = ["层", "栋", "幢", "座", "个", "户", "人", "套", "间", "台", "辆", "处", "项", "天", "日", "年", "月",
               "米", "m", "次", "家", "名"]
_NUMBER = r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(.*)$"
_TRUE = ["是", "有", "Y", "YES", "T", "TRUE", "1", "√"]
_FALSE = ["否", "无", "N", "NO", "F", "FALSE", "0", "×"]


def unit_key(text: str) -> str:
    """The spelling a unit is looked up by: NFKC, no spaces, lower-case, HTML superscripts read."""
    t = text.replace("&sup2;", "2").replace("&sup3;", "3")
    return unicodedata.normalize("NFKC", t).replace(" ", "").lower()


@dataclass(frozen=True)
class UnitTable:
    """Every unit spelling of the catalog by its lookup key."""

    units: dict[str, Unit]

    @classmethod
    def of(cls, units: list[Unit]) -> UnitTable:
        table: dict[str, Unit] = {}
        for u in units:
            table.setdefault(unit_key(u.unit), u)
        if "平方米" in {u.unit for u in units}:
            table.setdefault("平米", next(u for u in units if u.unit == "平方米"))
        return cls(table)

    def get(self, spelling: str) -> Unit | None:
        return self.units.get(unit_key(spelling)) if spelling else None


def _decimal(s: pl.Series) -> pl.Series:
    return s.cast(pl.Decimal(38, 8), strict=False)


def _read_numbers(t: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(number, unit text) from messy spellings (NFKC, separators, unit suffix)."""
    k = nfkc(t).str.replace_all("&sup2;", "2", literal=True).str.replace_all("&sup3;", "3", literal=True)
    k = k.str.replace_all(r"[\s,]", "")
    g = k.str.extract_groups(_NUMBER)
    return _decimal(g.struct.field("1")), g.struct.field("2").fill_null("")


def _slow_quantities(t: pl.Series, declared: Unit | None, target: Unit | None, units: UnitTable) -> Outcome:
    """Values that are not plain numbers: struct of (value in its own unit, factor num, factor den)."""
    t = t.str.strip_chars()
    number, unit_txt = _read_numbers(t)
    keys = sorted(units.units)
    found = unit_txt.str.to_lowercase().replace_strict(keys, list(range(len(keys))), default=None,
                                                      return_dtype=pl.Int64)
    idx = found.fill_null(-1).to_numpy()
    table = [units.units[k] for k in keys]
    d_num, d_den = (declared.factor_num, declared.factor_den) if declared else (1, 1)
    has_unit = (unit_txt != "").to_numpy()
    num = np.where(has_unit, np.array([u.factor_num for u in table] + [1])[idx], d_num)
    den = np.where(has_unit, np.array([u.factor_den for u in table] + [1])[idx], d_den)
    ref = target or declared
    dimension = ref.dimension if ref is not None else None
    dims = np.array([u.dimension for u in table] + [""], object)[idx]
    mismatch = has_unit & (idx >= 0) & (dims != dimension)
    converted = has_unit & (idx >= 0) & ~mismatch & (
        np.array([u.unit for u in table] + [""], object)[idx] != (declared.unit if declared else ""))
    codes = no_codes(len(t))
    codes = mark(codes, placeholder_mask(t, zero=False), "placeholder.null")
    infinite = t.str.to_lowercase().str.contains(r"^[+-]?(?:inf|infinity|nan)$").fill_null(False)
    codes = mark(codes, infinite, "quantity.not_finite")
    codes = mark(codes, number.is_null() & (t != "").fill_null(False), "quantity.unparseable")
    codes = mark(codes, pl.Series(has_unit & (idx < 0)), "unit.unknown")
    codes = mark(codes, pl.Series(mismatch), "unit.mismatch")
    codes = mark(codes, pl.Series(converted), "unit.converted")
    bad = codes.is_not_null() & (codes != "unit.converted")
    values = pl.DataFrame({"v": null_where(number, bad), "num": num, "den": den}).to_struct("q")
    return Outcome(values, codes)


def parse_quantities(s: pl.Series, declared: Unit | None, target: Unit | None, units: UnitTable,
                     scale: int) -> Outcome:
    """Exact decimals in ``target``'s unit at ``scale``; see the module rules.

    ``s`` is text, or integers or decimals from a typed source column (used exactly as they are).
    """
    n = len(s)
    if s.dtype != pl.String and (s.dtype.is_integer() or isinstance(s.dtype, pl.Decimal)):
        values = s.cast(pl.Decimal(38, 8))
    else:
        s = s.cast(pl.String)
        values = _decimal(s)  # the fast path: a plain number in the declared unit
    d_num, d_den = (declared.factor_num, declared.factor_den) if declared else (1, 1)
    num = np.full(n, d_num, np.int64)
    den = np.full(n, d_den, np.int64)
    codes = no_codes(n)
    resid = (values.is_null() & s.is_not_null()).to_numpy()
    if resid.any():
        idx = pl.Series(np.flatnonzero(resid))
        slow = on_distinct(s.gather(idx), lambda v: _slow_quantities(v, declared, target, units))
        q = slow.values.struct.unnest()
        values = values.clone().scatter(idx, q["v"])
        codes = codes.clone().scatter(idx, slow.codes)
        num[resid] = q["num"].to_numpy()
        den[resid] = q["den"].to_numpy()
    if target is not None:  # value x (num/den) / (target num/den)
        num, den = num * target.factor_den, den * target.factor_num
    g = np.gcd(num, den)
    num, den = num // g, den // g
    if (num != 1).any():
        values = values * pl.Series(num).cast(pl.Decimal(38, 0))
    if (den != 1).any():
        values = values / pl.Series(den).cast(pl.Decimal(38, 0))
    values = values.round(scale, mode="half_away_from_zero").cast(pl.Decimal(38, scale))
    too_large = (values.abs() >= Decimal(10) ** (20 - scale)).fill_null(False)
    values, codes = reject(values, codes, too_large, "quantity.too_large")  # also over a unit.converted note
    return Outcome(values, codes)


def suspect_scale(values: pl.Series, min_rows: int = 10, sample: int = 20_000,
                  reference: Callable[[], float | None] | None = None) -> pl.Series:
    """True where a value is 10^3.5+ times above the column's median (see rules).

    Only the high side: small amounts are common and genuine (a 7.12 万元 fiscal share of a large
    project), while 元 typed into a 万元 field lands 10^4 above its neighbours. The median is taken on
    an evenly spread sample (a heuristic needs no exact median of a million values); a batch with fewer
    than ``min_rows`` positive values (a small incremental run) is held against ``reference()``, the
    median of what was published before, if any (asked only then: it costs a column read). When the
    column's maximum is within the band nothing is scanned at all.
    """
    nothing = pl.Series(np.zeros(len(values), bool))
    f = values.cast(pl.Float64)
    pos = f.filter(f > 0)
    hi = pos.max()
    if len(pos) >= min_rows:
        median = pos.gather_every(max(1, len(pos) // sample)).median()
    elif len(pos) and reference is not None:
        median = reference()
    else:
        return nothing
    if not isinstance(median, float) or median <= 0 or not isinstance(hi, float):
        return nothing
    band = 10 ** 3.5
    if hi / median < band:
        return nothing
    return (f >= median * band).fill_null(False)


def medians(table: pa.Table, keys: list[str], min_rows: int = 1) -> dict[str, float]:
    """The median of each column's positive values (the ``reference`` of :func:`suspect_scale`), for the
    columns with ``min_rows`` or more of them; text that is not a plain number does not count."""
    out: dict[str, float] = {}
    for k in keys:
        if k in table.column_names:
            f = pl.Series(table[k]).cast(pl.Float64, strict=False)
            pos = f.filter(f > 0)
            m = pos.median() if len(pos) >= min_rows else None
            if isinstance(m, float):
                out[k] = m
    return out


def parse_integers(s: pl.Series, unit: str = "") -> Outcome:
    """Whole numbers; see the module rules."""
    s = s.cast(pl.String)
    values = s.cast(pl.Int64, strict=False)
    codes = no_codes(len(s))
    resid = values.is_null() & s.is_not_null()
    if resid.any():
        idx = resid.arg_true()
        t = s.gather(idx).str.strip_chars()
        k = nfkc(t).str.replace_all(r"[\s,]", "")
        g = k.str.extract_groups(r"^([+-]?\d+)(?:\.0*)?(\D*)$")
        ok_unit = g.struct.field("2").is_in([*COUNT_UNITS, unit, ""]).fill_null(False)
        got = pl.select(pl.when(ok_unit).then(g.struct.field("1"))).to_series().cast(pl.Int64, strict=False)
        c = no_codes(len(t))
        c = mark(c, placeholder_mask(t, zero=False), "placeholder.null")
        c = mark(c, got.is_null() & (t != "").fill_null(False), "integer.unparseable")
        values = values.clone().scatter(idx, got)
        codes = codes.clone().scatter(idx, c)
    return Outcome(values, codes)


def parse_booleans(s: pl.Series) -> Outcome:
    """Yes/no values; see the module rules."""
    t = nfkc(s.cast(pl.String)).str.strip_chars().str.to_uppercase()
    values = t.replace_strict(_TRUE + _FALSE, [True] * len(_TRUE) + [False] * len(_FALSE), default=None,
                              return_dtype=pl.Boolean)
    codes = mark(no_codes(len(s)), placeholder_mask(t, zero=False) & values.is_null(), "placeholder.null")
    codes = mark(codes, values.is_null() & (t != "").fill_null(False), "boolean.unparseable")
    return Outcome(values, codes)
