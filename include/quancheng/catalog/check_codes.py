"""Catalog checks of code lists, crosswalks, units, materials, grants, approval items and cross-field rules
(see check.py)."""

from __future__ import annotations

import re

from quancheng.catalog.check_refs import Unknown, dupes
from quancheng.catalog.loader import DEFAULT_CATALOG, Catalog
from quancheng.errors import CatalogProblem
from quancheng.registry import CROSS_RULES

# the case record's item code: a form holding it records cases of many items, each row naming its own
ITEM_CODE_KEY = "service_item_code"
VERSION = re.compile(r"^V\d+\.\d+$")
# a file a code list's ``source`` cites: a relative path with a folder (reference/form_fields.csv)
SOURCE_FILE = re.compile(r"(?<![\w/.])((?:[\w.-]+/)+[\w.-]+\.(?:csv|md|json|txt))\b")


def source_files(c: Catalog, source: str) -> list[tuple[str, bool]]:
    """Each file ``source`` cites and whether it exists: relative to the catalog folder, the two folders
    above it (a repository's ``include/catalog``) or the project the package comes from."""
    bases = [c.root, c.root.parent, c.root.parent.parent, DEFAULT_CATALOG.parent.parent]
    return [(f, any((b / f).is_file() for b in bases)) for f in SOURCE_FILE.findall(source)]


def check_codes(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    for cl in c.code_lists:
        if cl.version[:1] == "V" and not VERSION.match(cl.version):
            p.append(CatalogProblem("code_lists.csv", cl.line, f"code list {cl.code_list_id!r}: version "
                                    f"{cl.version!r} does not follow V<major>.<minor>",
                                    "write e.g. V1.0 (standards keep their year, e.g. 2017)"))
        for f, exists in source_files(c, cl.source):
            if not exists:
                p.append(CatalogProblem("code_lists.csv", cl.line, f"code list {cl.code_list_id!r}: source file "
                                        f"{f!r} not found", "cite the file by its path in the repository "
                                        "(reference/<file>), or the standard the codes come from"))
    known = {(x.code_list_id, x.code) for x in c.codes}
    for cl_id, codes in c.codes_by_list.items():
        rel = f"codes/{cl_id}.csv"
        p += dupes(codes, lambda x: (x.code, x.valid_from), rel, "code (with its valid_from)")
        for code in codes:
            for what, ref in (("parent", code.parent), ("successor", code.successor)):
                if ref and (cl_id, ref) not in known:
                    p.append(CatalogProblem(rel, code.line, f"code {code.code!r}: {what} {ref!r} is not a code of "
                                            f"{cl_id!r}", f"add {ref} to {rel} or correct the {what}"))
    p += dupes(c.crosswalks, lambda x: (x.crosswalk_id, x.native_value), "crosswalks.csv", "native value")
    for x in c.crosswalks:
        where = f"crosswalk {x.crosswalk_id} {x.native_value!r}"
        if x.system_id not in c.system:
            p.append(Unknown("system", x.system_id, "crosswalks.csv", x.line,
                             f"{where}: unknown system {x.system_id!r}", "name a system of systems.csv"))
        if x.code_list_id not in c.code_list:
            p.append(Unknown("code list", x.code_list_id, "crosswalks.csv", x.line,
                             f"{where}: unknown code list {x.code_list_id!r}", "add it to code_lists.csv"))
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


def check_materials(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    for m in c.materials:
        where = f"material {m.material_id}"
        if m.form_id not in c.form:
            p.append(Unknown("form", m.form_id, "materials.csv", m.line, f"{where}: unknown form {m.form_id!r}",
                             "name a form of forms.csv"))
        elif c.form[m.form_id].form_kind == "data":  # an applicant submits materials with an application form
            p.append(CatalogProblem("materials.csv", m.line, f"{where}: asked by {m.form_id!r}, a data table "
                                    "(form_kind data), not an application form",
                                    "name the application form that asks for it, or set the form's form_kind "
                                    "to application"))
        if m.issuer_system and m.issuer_system not in c.system:
            p.append(Unknown("system", m.issuer_system, "materials.csv", m.line,
                             f"{where}: unknown issuer_system {m.issuer_system!r}",
                             "name a system of systems.csv or leave it empty for outside issuers"))
        if m.issuer_system and m.kind != "issued":
            p.append(CatalogProblem("materials.csv", m.line, f"{where}: issuer_system set on a {m.kind!r} material",
                                    "only issued documents have an issuer"))
        for e in m.elements:
            if e not in c.element:
                p.append(Unknown("element", e, "materials.csv", m.line, f"{where}: unknown element {e!r}",
                                 "name an element of elements.csv"))
    for g in c.grants:
        if g.system_id not in c.system:
            p.append(Unknown("system", g.system_id, "grants.csv", g.line, f"grant to {g.department_en!r}: "
                             f"unknown system {g.system_id!r}", "name a system of systems.csv"))
        for e in g.elements:
            if e not in c.element:
                p.append(Unknown("element", e, "grants.csv", g.line, f"grant to {g.department_en!r}: unknown "
                                 f"element {e!r}", "name an element of elements.csv"))
            elif c.element[e].share_type != "conditional":
                p.append(CatalogProblem("grants.csv", g.line, f"grant to {g.department_en!r}: element {e} is "
                                        f"{c.element[e].share_type!r}, not conditional",
                                        "grant only 有条件共享 elements"))
    return p


def check_rules(c: Catalog) -> list[CatalogProblem]:
    p: list[CatalogProblem] = []
    for r in c.rules:
        for e in r.elements:
            if e not in c.element:
                p.append(Unknown("element", e, "rules.csv", r.line, f"rule {r.rule_id}: unknown element {e!r}",
                                 "name an element of elements.csv"))
        p += CROSS_RULES.get(r.kind).fits(r)  # whether the rule lists what its kind needs
    return p


def check_items(c: Catalog) -> list[CatalogProblem]:
    """Approval items name a form once each, and every form that records case fields names its item (or
    carries it: the one-window system records cases of every item, with the item code in each row)."""
    p = dupes(c.service_items, lambda r: r.item_id, "service_items.csv", "item_id")
    p += dupes(c.service_items, lambda r: r.form_id, "service_items.csv", "form (one approval item per form)")
    for i in c.service_items:
        if i.form_id not in c.form:
            p.append(Unknown("form", i.form_id, "service_items.csv", i.line,
                             f"item {i.item_id}: unknown form {i.form_id!r}", "name a form of forms.csv"))
    office = {e.element_id for e in c.elements if e.filled_by == "office"}
    named = {i.form_id for i in c.service_items}
    for f in c.forms:
        fed = [m for m in c.mappings_of(f.form_id) if m.element_id in office]
        carries_item = any(c.element[m.element_id].key == ITEM_CODE_KEY for m in fed)
        if fed and f.form_id not in named and not carries_item:
            p.append(CatalogProblem("mappings.csv", fed[0].line,
                                    f"form {f.form_id!r} records case fields ({', '.join(m.column for m in fed[:3])}"
                                    f" map to elements filled by the office) but names no approval item",
                                    f"add a row item_id,name_zh,name_en,{f.form_id} to service_items.csv"))
    return p
