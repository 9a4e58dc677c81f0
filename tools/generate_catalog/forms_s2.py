"""Stage 2 forms (工程建设许可): design scheme, building planning permit, drawing review, specialist reviews."""

from __future__ import annotations

from tools.generate_catalog.forms_common import (
    PROJECT_ID,
    attachment,
    builder,
    clerk,
    firm,
    remark,
    serial,
    sign_image,
)
from tools.generate_catalog.parties import party, staff
from tools.generate_catalog.spec import STAGES, F, FormSpec, date_range, lab, packed, unit

S2 = STAGES[1]  # s2_engineering
COMMON_S2 = ["application_form", "business_license", "legal_rep_id", "authorization_letter", "agent_id"]

FORMS: list[FormSpec] = [
    FormSpec("nrp_design_scheme", "nrp_building_planning", "建设工程设计方案审查申请表", "Design scheme review",
             "design_scheme_review", S2, [
                 *PROJECT_ID, "site_address", lab("land_area", "用地规模"), "building_area", "above_ground_area",
                 "underground_area", "floor_area_ratio", "building_density", "green_ratio", "max_building_height",
                 "building_count", "parking_spaces", "non_motor_parking_spaces", "residential_area",
                 "commercial_area", "public_facility_area", "households", "design_scheme_review_no",
                 "design_scheme_review_date", lab("construction_scale_content", "建设规模以及其他需要明确的建设情况"),
                 "land_planning_permit_no", *builder(), *firm("design_unit", "qualification_grade",
                                                             "qualification_cert_no"),
                 *staff("design_lead", "name", "phone"), serial()], ("design_scheme_review_no",),
                 [*COMMON_S2, "land_planning_permit", "real_estate_cert", "design_scheme_docs",
                 "planning_conditions"]),
    FormSpec("nrp_planning_permit", "nrp_building_planning", "建设工程规划许可证申请表（建筑类）",
             "Building planning permit (buildings)", "planning_permit_building", S2, [
                 *PROJECT_ID, lab("site_address", "建设项目地址"), "land_planning_permit_no",
                 "design_scheme_review_no", "planning_permit_no", "planning_permit_date", "building_count",
                 packed(("floors_above", "floors_below"), "层数（地上/地下）"), "footprint_area",
                 packed(("above_ground_area", "underground_area"), "建筑面积（地上/地下）", u="平方米"),
                 "building_area", "green_ratio", "parking_spaces", "building_density", "floor_area_ratio",
                 "hazard_flag", "previous_construction_unit_name",
                 *builder("address"), *firm("design_unit", "qualification_cert_no"),
                 *staff("registered_architect", "name", "reg_cert_no"), "land_approval_cert_no",
                 "real_estate_cert_no", serial(), sign_image()], ("planning_permit_no",),
                 [*COMMON_S2, "land_planning_permit", "real_estate_cert", "design_scheme_opinion",
                 "construction_drawings_general", "land_approval_cert"]),
    FormSpec("nrp_planning_permit_municipal", "nrp_building_planning", "建设工程规划许可证申请表（市政类）",
             "Building planning permit (municipal works)", "planning_permit_municipal", S2, [
                 *PROJECT_ID, "site_address", "planning_permit_no", "planning_permit_date", "pipeline_category",
                 "start_end_points", "cross_section", "road_length", "road_width", "project_cost",
                 "bridge_tunnel_length", "clearance_height", "line_spec", "line_length", "corridor_area",
                 "land_planning_permit_no", *builder(), *firm("design_unit", "qualification_cert_no"),
                 serial()], ("planning_permit_no",), [*COMMON_S2, "land_planning_permit", "route_plan",
                 "design_scheme_opinion"]),
    FormSpec("nrp_temporary_permit", "nrp_building_planning", "临时建设工程规划许可证申请表",
             "Temporary building planning permit", "planning_permit_temporary", S2, [
                 *PROJECT_ID, "site_address", "planning_permit_no", "temporary_building_use",
                 "temporary_building_expiry", "footprint_area", *builder(),
                 serial(), remark()], ("planning_permit_no",), ["application_form", "business_license",
                 "legal_rep_id",
                                          "real_estate_cert", "site_plan"]),
    FormSpec("nrp_planning_buildings", "nrp_building_planning", "建设工程规划许可单体建筑指标",
             "Planning permit building schedule", "planning_permit_building_item", S2, [
                 "planning_permit_no", "project_code", "building_no", "building_name", "building_use_nature",
                 "building_floor_area", "building_above_area", "building_under_area", "building_floors_above",
                 "building_floors_below", "building_height", "building_footprint", "building_households",
                 serial()], ("planning_permit_no", "building_no"), []),
    FormSpec("hcb_drawing_review_cert", "hcb_drawing_review", "施工图审查合格书", "Drawing review certificate",
             "dwg_review_cert", S2, [
                 *PROJECT_ID, "drawing_review_cert_no", "drawing_review_date", "drawing_review_scope",
                 "drawing_review_result", "drawing_review_rounds", "design_service_life", "seismic_intensity",
                 "energy_review_passed", "energy_standard", "green_building_grade", "prefab_rate",
                 "renewable_energy_use", "building_area", "above_ground_area", "underground_area",
                 "structure_type", "floors_above", "floors_below", "max_building_height", "planning_permit_no",
                 *party("drawing_review_org", "name", "uscc", "qualification_grade", "qualification_cert_no"),
                 *staff("drawing_reviewer", "name", "reg_cert_no"), serial()], ("drawing_review_cert_no",),
                 [*COMMON_S2[:3], "construction_drawings", "geotech_report", "planning_permit", "design_contract"]),
    FormSpec("hcb_drawing_review_project", "hcb_drawing_review", "施工图审查项目登记", "Drawing review registration",
             "dwg_review_project", S2, [
                 *PROJECT_ID, "engineering_category", "building_use", *builder("address"),
                 *party("survey_unit", "name", "uscc", "qualification_grade", "qualification_cert_no",
                        "contact_name", "contact_phone"),
                 *party("design_unit", "name", "uscc", "qualification_grade", "qualification_cert_no",
                        "contact_name", "contact_phone"),
                 *staff("survey_lead", "name", "reg_cert_no"), *staff("design_lead", "name", "reg_cert_no"),
                 *staff("structural_engineer", "name", "reg_cert_no"),
                 *staff("geotech_engineer", "name", "reg_cert_no"), "survey_contract_price",
                 "design_contract_price", serial()], ("project_code",), [*COMMON_S2, "survey_contract",
                 "design_contract", "planning_permit", "geotech_report"]),
    FormSpec("cda_shelter_filing", "cda_civil_defense", "应建防空地下室的民用建筑项目报建审批",
             "Civil air defence basement filing", "RF_BJSP", S2, [
                 lab("project_code", "项目赋码"), "project_name", "site_address",
                 lab("above_ground_area", "地面总建筑面积"), "underground_area", "residential_area",
                 "civil_defense_area_required", "civil_defense_area_designed", "shelter_area", "peacetime_use",
                 F(("protection_grade",), label="抗力等级", code_list="xw_cda_protection_grade"),
                 "wartime_function", "chemical_protection_grade", "protection_unit_count", "civil_defense_filing_no",
                 "civil_defense_approval_no", "civil_defense_approval_date", "relocation_flag", "planning_permit_no",
                 *builder(), *firm("design_unit", "qualification_cert_no"), clerk()], ("civil_defense_filing_no",
                 ), [*COMMON_S2, "planning_permit", "civil_defense_drawings"]),
    FormSpec("met_lightning_design", "met_lightning", "防雷装置设计审核申报表", "Lightning protection design review",
             "防雷装置设计审核", S2, [
                 *PROJECT_ID, lab("planning_permit_no", "规划许可证号"),
                 F(("structure_type",), code_list="xw_met_structure_type"), lab("building_height", "高度"),
                 "lightning_use_category", F(("power_supply_type",), code_list="xw_met_power_supply_type"),
                 lab("planned_start_date", "预计开工时间"), lab("planned_completion_date", "预计竣工时间"),
                 "max_building_height", "hazardous_materials", "lightning_class", "lightning_design_approval_no",
                 "lightning_design_approval_date", *builder(),
                 *firm("design_unit", "qualification_cert_no"), remark()], ("lightning_design_approval_no",),
                 [*COMMON_S2, "lightning_design_docs", "planning_permit"]),
    FormSpec("wrb_water_intake", "wrb_water", "取水许可申请", "Water intake permit", "qs_xksq", S2, [
                 *PROJECT_ID, "water_intake_permit_no", "water_intake_volume", "water_source_type",
                 unit("water_consumption", "立方米/日"), *builder(), remark()], ("water_intake_permit_no",),
                 [*COMMON_S2[:3], "water_resource_report"]),
    FormSpec("wrb_river_works", "wrb_water", "涉河建设项目工程建设方案审批及水工程建设规划同意书",
             "River works and water project consent", "sh_jsfa", S2, [
                 lab("project_code", "水工程项目代码"), "project_name",
                 lab("construction_site_division", "项目所在行政区（县级）"), "water_body_name",
                 unit("water_area_occupied", "公顷"), "engineering_grade", lab("total_investment", "工程投资"),
                 "river_works_approval_no", "water_plan_consent_no", *builder()], ("river_works_approval_no",),
                 [*COMMON_S2, "flood_impact_report"]),
    FormSpec("glb_tree_felling", "glb_greening", "树木砍伐迁移审批", "Tree felling and relocation", "树木迁移审批",
    S2, [
                 *PROJECT_ID, F(("construction_site_division",), label="所在区", code_list="xw_glb_division"),
                 "tree_location_no", "tree_species", "tree_count", "tree_spec", "tree_destination",
                 "tree_felling_permit_no", "compensation_planting", unit("greening_compensation_fee", "元"),
                 *builder()], ("tree_felling_permit_no",), [*COMMON_S2[:3], "tree_inventory", "planning_permit"]),
    FormSpec("glb_greening_design", "glb_greening", "建设工程附属绿化工程设计方案审查",
             "Greening design review", "附属绿化设计审查", S2, [
                 *PROJECT_ID, "total_land_area", "green_area", "green_ratio",
                 "greening_design_review_no", *builder()], ("greening_design_review_no",),
                 [*COMMON_S2[:3], "greening_design_docs", "planning_permit"]),
    FormSpec("tb_road_admin", "tb_road_waterway", "涉路施工许可申请", "Road administration permit", "lz_sgxk", S2, [
                 *PROJECT_ID, "highway_name", "highway_stake_range", "road_admin_permit_no",
                 date_range("road_works_start", "road_works_end", "施工期限"), *builder(),
                 *firm("contractor", "contact_name", "contact_phone")], ("road_admin_permit_no",),
                 [*COMMON_S2, "traffic_safety_assessment", "construction_plan"]),
    FormSpec("emb_safety_design", "emb_safety_review", "建设项目安全设施设计审查", "Safety facility design review",
             "safety_design_review", S2, [
                 *PROJECT_ID, "safety_project_type", "hazardous_chemical_flag", "major_hazard_flag",
                 "safety_facility_approval_no", "safety_condition_review_no", "safety_investment",
                 *builder(), *firm("design_unit", "qualification_cert_no")], ("safety_facility_approval_no",),
                 [*COMMON_S2, "safety_design_report", "safety_assessment"]),
    FormSpec("prtc_tender_filing", "prtc_bidding", "招标方案备案", "Tender filing", "tender_filing", S2, [
                 *PROJECT_ID, "tender_filing_no", "bid_section_name", "bid_section_no", "tender_scope",
                 F(("procurement_method",), label="招标方式", code_list="xw_prtc_procurement_method"),
                 "tender_control_price", "tender_announcement_date", "bid_opening_date", "bid_evaluation_method",
                 *builder(), *party("bidding_agency", "name", "uscc", "contact_name", "contact_phone", "address"),
                 "project_approval_doc_no", attachment()], ("tender_filing_no",), [*COMMON_S2, "tender_documents",
                 "project_approval_doc", "bidding_agency_contract"])]
