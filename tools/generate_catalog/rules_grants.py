"""Cross-field rules (validated on every record) and conditional-sharing grants (who may see what)."""

from __future__ import annotations

# (kind, element keys, tolerance, message) -- sum_equals: first = sum of the rest; before: first date
# before second; duration_days: third = days from first to second
RULES: list[tuple[str, tuple[str, ...], float, str]] = [
    ("sum_equals", ("building_area", "above_ground_area", "underground_area"), 0.01,
     "地上建筑面积与地下建筑面积之和应等于总建筑面积"),
    ("sum_equals", ("total_investment", "fixed_asset_investment", "construction_interest", "working_capital"), 0.01,
     "固定资产投资、建设期利息与铺底流动资金之和应等于总投资"),
    ("sum_equals", ("fixed_asset_investment", "civil_works_cost", "equipment_cost", "installation_cost",
                    "other_construction_cost", "contingency_cost"), 0.01, "固定资产投资应等于各分项费用之和"),
    ("sum_equals", ("total_investment", "fiscal_fund", "own_fund", "bank_loan", "other_fund"), 0.01,
     "各类资金之和应等于总投资"),
    ("sum_equals", ("relocation_fee_due", "relocation_fee_paid", "relocation_fee_outstanding"), 0.01,
     "已交与补交易地建设费之和应等于应交易地建设费"),
    ("sum_equals", ("review_reduction", "declared_amount", "settlement_approved_amount"), 0.01,
     "审减金额应等于申报金额减去审定金额"),
    ("sum_equals", ("surveyed_floor_area", "surveyed_above_area", "surveyed_under_area"), 0.01,
     "测绘地上与地下建筑面积之和应等于测绘建筑面积"),
    ("sum_equals", ("building_floor_area", "building_above_area", "building_under_area"), 0.01,
     "单体地上与地下建筑面积之和应等于单体建筑面积"),
    ("before", ("planned_start_date", "planned_completion_date"), 0, "拟开工时间应早于拟建成时间"),
    ("before", ("contract_start_date", "contract_completion_date"), 0, "合同开工日期应早于合同竣工日期"),
    ("before", ("actual_start_date", "actual_completion_date"), 0, "实际开工日期应早于实际竣工日期"),
    ("before", ("permit_issue_date", "actual_start_date"), 0, "施工许可证应在开工前核发"),
    ("before", ("business_term_from", "business_term_to"), 0, "营业期限起始日应早于终止日"),
    ("before", ("road_works_start", "road_works_end"), 0, "占用挖掘开始日期应早于结束日期"),
    ("before", ("forest_land_start", "forest_land_end"), 0, "使用林地期限起应早于期限止"),
    ("before", ("land_use_start", "land_use_end"), 0, "土地使用期限起应早于期限止"),
    ("duration_days", ("contract_start_date", "contract_completion_date", "contract_duration_days"), 1,
     "合同工期应与合同开竣工日期一致"),
]

# (department, system, element keys; empty = every conditional element of the system's datasets)
GRANTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Housing and Urban-Rural Development Bureau", "amr_enterprise", ("legal_representative", "legal_rep_id_no")),
    ("Human Resources and Social Security Bureau", "hcb_market",
     ("project_manager_name", "project_manager_id_no", "project_manager_phone")),
    ("Human Resources and Social Security Bureau", "hcb_quality_safety",
     ("project_manager_name", "project_manager_id_no", "chief_supervisor_name", "chief_supervisor_id_no")),
    ("Administrative Approval Service Bureau", "ndrc_investment", ()),
    ("Administrative Approval Service Bureau", "hcb_construction_permit", ()),
    ("Real Estate Registration Centre", "hcb_completion", ("construction_unit_legal_rep",)),
    ("Taxation Bureau", "amr_enterprise", ("legal_representative", "legal_rep_id_no")),
    ("Housing and Urban-Rural Development Bureau", "asb_one_window", ("applicant_legal_rep",
    "applicant_contact_phone")),
    ("City Management Bureau (municipal)", "hcb_construction_permit", ("project_manager_name",)),
    ("Civil Air Defence Office", "nrp_building_planning", ("construction_unit_contact_phone",)),
]
