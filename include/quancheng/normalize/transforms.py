"""The transforms of ``mappings.csv``, each registered by name: how a source field becomes canonical values.

A transform is a :class:`Transform`: a function from one group of the plan (its source column(s) and the
element(s) they feed) to one :class:`~quancheng.normalize.base.Outcome` per element, plus what the plan, the
engine and ``catalog check`` need to know about it. Adding one is one module::

    @register_transform("upper")
    def upper(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
        \"\"\"Cleaned text (see ``text``) in upper case.\"\"\"
        o = normalize_text(src.text(g.columns[0]))
        return [Outcome(o.values.str.to_uppercase(), o.codes)]

(a built-in one is also named in the ``builtin`` table of :mod:`quancheng.registry`, so the catalog knows the
name without importing polars; another package names it in the entry point group ``quancheng.transforms``).
The built-in ones below each list their rules in their docstring; what
every transform shares (broken text rejected first, native dates used as they are) is
:mod:`quancheng.normalize.convert`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal

import polars as pl

from quancheng.ids import check_column
from quancheng.ids.arrays import compact_column
from quancheng.normalize.base import Outcome, first_code, mark, no_codes, null_where, on_distinct, on_distinct_parts
from quancheng.normalize.base import fullwidth as to_fullwidth
from quancheng.normalize.base import placeholder_mask as is_placeholder
from quancheng.normalize.convert import Sources, native, typed
from quancheng.normalize.dates import parse_date_ranges, parse_dates, parse_datetimes
from quancheng.normalize.diameter import parse_nominal_diameters
from quancheng.normalize.plan import Group, Target
from quancheng.normalize.quantity import UnitTable, parse_integers, parse_quantities
from quancheng.normalize.text import clean_text, normalize_text
from quancheng.registry import TRANSFORMS

if TYPE_CHECKING:
    from quancheng.catalog import Catalog
    from quancheng.catalog.models import Element, Mapping, SourceField
    from quancheng.errors import CatalogProblem

# how a transform's mappings group: one column -> one element; one column -> several elements by ``part``
# (a packed cell); several columns in ``part`` order -> one element (a join)
Fan = Literal["one", "parts", "join"]
# whether the target gets a code table: when the element has a code list (and is a string), always (the
# field's crosswalk or code list is the point), or never (identifiers are checked, not looked up)
CodeUse = Literal["element", "always", "never"]
Run = Callable[[Group, Sources, UnitTable], list[Outcome]]
# whether a mapping with this transform fits its field and element: the problems, ``where`` opening each message
Fits = Callable[["Catalog", "Mapping", "SourceField", "Element", str], list["CatalogProblem"]]


def _fits_anything(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    return []


@dataclass(frozen=True)
class Transform:
    """A named transform: ``run`` converts a group; the rest tells the plan, the engine and the checks about it."""

    name: str
    run: Run
    fan: Fan = "one"
    codes: CodeUse = "element"
    # decimals it produces are checked for a unit slip (a 万元 amount written in 元: unit.suspect_scale)
    scale_check: bool = False
    cost: int = 1  # relative time per million rows (benchmarks/normalize_validate.py): heavy groups start first
    fits: Fits = _fits_anything

    @property
    def rules(self) -> str:
        """The transform's rules: its function's docstring."""
        return (self.run.__doc__ or "").strip()


def register_transform(name: str, *, fan: Fan = "one", codes: CodeUse = "element", scale_check: bool = False,
                       cost: int = 1, fits: Fits = _fits_anything) -> Callable[[Run], Run]:
    """Decorator: register the function as the transform ``name`` (the mappings' ``transform`` column)."""
    def deco(run: Run) -> Run:
        TRANSFORMS.register(name, Transform(name, run, fan, codes, scale_check, cost, fits))
        return run
    return deco


def transform(name: str) -> Transform:
    """The registered transform ``name``; an unknown name fails listing the known ones."""
    return TRANSFORMS.get(name)


# --- what the built-in transforms share ---
def _merge(first: Outcome, then: Outcome) -> Outcome:
    return Outcome(then.values, first_code(first.codes, then.codes))


def _retype(o: Outcome, t: Target) -> Outcome:
    """Values of another type than the element's (a date into a string element, ...)."""
    if t.element.data_type == "string" and o.values.dtype != pl.String:
        return Outcome(o.values.cast(pl.String), o.codes)
    if t.element.data_type == "integer" and o.values.dtype != pl.Int64:
        return Outcome(o.values.cast(pl.Int64, strict=False), o.codes)
    return o


def _as_is(g: Group, src: Sources, units: UnitTable, *, numbers: bool) -> Outcome | None:
    """A native date or time used as it is; with ``numbers``, a native number into a decimal element too."""
    t, col = g.targets[0], g.columns[0]
    direct = native(src.arrow(col), t)
    if direct is not None or not numbers or t.element.data_type != "decimal":
        return direct
    value = src.number_or_text(col)
    if value.dtype != pl.String:
        return parse_quantities(value, t.declared_unit, t.target_unit, units, t.scale)
    return None


# --- catalog checks of the built-in transforms ---
def _needs_units(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.catalog.check_refs import Unknown
    from quancheng.errors import CatalogProblem

    unit = m.unit or f.unit
    if not unit or not el.unit:
        return [CatalogProblem("mappings.csv", m.line, f"{where}: quantity needs a field unit and an element unit "
                               f"(field {f.unit!r}, element {el.unit!r})",
                               "set the field's unit in fields.csv and the element's unit")]
    if unit in c.unit and el.unit in c.unit and c.unit[unit].dimension != c.unit[el.unit].dimension:
        return [CatalogProblem("mappings.csv", m.line, f"{where}: unit {unit!r} ({c.unit[unit].dimension}) cannot "
                               f"convert to {el.unit!r} ({c.unit[el.unit].dimension})",
                               "use a unit of the same dimension")]
    if m.unit and m.unit not in c.unit:
        return [Unknown("unit", m.unit, "mappings.csv", m.line, f"{where}: unknown unit {m.unit!r}",
                        "add the spelling to units.csv")]
    return []


def _needs_code_list(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.errors import CatalogProblem

    if not f.code_list and not el.code_list:
        return [CatalogProblem("mappings.csv", m.line, f"{where}: code transform without a code list",
                               "set code_list on the field (crosswalk or code list) or the element")]
    target = c.crosswalk_code_list.get(f.code_list)
    if target is not None and target != el.code_list:
        return [CatalogProblem("mappings.csv", m.line, f"{where}: crosswalk {f.code_list!r} maps to {target!r}, "
                               f"the element uses {el.code_list!r}", "use a crosswalk to the element's code list")]
    return []


def _needs_separator(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.errors import CatalogProblem

    p = _needs_units(c, m, f, el, where) if el.unit and (m.unit or f.unit) else []
    if not f.packed_sep:
        p.append(CatalogProblem("mappings.csv", m.line, f"{where}: split needs the field's packed_sep",
                                "set packed_sep on the field in fields.csv"))
    return p


def _needs_identifier_kind(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.errors import CatalogProblem

    if el.identifier_kind:
        return []
    return [CatalogProblem("mappings.csv", m.line, f"{where}: identifier transform but element {el.element_id} "
                           "has no identifier_kind", "set identifier_kind on the element")]


def _three_parts(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.errors import CatalogProblem

    if m.part in (0, 1, 2):
        return []
    return [CatalogProblem("mappings.csv", m.line, f"{where}: date_range part must be 0, 1 or 2",
                           "0 = start, 1 = end, 2 = duration in days")]


def _needs_string(c: Catalog, m: Mapping, f: SourceField, el: Element, where: str) -> list[CatalogProblem]:
    from quancheng.errors import CatalogProblem

    if el.data_type == "string" and not el.code_list and not el.unit:
        return []
    return [CatalogProblem("mappings.csv", m.line, f"{where}: nominal_diameter makes a designation (DN200): element "
                           f"{el.element_id} must be a string without code list or unit",
                           "set data_type string, format DNn..4 and no unit on the element")]


# --- the built-in transforms ---
@register_transform("copy")
def copy(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Cast to the element's type, nothing else: strings as they are, numbers, dates, date-times and yes/no
    values by their parsers (:mod:`~quancheng.normalize.dates`, :mod:`~quancheng.normalize.quantity`)."""
    got = _as_is(g, src, units, numbers=True)
    return [got if got is not None else typed(src.text(g.columns[0]), g.targets[0], units)]


@register_transform("text")
def text(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """:func:`~quancheng.normalize.text.normalize_text` (trim, unify spaces incl. U+3000, placeholders -> null),
    then the element's type."""
    got = _as_is(g, src, units, numbers=True)
    if got is not None:
        return [got]
    t, col = g.targets[0], g.columns[0]
    o = normalize_text(src.text(col), source=src.arrow(col))
    return [o if t.element.data_type == "string" and t.codes is None
            else _merge(o, typed(o.values, t, units, cleaned=True))]


@register_transform("date")
def date(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Any Chinese or ISO date spelling -> ISO date (:func:`~quancheng.normalize.dates.parse_dates`; a date-time
    element: ``parse_datetimes``)."""
    got = _as_is(g, src, units, numbers=False)
    if got is not None:
        return [got]
    t, col = g.targets[0], g.columns[0]
    if t.element.data_type == "datetime":
        return [parse_datetimes(src.text(col))]
    # the text is made only when the values do not repeat
    return [_retype(on_distinct(partial(src.text, col), parse_dates, source=src.arrow(col)), t)]


@register_transform("quantity", scale_check=True, fits=_needs_units)
def quantity(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """A number in the field's unit -> the element's unit (万元 -> 元, 亩 -> m², ...) by
    :func:`~quancheng.normalize.quantity.parse_quantities`; an integer element takes whole numbers only."""
    got = _as_is(g, src, units, numbers=True)
    if got is not None:
        return [got]
    t, text_ = g.targets[0], src.text(g.columns[0])
    if t.element.data_type == "integer":
        return [parse_integers(text_, t.element.unit)]
    return [_retype(parse_quantities(text_, t.declared_unit, t.target_unit, units, t.scale), t)]


@register_transform("code", codes="always", fits=_needs_code_list)
def code(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """A department's code -> the canonical code through the field's crosswalk, or the code list's own
    normalisation (:meth:`~quancheng.normalize.codes.CodeTable.resolve`); without a code table, cleaned text."""
    got = _as_is(g, src, units, numbers=False)
    if got is not None:
        return [got]
    t, col = g.targets[0], g.columns[0]
    if t.element.data_type != "datetime" and t.codes is not None:
        return [on_distinct(partial(src.text, col), t.codes.resolve, source=src.arrow(col))]
    return [normalize_text(src.text(col))]


@register_transform("identifier", codes="never", cost=6, fits=_needs_identifier_kind)
def identifier(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Placeholders -> null (``placeholder.null``), then :func:`quancheng.ids.check_column` by the element's
    identifier kind; an invalid identifier is null with its reason (``uscc.checksum``); notes
    ``fullwidth.normalized`` and ``ric.upgraded`` record what compaction changed. An element without an
    identifier kind gets the identifier compacted (NFKC, no spaces, upper case), hyphens kept."""
    got = _as_is(g, src, units, numbers=False)
    if got is not None:
        return [got]
    t, text_ = g.targets[0], src.text(g.columns[0])
    trimmed = text_.str.strip_chars()
    ph = is_placeholder(trimmed, zero=True)
    codes = mark(no_codes(len(text_)), ph, "placeholder.null")
    kind = t.element.identifier_kind
    if kind is None:
        return [Outcome(null_where(compact_column(trimmed, keep_hyphens=True, allow_cjk=True), ph), codes)]
    res = check_column(null_where(trimmed, ph), kind)
    values = null_where(res.normalized, pl.Series(~res.valid))
    codes = first_code(codes, res.reason)
    if res.fullwidth is not None:
        codes = mark(codes, pl.Series(res.fullwidth) & values.is_not_null(), "fullwidth.normalized")
    if res.upgraded is not None:
        codes = mark(codes, pl.Series(res.upgraded), "ric.upgraded")
    return [Outcome(values, codes)]


@register_transform("split", fan="parts", scale_check=True, cost=3, fits=_needs_separator)
def split(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """A packed cell (``地上/地下``) -> its part ``part`` (0-based): the cell (cleaned, full-width separator read
    as the field's ``packed_sep``, default ``/``) must have exactly as many parts as the mappings use (else
    ``split.parts`` on every part); a Chinese label before a number (``地上:1200``) is dropped; each part then
    converts as ``copy`` would, with the field's unit (or the mapping's) as the declared unit."""
    sep = g.field.packed_sep or "/"
    t = clean_text(src.text(g.columns[0])).str.replace_all(to_fullwidth(sep), sep, literal=True)
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


@register_transform("date_range", fan="parts", cost=4, fits=_three_parts)
def date_range(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """``2019-03-01至2020-03-01`` -> start (part 0) or end (part 1); ``365天`` -> the duration (part 2), by
    :func:`~quancheng.normalize.dates.parse_date_ranges`."""
    parts = on_distinct_parts(src.text(g.columns[0]), parse_date_ranges)
    return [_retype(parts[min(x.part, 2)], x) for x in g.targets]


@register_transform("concat", fan="join", cost=4)
def concat(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Several fields joined into one element: their cleaned texts in ``part`` order, without separator (nulls
    skipped; nothing left is null), then the element's type."""
    cleaned = [clean_text(src.text(c)) for c in g.columns]
    joined = pl.select(pl.concat_str([c.fill_null("") for c in cleaned])).to_series()
    return [typed(null_where(joined, joined == ""), g.targets[0], units, cleaned=True)]


@register_transform("nominal_diameter", codes="never", fits=_needs_string)
def nominal_diameter(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """A written pipe diameter (``DN200``, ``dn200``, ``200``, ``200mm``, ``Φ200``) -> the designation ``DN200``
    by :func:`~quancheng.normalize.diameter.parse_nominal_diameters`; an outside diameter (``De110``,
    ``Φ219×6``) or a size outside GB/T 1047's series is null with its reason, never guessed."""
    col = g.columns[0]
    return [on_distinct(partial(src.text, col), parse_nominal_diameters, source=src.arrow(col))]
