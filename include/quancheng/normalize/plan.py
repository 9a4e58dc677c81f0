"""A form's mappings compiled once into groups the engine runs column by column.

A group is the unit of work: one source column read once for every element it feeds (a packed
``split`` cell or a ``date_range`` cell feeds several), or several columns joined (``concat``); how a
transform's mappings group is its ``fan`` (:class:`quancheng.normalize.transforms.Transform`).
Mistakes in the catalog that make a mapping impossible (a unit or code list that does not exist)
fail here with the form, the column and the fix, before any row is touched.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, Mapping, SourceField, SourceForm, TransformName, Unit
from quancheng.errors import QuanchengError
from quancheng.normalize.codes import CodeTable
from quancheng.normalize.quantity import UnitTable
from quancheng.normalize.types import decimal_scale
from quancheng.registry import TRANSFORMS


@dataclass(frozen=True)
class Target:
    """One element fed by a group, with everything its conversion needs."""

    element: Element
    part: int
    declared_unit: Unit | None  # the source field's unit (None: the element's own)
    target_unit: Unit | None
    scale: int
    codes: CodeTable | None


@dataclass(frozen=True)
class Group:
    """Source column(s) -> element(s) with one transform."""

    transform: TransformName
    columns: tuple[str, ...]
    field: SourceField
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class FormPlan:
    form: SourceForm
    groups: tuple[Group, ...]
    elements: tuple[Element, ...]
    units: UnitTable


class PlanError(QuanchengError):
    """The catalog maps a field in a way that cannot be carried out."""


_CACHE: weakref.WeakKeyDictionary[Catalog, dict[str, FormPlan]] = weakref.WeakKeyDictionary()


def plan_for(catalog: Catalog, form: SourceForm) -> FormPlan:
    """The compiled plan of ``form`` (built once per catalog object)."""
    per = _CACHE.setdefault(catalog, {})
    if form.form_id not in per:
        per[form.form_id] = compile_plan(catalog, form)
    return per[form.form_id]


def _unit(units: UnitTable, spelling: str, where: str) -> Unit | None:
    if not spelling:
        return None
    u = units.get(spelling)
    if u is None:
        raise PlanError(f"{where}: unit {spelling!r} is not in units.csv (fix: add it with its factor)")
    return u


def _target(catalog: Catalog, units: UnitTable, form: SourceForm, m: Mapping, f: SourceField) -> Target:
    el = catalog.element[m.element_id]
    where = f"form {form.form_id!r} (system {form.system_id!r}, table {form.table!r}), column {m.column!r}"
    numeric = el.data_type == "decimal"  # only decimals convert; a count's unit (层, 栋) is a label
    target_unit = _unit(units, el.unit, f"element {el.element_id}") if numeric else None
    declared = (_unit(units, m.unit or f.unit, where) if numeric else None) or target_unit
    codes = None
    use = TRANSFORMS.get(m.transform).codes
    if use == "always" or (use == "element" and el.code_list and el.data_type == "string"):
        list_id = el.code_list or (f.code_list if f.code_list in catalog.code_list else "")
        xw = f.code_list if f.code_list in catalog.crosswalk else ""
        if f.code_list and not xw and f.code_list not in catalog.code_list:
            raise PlanError(f"{where}: code_list {f.code_list!r} is neither a crosswalk nor a code list")
        if list_id and list_id not in catalog.codes_by_list:
            raise PlanError(f"{where}: element {el.element_id} uses code list {list_id!r} which has no codes")
        codes = CodeTable.build(catalog, list_id, xw) if (list_id or xw) else None
    return Target(el, m.part, declared, target_unit, decimal_scale(el), codes)


def compile_plan(catalog: Catalog, form: SourceForm) -> FormPlan:
    """Group the form's mappings; see the module docstring."""
    units = UnitTable.of(catalog.units)
    fields = {f.column: f for f in catalog.fields_of(form.form_id)}
    groups: list[Group] = []
    by_column: dict[tuple[str, str], list[tuple[Mapping, Target]]] = {}
    joined: dict[tuple[str, str], list[Mapping]] = {}  # (transform, element) -> the columns it joins
    for m in catalog.mappings_of(form.form_id):
        if m.element_id not in catalog.element:
            raise PlanError(f"form {form.form_id!r}, column {m.column!r}: element {m.element_id!r} is not in "
                            "elements.csv")
        f = fields.get(m.column)
        if f is None:
            raise PlanError(f"form {form.form_id!r}: mapping of column {m.column!r} has no row in fields.csv")
        fan = TRANSFORMS.get(m.transform).fan
        if fan == "join":
            joined.setdefault((m.transform, m.element_id), []).append(m)
            continue
        family = m.transform if fan == "parts" else f"{m.transform}:{m.element_id}"
        by_column.setdefault((m.column, family), []).append((m, _target(catalog, units, form, m, f)))
    for (column, _), items in by_column.items():
        groups.append(Group(items[0][0].transform, (column,), fields[column], tuple(t for _, t in items)))
    for (name, _), ms in joined.items():
        ms = sorted(ms, key=lambda m: m.part)
        t = _target(catalog, units, form, ms[0], fields[ms[0].column])
        groups.append(Group(name, tuple(m.column for m in ms), fields[ms[0].column], (t,)))
    return FormPlan(form, tuple(groups), tuple(catalog.elements_of(form.form_id)), units)
