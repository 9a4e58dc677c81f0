"""Materials beyond each form's own list: its technical documents and the ones re-asked per stage.

``MATERIALS_EXTRA[form_id]`` is appended to the form's ``materials``; every key is defined in
:mod:`tools.generate_catalog.materials`.
"""

from __future__ import annotations

# the long tail of materials: each form's own technical documents (see materials.py)
MATERIALS_EXTRA: dict[str, list[str]] = {
    "ndrc_energy_review": ["energy_balance_table", "agent_id"],
    "nrp_site_selection": ["site_photos", "planning_compliance"],
    "nrp_land_planning_permit": ["topographic_map"],
    "nrp_land_pre_review": ["land_plan_adjustment", "farmland_balance_plan"],
    "nrp_land_transfer": ["bid_deposit_receipt", "agent_id"],
    "eeb_eia_report": ["eia_expert_opinion"],
    "wrb_soil_conservation": ["soil_expert_opinion"],
    "fb_forest_land": ["vegetation_plan"],
    "ctb_archaeology": ["heritage_impact_assessment"],
    "amr_enterprise_reg": ["shareholder_resolution"],
    "nrp_design_scheme": ["design_expert_opinion", "sunlight_analysis"],
    "nrp_planning_permit": ["traffic_impact_assessment"],
    "nrp_planning_permit_municipal": ["pipeline_survey"],
    "hcb_drawing_review_cert": ["structural_calc"],
    "cda_shelter_filing": ["civil_defense_calc"],
    "met_lightning_design": ["lightning_risk_assessment"],
    "wrb_water_intake": ["water_intake_design", "authorization_letter"],
    "glb_tree_felling": ["tree_photos", "authorization_letter"],
    "emb_safety_design": ["safety_expert_opinion"],
    "prtc_tender_filing": ["control_price_doc"],
    "hcb_permit_application": ["construction_org_design", "site_ready_proof"],
    "hqs_quality_registration": ["testing_contract", "quality_system_docs"],
    "hqs_safety_registration": ["emergency_plan", "authorization_letter"],
    "fire_design_review": ["special_fire_design"],
    "hrss_wage_report": ["labour_contracts"],
    "cmb_road_excavation": ["road_restoration_commitment"],
    "water_application": ["water_demand_calc", "legal_rep_id"],
    "power_application": ["power_supply_plan", "legal_rep_id"],
    "nrp_planning_verification": ["completion_photos"],
    "fire_acceptance": ["fire_inspection_report"],
    "hcb_completion_filing": ["test_report_summary", "pipeline_as_built"],
    "cda_acceptance": ["shelter_equipment_test", "authorization_letter"],
    "met_lightning_acceptance": ["concealed_works_record", "authorization_letter"],
    "rer_first_registration": ["house_plan_map", "authorization_letter"],
    "heat_connection": ["heat_load_calc", "legal_rep_id"],
    "house_numbering": ["building_layout"],
}

# documents a form asks for although an earlier stage already had them (re-asked per stage before the reform)
_RE_ASKED: dict[str, list[str]] = {
    "hcb_completion_filing": ["project_manager_id", "chief_supervisor_id", "supervision_contract",
                              "responsibility_commitment"],
    "asb_joint_acceptance": ["applicant_id"],
    "hcb_permit_application": ["site_plan", "design_contract", "structural_calc"],
    "hqs_quality_registration": ["geotech_report"],
    "ndrc_gov_approval": ["funding_commitment"],
    "hcb_drawing_review_cert": ["energy_report"],
    "ndrc_approval": ["safety_assessment"],
    "cmb_road_occupation": ["construction_plan"],
    "cmb_road_excavation": ["traffic_safety_assessment"],
    "glb_greening_design": ["site_photos"],
    "nrp_design_scheme": ["topographic_map"],
    "water_application": ["pipeline_survey"],
    "nrp_planning_permit": ["geohazard_assessment", "building_layout"],
    "nrp_planning_permit_municipal": ["planning_compliance"],
    "cmb_drainage_permit": ["emergency_plan"],
    "power_acceptance": ["power_supply_plan"],
}
# 经办人身份证: asked by every form an agent may file
_AGENT_ID_FORMS = [
    "nrp_land_approval", "eeb_eia_registration", "tb_waterway_assessment", "fin_estimate_review",
    "amr_enterprise_change", "nrp_temporary_permit", "hcb_drawing_review_cert", "wrb_water_intake",
    "glb_tree_felling", "glb_greening_design", "hqs_safety_registration", "market_contract_filing",
    "cda_relocation_fee", "fin_budget_review", "hrss_wage_account", "cmb_road_occupation", "gas_application",
    "svy_area_report", "rer_first_registration", "rer_land_registration", "fire_acceptance_filing",
    "hcb_archive_acceptance", "cda_acceptance", "met_lightning_acceptance", "fin_settlement_review",
]
for _form, _keys in _RE_ASKED.items():
    MATERIALS_EXTRA.setdefault(_form, []).extend(_keys)
for _form in _AGENT_ID_FORMS:
    MATERIALS_EXTRA.setdefault(_form, []).append("agent_id")
