"""Cross-file consistency of the catalog: every problem named by file and line, with the fix.

``check(catalog)`` returns a list of :class:`CatalogProblem`; empty means clean. It verifies that
every reference resolves, ids are unique, every source field is mapped or excluded (not both),
transforms fit their field and element, units are known and versions follow ``V<major>.<minor>``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from quancheng.catalog.loader import Catalog
from quancheng.errors import CatalogProblem

VERSION = re.compile(r"^V\d+\.\d+$")
IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Lined(Protocol):
    @property
    def line(self) -> int: ...


R = TypeVar("R", bound=_Lined)


def _dupes(rows: Iterable[R], key: Callable[[R], object], file: str, what: str) -> list[CatalogProblem]:
    seen: dict[object, int] = {}
    out = []
    for r in rows:
        k = key(r)
        line = r.line
        if k in seen:
            out.append(CatalogProblem(file, line, f"duplicate {what} {k!r} (first on line {seen[k]})",
                                      f"give each {what} once"))
        else:
            seen[k] = line
    return out


def check(c: Catalog) -> list[CatalogProblem]:
    """Every problem of the catalog (empty when clean)."""
    p: list[CatalogProblem] = []
    p += _dupes(c.stages, lambda r: r.stage_id, "stages.csv", "stage_id")
    p += _dupes(c.systems, lambda r: r.system_id, "systems.csv", "system_id")
    p += _dupes(c.forms, lambda r: r.form_id, "forms.csv", "form_id")
    p += _dupes(c.fields, lambda r: (r.form_id, r.column), "fields.csv", "column")
    p += _dupes(c.elements, lambda r: r.element_id, "elements.csv", "element_id")
    p += _dupes(c.elements, lambda r: r.key, "elements.csv", "key")
    p += _dupes(c.code_lists, lambda r: r.code_list_id, "code_lists.csv", "code_list_id")
    p += _dupes(c.materials, lambda r: r.material_id, "materials.csv", "material_id")
    p += _dupes(c.rules, lambda r: r.rule_id, "rules.csv", "rule_id")
    p += _dupes(c.units, lambda r: r.unit, "units.csv", "unit")
    p += _systems_forms(c) + _fields(c) + _mappings(c) + _elements(c) + _codes(c) + _materials(c) + _rules(c)
    return p


def _systems_forms(c: Catalog) -> list[CatalogProblem]:
    p = []
    for s in c.systems:
        for st in s.stages:
            if st not in c.stage:
                p.append(CatalogProblem("systems.csv", s.line, f"system {s.system_id!r}: unknown stage {st!r}",
                                        f"use one of {sorted(c.stage)}"))
    for f in c.forms:
        if f.system_id not in c.system:
            p.append(CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: unknown system {f.system_id!r}",
                                    "add the system to systems.csv or fix the system_id"))
        if f.stage_id not in c.stage:
            p.append(CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: unknown stage {f.stage_id!r}",
                                    f"use one of {sorted(c.stage)}"))
        cols = {x.column for x in c.fields_of(f.form_id)}
        for k in [*f.primary_key, *([f.updated_column] if f.updated_column else [])]:
            if k not in cols:
                p.append(CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: column {k!r} is not a field "
                                        "of the form", "list it in fields.csv or fix primary_key/updated_column"))
    return p


def _fields(c: Catalog) -> list[CatalogProblem]:
    p = []
    mapped = {(m.form_id, m.column) for m in c.mappings}
    xw_system = {x.crosswalk_id: x.system_id for x in c.crosswalks}
    for f in c.fields:
        where = f"field {f.form_id}.{f.column}"
        if f.form_id not in c.form:
            p.append(CatalogProblem("fields.csv", f.line, f"{where}: unknown form {f.form_id!r}",
                                    "add the form to forms.csv or fix form_id"))
        is_mapped = (f.form_id, f.column) in mapped
        if f.excluded_reason and is_mapped:
            p.append(CatalogProblem("fields.csv", f.line, f"{where} is both mapped and excluded",
                                    "remove its mappings or clear excluded_reason"))
        if not f.excluded_reason and not is_mapped:
            p.append(CatalogProblem("fields.csv", f.line, f"{where} is neither mapped nor excluded",
                                    "map it in mappings.csv or give excluded_reason (why it carries no element)"))
        if f.unit and f.unit not in c.unit:
            p.append(CatalogProblem("fields.csv", f.line, f"{where}: unknown unit {f.unit!r}",
                                    "add the spelling to units.csv"))
        if f.code_list and f.code_list not in c.code_list and f.code_list not in c.crosswalk:
            p.append(CatalogProblem("fields.csv", f.line, f"{where}: unknown code list or crosswalk "
                                    f"{f.code_list!r}", "add it to code_lists.csv or crosswalks.csv"))
        elif f.code_list in xw_system and f.form_id in c.form and xw_system[f.code_list] != c.form[f.form_id].system_id:
            p.append(CatalogProblem("fields.csv", f.line, f"{where}: crosswalk {f.code_list!r} belongs to system "
                                    f"{xw_system[f.code_list]!r}, not {c.form[f.form_id].system_id!r}",
                                    "give the field its own system's crosswalk"))
    return p


def _mappings(c: Catalog) -> list[CatalogProblem]:
    p = []
    fields = {(f.form_id, f.column): f for f in c.fields}
    xw_list = {x.crosswalk_id: x.code_list_id for x in c.crosswalks}
    for m in c.mappings:
        where = f"mapping {m.form_id}.{m.column} -> {m.element_id}"
        f = fields.get((m.form_id, m.column))
        el = c.element.get(m.element_id)
        if f is None:
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: no such field",
                                    "add the field to fields.csv or fix form_id/column"))
        if el is None:
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: unknown element {m.element_id!r}",
                                    "add the element to elements.csv or fix element_id"))
        if f is None or el is None:
            continue
        unit = m.unit or f.unit
        if m.transform == "quantity" or (m.transform == "split" and el.unit and unit):
            if not unit or not el.unit:
                p.append(CatalogProblem("mappings.csv", m.line, f"{where}: quantity needs a field unit and an "
                                        f"element unit (field {f.unit!r}, element {el.unit!r})",
                                        "set the field's unit in fields.csv and the element's unit"))
            elif unit in c.unit and el.unit in c.unit and c.unit[unit].dimension != c.unit[el.unit].dimension:
                p.append(CatalogProblem("mappings.csv", m.line, f"{where}: unit {unit!r} "
                                        f"({c.unit[unit].dimension}) cannot convert to {el.unit!r} "
                                        f"({c.unit[el.unit].dimension})", "use a unit of the same dimension"))
            elif m.unit and m.unit not in c.unit:
                p.append(CatalogProblem("mappings.csv", m.line, f"{where}: unknown unit {m.unit!r}",
                                        "add the spelling to units.csv"))
        if m.transform == "code":
            if not f.code_list and not el.code_list:
                p.append(CatalogProblem("mappings.csv", m.line, f"{where}: code transform without a code list",
                                        "set code_list on the field (crosswalk or code list) or the element"))
            elif f.code_list in xw_list and xw_list[f.code_list] != el.code_list:
                p.append(CatalogProblem("mappings.csv", m.line, f"{where}: crosswalk {f.code_list!r} maps to "
                                        f"{xw_list[f.code_list]!r}, the element uses {el.code_list!r}",
                                        "use a crosswalk to the element's code list"))
        if m.transform == "split" and not f.packed_sep:
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: split needs the field's packed_sep",
                                    "set packed_sep on the field in fields.csv"))
        if m.transform == "identifier" and not el.identifier_kind:
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: identifier transform but element "
                                    f"{el.element_id} has no identifier_kind", "set identifier_kind on the element"))
        if m.transform == "date_range" and m.part not in (0, 1, 2):
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: date_range part must be 0, 1 or 2",
                                    "0 = start, 1 = end, 2 = duration in days"))
    return p


def _elements(c: Catalog) -> list[CatalogProblem]:
    p = []
    fed: dict[str, set[str]] = {}
    member: dict[str, set[str]] = {}  # element -> stages whose forms feed it (its stage-form membership)
    for m in c.mappings:
        if m.form_id in c.form:
            fed.setdefault(m.element_id, set()).add(c.form[m.form_id].system_id)
            member.setdefault(m.element_id, set()).add(c.form[m.form_id].stage_id)
    for e in c.elements:
        where = f"element {e.element_id} ({e.key})"
        if not IDENT.match(e.key):
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: key is not a lower-case SQL identifier "
                                    "of at most 63 characters", "use lower-case ascii snake case"))
        if not VERSION.match(e.version):
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: version {e.version!r} does not follow "
                                    "V<major>.<minor>", "write e.g. V1.0; a change that breaks exchange bumps major"))
        if e.unit and e.unit not in c.unit:
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: unknown unit {e.unit!r}",
                                    "add the unit to units.csv"))
        if e.code_list and e.code_list not in c.code_list:
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: unknown code list {e.code_list!r}",
                                    "add it to code_lists.csv with its codes/<id>.csv"))
        if e.authority_system and e.authority_system not in c.system:
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: unknown authority_system "
                                    f"{e.authority_system!r}", "name a system of systems.csv"))
        elif e.authority_system and e.authority_system not in fed.get(e.element_id, set()):
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: authority_system {e.authority_system!r} "
                                    "feeds no value of it", "name a system that maps the element"))
        for s in e.required_in:
            if s not in c.stage:
                p.append(CatalogProblem("elements.csv", e.line, f"{where}: required_in names unknown stage {s!r}",
                                        f"use one of {sorted(c.stage)}"))
            elif e.element_id in member and s not in member[e.element_id]:
                p.append(CatalogProblem("elements.csv", e.line, f"{where}: required in {s} but no form of that "
                                        "stage feeds it", "map it from a form of the stage or drop the stage"))
        if e.status != "retired" and e.element_id not in fed:
            p.append(CatalogProblem("elements.csv", e.line, f"{where} is active but no field maps to it",
                                    "map a source field to it or set status to retired"))
    return p


def _codes(c: Catalog) -> list[CatalogProblem]:
    p = []
    for cl in c.code_lists:
        if cl.version[:1] == "V" and not VERSION.match(cl.version):
            p.append(CatalogProblem("code_lists.csv", cl.line, f"code list {cl.code_list_id!r}: version "
                                    f"{cl.version!r} does not follow V<major>.<minor>",
                                    "write e.g. V1.0 (standards keep their year, e.g. 2017)"))
    known = {(x.code_list_id, x.code) for x in c.codes}
    p += _dupes(c.crosswalks, lambda x: (x.crosswalk_id, x.native_value), "crosswalks.csv", "native value")
    for x in c.crosswalks:
        where = f"crosswalk {x.crosswalk_id} {x.native_value!r}"
        if x.system_id not in c.system:
            p.append(CatalogProblem("crosswalks.csv", x.line, f"{where}: unknown system {x.system_id!r}",
                                    "name a system of systems.csv"))
        if x.code_list_id not in c.code_list:
            p.append(CatalogProblem("crosswalks.csv", x.line, f"{where}: unknown code list {x.code_list_id!r}",
                                    "add it to code_lists.csv"))
        elif (x.code_list_id, x.code) not in known:
            p.append(CatalogProblem("crosswalks.csv", x.line, f"{where}: code {x.code!r} is not in code list "
                                    f"{x.code_list_id!r}", f"use a code of codes/{x.code_list_id}.csv"))
    for u in c.units:
        if u.canonical not in c.unit:
            p.append(CatalogProblem("units.csv", u.line, f"unit {u.unit!r}: canonical {u.canonical!r} unknown",
                                    "list the canonical unit itself with factor 1"))
        if u.factor_den <= 0:
            p.append(CatalogProblem("units.csv", u.line, f"unit {u.unit!r}: factor_den must be positive",
                                    "write the exact rational factor, e.g. 10000/15 for 亩"))
    return p


def _materials(c: Catalog) -> list[CatalogProblem]:
    p = []
    for m in c.materials:
        where = f"material {m.material_id}"
        if m.form_id not in c.form:
            p.append(CatalogProblem("materials.csv", m.line, f"{where}: unknown form {m.form_id!r}",
                                    "name a form of forms.csv"))
        if m.issuer_system and m.issuer_system not in c.system:
            p.append(CatalogProblem("materials.csv", m.line, f"{where}: unknown issuer_system {m.issuer_system!r}",
                                    "name a system of systems.csv or leave it empty for outside issuers"))
        if m.issuer_system and m.kind != "issued":
            p.append(CatalogProblem("materials.csv", m.line, f"{where}: issuer_system set on a {m.kind!r} material",
                                    "only issued documents have an issuer"))
        for e in m.elements:
            if e not in c.element:
                p.append(CatalogProblem("materials.csv", m.line, f"{where}: unknown element {e!r}",
                                        "name an element of elements.csv"))
    for g in c.grants:
        if g.system_id not in c.system:
            p.append(CatalogProblem("grants.csv", g.line, f"grant to {g.department_en!r}: unknown system "
                                    f"{g.system_id!r}", "name a system of systems.csv"))
        for e in g.elements:
            if e not in c.element:
                p.append(CatalogProblem("grants.csv", g.line, f"grant to {g.department_en!r}: unknown element "
                                        f"{e!r}", "name an element of elements.csv"))
            elif c.element[e].share_type != "conditional":
                p.append(CatalogProblem("grants.csv", g.line, f"grant to {g.department_en!r}: element {e} is "
                                        f"{c.element[e].share_type!r}, not conditional",
                                        "grant only 有条件共享 elements"))
    return p


def _rules(c: Catalog) -> list[CatalogProblem]:
    p = []
    arity = Counter({"before": 2, "duration_days": 3})
    for r in c.rules:
        for e in r.elements:
            if e not in c.element:
                p.append(CatalogProblem("rules.csv", r.line, f"rule {r.rule_id}: unknown element {e!r}",
                                        "name an element of elements.csv"))
        if r.kind in arity and len(r.elements) != arity[r.kind]:
            p.append(CatalogProblem("rules.csv", r.line, f"rule {r.rule_id}: {r.kind} takes {arity[r.kind]} "
                                    f"elements, got {len(r.elements)}", "list the elements in the rule's order"))
        if r.kind == "sum_equals" and len(r.elements) < 3:
            p.append(CatalogProblem("rules.csv", r.line, f"rule {r.rule_id}: sum_equals needs a total and at "
                                    "least two parts", "list the total first, then the parts"))
    return p
