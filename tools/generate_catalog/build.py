"""Assemble the catalog from the content modules: ids, fields, mappings, materials, and the CSV rows.

Everything is deterministic: ids follow the order of the content modules, names follow each
system's style, and the same input always writes byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import takewhile

from tools.generate_catalog import codes, entities, project, reviews
from tools.generate_catalog.extras import EXTRA, ITEM_POOL
from tools.generate_catalog.form_materials import MATERIALS_EXTRA
from tools.generate_catalog.forms_s1 import FORMS as F1
from tools.generate_catalog.forms_s2 import FORMS as F2
from tools.generate_catalog.forms_s3 import FORMS as F3
from tools.generate_catalog.forms_s4 import FORMS as F4
from tools.generate_catalog.materials import MATERIALS
from tools.generate_catalog.naming import Namer
from tools.generate_catalog.parties import all_party_elements
from tools.generate_catalog.rules_grants import GRANTS, RULES
from tools.generate_catalog.spec import ALL, STAGES, ElementSpec, F, FormSpec, SystemSpec
from tools.generate_catalog.systems import SYSTEM, SYSTEMS
from tools.generate_catalog.units import CHINESE_SPELLING, DIMENSION, UNITS

FORMS: list[FormSpec] = F1 + F2 + F3 + F4

# ids the slice catalog (tests/fixtures/slice_catalog) already gave out: stable, never reused
SLICE_IDS = {
    "project_code": 1, "project_name": 2, "construction_nature": 3, "construction_site_division": 4,
    "total_investment": 5, "total_land_area": 6, "planned_start_date": 7, "construction_unit_name": 8,
    "construction_unit_uscc": 9, "construction_permit_no": 10, "contract_price": 11, "building_area": 12,
    "above_ground_area": 13, "underground_area": 14, "permit_issue_date": 15, "structure_type": 16,
    "enterprise_uscc": 20, "enterprise_name": 21, "legal_representative": 22, "registered_capital": 23,
    "establishment_date": 24, "registered_division": 25, "source_updated_at": 99,
}
S1, S2, S3, S4 = STAGES
# what each stage form cannot be accepted without, besides the ids the element modules mark themselves
REQUIRED_PARTY = {
    "construction_unit_name": ALL, "construction_unit_uscc": ALL, "site_address": ALL,
    "construction_unit_legal_rep": (S1, S3), "construction_unit_contact_phone": ALL,
    "project_type": (S1,), "construction_nature": (S1, S3), "total_investment": (S1,), "total_land_area": (S1,),
    "land_use_nature": (S1,), "land_area": (S1, S2), "construction_scale_content": (S1,),
    "planned_start_date": (S1,), "planned_completion_date": (S1,),
    "building_area": (S2, S3, S4), "above_ground_area": (S2,), "underground_area": (S2,),
    "floors_above": (S2, S3), "building_count": (S2, S4), "design_unit_name": (S2, S3), "design_unit_uscc": (S2,),
    "survey_unit_name": (S2, S3), "contract_price": (S3,), "contract_start_date": (S3,),
    "contract_completion_date": (S3,), "contractor_name": (S3, S4), "contractor_uscc": (S3,),
    "supervision_unit_name": (S3, S4), "project_manager_name": (S3,), "chief_supervisor_name": (S3,),
    "structure_type": (S3, S4), "actual_completion_date": (S4,), "acceptance_result": (S4,),
    "filed_floor_area": (S4,),
}
# the system that is authoritative for an object class (wins stage-form conflicts) when it feeds the element;
# otherwise the system of the earliest form that feeds it. Each system's own timestamp has no authority.
OBJECT_AUTHORITY = {
    "建设项目": "ndrc_investment", "选址意见书": "nrp_site_planning", "建设用地规划许可证": "nrp_site_planning",
    "规划条件": "nrp_site_planning", "用地预审": "nrp_land_supply", "建设用地批准书": "nrp_land_supply",
    "土地出让合同": "nrp_land_supply", "建设用地": "nrp_land_supply",
    "建设工程规划许可证": "nrp_building_planning", "设计方案审查": "nrp_building_planning",
    "规划核实": "nrp_building_planning", "市政工程": "nrp_building_planning", "临时建设工程": "nrp_building_planning",
    "建设工程": "nrp_building_planning", "单体建筑": "nrp_building_planning",
    "施工许可证": "hcb_construction_permit", "施工合同": "hcb_construction_permit",
    "质量安全监督": "hcb_quality_safety", "施工图审查": "hcb_drawing_review", "消防设计审查验收": "hcb_fire_review",
    "人防工程": "cda_civil_defense", "防雷装置": "met_lightning", "环境影响评价": "eeb_eia", "水务审批": "wrb_water",
    "排水许可": "cmb_drainage", "城市绿化": "glb_greening", "城市道路挖掘占用": "cmb_road_works",
    "涉路涉航审批": "tb_road_waterway", "安全设施审查": "emb_safety_review", "使用林地": "fb_forest_land",
    "文物保护": "ctb_heritage", "财政投资评审": "fin_cost_review", "工程招投标": "prtc_bidding",
    "法人": "amr_enterprise", "企业变更": "amr_enterprise", "纳税人": "tax_credit", "农民工工资": "hrss_wage",
    "供水接入": "water_supply", "供电接入": "power_supply", "燃气接入": "gas_supply", "供热接入": "heat_supply",
    "通信接入": "telecom_access", "竣工验收": "hcb_completion", "测绘成果": "nrp_surveying",
    "不动产": "nrp_real_estate", "政务服务办件": "asb_one_window", "地名": "cab_place_names",
    "施工总承包单位": "hcb_market", "注册建造师": "hcb_market",
}
NO_AUTHORITY = {"source_updated_at"}
# data held only by utility companies is registered as candidate until a government owner adopts it
UTILITY_COMPANIES = {"water_supply", "power_supply", "gas_supply", "heat_supply", "telecom_access"}
UPDATED_COLUMN = {"upper_initials": "GXSJ", "lower_initials": "gxsj", "snake": "updated_at",
                  "snake_abbrev": "updated_at", "camel": "updateTime"}
STAGE_NAMES = [(S1, 1, "立项用地规划许可", "Project approval and land-use planning permit"),
               (S2, 2, "工程建设许可", "Engineering construction permit"),
               (S3, 3, "施工许可", "Construction permit"),
               (S4, 4, "竣工验收", "Completion acceptance")]


def element_pool() -> dict[str, ElementSpec]:
    pool: dict[str, ElementSpec] = {}
    for el in (project.PROJECT + project.LAND + project.PLANNING + project.BUILDING + project.CONSTRUCTION
               + reviews.ALL_REVIEWS + entities.ALL_ENTITIES + list(all_party_elements().values())
               + list(ITEM_POOL.values()) + project.RECORD):
        if el.key in pool:
            raise ValueError(f"element key {el.key!r} defined twice")
        pool[el.key] = el
    return pool


@dataclass
class Built:
    """The catalog as rows per file (header order = the models' field order)."""

    files: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    codes: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def _field_unit(f: F, el: ElementSpec, system: SystemSpec, form: FormSpec) -> str:
    if f.unit:
        return f.unit
    dim = DIMENSION.get(el.unit, "")
    if dim == "money":
        return form.money_unit or system.money_unit
    if dim == "area":
        return form.area_unit or system.area_unit
    if system.style == "label":
        return CHINESE_SPELLING.get(el.unit, el.unit)
    return el.unit


def _native_type(f: F, els: list[ElementSpec], system: SystemSpec) -> str:
    if f.native_type:
        return f.native_type
    if f.transform in ("split", "date_range", "concat") or system.kind == "csv":
        return "text"
    dt = els[0].data_type
    if dt in ("date", "datetime") and (not system.typed_dates or system.kind == "http"):
        return "datetime" if dt == "datetime" and system.kind != "http" else "text"
    if dt == "boolean" and system.kind == "excel":
        return "text"
    return {"string": "text"}.get(dt, dt)


def _transform(el: ElementSpec, field_unit: str) -> str:
    if el.identifier_kind:
        return "identifier"
    if el.code_list:
        return "code"
    if el.data_type == "decimal" and field_unit:
        return "quantity"
    if el.data_type == "date":
        return "date"
    if el.data_type == "string":
        return "text"
    return "copy"


def build() -> Built:
    pool = element_pool()
    crosswalk_lists = {xw: cl for xw, (_, cl, _) in codes.CROSSWALKS.items()}
    fields: list[dict[str, object]] = []
    mappings: list[dict[str, object]] = []
    forms: list[dict[str, object]] = []
    labels: dict[str, list[str]] = {}  # element key -> names seen in forms
    feeders: dict[str, list[tuple[str, str]]] = {}  # element key -> [(stage, system)]
    form_ids: set[str] = set()
    seen_pairs: set[tuple[str, str]] = set()  # (form, element): one field per element and form
    for form in sorted(FORMS, key=lambda fm: STAGES.index(fm.stage)):
        if form.form_id in form_ids:
            raise ValueError(f"form id {form.form_id!r} used twice")
        form_ids.add(form.form_id)
        system = SYSTEM[form.system_id]
        namer = Namer(system.style, _pinyin())
        items: list[F] = [x if isinstance(x, F) else F((x,)) for x in [*form.fields, *EXTRA.get(form.form_id, [])]]
        if system.incremental:
            items.append(F(("source_updated_at",), label="更新时间", column=UPDATED_COLUMN[system.style]))
        key_columns: dict[str, str] = {}
        for f in items:
            els = [pool[k] if k in pool else _unknown(k, form) for k in f.elements]
            first = els[0] if els else None
            label = f.label or (first.name_zh if first else "")
            en = f.en or _english(f, els)
            if f.transform == "concat" and first:
                en = f"{first.key}_{f.en}" if system.style not in ("upper_initials", "lower_initials") else en
            column = namer.name(label, en) if not f.column else _claim(namer, f.column)
            unit = ""
            if f.transform not in ("date_range", "concat") and first and first.data_type == "decimal" and first.unit:
                unit = "" if f.part_units else _field_unit(f, first, system, form)
            code_list = f.code_list
            if not code_list and first and first.code_list and f.transform != "date_range":
                code_list = codes.SYSTEM_CROSSWALK.get((system.system_id, first.code_list), first.code_list)
            shown = label + (f"({unit})" if unit and "(" not in label and "（" not in label else "")
            fields.append({"form_id": form.form_id, "column": column, "label_zh": shown,
                           "native_type": _native_type(f, els, system) if els else f.native_type or "text",
                           "unit": unit, "code_list": code_list, "packed_sep": f.sep,
                           "excluded_reason": f.excluded})
            if f.excluded:
                key_columns.setdefault(f.en, column)
                continue
            for i, el in enumerate(els):
                if f.transform != "concat" and (form.form_id, el.key) in seen_pairs:
                    raise ValueError(f"form {form.form_id}: element {el.key} fed by two fields")
                seen_pairs.add((form.form_id, el.key))
                if f.transform:
                    transform, part = f.transform, f.parts[i] if f.parts else 0
                else:
                    transform, part = _transform(el, unit), 0
                if transform == "code" and code_list in crosswalk_lists and crosswalk_lists[code_list] != el.code_list:
                    raise ValueError(f"{form.form_id}.{column}: crosswalk {code_list} is not for {el.code_list}")
                mapping_unit = f.part_units[i] if f.part_units else ""
                mappings.append({"form_id": form.form_id, "column": column, "element_id": el.key,
                                 "transform": transform, "part": part, "unit": mapping_unit})
                key_columns.setdefault(el.key, column)
                labels.setdefault(el.key, [])
                for name in (label if f.transform != "concat" else "", column):
                    if name and name != el.name_zh and name not in labels[el.key]:
                        labels[el.key].append(name)
                feeders.setdefault(el.key, []).append((form.stage, system.system_id))
        pk = []
        for k in form.primary_key:
            if k not in key_columns:
                raise ValueError(f"form {form.form_id}: primary key {k!r} is not one of its fields")
            pk.append(key_columns[k])
        forms.append({"form_id": form.form_id, "system_id": form.system_id, "name_zh": form.name_zh,
                      "name_en": form.name_en, "table": form.table, "stage_id": form.stage,
                      "primary_key": "|".join(pk),
                      "updated_column": UPDATED_COLUMN[system.style] if system.incremental else ""})
    ids = _assign_ids(pool, feeders)
    for m in mappings:
        m["element_id"] = ids[str(m["element_id"])]
    out = Built()
    out.files["stages.csv"] = [{"stage_id": s, "order": o, "name_zh": zh, "name_en": en}
                               for s, o, zh, en in STAGE_NAMES]
    out.files["systems.csv"] = [_system_row(s, forms) for s in SYSTEMS]
    out.files["forms.csv"] = forms
    out.files["fields.csv"] = fields
    out.files["mappings.csv"] = mappings
    cl_rows = codes.code_lists()
    versions = {str(c["code_list_id"]): str(c["version"]) for c in cl_rows}
    formats = {str(c["code_list_id"]): _code_format(c["codes"]) for c in cl_rows}  # type: ignore[arg-type]
    out.files["elements.csv"] = [_element_row(pool[k], ids[k], labels.get(k, []), feeders[k], versions, formats)
                                 for k in sorted(ids, key=lambda k: ids[k])]
    out.files["code_lists.csv"] = [{k: v for k, v in c.items() if k != "codes"} for c in cl_rows]
    out.codes = {str(c["code_list_id"]): c["codes"] for c in cl_rows}  # type: ignore[misc]
    out.files["crosswalks.csv"] = [{"crosswalk_id": xw, "system_id": s, "code_list_id": cl, "native_value": n,
                                    "code": c} for xw, (s, cl, pairs) in codes.CROSSWALKS.items() for n, c in pairs]
    out.files["units.csv"] = [{"unit": u, "dimension": d, "canonical": c, "factor_num": n, "factor_den": den}
                              for u, d, c, n, den in UNITS]
    out.files["materials.csv"] = _materials(ids)
    out.files["rules.csv"] = [{"rule_id": f"R{i:03d}", "kind": kind, "elements": "|".join(_ids(ids, ks)),
                               "tolerance": tol, "message_zh": msg}
                              for i, (kind, ks, tol, msg) in enumerate(RULES, 1)]
    out.files["grants.csv"] = [{"department_en": d, "system_id": s, "elements": "|".join(_ids(ids, ks))}
                               for d, s, ks in GRANTS]
    return out


def _english(f: F, els: list[ElementSpec]) -> str:
    """English name of a field for snake/camel styles: the element key, or for a packed or ranged cell
    the keys it holds (``floors_above_floors_below``) or their common stem (``contract_period``)."""
    if not els:
        return ""
    if f.transform == "date_range" and len(els) > 1:
        words = [e.key.split("_") for e in els]
        same = takewhile(lambda ws: len(set(ws)) == 1, zip(*words, strict=False))
        stem = "_".join(ws[0] for ws in same)
        return f"{stem}_period" if stem else f"{els[0].key}_period"
    if f.transform == "split" and len(els) > 1:
        joined = "_".join(e.key for e in els)
        return joined if len(joined) <= 48 else f"{els[0].key}_packed"
    return els[0].key


def _unknown(key: str, form: FormSpec) -> ElementSpec:
    raise KeyError(f"form {form.form_id}: unknown element key {key!r}")


def _claim(namer: Namer, column: str) -> str:
    if column.lower() in namer.taken:
        raise ValueError(f"column {column!r} given twice")
    namer.taken.add(column.lower())
    return column


_PINYIN: dict[str, str] = {}


def _pinyin() -> dict[str, str]:
    from tools.generate_catalog.naming import load_pinyin
    if not _PINYIN:
        _PINYIN.update(load_pinyin())
    return _PINYIN


def _assign_ids(pool: dict[str, ElementSpec], feeders: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    used = [k for k in pool if k in feeders]
    taken = set(SLICE_IDS.values())
    ids = {k: f"DE{n:05d}" for k, n in SLICE_IDS.items() if k in feeders}
    n = 1
    for k in used:
        if k in ids:
            continue
        while n in taken:
            n += 1
        ids[k] = f"DE{n:05d}"
        taken.add(n)
    return ids


def _ids(ids: dict[str, str], keys: tuple[str, ...]) -> list[str]:
    missing = [k for k in keys if k not in ids]
    if missing:
        raise KeyError(f"elements {missing} are fed by no form")
    return [ids[k] for k in keys]


def _system_row(s: SystemSpec, forms: list[dict[str, object]]) -> dict[str, object]:
    stages = sorted({str(f["stage_id"]) for f in forms if f["system_id"] == s.system_id}, key=STAGES.index)
    return {"system_id": s.system_id, "name_zh": s.name_zh, "name_en": s.name_en, "department_zh": s.department_zh,
            "department_en": s.department_en, "holds": s.holds, "stages": "|".join(stages), "kind": s.kind,
            "conn_id": f"qc_{s.system_id}", "schedule": s.schedule,
            "extract_mode": "incremental" if s.incremental else "snapshot", "freshness_hours": s.freshness_hours,
            "quarantine_threshold": s.quarantine_threshold, "reference_id": s.reference_id}


def _element_row(el: ElementSpec, element_id: str, seen: list[str], feeders: list[tuple[str, str]],
                 versions: dict[str, str], formats: dict[str, tuple[str, int]]) -> dict[str, object]:
    stages = {s for s, _ in feeders}
    required = tuple(s for s in STAGES if s in (*el.required, *REQUIRED_PARTY.get(el.key, ())) and s in stages)
    systems = {sys for _, sys in feeders}
    authority = el.authority or (OBJECT_AUTHORITY.get(el.object_class, "") if OBJECT_AUTHORITY.get(
        el.object_class, "") in systems else sorted(feeders, key=lambda f: STAGES.index(f[0]))[0][1])
    if el.key in NO_AUTHORITY:
        authority = ""
    if el.authority and el.authority not in {sys for _, sys in feeders}:
        raise ValueError(f"element {el.key}: authority {el.authority} does not feed it")
    synonyms = [*el.synonyms, *(s for s in seen if s not in el.synonyms and s != el.key)]
    share = el.share_type or ("conditional" if el.pi_class != "none" else "unconditional")
    definition = el.definition or f"{el.object_class}的{el.prop}"
    fmt, max_length = el.fmt, el.max_length
    if el.code_list and not fmt:
        fmt, max_length = formats[el.code_list]
    return {"element_id": element_id, "key": el.key, "name_zh": el.name_zh, "name_en": el.name_en,
            "definition": definition, "object_class": el.object_class, "property": el.prop,
            "representation_term": el.rep, "data_type": el.data_type, "format": fmt,
            "max_length": max_length if max_length is not None else "", "unit": el.unit,
            "code_list": el.code_list, "code_list_version": versions.get(el.code_list, "") if el.code_list else "",
            "identifier_kind": el.identifier_kind or "",
            "min_value": _num(el.min_value), "max_value": _num(el.max_value), "version": el.version,
            "status": "candidate" if systems <= UTILITY_COMPANIES else "standard", "pi_class": el.pi_class,
            "share_type": share,
            "synonyms": "|".join(s.replace("|", "/") for s in synonyms), "required_in": "|".join(required),
            "authority_system": authority}


def _code_format(rows: list[dict[str, str]]) -> tuple[str, int]:
    """GB/T 19488-style format of a code list's codes: n6 when all are 6 digits, else an..N."""
    lengths = {len(r["code"]) for r in rows}
    if len(lengths) == 1 and all(r["code"].isdigit() for r in rows):
        return f"n{lengths.pop()}", max(len(r["code"]) for r in rows)
    longest = max(len(r["code"]) for r in rows)
    return f"an..{longest}", longest


def _num(v: float | None) -> object:
    if v is None:
        return ""
    return int(v) if float(v).is_integer() else v


def _materials(ids: dict[str, str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for form in sorted(FORMS, key=lambda fm: STAGES.index(fm.stage)):
        for key in [*form.materials, *MATERIALS_EXTRA.get(form.form_id, [])]:
            if key not in MATERIALS:
                raise KeyError(f"form {form.form_id}: unknown material {key!r}")
            m = MATERIALS[key]
            rows.append({"material_id": f"M{len(rows) + 1:04d}", "material_key": key, "name_zh": m.name_zh,
                         "kind": m.kind, "form_id": form.form_id, "issuer_system": m.issuer,
                         "elements": "|".join(_ids(ids, m.elements))})
    return rows


