"""Validation rules compiled from the registry: one :class:`Rule` per check, each a polars expression.

Rules, in the order they are compiled for each element of the form (rule ids are what quarantine
reasons carry):

- ``required``: the element is required in the form's stage (``elements.csv`` ``required_in``) and the
  value is null - unless normalization already gave an error for that value (the error is the reason).
- ``max_length``: a string longer than ``max_length`` characters.
- ``format``: the element's GB/T 19488-style format: ``n6`` (exactly 6 digits), ``n..10`` (1-10 digits),
  ``an18`` / ``a3`` (exactly 18 / 3 characters), ``an..200`` (at most 200, when not already ``max_length``);
  ``DNn..4`` (a designation: the upper-case letters ``DN`` then 1-4 digits, as ``DN200``);
  for numbers ``n..18.2`` bounds the integer digits (|v| < 10^16).
- ``code_list``: a code that is not a current code of the element's code list (an element with a code
  list gets no ``max_length``/``format`` rule: membership implies both).
- ``min_value`` / ``max_value``: a number below / above the element's bounds.
- identifiers are checked during normalization by the element's ``identifier_kind`` (reason e.g.
  ``uscc.checksum``); dates, numbers and codes that could not be read likewise (``date.unparseable``, ...).
- cross-field rules of ``rules.csv`` whose elements are all in the form, evaluated when all their values
  are present, by their kind (registered by name, see :mod:`quancheng.validate.cross`: ``sum_equals``,
  ``before``, ``duration_days``, ...); the rule id (e.g. ``R001``) is the reason.
Every expression is True where the row FAILS and never null.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.models import CrossRule, Element, SourceForm
from quancheng.registry import CROSS_RULES

# the element rules; a cross-field rule's kind is the name of its registered kind (quancheng.validate.cross)
RuleKind = Literal["required", "max_length", "format", "code_list", "min_value", "max_value"]


@dataclass(frozen=True)
class Rule:
    """One check over the canonical table: where it fails, and how to report it."""

    rule_id: str
    kind: RuleKind | str
    elements: tuple[Element, ...]
    columns: tuple[str, ...]  # the source columns of the elements, for reasons
    fails: pl.Expr
    # for Great Expectations: the expectation this rule is reported as
    gx_type: str = ""
    gx_kwargs: tuple[tuple[str, object], ...] = ()
    applies: pl.Expr | None = None  # cross rules: the rows the rule is evaluated on (all values present)
    # the same check straight on the Arrow column, for the simple kinds: no conversion to polars needed
    arrow: Callable[[pa.ChunkedArray], pa.ChunkedArray] | None = None

    @property
    def element_id(self) -> str:
        return "|".join(e.element_id for e in self.elements)

    @property
    def column(self) -> str:
        return "|".join(self.columns)


_CACHE: weakref.WeakKeyDictionary[Catalog, dict[str, tuple[Rule, ...]]] = weakref.WeakKeyDictionary()


def rules_for(catalog: Catalog, form: SourceForm) -> tuple[Rule, ...]:
    """The compiled rules of ``form`` (built once per catalog object)."""
    per = _CACHE.setdefault(catalog, {})
    if form.form_id not in per:
        per[form.form_id] = compile_rules(catalog, form)
    return per[form.form_id]


def source_columns(catalog: Catalog, form: SourceForm) -> dict[str, tuple[str, ...]]:
    """element id -> the source columns that feed it in ``form``."""
    out: dict[str, list[str]] = {}
    for m in catalog.mappings_of(form.form_id):
        if m.column not in out.setdefault(m.element_id, []):
            out[m.element_id].append(m.column)
    return {k: tuple(v) for k, v in out.items()}


def _format_rule(e: Element) -> tuple[pl.Expr, str, dict[str, object]] | None:
    col = pl.col(e.key)
    fmt = e.format or ""
    if e.data_type == "string":
        if m := re.fullmatch(r"n(\d+)", fmt):
            rx = rf"^[0-9]{{{m.group(1)}}}$"
        elif m := re.fullmatch(r"n\.\.(\d+)", fmt):
            rx = rf"^[0-9]{{1,{m.group(1)}}}$"
        elif m := re.fullmatch(r"([A-Z]+)n\.\.(\d+)", fmt):  # a designation: letters, then digits (DNn..4)
            rx = rf"^{m.group(1)}[0-9]{{1,{m.group(2)}}}$"
        elif m := re.fullmatch(r"an?(\d+)", fmt):
            k = int(m.group(1))
            return (col.str.len_chars() != k, "expect_column_value_lengths_to_equal", {"value": k})
        elif (m := re.fullmatch(r"an?\.\.(\d+)", fmt)) and e.max_length != int(m.group(1)):
            k = int(m.group(1))
            return (col.str.len_chars() > k, "expect_column_value_lengths_to_be_between", {"max_value": k})
        else:
            return None
        return (~col.str.contains(rx), "expect_column_values_to_match_regex", {"regex": rx})
    if e.data_type in ("decimal", "integer"):
        m = re.fullmatch(r"n\.\.(\d+)(?:\.(\d+))?", fmt)
        if not m:
            return None
        digits = int(m.group(1)) - int(m.group(2) or 0)
        bound = 10 ** digits
        lit = pl.lit(Decimal(bound)) if e.data_type == "decimal" else pl.lit(bound)
        return (col.abs() >= lit, "expect_column_values_to_be_between",
                {"min_value": -bound, "max_value": bound, "strict_min": True, "strict_max": True})
    return None


def _arrow_check(kind: str, e: Element, kw: dict[str, object] | None) -> Callable[[pa.ChunkedArray],
                                                                               pa.ChunkedArray] | None:
    """The Arrow form of a simple rule (True where the row fails, never null), when it has one."""
    if kind == "required":
        return lambda c: c.is_null()
    if kind == "max_length":
        limit = e.max_length
        return lambda c: pc.fill_null(pc.greater(pc.utf8_length(c), limit), False)
    if kind == "code_list" and kw is not None:
        allowed = pa.array(kw["value_set"], pa.string())
        return lambda c: pc.and_(pc.is_valid(c), pc.invert(pc.is_in(c, value_set=allowed)))
    if kind in ("min_value", "max_value") and e.data_type in ("decimal", "integer"):
        value = e.min_value if kind == "min_value" else e.max_value
        op = pc.less if kind == "min_value" else pc.greater
        bound = pa.scalar(Decimal(str(value))) if e.data_type == "decimal" else pa.scalar(int(value or 0))
        return lambda c: pc.fill_null(op(c, bound), False)
    return None


def _bound(e: Element, value: float) -> pl.Expr:
    return pl.lit(Decimal(str(value))) if e.data_type == "decimal" else pl.lit(value)


def compile_rules(catalog: Catalog, form: SourceForm) -> tuple[Rule, ...]:
    """Every rule of ``form``; see the module rules."""
    cols = source_columns(catalog, form)
    elements = catalog.elements_of(form.form_id)
    rules: list[Rule] = []
    for e in elements:
        c = pl.col(e.key)
        src = cols.get(e.element_id, ())

        def add(rule_id: RuleKind, fails: pl.Expr, gx_type: str, kw: dict[str, object] | None = None,
                e: Element = e, src: tuple[str, ...] = src) -> None:
            rules.append(Rule(rule_id, rule_id, (e,), src, fails.fill_null(False), gx_type,
                              tuple({"column": e.key, **(kw or {})}.items()), arrow=_arrow_check(rule_id, e, kw)))

        if form.stage_id in e.required_in:
            add("required", c.is_null(), "expect_column_values_to_not_be_null")
        coded = bool(e.code_list) and e.data_type == "string"  # membership implies length and format
        if e.data_type == "string" and e.max_length and not coded:
            add("max_length", c.str.len_chars() > e.max_length, "expect_column_value_lengths_to_be_between",
                {"max_value": e.max_length})
        fmt = None if coded else _format_rule(e)
        if fmt is not None:
            add("format", fmt[0], fmt[1], fmt[2])
        if e.code_list and e.data_type == "string":
            current = sorted(x.code for x in catalog.codes_by_list.get(e.code_list, []) if not x.valid_to)
            add("code_list", ~c.is_in(current), "expect_column_values_to_be_in_set", {"value_set": current})
        if e.data_type in ("decimal", "integer"):
            if e.min_value is not None:
                add("min_value", c < _bound(e, e.min_value), "expect_column_values_to_be_between",
                    {"min_value": e.min_value})
            if e.max_value is not None:
                add("max_value", c > _bound(e, e.max_value), "expect_column_values_to_be_between",
                    {"max_value": e.max_value})
    present = {e.element_id: e for e in elements}
    for r in catalog.rules:
        if all(x in present for x in r.elements):
            rules.append(_cross(r, tuple(present[x] for x in r.elements), cols))
    return tuple(rules)


def _cross(r: CrossRule, els: tuple[Element, ...], cols: dict[str, tuple[str, ...]]) -> Rule:
    src = tuple(c for e in els for c in cols.get(e.element_id, ()))
    src = tuple(dict.fromkeys(src))
    c = [pl.col(e.key) for e in els]
    all_present = pl.all_horizontal([x.is_not_null() for x in c])
    fails = CROSS_RULES.get(r.kind).fails(r, els, c)
    return Rule(r.rule_id, r.kind, els, src, (all_present & fails).fill_null(False),
                "expect_column_values_to_be_in_set", (("column", f"_rule_{r.rule_id}"), ("value_set", [True])),
                applies=all_present)
