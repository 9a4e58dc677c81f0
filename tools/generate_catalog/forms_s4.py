"""Stage 4 forms (竣工验收): planning verification, surveying, fire/civil-defence/lightning acceptance,
completion filing, archives, utilities, place names and the first real-estate registration."""

from __future__ import annotations

from tools.generate_catalog.forms_common import (
    PROJECT_ID,
    builder,
    firm,
)
from tools.generate_catalog.parties import party, staff
from tools.generate_catalog.spec import STAGES, F, FormSpec, date_range, lab, packed, unit

S4 = STAGES[3]  # s4_acceptance
COMMON_S4 = ["application_form", "business_license", "legal_rep_id", "authorization_letter", "agent_id"]

FORMS: list[FormSpec] = [
    FormSpec("nrp_planning_verification", "nrp_building_planning", "建设工程竣工规划核实申请表",
             "Planning verification", "planning_verification", S4, [
                 *PROJECT_ID, lab("site_address", "建设位置"), lab("construction_scale", "建设规模"),
                 lab("planning_permit_no", "建设工程规划许可证号"), "planning_verification_no",
                 "planning_verification_date", "plan_conformance_flag", "temporary_removed_flag",
                 "utilities_connected_flag", lab("survey_report_no", "房屋建筑面积测绘成果书"),
                 lab("as_built_survey_no", "竣工测绘资料"), "planned_building_no", "planned_floor_area",
                 "surveyed_floor_area", *builder()], ("planning_verification_no",),
                 [*COMMON_S4, "planning_permit", "survey_report", "as_built_survey", "as_built_drawings"]),
    FormSpec("svy_area_report", "nrp_surveying", "房屋建筑面积测绘成果", "Floor area survey results", "FC_CHCG", S4, [
                 *PROJECT_ID, "survey_report_no", "survey_date", "surveyed_floor_area", "surveyed_above_area",
                 "surveyed_under_area", "shared_area", "unit_inner_area", "building_count", "planning_permit_no",
                 *firm("mapping_unit", "qualification_grade", "qualification_cert_no",
                                            "contact_name", "contact_phone"),
                 *builder()], ("survey_report_no",), ["application_form", "business_license", "planning_permit",
                                        "as_built_drawings"]),
    FormSpec("svy_as_built", "nrp_surveying", "竣工测绘成果", "As-built survey results", "JG_CHCG", S4, [
                 *PROJECT_ID, "as_built_survey_no", "survey_date", "coordinate_system", "site_x", "site_y",
                 "elevation_datum", "footprint_area", *firm("mapping_unit", "qualification_cert_no")],
                 ("as_built_survey_no",), ["application_form", "planning_permit"]),
    FormSpec("rer_first_registration", "nrp_real_estate", "不动产首次登记", "First registration", "bdc_scdj", S4, [
                 "real_estate_unit_no", "real_estate_cert_no", "project_code", "project_name",
                 *party("right_holder", "name", "id_doc_type", "id_no", "address"), "right_type", "right_nature",
                 "co_ownership", "real_estate_use", "parcel_area", "house_area", "registration_date",
                 "registration_type", date_range("land_use_start", "land_use_end", "使用期限"),
                 "real_estate_location", "completion_filing_no", "survey_report_no"], ("real_estate_unit_no",),
                 ["application_form", "right_holder_id", "completion_filing_cert",
                                           "survey_report", "land_transfer_contract", "tax_clearance"]),
    FormSpec("rer_land_registration", "nrp_real_estate", "国有建设用地使用权登记", "Land-use right registration",
             "bdc_tddj", S4, [
                 "real_estate_unit_no", "real_estate_cert_no", "project_code",
                 *party("right_holder", "name", "id_no"), "land_parcel_no", "land_transfer_contract_no",
                 "parcel_area", "real_estate_use", "right_nature", "registration_date",
                 date_range("land_use_start", "land_use_end", "土地使用期限")], ("real_estate_unit_no",),
                 ["application_form", "right_holder_id", "land_transfer_contract",
                                           "land_price_receipt", "tax_clearance"]),
    FormSpec("fire_acceptance", "hcb_fire_review", "建设工程消防验收申请表", "Fire acceptance application",
             "fire_acceptance", S4, [
                 *PROJECT_ID, *builder(), "fire_design_review_no", "construction_permit_no",
                 "fire_acceptance_no", "fire_acceptance_date", "fire_acceptance_result", "fire_facilities",
                 *firm("contractor", "qualification_cert_no"), *firm("supervision_unit"),
                 *firm("testing_agency")], ("fire_acceptance_no",), [*COMMON_S4, "fire_design_opinion",
                 "fire_test_report", "completion_report", "as_built_drawings"]),
    FormSpec("fire_acceptance_filing", "hcb_fire_review", "建设工程消防验收备案", "Fire acceptance filing",
             "fire_filing", S4, [
                 *PROJECT_ID, "fire_filing_no", "fire_spot_check_flag", "fire_acceptance_date",
                 "construction_permit_no", *party("construction_unit", "name", "uscc", "contact_phone")],
                 ("fire_filing_no",), ["application_form", "fire_test_report", "completion_report"]),
    FormSpec("hcb_completion_filing", "hcb_completion", "房屋建筑和市政基础设施工程竣工验收备案申请表",
             "Completion acceptance filing application", "JGYS_BASQ", S4, [
                 *PROJECT_ID, lab("approved_estate_name", "地名办批准的楼盘名号"),
                 lab("quality_supervision_org", "监督机构"), lab("building_count", "总幢数"),
                 lab("construction_permit_no", "施工许可证号"), "acceptance_date", "permit_floor_area",
                 lab("underground_space_area", "地下空间"), "underground_parking_area", "underground_parking_spaces",
                 "filed_floor_area", "filed_building_count", "planned_building_no", lab("house_number", "对应地名号"),
                 "planned_floor_area", "surveyed_floor_area", "built_floor_area", "completion_filing_no",
                 *builder(), *firm("contractor"), *firm("supervision_unit"), *firm("design_unit"),
                 *firm("survey_unit")], ("completion_filing_no",), [*COMMON_S4, "completion_report",
                 "quality_assessment_report", "planning_verification", "fire_acceptance_opinion", "house_warranty",
                 "quality_supervision_report", "survey_design_check_report"]),
    FormSpec("hcb_completion_record", "hcb_completion", "房屋建筑工程竣工验收备案表", "Completion filing record",
             "JGYS_BAB", S4, [
                 *PROJECT_ID, "completion_filing_date", "completion_filing_no",
                 packed(("building_area", "project_cost"), "建筑面积/造价", part_units=("平方米", "元")),
                 lab("building_use", "工程用途"), F(("structure_type", "floors_above"), label="结构类型（层次）",
                                                   transform="split", parts=(0, 1), sep="/",
                                                   code_list="xw_hcbc_structure_type"),
                 lab("actual_start_date", "开工日期"), "actual_completion_date", "acceptance_date",
                 lab("drawing_review_opinion", "施工图审查意见"), "design_service_life",
                 lab("subcontractor_list", "主要分包单位"), lab("quality_supervision_org", "工程质量监督机构"),
                 "acceptance_result", "quality_supervision_report_no", "quality_assessment_report_no",
                 "house_warranty_flag", "construction_permit_no", "planning_permit_no", "drawing_review_cert_no",
                 "contract_price", *party("construction_unit", "name", "uscc", "legal_rep", "project_lead"),
                 *party("contractor", "name", "qualification_grade"), *staff("project_manager", "name"),
                 *party("supervision_unit", "name", "qualification_grade"), *staff("chief_supervisor", "name"),
                 *party("design_unit", "name"), *staff("design_lead", "name"), *party("survey_unit", "name"),
                 *staff("survey_lead", "name")], ("completion_filing_no",), []),
    FormSpec("hcb_archive_acceptance", "hcb_completion", "建设工程档案验收", "Archive acceptance", "CJDA_YS", S4, [
                 *PROJECT_ID, "archive_acceptance_no", "archive_acceptance_date", "archive_volumes",
                 "planning_permit_no", *builder()], ("archive_acceptance_no",), ["application_form",
                 "business_license", "archive_catalogue",
                                             "as_built_drawings"]),
    FormSpec("cda_acceptance", "cda_civil_defense", "人防工程竣工验收综合表", "Civil defence completion acceptance",
             "RF_JGYS", S4, [
                 *PROJECT_ID, lab("civil_defense_filing_no", "报建编号"), "entrance_x", "entrance_y",
                 "entrance_elevation", "completed_area_above", "completed_area_below",
                 "civil_defense_completed_area", F(("protection_grade",), label="防护等级（核级/常级）",
                                                   code_list="xw_cda_protection_grade"),
                 lab("wartime_function", "人防地下室战时用途"), "peacetime_entrances", "wartime_entrances",
                 "wartime_closures", "relocation_fee_due", "relocation_fee_paid", "relocation_fee_outstanding",
                 "civil_defense_acceptance_no", "civil_defense_acceptance_date", *builder(),
                 *firm("contractor"), *firm("supervision_unit")], ("civil_defense_acceptance_no",),
                 [*COMMON_S4[:3], "civil_defense_approval", "completion_report", "as_built_drawings"]),
    FormSpec("met_lightning_acceptance", "met_lightning", "防雷装置竣工验收申请书", "Lightning acceptance",
             "防雷装置竣工验收", S4, [
                 *PROJECT_ID, "lightning_design_approval_no", "lightning_test_report_no",
                 lab("actual_start_date", "开工时间"), lab("actual_completion_date", "竣工时间"), "lightning_class",
                 "lightning_acceptance_no", "lightning_acceptance_date", "grounding_resistance", *builder(),
                 *staff("site_manager", "name", "phone"), *firm("lightning_agency", "qualification_cert_no")],
                 ("lightning_acceptance_no",), [*COMMON_S4[:3], "lightning_design_approval",
                 "lightning_test_report"]),
    FormSpec("cmb_drainage_permit", "cmb_drainage", "城镇污水排入排水管网许可申请", "Sewer discharge permit",
             "排水许可", S4, [
                 *PROJECT_ID, *party("drainage_household", "name", "uscc", "legal_rep", "contact_name",
                                     "contact_phone", "address"),
                 "drainage_category", unit("water_consumption", "吨/日"), unit("discharge_volume", "吨/日"),
                 "pretreatment_process", "discharge_outlet_count", "drainage_connection_point",
                 "drainage_permit_no", "drainage_permit_valid_to"], ("drainage_permit_no",),
                 [*COMMON_S4, "drainage_drawings", "water_test_report"]),
    FormSpec("fin_settlement_review", "fin_cost_review", "工程项目结算审核申报表", "Settlement review",
             "CS_JSSH", S4, [
                 *PROJECT_ID, "fiscal_review_type", lab("declared_amount", "申报金额"), "settlement_approved_amount",
                 "review_reduction", "review_reduction_rate", "fiscal_review_report_no", "fiscal_review_date",
                 "archive_no", *party("construction_unit", "name", "uscc", "contact_name",
                                                        "contact_phone"),
                 *firm("contractor"), *firm("cost_consultant", "qualification_cert_no")], ("project_code",
                 "fiscal_review_type"), ["application_form", "settlement_statement",
                                                         "construction_contract", "completion_filing_cert"]),
    FormSpec("water_acceptance", "water_supply", "供水工程验收及通水", "Water acceptance", "water-acceptances", S4, [
                 "project_code", "water_application_no", "water_acceptance_date", "water_connection_date",
                 "water_account_no", "water_acceptance_cert_no", "water_meter_count"], ("water_application_no",),
                 ["application_form", "water_test_report"]),
    FormSpec("power_acceptance", "power_supply", "电力工程竣工检验及送电", "Power acceptance", "power-acceptances",
             S4, [
                 "project_code", "power_application_no", "power_acceptance_date", "power_connection_date",
                 "power_account_no", "power_acceptance_cert_no", unit("power_capacity", "kVA")],
             ("power_application_no",), ["application_form", "electrical_test_report"]),
    FormSpec("telecom_acceptance", "telecom_access", "建筑物通信配套设施验收", "Telecom facilities acceptance",
             "通信配套验收", S4, [
                 *PROJECT_ID, "telecom_application_no", "telecom_application_date",
                 "telecom_ports", "telecom_operator", "telecom_connection_scheme", "telecom_connection_point",
                 "telecom_account_no", "telecom_connection_fee", "telecom_acceptance_date",
                 "telecom_acceptance_cert_no", "telecom_connection_date", *builder()], ("telecom_application_no",
                 ), ["application_form", "business_license", "telecom_drawings"]),
    FormSpec("heat_connection", "heat_supply", "集中供热接入申请及验收", "District heating connection", "供热接入",
             S4, [
                 *PROJECT_ID, "heat_application_no", "heat_application_date", "heat_capacity",
                 "heat_pipe_diameter", "heat_meter_count", "heat_entrance_location", "heat_connection_scheme",
                 "heat_connection_point", "heat_connection_date", "heat_account_no",
                 "heat_acceptance_date", "heat_acceptance_cert_no", "heat_connection_fee", *builder()],
                 ("heat_application_no",), ["application_form", "business_license", "heating_drawings"]),
    FormSpec("place_name_approval", "cab_place_names", "楼盘名称命名申请", "Estate name approval",
             "place_name_apply", S4, [
                 *PROJECT_ID, "approved_estate_name", "place_name_category", "place_name_meaning",
                 "place_name_romanization", "place_name_approval_no", "place_name_approval_date",
                 *builder()], ("place_name_approval_no",), ["application_form", "business_license", "planning_permit",
                                              "site_plan"]),
    FormSpec("house_numbering", "cab_place_names", "门牌编制", "House numbering", "house_number", S4, [
                 "project_code", "approved_estate_name", "building_no", "house_number", "standard_address",
                 "construction_site_division"], ("project_code", "building_no"), ["place_name_approval",
                 "site_plan"]),
    FormSpec("asb_joint_acceptance", "asb_one_window", "联合验收申请", "Joint acceptance application",
             "joint_acceptance", S4, [
                 "case_no", *PROJECT_ID, "construction_permit_no", "joint_acceptance_time",
                 "joint_acceptance_opinion", "acceptance_result", *builder(), *staff("agent", "name", "id_no",
                                                                                      "phone")], ("case_no",),
                                                                                      [*COMMON_S4,
                                                                                      "completion_report",
                                                                                      "survey_report",
                                                                                      "as_built_drawings"])]
