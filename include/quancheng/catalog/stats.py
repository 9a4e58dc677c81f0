"""The reform table computed from the catalog: systems, forms -> stage forms, fields -> elements, materials.

Materials after consolidation (``materials_after``) follow one rule, the "数据共享 免提交" rule:

1. Group the materials by (stage of the form that asks for it, ``material_key``): after the reform
   each stage form asks for a document once, so each group is one material.
2. A group is **waived** when its material is ``kind == "issued"``, has an ``issuer_system``, and
   every element it carries is mapped from some form of that issuer system (so the data reaches the
   exchange from the system that issues the document) and has ``share_type != "none"`` (so it may
   leave that system).
3. ``materials_after`` = the number of groups that are not waived.

So the reduction ``materials_before - materials_after`` has two parts, reported apart:
``materials_merged_in_stage`` (= ``materials_before`` - groups: the same document asked by several forms
of one stage, asked once) and ``materials_waived_by_sharing`` (= the waived groups: the data reaches the
exchange from the issuing system, so the applicant submits nothing).

``seed_figures`` puts each figure the reform published (``reform_figures.csv``, when the catalog has one)
beside the computed one, with the difference: the seed is what the catalog is compared with, never a
target the content is padded to meet.

``source_forms`` and ``source_fields`` count application forms only (``form_kind == "application"``): the
reform's "81 forms, 1964 fields" are the forms applicants filled and their fields. A data table a department
keeps (``form_kind == "data"``: a register, a rating, a result, one row per building or party of another form)
syncs and publishes like a form but is counted on its own (``data_tables``, ``data_table_fields``), overall,
per stage and per department.

``elements`` counts the distinct elements any mapping feeds (data tables' included) that the applicant
fills (``filled_by == "applicant"``): the reform's form elements. The case record's elements, which the
approving office fills while it processes an application (受理日期, 审批决定日期 ...), are counted apart as
``case_elements``, with ``case_items``, the approval items whose cases the forms record
(``service_items.csv``).
The registry's active elements must be exactly the fed ones (``quancheng catalog check`` says so when
they are not).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from quancheng.catalog.loader import Catalog
from quancheng.catalog.models import Material


def fed_by_system(catalog: Catalog) -> dict[str, set[str]]:
    """system_id -> element ids mapped from any of its forms."""
    out: dict[str, set[str]] = defaultdict(set)
    for m in catalog.mappings:
        form = catalog.form.get(m.form_id)
        if form is not None:
            out[form.system_id].add(m.element_id)
    return out


def is_waived(material: Material, catalog: Catalog, fed: dict[str, set[str]] | None = None) -> bool:
    """The 免提交 rule for one material (see the module docstring)."""
    if material.kind != "issued" or not material.issuer_system:
        return False
    fed = fed if fed is not None else fed_by_system(catalog)
    held = fed.get(material.issuer_system, set())
    return all(e in held and e in catalog.element and catalog.element[e].share_type != "none"
               for e in material.elements)


def material_groups(catalog: Catalog) -> dict[tuple[str, str], list[Material]]:
    """(stage_id, material_key) -> the materials asked for in that stage under that key."""
    groups: dict[tuple[str, str], list[Material]] = {}
    for m in catalog.materials:
        form = catalog.form.get(m.form_id)
        stage = form.stage_id if form else ""
        groups.setdefault((stage, m.material_key), []).append(m)
    return groups


def waived_groups(catalog: Catalog) -> dict[tuple[str, str], bool]:
    """Each (stage, material_key) group and whether it is waived (a group is waived when all its rows are)."""
    fed = fed_by_system(catalog)
    return {g: all(is_waived(m, catalog, fed) for m in rows) for g, rows in material_groups(catalog).items()}


def compute(catalog: Catalog) -> dict[str, Any]:
    """Every figure of the reform table, overall, per stage and per department."""
    fed = fed_by_system(catalog)
    applicant = {e.element_id for e in catalog.elements if e.filled_by == "applicant"}
    fed_ids = {m.element_id for m in catalog.mappings}
    elements = fed_ids & applicant
    waived = waived_groups(catalog)
    stage_of = {f.form_id: f.stage_id for f in catalog.forms}
    applied = {f.form_id for f in catalog.forms if f.form_kind == "application"}

    def fields(form_ids: set[str]) -> int:
        return sum(len(catalog.fields_of(f)) for f in form_ids)

    per_stage = {}
    for s in sorted(catalog.stages, key=lambda s: s.order):
        ids = {f.form_id for f in catalog.forms if f.stage_id == s.stage_id}
        mats = [m for m in catalog.materials if stage_of.get(m.form_id) == s.stage_id]
        groups = [g for g in waived if g[0] == s.stage_id]
        per_stage[s.stage_id] = {
            "name_zh": s.name_zh,
            "source_forms": len(ids & applied),
            "source_fields": fields(ids & applied),
            "data_tables": len(ids - applied),
            "data_table_fields": fields(ids - applied),
            "elements": len({m.element_id for m in catalog.mappings if m.form_id in ids} & applicant),
            "required_elements": sum(1 for e in catalog.elements if s.stage_id in e.required_in),
            "materials_before": len(mats),
            "materials_after": sum(1 for g in groups if not waived[g]),
            "materials_merged_in_stage": len(mats) - len(groups),
            "materials_waived_by_sharing": sum(1 for g in groups if waived[g]),
        }
    per_department: dict[str, dict[str, Any]] = {}
    for sy in catalog.systems:
        d = per_department.setdefault(sy.department_zh, {"department_en": sy.department_en, "systems": 0,
                                                          "source_forms": 0, "source_fields": 0, "data_tables": 0,
                                                          "elements": 0, "materials_asked": 0})
        own = {f.form_id for f in catalog.forms_of(sy.system_id)}
        d["systems"] += 1
        d["source_forms"] += len(own & applied)
        d["source_fields"] += fields(own & applied)
        d["data_tables"] += len(own - applied)
        d["elements"] += len(fed.get(sy.system_id, set()) & applicant)
        d["materials_asked"] += sum(1 for m in catalog.materials if m.form_id in own)
    before, after = len(catalog.materials), sum(1 for w in waived.values() if not w)
    out: dict[str, Any] = {
        "systems": len(catalog.systems),
        "systems_by_kind": dict(sorted(Counter(s.kind for s in catalog.systems).items())),
        "source_forms": len(applied),
        "stage_forms": len(catalog.stages),
        "source_fields": fields(applied),
        "data_tables": len(catalog.forms) - len(applied),
        "data_table_fields": fields({f.form_id for f in catalog.forms} - applied),
        "elements": len(elements),
        "case_elements": len(fed_ids - applicant),
        "case_items": len(catalog.service_items),
        "registry_elements": sum(1 for e in catalog.elements if e.status != "retired"),
        "materials_before": before,
        "materials_after": after,
        "materials_reduction_pct": round(100 * (after - before) / before) if before else 0,
        "materials_merged_in_stage": before - len(waived),
        "materials_waived_by_sharing": sum(1 for w in waived.values() if w),
        "per_stage": per_stage,
        "per_department": per_department,
    }
    out["seed_figures"] = {f.figure: {"seed": f.seed, "computed": out[f.figure], "difference": out[f.figure] - f.seed,
                                      "source": f.source, "explained_difference": f.departure,
                                      "explanation": f.departure_reason} for f in catalog.reform_figures}
    return out
