"""Enterprise, tax, wage, utility, acceptance, surveying, real-estate, service-window and place-name elements."""

from __future__ import annotations

from tools.generate_catalog.spec import (
    ElementSpec,
    area,
    code,
    count,
    date,
    datetime_,
    docno,
    flag,
    id_number,
    ident,
    measure,
    money,
    name,
    number,
    person,
    text,
)

EN = "法人"
ENTERPRISE: list[ElementSpec] = [
    ident("enterprise_uscc", "统一社会信用代码", "Unified social credit code", EN, "uscc", 18,
          definition="法人和其他组织统一社会信用代码（GB 32100）", synonyms=("信用代码",),
          authority="amr_enterprise"),
    name("enterprise_name", "企业名称", "Enterprise name", EN, definition="登记的企业名称", synonyms=("单位名称",),
         authority="amr_enterprise"),
    person("legal_representative", "法定代表人", "Legal representative", EN, definition="法定代表人（负责人）姓名",
           synonyms=("法人代表", "法定代表人姓名")),
    money("registered_capital", "注册资本", "Registered capital", EN, synonyms=("注册资金",)),
    date("establishment_date", "成立日期", "Establishment date", EN, definition="企业成立日期"),
    code("registered_division", "住所行政区划", "Registered address division", EN, "gb2260",
         definition="企业住所所在县级行政区划代码", synonyms=("所在区县",)),
    code("enterprise_type", "企业类型", "Enterprise type", EN, "enterprise_type", synonyms=("公司类型",)),
    text("registered_address", "住所", "Registered address", EN, 200, synonyms=("住所（经营场所）",)),
    text("business_scope", "经营范围", "Business scope", EN, 2000),
    date("business_term_from", "营业期限自", "Business term from", EN),
    date("business_term_to", "营业期限至", "Business term to", EN),
    name("registration_authority", "登记机关", "Registration authority", EN, 100),
    date("registration_approval_date", "核准日期", "Approval date", EN),
    code("enterprise_status", "登记状态", "Registration status", EN, "enterprise_status"),
    code("capital_currency", "注册资本币种", "Capital currency", EN, "currency"),
    money("paid_in_capital", "实收资本", "Paid-in capital", EN),
    text("establishment_method", "设立方式", "Establishment method", EN, 50),
    money("foreign_total_investment", "投资总额（外资）", "Total investment (foreign)", EN),
    name("enterprise_former_name", "曾用名", "Former name", EN),
    ident("enterprise_reg_no", "工商注册号", "Business registration number", EN, "reg_no", 15,
          synonyms=("注册号",)),
    ident("enterprise_org_code", "组织机构代码", "Organisation code", EN, "org_code", 10, False),
    code("legal_rep_id_type", "法定代表人证件类型", "Legal rep ID type", EN, "id_doc_type"),
    id_number("legal_rep_id_no", "法定代表人身份证号码", "Legal rep ID number", EN),
    text("enterprise_phone", "企业联系电话", "Enterprise phone", EN, 20),
    docno("enterprise_postcode", "邮政编码", "Postcode", EN, 6),
    code("enterprise_industry", "行业门类及代码", "Industry", EN, "gb4754"),
    count("employee_count", "从业人数", "Employees", EN, "人"),
    text("enterprise_email", "企业电子邮箱", "Enterprise email", EN, 100),
    date("cancellation_date", "注销日期", "Deregistration date", EN),
    date("revocation_date", "吊销日期", "Revocation date", EN),
    count("annual_report_year", "最近年报年度", "Latest annual report year", EN, "年", hi=2100),
    flag("abnormal_operation_flag", "是否列入经营异常名录", "Abnormal operation listed", EN),
    text("change_item", "变更事项", "Changed item", "企业变更", 100),
    text("change_before", "变更前内容", "Before change", "企业变更", 2000),
    text("change_after", "变更后内容", "After change", "企业变更", 2000),
    date("change_date", "变更日期", "Change date", "企业变更"),
]

TX = "纳税人"
TAX: list[ElementSpec] = [
    ident("taxpayer_id", "纳税人识别号", "Taxpayer ID", TX, "uscc", 20, False,
          definition="纳税人识别号（法人为统一社会信用代码）"),
    name("taxpayer_name", "纳税人名称", "Taxpayer name", TX),
    code("tax_credit_grade", "纳税信用等级", "Tax credit grade", TX, "tax_credit_grade"),
    count("tax_credit_year", "评价年度", "Rating year", TX, "年", hi=2100),
    number("tax_credit_score", "纳税信用评价得分", "Tax credit score", TX, 1, hi=100, share_type="none"),
    code("taxpayer_type", "纳税人类型", "Taxpayer type", TX, "taxpayer_type"),
    name("tax_authority", "主管税务机关", "Tax office", TX, 100),
    date("tax_registration_date", "税务登记日期", "Tax registration date", TX),
    docno("tax_clearance_cert_no", "完税证明编号", "Tax clearance number", TX),
    code("tax_status", "纳税人状态", "Taxpayer status", TX, "enterprise_status"),
]

WG = "农民工工资"
WAGE: list[ElementSpec] = [
    text("wage_account_no", "农民工工资专用账户账号", "Wage account number", WG, 40, share_type="none"),
    name("wage_account_name", "专用账户户名", "Wage account name", WG),
    date("wage_account_open_date", "专用账户开户日期", "Wage account opened", WG),
    money("wage_deposit_amount", "工资保证金金额", "Wage deposit", WG),
    docno("wage_guarantee_no", "工资支付保函编号", "Wage guarantee number", WG),
    money("wage_guarantee_amount", "工资支付保函金额", "Wage guarantee amount", WG),
    date("wage_guarantee_valid_to", "保函有效期至", "Guarantee valid until", WG),
    code("advance_funding", "工程垫资情况", "Advance funding", WG, "advance_funding"),
    text("wage_payer", "工资支付主体", "Wage payer", WG, 200),
    money("wages_due", "本期应付工资", "Wages due", WG),
    money("wages_paid", "本期实付工资", "Wages paid", WG),
    text("wage_arrears", "拖欠工资情况", "Wage arrears", WG, 500),
    count("migrant_worker_count", "农民工人数", "Migrant workers", WG, "人"),
    text("wage_period", "工资支付期间", "Pay period", WG, 20),
    flag("realname_system_flag", "是否实行实名制管理", "Real-name management", WG),
]

UT = {"water": ("供水", "Water supply", "m³/d", "用水量"), "power": ("供电", "Power supply", "kV·A", "报装容量"),
      "gas": ("燃气", "Gas supply", "m³/h", "用气量"), "heat": ("供热", "Heat supply", "m²", "供热面积"),
      "telecom": ("通信", "Telecom", "", "")}


def _utility(u: str) -> list[ElementSpec]:
    zh, en, cap_unit, cap_zh = UT[u]
    obj = f"{zh}接入"
    out = [
        docno(f"{u}_application_no", f"{zh}报装编号", f"{en} application number", obj),
        date(f"{u}_application_date", f"{zh}报装申请日期", f"{en} application date", obj),
        text(f"{u}_connection_scheme", f"{zh}接入方案", f"{en} connection scheme", obj, 500),
        text(f"{u}_connection_point", f"{zh}接入点位置", f"{en} connection point", obj, 200),
        date(f"{u}_acceptance_date", f"{zh}工程验收日期", f"{en} acceptance date", obj),
        date(f"{u}_connection_date", f"{zh}开通日期", f"{en} connection date", obj),
        docno(f"{u}_account_no", f"{zh}用户编号", f"{en} account number", obj, 30),
        money(f"{u}_connection_fee", f"{zh}接入工程费用", f"{en} connection fee", obj),
        docno(f"{u}_acceptance_cert_no", f"{zh}验收合格证明编号", f"{en} acceptance number", obj),
    ]
    if cap_unit == "m²":
        out.append(area(f"{u}_capacity", f"{zh}{cap_zh}", f"{en} capacity", obj))
    elif cap_unit:
        out.append(measure(f"{u}_capacity", f"{zh}{cap_zh}", f"{en} capacity", obj, cap_unit))
    if u in ("water", "gas", "heat"):
        out.append(measure(f"{u}_pipe_diameter", f"{zh}管径", f"{en} pipe diameter", obj, "mm", 0))
        out.append(count(f"{u}_meter_count", f"{zh}表具数量", f"{en} meters", obj, "块"))
    if u == "power":
        out.append(code("power_voltage_level", "供电电压等级", "Supply voltage", obj, "voltage_level"))
        out.append(count("power_transformer_count", "变压器台数", "Transformers", obj, "台"))
    if u == "telecom":
        out.append(count("telecom_ports", "通信端口数", "Ports", obj, "个"))
        out.append(text("telecom_operator", "通信运营商", "Operator", obj, 50))
    if u == "heat":
        out.append(text("heat_entrance_location", "热力入口位置", "Heat entrance", obj, 200))
    return out


UTILITIES: list[ElementSpec] = [e for u in UT for e in _utility(u)]

AC = "竣工验收"
ACCEPTANCE: list[ElementSpec] = [
    docno("completion_filing_no", "竣工验收备案号", "Completion filing number", AC, required=("s4_acceptance",)),
    date("acceptance_date", "竣工验收日期", "Completion acceptance date", AC, required=("s4_acceptance",)),
    date("completion_filing_date", "竣工验收备案日期", "Completion filing date", AC),
    area("filed_floor_area", "备案建筑面积", "Filed floor area", AC),
    count("filed_building_count", "备案幢数", "Filed buildings", AC, "栋"),
    area("underground_space_area", "地下空间面积", "Underground space", AC, synonyms=("地下空间",)),
    area("underground_parking_area", "地下停车库面积", "Underground car park", AC),
    area("surveyed_floor_area", "测绘建筑面积", "Surveyed floor area", AC),
    area("built_floor_area", "实际施工建筑面积", "Built floor area", AC),
    code("acceptance_result", "验收结论", "Acceptance result", AC, "acceptance_result"),
    docno("quality_supervision_report_no", "工程质量监督报告编号", "Supervision report number", AC),
    docno("quality_assessment_report_no", "工程质量评估报告编号", "Quality assessment number", AC),
    docno("archive_acceptance_no", "城建档案验收认可书编号", "Archive acceptance number", AC),
    count("archive_volumes", "档案卷数", "Archive volumes", AC, "卷"),
    date("archive_acceptance_date", "档案验收日期", "Archive acceptance date", AC),
    flag("house_warranty_flag", "是否提供住宅质量保证书", "Housing warranty", AC),
    text("subcontractor_list", "主要分包单位", "Main subcontractors", AC, 500),
    datetime_("joint_acceptance_time", "联合验收时间", "Joint acceptance time", AC),
    text("joint_acceptance_opinion", "联合验收意见", "Joint acceptance opinion", AC, 2000),
]

SV = "测绘成果"
SURVEYING: list[ElementSpec] = [
    docno("survey_report_no", "房屋建筑面积测绘成果书编号", "Area survey report number", SV,
          synonyms=("房屋建筑面积测绘成果书",)),
    date("survey_date", "测绘日期", "Survey date", SV),
    docno("as_built_survey_no", "竣工测绘报告编号", "As-built survey number", SV, synonyms=("竣工测绘资料",)),
    code("coordinate_system", "坐标系", "Coordinate system", SV, "coordinate_system"),
    number("site_x", "宗地中心坐标X", "Centre X", SV, 3, lo=None),
    number("site_y", "宗地中心坐标Y", "Centre Y", SV, 3, lo=None),
    area("surveyed_above_area", "测绘地上建筑面积", "Surveyed above-ground area", SV),
    area("surveyed_under_area", "测绘地下建筑面积", "Surveyed underground area", SV),
    area("shared_area", "分摊建筑面积", "Shared area", SV),
    area("unit_inner_area", "套内建筑面积", "Inner floor area", SV),
    measure("elevation_datum", "室外地坪高程", "Ground elevation", SV, "m", 3, min_value=None),
]

RE = "不动产"
REAL_ESTATE: list[ElementSpec] = [
    # 不动产单元号 is a fixed 28-character code (division, parcel, GB, lot, F, unit) with no check digit:
    # a plain identifier, not 证照号码 (license_no, a mixed USCC/org-code/ID column)
    ident("real_estate_unit_no", "不动产单元号", "Real estate unit number", RE, "", 28),
    docno("real_estate_cert_no", "不动产权证书号", "Real estate certificate number", RE),
    code("right_type", "权利类型", "Right type", RE, "right_type"),
    code("right_nature", "权利性质", "Right nature", RE, "right_nature"),
    code("co_ownership", "共有情况", "Co-ownership", RE, "co_ownership"),
    code("real_estate_use", "不动产用途", "Use", RE, "land_use"),
    area("parcel_area", "宗地面积", "Parcel area", RE),
    area("house_area", "房屋建筑面积（登记）", "Registered house area", RE),
    date("registration_date", "登记日期", "Registration date", RE),
    code("registration_type", "登记类型", "Registration type", RE, "registration_type"),
    date("land_use_start", "土地使用期限起", "Land use from", RE),
    date("land_use_end", "土地使用期限止", "Land use until", RE),
    text("real_estate_location", "坐落", "Location", RE, 200),
]

SW = "政务服务办件"
SERVICE: list[ElementSpec] = [
    docno("case_no", "办件编号", "Case number", SW, 40, synonyms=("申报号", "受理编号")),
    docno("service_item_code", "事项编码", "Service item code", SW, 40),
    name("service_item_name", "事项名称", "Service item", SW),
    datetime_("case_accepted_at", "受理时间", "Accepted at", SW),
    datetime_("case_completed_at", "办结时间", "Completed at", SW),
    code("case_status", "办件状态", "Case status", SW, "case_status"),
    name("handling_department", "承办部门", "Handling department", SW, 100),
    count("promised_days", "承诺办理时限", "Promised time limit", SW, "工作日"),
    count("actual_days", "实际办理用时", "Actual time used", SW, "工作日"),
    docno("acceptance_notice_no", "受理通知书编号", "Acceptance notice number", SW),
    text("rejection_reason", "不予受理原因", "Rejection reason", SW, 500),
    code("stage_code", "审批阶段", "Approval stage", SW, "approval_stage"),
]

PN = "地名"
PLACE_NAMES: list[ElementSpec] = [
    name("approved_estate_name", "地名办批准的楼盘名称", "Approved estate name", PN,
         synonyms=("地名办批准的楼盘名号", "标准地名")),
    docno("place_name_approval_no", "地名命名批复文号", "Place-name approval number", PN),
    date("place_name_approval_date", "地名命名批复日期", "Place-name approval date", PN),
    text("standard_address", "标准地址", "Standard address", PN, 200),
    text("house_number", "门牌号", "House number", PN, 50, synonyms=("对应地名号",)),
    code("place_name_category", "地名类别", "Place-name category", PN, "place_name_category"),
    text("place_name_meaning", "地名含义", "Name meaning", PN, 500),
    text("place_name_romanization", "地名罗马字母拼写", "Romanised name", PN, 200),
]

ALL_ENTITIES = (ENTERPRISE + TAX + WAGE + UTILITIES + ACCEPTANCE + SURVEYING + REAL_ESTATE + SERVICE
                + PLACE_NAMES)
