"""Party and person elements: the same attributes repeated for every role a form names.

Real approval forms ask the same questions of each party (建设、勘察、设计、施工、监理、代建 ...):
名称, 统一社会信用代码, 法定代表人, 联系人, 联系电话, 地址, 资质等级, 资质证书编号 ...
and of each responsible person (项目经理、总监理工程师、设计负责人 ...): 姓名, 身份证号码,
注册证书编号, 联系电话. ``party(role, *attrs)`` returns the element keys a form lists.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.generate_catalog.spec import (
    ElementSpec,
    code,
    date,
    docno,
    id_number,
    ident,
    name,
    person,
    phone,
    text,
)

# role key -> (Chinese role, English role)
ROLES: dict[str, tuple[str, str]] = {
    "construction_unit": ("建设单位", "Construction unit"),
    "agent_builder": ("代建单位", "Agent builder"),
    "survey_unit": ("勘察单位", "Geotechnical survey unit"),
    "design_unit": ("设计单位", "Design unit"),
    "contractor": ("施工总承包单位", "General contractor"),
    "supervision_unit": ("监理单位", "Supervision unit"),
    "drawing_review_org": ("施工图审查机构", "Drawing review agency"),
    "testing_agency": ("工程质量检测机构", "Quality testing agency"),
    "subcontractor": ("专业分包单位", "Specialist subcontractor"),
    "labour_subcontractor": ("劳务分包单位", "Labour subcontractor"),
    "bidding_agency": ("招标代理机构", "Tendering agency"),
    "cost_consultant": ("造价咨询单位", "Cost consultancy"),
    "mapping_unit": ("测绘单位", "Surveying and mapping unit"),
    "lightning_agency": ("防雷装置检测机构", "Lightning protection testing agency"),
    "eia_agency": ("环评文件编制单位", "EIA preparing agency"),
    "soil_plan_agency": ("水土保持方案编制单位", "Soil conservation plan agency"),
    "drainage_household": ("排水户", "Drainage household"),
    "applicant": ("申请人", "Applicant"),
    "right_holder": ("权利人", "Right holder"),
    "wage_bank": ("工资专户开户银行", "Wage account bank"),
}

Maker = Callable[[str, str, str, str], ElementSpec]


def _attr(suffix_zh: str, suffix_en: str, make: Callable[..., ElementSpec], *args: object,
          **kw: object) -> tuple[str, str, Callable[[str, str, str, str], ElementSpec]]:
    def build(key: str, zh: str, en: str, obj: str) -> ElementSpec:
        return make(key, zh, en, obj, *args, **kw)
    return suffix_zh, suffix_en, build


# attribute key -> (Chinese suffix, English suffix, element maker)
ATTRS: dict[str, tuple[str, str, Callable[[str, str, str, str], ElementSpec]]] = {
    "name": _attr("名称", "name", name, prop="名称"),
    "uscc": _attr("统一社会信用代码", "unified social credit code", ident, "uscc", 18,
                  prop="统一社会信用代码"),
    "org_code": _attr("组织机构代码", "organisation code", ident, "org_code", 10, False, prop="组织机构代码"),
    "legal_rep": _attr("法定代表人", "legal representative", person, prop="法定代表人"),
    "legal_rep_id_type": _attr("法定代表人证件类型", "legal representative ID type", code, "id_doc_type",
                               prop="法定代表人证件类型"),
    "legal_rep_id_no": _attr("法定代表人身份证号码", "legal representative ID number", id_number,
                             prop="法定代表人身份证号码"),
    "legal_rep_phone": _attr("法定代表人联系电话", "legal representative phone", phone,
                             prop="法定代表人联系电话"),
    "contact_name": _attr("联系人", "contact person", person, prop="联系人"),
    "contact_phone": _attr("联系电话", "contact phone", phone, prop="联系电话"),
    "contact_mobile": _attr("联系人手机", "contact mobile", phone, prop="联系人手机"),
    "address": _attr("地址", "address", text, 200, prop="地址"),
    "postcode": _attr("邮政编码", "postcode", docno, 6, prop="邮政编码"),
    "email": _attr("电子邮箱", "email", text, 100, prop="电子邮箱"),
    "fax": _attr("传真", "fax", text, 20, prop="传真"),
    "unit_nature": _attr("性质", "ownership type", code, "ownership_type", prop="单位性质"),
    "legal_entity_type": _attr("法人类型", "legal entity type", code, "legal_entity_type", prop="法人类型"),
    "project_lead": _attr("项目负责人", "project lead", person, prop="项目负责人"),
    "project_lead_id_no": _attr("项目负责人身份证号码", "project lead ID number", id_number,
                                prop="项目负责人身份证号码"),
    "project_lead_phone": _attr("项目负责人联系电话", "project lead phone", phone, prop="项目负责人联系电话"),
    "qualification_category": _attr("资质类别", "qualification category", text, 100, prop="资质类别"),
    "qualification_grade": _attr("资质等级", "qualification grade", code, "qualification_grade",
                                 prop="资质等级"),
    "qualification_cert_no": _attr("资质证书编号", "qualification certificate number", docno, 30,
                                   prop="资质证书编号"),
    "qualification_valid_to": _attr("资质证书有效期至", "qualification valid until", date,
                                    prop="资质证书有效期"),
    "safety_license_no": _attr("安全生产许可证编号", "safety production licence number", docno, 40,
                               prop="安全生产许可证编号"),
    "safety_license_valid_to": _attr("安全生产许可证有效期至", "safety licence valid until", date,
                                     prop="安全生产许可证有效期"),
    "registration_region": _attr("企业注册所在地", "registration region", code, "registration_region",
                                 prop="注册所在地"),
    "bank_name": _attr("开户银行", "bank", name, 100, prop="开户银行"),
    "bank_account": _attr("银行账号", "bank account", text, 40, prop="银行账号", share_type="none"),
    "id_doc_type": _attr("证件类型", "ID document type", code, "id_doc_type", prop="证件类型"),
    "id_no": _attr("证件号码", "ID document number", ident, "license_no", 30, False, prop="证件号码"),
}


# person role -> (Chinese, English, object class)
PERSONS: dict[str, tuple[str, str, str]] = {
    "project_manager": ("项目经理", "Project manager", "注册建造师"),
    "chief_supervisor": ("总监理工程师", "Chief supervising engineer", "注册监理工程师"),
    "design_lead": ("设计负责人", "Design lead", "设计人员"),
    "survey_lead": ("勘察负责人", "Survey lead", "勘察人员"),
    "registered_architect": ("注册建筑师", "Registered architect", "注册建筑师"),
    "structural_engineer": ("注册结构工程师", "Registered structural engineer", "注册结构工程师"),
    "geotech_engineer": ("注册岩土工程师", "Registered geotechnical engineer", "注册岩土工程师"),
    "safety_officer": ("专职安全生产管理人员", "Full-time safety officer", "安全生产管理人员"),
    "technical_lead": ("施工单位技术负责人", "Contractor technical lead", "施工管理人员"),
    "quality_officer": ("质量员", "Quality officer", "施工管理人员"),
    "sampling_witness": ("见证取样人员", "Sampling witness", "见证人员"),
    "site_manager": ("现场负责人", "Site manager", "施工管理人员"),
    "agent": ("经办人", "Agent", "经办人"),
    "eia_chief": ("环评编制主持人", "EIA lead author", "环评工程师"),
    "drawing_reviewer": ("施工图审查人员", "Drawing reviewer", "审查人员"),
    "builder_lead": ("建设单位项目负责人", "Client project lead", "建设单位人员"),
}

PERSON_ATTRS: dict[str, tuple[str, str, Callable[..., ElementSpec], dict[str, object]]] = {
    "name": ("姓名", "name", person, {"prop": "姓名"}),
    "id_no": ("身份证号码", "ID number", id_number, {"prop": "身份证号码"}),
    "reg_cert_no": ("注册证书编号", "registration certificate number", docno, {"n": 30, "prop": "注册证书编号"}),
    "reg_grade": ("注册等级", "registration grade", code, {"cl": "registration_grade", "prop": "注册等级"}),
    "safety_cert_no": ("安全生产考核合格证书编号", "safety assessment certificate number", docno,
                       {"n": 30, "prop": "安全生产考核合格证书编号"}),
    "post_cert_no": ("岗位证书编号", "post certificate number", docno, {"n": 30, "prop": "岗位证书编号"}),
    "phone": ("联系电话", "phone", phone, {"prop": "联系电话"}),
    "title": ("职称", "professional title", code, {"cl": "title_grade", "prop": "职称"}),
}

def party_element(role: str, attr: str) -> ElementSpec:
    role_zh, role_en = ROLES[role]
    zh, en, make = ATTRS[attr]
    el = make(f"{role}_{attr}", f"{role_zh}{zh}", f"{role_en} {en}", role_zh)
    return el.with_(definition=f"{role_zh}的{zh}")


def person_element(role: str, attr: str) -> ElementSpec:
    role_zh, role_en, obj = PERSONS[role]
    zh, en, make, kw = PERSON_ATTRS[attr]
    kw = dict(kw)
    cl = kw.pop("cl", None)
    args = (cl,) if cl else ()
    el = make(f"{role}_{attr}", f"{role_zh}{zh}", f"{role_en} {en}", obj, *args, **kw)
    return el.with_(definition=f"{role_zh}的{zh}", object_class=obj)


def party(role: str, *attrs: str) -> list[str]:
    """Element keys for the given attributes of one party role (名称 and 统一社会信用代码 first)."""
    if role not in ROLES:
        raise KeyError(f"unknown party role {role!r}")
    for a in attrs:
        if a not in ATTRS:
            raise KeyError(f"unknown party attribute {a!r}")
    return [f"{role}_{a}" for a in attrs]


def staff(role: str, *attrs: str) -> list[str]:
    """Element keys for the given attributes of one responsible person."""
    if role not in PERSONS:
        raise KeyError(f"unknown person role {role!r}")
    for a in attrs:
        if a not in PERSON_ATTRS:
            raise KeyError(f"unknown person attribute {a!r}")
    return [f"{role}_{a}" for a in attrs]


def all_party_elements() -> dict[str, ElementSpec]:
    """Every role x attribute combination (only those a form uses reach the catalog)."""
    out: dict[str, ElementSpec] = {}
    for role in ROLES:
        for attr in ATTRS:
            el = party_element(role, attr)
            out[el.key] = el
    for prole in PERSONS:
        for pattr in PERSON_ATTRS:
            el = person_element(prole, pattr)
            out[el.key] = el
    return out

