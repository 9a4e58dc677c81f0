"""Cross-field rule kinds of ``rules.csv``, each registered by name: a check between elements of one record.

A kind is a :class:`CrossCheck`: where a rule of it fails (a polars expression over the rule's element
columns, in the order ``rules.csv`` lists them) and whether a rule of it lists the right elements
(``catalog check``). The expression is evaluated only on rows where every element has a value. Adding
one is one module::

    @register_rule("equal", fits=takes(2))
    def equal(rule: CrossRule, elements: tuple[Element, ...], cols: list[pl.Expr]) -> pl.Expr:
        \"\"\"The two values are the same.\"\"\"
        return cols[0] != cols[1]

(another package names it in the entry point group ``quancheng.cross_rules``; see :mod:`quancheng.registry`).

Built-in kinds:

- ``sum_equals``: the first element = the sum of the rest, within ``tolerance`` (exact for decimals).
- ``before``: the first date is on or before the second.
- ``duration_days``: the numeric element = days from the first date to the second, within ``tolerance``,
  whatever the order the rule lists them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from quancheng.errors import CatalogProblem
from quancheng.registry import CROSS_RULES

if TYPE_CHECKING:
    from quancheng.catalog.models import CrossRule, Element

# True where the rule fails, over the rule's element columns (in the rule's order)
Fails = Callable[["CrossRule", tuple["Element", ...], list[pl.Expr]], pl.Expr]
# whether a rule lists the elements its kind needs: the problems
Fits = Callable[["CrossRule"], list[CatalogProblem]]


def _fits_any(rule: CrossRule) -> list[CatalogProblem]:
    return []


def takes(n: int) -> Fits:
    """A kind whose rules list exactly ``n`` elements."""
    def fits(r: CrossRule) -> list[CatalogProblem]:
        if len(r.elements) == n:
            return []
        return [CatalogProblem("rules.csv", r.line, f"rule {r.rule_id}: {r.kind} takes {n} elements, got "
                               f"{len(r.elements)}", "list the elements in the rule's order")]
    return fits


@dataclass(frozen=True)
class CrossCheck:
    """A named cross-field rule kind: where its rules fail, and whether a rule lists the right elements."""

    name: str
    fails: Fails
    fits: Fits = _fits_any

    @property
    def rules(self) -> str:
        return (self.fails.__doc__ or "").strip()


def register_rule(name: str, *, fits: Fits = _fits_any) -> Callable[[Fails], Fails]:
    """Decorator: register the function as the cross-field rule kind ``name`` (the ``kind`` of rules.csv)."""
    def deco(fails: Fails) -> Fails:
        CROSS_RULES.register(name, CrossCheck(name, fails, fits))
        return fails
    return deco


def _total_and_parts(r: CrossRule) -> list[CatalogProblem]:
    if len(r.elements) >= 3:
        return []
    return [CatalogProblem("rules.csv", r.line, f"rule {r.rule_id}: sum_equals needs a total and at least two "
                           "parts", "list the total first, then the parts")]


@register_rule("sum_equals", fits=_total_and_parts)
def sum_equals(r: CrossRule, els: tuple[Element, ...], c: list[pl.Expr]) -> pl.Expr:
    """The first element = the sum of the rest, within ``tolerance`` (exact when all are decimals)."""
    if all(e.data_type == "decimal" for e in els):  # exact, no float rounding
        return (c[0] - pl.sum_horizontal(c[1:])).abs() > pl.lit(Decimal(str(r.tolerance)))
    return (c[0].cast(pl.Float64) - pl.sum_horizontal([x.cast(pl.Float64) for x in c[1:]])).abs() > r.tolerance


@register_rule("before", fits=takes(2))
def before(r: CrossRule, els: tuple[Element, ...], c: list[pl.Expr]) -> pl.Expr:
    """The first date is on or before the second."""
    return c[0] > c[1]


@register_rule("duration_days", fits=takes(3))
def duration_days(r: CrossRule, els: tuple[Element, ...], c: list[pl.Expr]) -> pl.Expr:
    """The numeric element = days from the first date to the second, within ``tolerance``, in any order."""
    days = next(x for x, e in zip(c, els, strict=True) if e.data_type in ("integer", "decimal"))
    start, end = (x for x, e in zip(c, els, strict=True) if e.data_type in ("date", "datetime"))
    return (days.cast(pl.Float64) - (end - start).dt.total_days().cast(pl.Float64)).abs() > r.tolerance
