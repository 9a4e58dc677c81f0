"""Cross-file consistency of the catalog: every problem named by file and line, with the fix.

``check(catalog)`` returns a list of :class:`CatalogProblem`; empty means clean. It verifies that
ids and native names are safe (:mod:`quancheng.catalog.check_names`), every reference resolves, ids
are unique, every source field is mapped or excluded (not both) and feeds an element at most once per
form, transforms fit their field and element (each transform's own ``fits``, see
:mod:`quancheng.normalize.transforms`), a system's stages are its forms' stages and its schedule
is one Airflow can run, code lists' parents and successors exist, units are known and versions follow
``V<major>.<minor>``.

One broken reference gives one problem (see :mod:`quancheng.catalog.check_refs`); code lists, materials,
grants, approval items and rules are checked in :mod:`quancheng.catalog.check_codes`.
"""

from __future__ import annotations

import re

from quancheng.catalog.check_codes import check_codes, check_items, check_materials, check_rules
from quancheng.catalog.check_names import check_names
from quancheng.catalog.check_refs import Orphan, Unknown, dupes, fold
from quancheng.catalog.loader import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.errors import CatalogProblem
from quancheng.ops.schedule import PRESETS
from quancheng.registry import TRANSFORMS

VERSION = re.compile(r"^V\d+\.\d+$")
IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check(c: Catalog) -> list[CatalogProblem]:
    """Every problem of the catalog (empty when clean)."""
    p: list[CatalogProblem] = check_names(c)
    p += dupes(c.stages, lambda r: r.stage_id, "stages.csv", "stage_id")
    p += dupes(c.systems, lambda r: r.system_id, "systems.csv", "system_id")
    p += dupes(c.forms, lambda r: r.form_id, "forms.csv", "form_id")
    p += dupes(c.fields, lambda r: (r.form_id, r.column), "fields.csv", "column")
    p += dupes(c.mappings, lambda r: (r.form_id, r.column, r.element_id, r.part), "mappings.csv", "mapping")
    p += dupes(c.elements, lambda r: r.element_id, "elements.csv", "element_id")
    p += dupes(c.elements, lambda r: r.key, "elements.csv", "key")
    p += dupes(c.code_lists, lambda r: r.code_list_id, "code_lists.csv", "code_list_id")
    p += dupes(c.materials, lambda r: r.material_id, "materials.csv", "material_id")
    p += dupes(c.rules, lambda r: r.rule_id, "rules.csv", "rule_id")
    p += dupes(c.units, lambda r: r.unit, "units.csv", "unit")
    p += dupes(c.reform_figures, lambda r: r.figure, "reform_figures.csv", "figure")
    p += _systems_forms(c) + _fields(c) + _mappings(c) + _elements(c)
    p += check_codes(c) + check_materials(c) + check_rules(c) + check_items(c)
    return fold(p, c)


def _schedule_ok(schedule: str) -> bool:
    from croniter import croniter

    return schedule in PRESETS or bool(croniter.is_valid(schedule))


def _stages_of(c: Catalog, system_id: str) -> set[str]:
    return {f.stage_id for f in c.forms_of(system_id)}


def _systems_forms(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    for s in c.systems:
        for st in s.stages:
            if st not in c.stage:
                p.append(Unknown("stage", st, "systems.csv", s.line, f"system {s.system_id!r}: unknown stage {st!r}",
                                 f"use one of {sorted(c.stage)}"))
        if not _schedule_ok(s.schedule):  # a schedule Airflow rejects takes every sync DAG down with it
            p.append(CatalogProblem("systems.csv", s.line, f"system {s.system_id!r}: schedule {s.schedule!r} is "
                                    "neither a preset nor a valid cron expression",
                                    f"write a cron expression such as '0 2 * * *' or one of {', '.join(PRESETS)}"))
        if not c.forms_of(s.system_id):
            p.append(Orphan("system", s.system_id, "systems.csv", s.line, f"system {s.system_id!r} has no forms",
                            "add its forms to forms.csv (or remove the system)"))
            continue
        listed, actual = set(s.stages), {st for st in _stages_of(c, s.system_id) if st in c.stage}
        extra, missing = sorted((listed & set(c.stage)) - actual), sorted(actual - listed)
        if extra or missing:  # one problem per row, however many stages differ
            why = [f"lists {st!r} but none of its forms is in it" for st in extra]
            why += [f"does not list {st!r}, though a form of it is in it" for st in missing]
            in_order = "|".join(sorted(actual, key=lambda st: c.stage[st].order))
            p.append(CatalogProblem("systems.csv", s.line, f"system {s.system_id!r}: stages " + "; ".join(why),
                                    f"write stages as its forms' stages: {in_order}"))
    for f in c.forms:
        if f.system_id not in c.system:
            p.append(Unknown("system", f.system_id, "forms.csv", f.line,
                             f"form {f.form_id!r}: unknown system {f.system_id!r}",
                             "add the system to systems.csv or fix the system_id"))
        if f.stage_id not in c.stage:
            p.append(Unknown("stage", f.stage_id, "forms.csv", f.line,
                             f"form {f.form_id!r}: unknown stage {f.stage_id!r}", f"use one of {sorted(c.stage)}"))
        cols = {x.column for x in c.fields_of(f.form_id)}
        if not cols:
            p.append(Orphan("form", f.form_id, "forms.csv", f.line, f"form {f.form_id!r} has no fields",
                            "list its columns in fields.csv"))
            continue
        for k in [*f.primary_key, *([f.updated_column] if f.updated_column else [])]:
            if k not in cols:
                p.append(CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: column {k!r} is not a field "
                                        "of the form", "list it in fields.csv or fix primary_key/updated_column"))
        p += _soft_delete(c, f, cols)
    return p


def _soft_delete(c: Catalog, f: SourceForm, cols: set[str]) -> list[CatalogProblem]:
    """A soft_delete system names, on every form with an update column, the column and values marking a delete."""
    system = c.system.get(f.system_id)
    if f.deleted_column and f.deleted_column not in cols:
        return [CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: deleted_column {f.deleted_column!r} is "
                               "not a field of the form", "list it in fields.csv or fix deleted_column")]
    if f.deleted_column and not f.deleted_values:
        return [CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: deleted_column {f.deleted_column!r} "
                               "without deleted_values", "give the values that mark a deleted row, e.g. 1|true")]
    if system and system.delete_detection == "soft_delete" and f.updated_column and not f.deleted_column:
        return [CatalogProblem("forms.csv", f.line, f"form {f.form_id!r}: system {f.system_id!r} detects deletes "
                               "by soft_delete but the form names no deleted_column",
                               "set deleted_column and deleted_values, or use delete_detection reconcile")]
    return []


def _fields(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    mapped = {(m.form_id, m.column) for m in c.mappings}
    xw_system = {x.crosswalk_id: x.system_id for x in c.crosswalks}
    for f in c.fields:
        where = f"field {f.form_id}.{f.column}"
        if f.form_id not in c.form:
            p.append(Unknown("form", f.form_id, "fields.csv", f.line, f"{where}: unknown form {f.form_id!r}",
                             "add the form to forms.csv or fix form_id"))
        is_mapped = (f.form_id, f.column) in mapped
        if f.excluded_reason and is_mapped:
            p.append(CatalogProblem("fields.csv", f.line, f"{where} is both mapped and excluded",
                                    "remove its mappings or clear excluded_reason"))
        if not f.excluded_reason and not is_mapped:
            p.append(CatalogProblem("fields.csv", f.line, f"{where} is neither mapped nor excluded",
                                    "map it in mappings.csv or give excluded_reason (why it carries no element)"))
        if f.unit and f.unit not in c.unit:
            p.append(Unknown("unit", f.unit, "fields.csv", f.line, f"{where}: unknown unit {f.unit!r}",
                             "add the spelling to units.csv"))
        if f.code_list and f.code_list not in c.code_list and f.code_list not in c.crosswalk:
            p.append(Unknown("code list", f.code_list, "fields.csv", f.line, f"{where}: unknown code list or "
                             f"crosswalk {f.code_list!r}", "add it to code_lists.csv or crosswalks.csv"))
        elif (f.code_list in xw_system and f.form_id in c.form and c.form[f.form_id].system_id in c.system
              and xw_system[f.code_list] != c.form[f.form_id].system_id):
            p.append(CatalogProblem("fields.csv", f.line, f"{where}: crosswalk {f.code_list!r} belongs to system "
                                    f"{xw_system[f.code_list]!r}, not {c.form[f.form_id].system_id!r}",
                                    "give the field its own system's crosswalk"))
    return p


def _mappings(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    fields = {(f.form_id, f.column): f for f in c.fields}
    first_feed: dict[tuple[str, str], tuple[str, int]] = {}  # (form, element) -> (column, line)
    for m in c.mappings:
        where = f"mapping {m.form_id}.{m.column} -> {m.element_id}"
        f = fields.get((m.form_id, m.column))
        el = c.element.get(m.element_id)
        if f is None:
            p.append(Unknown("field", f"{m.form_id}.{m.column}", "mappings.csv", m.line, f"{where}: no such field",
                             "add the field to fields.csv or fix form_id/column"))
        if el is None:
            p.append(Unknown("element", m.element_id, "mappings.csv", m.line,
                             f"{where}: unknown element {m.element_id!r}",
                             "add the element to elements.csv or fix element_id"))
        column, line = first_feed.setdefault((m.form_id, m.element_id), (m.column, m.line))
        if column != m.column and TRANSFORMS.get(m.transform).fan != "join":
            p.append(CatalogProblem("mappings.csv", m.line, f"{where}: the form already feeds {m.element_id} "
                                    f"from column {column!r} (line {line})",
                                    "map one field per element and form (or join the fields with concat)"))
        if f is None or el is None:
            continue
        p += TRANSFORMS.get(m.transform).fits(c, m, f, el, where)  # whether the transform fits field and element
    return p


def restates_name(definition: str, name: str, object_class: str, prop: str) -> bool:
    """Whether a definition says no more than the element's name: empty, the property, or the name or the
    template "<对象类>的<特性>" with 的 (or 事项) put in (``项目经理的姓名`` for 项目经理姓名)."""
    d = definition.strip().rstrip("。.")
    bare = d.replace("的", "").replace("事项", "")
    return d in {"", prop} or bare in {name, object_class + prop}


def _elements(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    fed: dict[str, set[str]] = {}
    member: dict[str, set[str]] = {}  # element -> stages whose forms feed it (its stage-form membership)
    mapped = {m.element_id for m in c.mappings}
    # elements fed through a form that does not resolve: which systems and stages feed them is unknown,
    # so the rules that need it stay quiet (the unknown form is reported once, where it is named)
    # (and an element no mapping feeds is reported once, as unfed, not again per feed-dependent rule)
    unsure = {m.element_id for m in c.mappings if m.form_id not in c.form} | {e.element_id for e in c.elements
                                                                              if e.element_id not in mapped}
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
            p.append(Unknown("unit", e.unit, "elements.csv", e.line, f"{where}: unknown unit {e.unit!r}",
                             "add the unit to units.csv"))
        if e.code_list and e.code_list not in c.code_list:
            p.append(Unknown("code list", e.code_list, "elements.csv", e.line,
                             f"{where}: unknown code list {e.code_list!r}",
                             "add it to code_lists.csv with its codes/<id>.csv"))
        if e.authority_system and e.authority_system not in c.system:
            p.append(Unknown("system", e.authority_system, "elements.csv", e.line, f"{where}: unknown "
                             f"authority_system {e.authority_system!r}", "name a system of systems.csv"))
        elif (e.authority_system and e.element_id not in unsure
              and e.authority_system not in fed.get(e.element_id, set())):
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: authority_system {e.authority_system!r} "
                                    "feeds no value of it", "name a system that maps the element"))
        for s in e.required_in:
            if s not in c.stage:
                p.append(Unknown("stage", s, "elements.csv", e.line,
                                 f"{where}: required_in names unknown stage {s!r}", f"use one of {sorted(c.stage)}"))
            elif e.element_id in member and e.element_id not in unsure and s not in member[e.element_id]:
                p.append(CatalogProblem("elements.csv", e.line, f"{where}: required in {s} but no form of that "
                                        "stage feeds it", "map it from a form of the stage or drop the stage"))
        if restates_name(e.definition, e.name_zh, e.object_class, e.property):
            p.append(CatalogProblem("elements.csv", e.line, f"{where}: definition {e.definition!r} only restates "
                                    "the name (<对象类>的<特性>)", "state what the value is, of what, in which unit "
                                    "or code list and who assigns it (GB/T 19488.1: a precise statement of meaning)"))
        if e.status != "retired" and e.element_id not in mapped:
            p.append(Orphan("element", e.element_id, "elements.csv", e.line,
                            f"{where} is active but no field maps to it",
                            "map a source field to it or set status to retired"))
    return p


