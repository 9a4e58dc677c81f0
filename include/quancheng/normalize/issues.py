"""Issue codes of normalization and their severity.

An ``error`` means the value could not be used: the canonical value is null and validation
quarantines the row with the code as its reason. A ``note`` records a fix that was applied
(the row stays valid). Identifier failures use the identifier's own reason, e.g. ``uscc.checksum``
(see :mod:`quancheng.ids.scalar`); they are all errors.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Severity = Literal["error", "note"]

NOTES: dict[str, str] = {
    "placeholder.null": "a placeholder such as '/', '无', '--', 'NA' or a meaningless '0' became null",
    "date.blank": "an unfilled date template such as '年 月 日' became null",
    "fullwidth.normalized": "full-width digits or letters were read as half-width (key or identifier only)",
    "unit.converted": "the value carried its own unit (e.g. '12.5万元'), converted to the element's unit",
    "division.successor": "an abolished GB/T 2260 code was replaced by its successor",
    "code.by_name": "a code list entry was given by its name, replaced by its code",
    "industry.normalized": "a GB/T 4754 code was rewritten to the code list's form (section letter, digits)",
    "ric.upgraded": "a 15-digit ID number was upgraded to 18 digits (19 inserted, check computed)",
    "duration.derived": "a duration was computed from the range's start and end dates",
    "nominal_diameter.phi": "a pipe size written Φ200 was read as DN200 (Φ also marks outside diameters)",
}

ERRORS: dict[str, str] = {
    "date.unparseable": "not a date in any known spelling",
    "date.invalid": "spelled like a date but not a calendar date (e.g. month 13)",
    "date.out_of_range": "a date before 1900 or after 2100",
    "date.range": "a range (…至…) where one date is expected",
    "date_range.unparseable": "neither 'start至end' nor a duration such as '365天'",
    "date_range.reversed": "the range ends before it starts",
    "duration.unit": "a duration in a unit that is not a whole number of days (e.g. months)",
    "datetime.unparseable": "not a date-time in any known spelling",
    "quantity.unparseable": "not a number (with an optional unit)",
    "quantity.too_large": "more digits than the element's decimal type holds",
    "integer.unparseable": "not a whole number",
    "boolean.unparseable": "not one of 是/否, 有/无, Y/N, 1/0, true/false",
    "unit.unknown": "the unit written in the value is not in the catalog's units",
    "unit.suspect_scale": "the value is 10^3.5+ times above the column's median (元 typed into a 万元 field?): "
                          "not trusted until checked at the source",
    "unit.mismatch": "the unit written in the value measures another dimension than the element",
    "code.unknown": "not a code (nor a name) of the code list or the department's crosswalk",
    "code.retired": "a code that is no longer valid and has no successor",
    "split.parts": "the packed cell does not have the number of parts the mapping expects",
    "text.nul_byte": "the text holds a NUL byte (PostgreSQL cannot store it; other readers cut the value there)",
    "text.invalid_utf8": "the source's bytes were not UTF-8 (each invalid sequence shown as U+FFFD)",
    "nominal_diameter.outside_diameter": "an outside diameter (De110, Φ219×6) where a nominal diameter (DN) is "
                                         "expected: its DN depends on the pipe's material and series",
    "nominal_diameter.not_in_series": "a size that is not a GB/T 1047 nominal size (DN225, dn110: an outside "
                                      "diameter or a typo)",
    "nominal_diameter.unreadable": "not a nominal diameter (DN200, 200, 200mm, Φ200)",
    "quantity.not_finite": "infinity or NaN where a number is expected (a floating-point column's overflow)",
}


def severity(code: str) -> Severity:
    """``note`` for the codes in :data:`NOTES`, ``error`` for everything else."""
    return "note" if code in NOTES else "error"


def severity_expr(code: pl.Expr) -> pl.Expr:
    """:func:`severity` over a column of codes."""
    return pl.when(code.is_in(list(NOTES))).then(pl.lit("note")).otherwise(pl.lit("error"))
