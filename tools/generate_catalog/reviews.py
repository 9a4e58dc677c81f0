"""Specialist review elements: 消防, 人防, 防雷, 环评, 水务, 排水, 绿化, 道路, 交通, 安全, 林地, 文物, 财审, 招投标.

Each review has the same administrative skeleton (编号、日期、结论) plus its own technical data,
taken from the real labels in shared/reference/form_fields.csv where they exist.
"""

from __future__ import annotations

from tools.generate_catalog.spec import (
    ElementSpec,
    area,
    code,
    count,
    date,
    docno,
    flag,
    length,
    measure,
    money,
    name,
    number,
    pct,
    text,
)

FIRE = "消防设计审查验收"
FIRE_REVIEW: list[ElementSpec] = [
    docno("fire_design_review_no", "消防设计审查意见书编号", "Fire design review number", FIRE),
    date("fire_design_review_date", "消防设计审查日期", "Fire design review date", FIRE),
    code("fire_review_category", "消防审查类别", "Fire review category", FIRE, "fire_review_category",
         synonyms=("类别（新建/扩建/改建/装修/建筑保温/改变用途）",)),
    code("occupancy_type", "人员密集场所类型", "Crowded-place type", FIRE, "occupancy_type",
         synonyms=("使用性质（人员密集场所类型）",)),
    flag("special_fire_design_flag", "是否特殊消防设计", "Special fire design", FIRE),
    measure("tank_capacity", "储罐总容量", "Tank capacity", FIRE, "m³"),
    text("stored_substance", "储存物质名称", "Stored substance", FIRE, 200),
    area("storage_yard_area", "堆场占地面积", "Storage yard area", FIRE),
    text("decoration_parts", "装修部位", "Decorated parts", FIRE, 200),
    area("decoration_area", "装修面积", "Decoration area", FIRE),
    text("fire_facilities", "消防设施", "Fire facilities", FIRE, 500),
    docno("fire_drawing_review_cert_no", "施工图消防设计技术审查合格书编号", "Fire drawing review number", FIRE),
    code("fire_review_result", "消防设计审查结论", "Fire review result", FIRE, "review_result"),
    docno("fire_acceptance_no", "消防验收意见书编号", "Fire acceptance number", FIRE),
    date("fire_acceptance_date", "消防验收日期", "Fire acceptance date", FIRE),
    code("fire_acceptance_result", "消防验收结论", "Fire acceptance result", FIRE, "acceptance_result"),
    docno("fire_filing_no", "消防验收备案号", "Fire filing number", FIRE),
    flag("fire_spot_check_flag", "是否被确定为检查对象", "Selected for spot check", FIRE),
]

CD = "人防工程"
CIVIL_DEFENSE: list[ElementSpec] = [
    docno("civil_defense_filing_no", "人防工程报建编号", "Civil defence filing number", CD, synonyms=("报建编号",)),
    area("civil_defense_area_required", "应建防空地下室面积", "Required shelter area", CD,
         synonyms=("应建建筑面积（人防）",)),
    area("civil_defense_area_designed", "设计防空地下室面积", "Designed shelter area", CD,
         synonyms=("设计建筑面积（人防）",)),
    area("shelter_area", "人防掩蔽面积", "Shelter area", CD),
    code("peacetime_use", "平时用途", "Peacetime use", CD, "peacetime_use"),
    code("protection_grade", "防护等级", "Protection grade", CD, "protection_grade",
         synonyms=("抗力等级", "防护等级（核级/常级）")),
    code("wartime_function", "战时功能", "Wartime function", CD, "wartime_function",
         synonyms=("人防地下室战时用途",)),
    code("chemical_protection_grade", "防化等级", "Chemical protection grade", CD, "chemical_protection_grade"),
    count("protection_unit_count", "防护单元数", "Protection units", CD),
    docno("civil_defense_approval_no", "人防工程审批意见书编号", "Civil defence approval number", CD),
    date("civil_defense_approval_date", "人防工程审批日期", "Civil defence approval date", CD),
    flag("relocation_flag", "是否易地建设", "Built elsewhere", CD),
    money("relocation_fee_due", "应交易地建设费", "Relocation fee due", CD),
    money("relocation_fee_paid", "已交易地建设费", "Relocation fee paid", CD),
    money("relocation_fee_outstanding", "补交易地建设费", "Relocation fee outstanding", CD),
    docno("relocation_fee_receipt_no", "易地建设费缴款书编号", "Relocation fee receipt", CD),
    area("civil_defense_completed_area", "人防地下室竣工总面积", "Completed shelter area", CD),
    area("completed_area_above", "地面建筑竣工总面积", "Completed above-ground area", CD),
    area("completed_area_below", "地下建筑竣工总面积", "Completed underground area", CD),
    number("entrance_x", "主要出入口城市坐标X", "Entrance X", CD, 3, lo=None),
    number("entrance_y", "主要出入口城市坐标Y", "Entrance Y", CD, 3, lo=None),
    length("entrance_elevation", "主要出入口城市高程", "Entrance elevation", CD, min_value=None),
    count("peacetime_entrances", "平时出入口个数", "Peacetime entrances", CD),
    count("wartime_entrances", "战时出入口个数", "Wartime entrances", CD),
    count("wartime_closures", "战时封堵个数", "Wartime closures", CD),
    docno("civil_defense_acceptance_no", "人防工程竣工验收备案编号", "Civil defence acceptance number", CD),
    date("civil_defense_acceptance_date", "人防工程竣工验收日期", "Civil defence acceptance date", CD),
]

LP = "防雷装置"
LIGHTNING: list[ElementSpec] = [
    code("lightning_class", "防雷类别", "Lightning protection class", LP, "lightning_class"),
    docno("lightning_design_approval_no", "防雷装置设计核准意见书编号", "Lightning design approval number", LP,
          synonyms=("《防雷装置设计核准意见书》编号",)),
    date("lightning_design_approval_date", "防雷装置设计核准日期", "Lightning design approval date", LP),
    docno("lightning_test_report_no", "防雷装置检测报告编号", "Lightning test report number", LP,
          synonyms=("《防雷装置检测报告》编号",)),
    docno("lightning_acceptance_no", "防雷装置验收意见书编号", "Lightning acceptance number", LP),
    date("lightning_acceptance_date", "防雷装置验收日期", "Lightning acceptance date", LP),
    code("power_supply_type", "电源情况", "Power supply type", LP, "power_supply_type"),
    code("lightning_use_category", "使用类别", "Use category", LP, "lightning_use_category"),
    text("hazardous_materials", "易燃易爆品、化学危险品情况", "Hazardous materials", LP, 500),
    measure("grounding_resistance", "接地电阻", "Grounding resistance", LP, "Ω"),
]

ENV = "环境影响评价"
ENVIRONMENT: list[ElementSpec] = [
    docno("eia_approval_no", "环评批复文号", "EIA approval number", ENV, synonyms=("环评批文文号", "批文文号")),
    date("eia_approval_date", "环评批复日期", "EIA approval date", ENV),
    code("eia_category", "环评文件类别", "EIA document category", ENV, "eia_category"),
    docno("eia_registration_no", "环境影响登记表备案号", "EIA registration number", ENV),
    money("environmental_investment", "环保投资", "Environmental investment", ENV),
    measure("water_supply_total", "总供水量", "Water supply", ENV, "m³/d"),
    measure("wastewater_total", "废水总排放量", "Wastewater discharge", ENV, "m³/d"),
    text("wastewater_destination", "排水去向", "Wastewater destination", ENV, 200),
    measure("annual_coal_t", "年耗煤量", "Annual coal use", ENV, "t"),
    measure("annual_oil_t", "年耗油量", "Annual oil use", ENV, "t"),
    measure("annual_lpg_t", "年耗液化气量", "Annual LPG use", ENV, "t"),
    text("main_pollutants", "主要污染物", "Main pollutants", ENV, 500),
    docno("emission_permit_no", "排污许可证编号", "Emission permit number", ENV),
    text("pollution_control_measures", "污染防治措施", "Pollution control", ENV, 1000),
]

WATER = "水务审批"
WATER_AFFAIRS: list[ElementSpec] = [
    docno("soil_conservation_approval_no", "水土保持方案批复文号", "Soil conservation approval number", WATER),
    date("soil_conservation_approval_date", "水土保持方案批复日期", "Soil conservation approval date", WATER),
    measure("earthwork_excavation", "土石方开挖量", "Earthwork excavated", WATER, "m³"),
    measure("earthwork_fill", "土石方回填量", "Earthwork filled", WATER, "m³"),
    area("soil_loss_area", "水土流失防治责任范围面积", "Soil-loss responsibility area", WATER),
    money("soil_conservation_fee", "水土保持补偿费", "Soil conservation fee", WATER),
    name("water_body_name", "项目涉及水域名称", "Water body", WATER, 100),
    area("water_area_occupied", "项目占用水域面积", "Water area occupied", WATER),
    code("engineering_grade", "工程等别", "Engineering grade", WATER, "engineering_grade",
         synonyms=("工程等级（别）",)),
    docno("water_intake_permit_no", "取水许可证编号", "Water intake permit number", WATER),
    measure("water_intake_volume", "年取水量", "Annual water intake", WATER, "m³"),
    code("water_source_type", "取水水源类型", "Water source type", WATER, "water_source_type"),
    docno("river_works_approval_no", "涉河建设方案批复文号", "River works approval number", WATER),
    docno("water_plan_consent_no", "水工程建设规划同意书编号", "Water works consent number", WATER),
]

DR = "排水许可"
DRAINAGE: list[ElementSpec] = [
    docno("drainage_permit_no", "排水许可证编号", "Drainage permit number", DR),
    date("drainage_permit_valid_to", "排水许可证有效期至", "Drainage permit valid until", DR),
    code("drainage_category", "排水户类型", "Drainage household type", DR, "drainage_category"),
    measure("water_consumption", "用水量", "Water consumption", DR, "m³/d"),
    measure("discharge_volume", "排水量", "Discharge volume", DR, "m³/d"),
    text("pretreatment_process", "预处理工艺", "Pre-treatment", DR, 200),
    count("discharge_outlet_count", "排放口数量", "Outlets", DR),
    text("drainage_connection_point", "接入市政管网位置", "Connection point", DR, 200),
]

GR = "城市绿化"
GREENING: list[ElementSpec] = [
    text("tree_location_no", "树木座落编号", "Tree location number", GR, 50),
    text("tree_species", "树木品种", "Tree species", GR, 100, synonyms=("品种",)),
    count("tree_count", "树木数量", "Number of trees", GR, "株", synonyms=("数量",)),
    text("tree_spec", "树木规格", "Tree size", GR, 50, synonyms=("规格",)),
    text("tree_destination", "移植去向", "Transplant destination", GR, 200),
    docno("tree_felling_permit_no", "树木砍伐迁移许可编号", "Tree felling permit number", GR),
    area("green_area", "绿地面积", "Green area", GR),
    count("compensation_planting", "补植数量", "Replacement planting", GR, "株"),
    money("greening_compensation_fee", "绿化补偿费", "Greening compensation", GR),
    docno("greening_design_review_no", "附属绿化工程设计方案审查意见编号", "Greening design review", GR),
]

RD = "城市道路挖掘占用"
ROAD_WORKS: list[ElementSpec] = [
    text("excavation_location", "挖掘地点", "Excavation location", RD, 200),
    code("road_category", "道路种类", "Road category", RD, "road_category"),
    area("road_excavation_area", "挖掘面积", "Excavation area (road)", RD),
    date("road_works_start", "占用挖掘开始日期", "Works start", RD),
    date("road_works_end", "占用挖掘结束日期", "Works end", RD),
    docno("road_excavation_permit_no", "挖掘城市道路许可编号", "Road excavation permit", RD),
    docno("road_occupation_permit_no", "临时占用城市道路许可编号", "Road occupation permit", RD),
    area("road_occupation_area", "临时占用面积", "Occupied area", RD),
    money("road_restoration_fee", "道路挖掘修复费", "Road restoration fee", RD),
    text("traffic_police_opinion", "公安交通管理部门意见", "Traffic police opinion", RD, 500),
]

TR = "涉路涉航审批"
TRANSPORT: list[ElementSpec] = [
    docno("road_admin_permit_no", "涉路施工许可编号", "Road administration permit", TR, synonyms=("路政许可编号",)),
    name("highway_name", "涉及公路名称", "Highway", TR, 100),
    text("highway_stake_range", "桩号范围", "Stake range", TR, 100),
    docno("waterway_assessment_no", "航道通航条件影响评价审核意见编号", "Waterway assessment number", TR),
    name("waterway_name", "航道名称", "Waterway", TR, 100),
    length("navigation_clearance", "通航净空高度", "Navigation clearance", TR),
]

SF = "安全设施审查"
SAFETY: list[ElementSpec] = [
    docno("safety_facility_approval_no", "安全设施设计审查意见书编号", "Safety facility approval number", SF),
    docno("safety_condition_review_no", "安全条件审查意见书编号", "Safety condition review number", SF),
    flag("hazardous_chemical_flag", "是否涉及危险化学品", "Hazardous chemicals", SF),
    flag("major_hazard_flag", "是否构成重大危险源", "Major hazard", SF),
    code("safety_project_type", "安全审查项目类型", "Safety project type", SF, "safety_project_type"),
    money("safety_investment", "安全设施投资", "Safety investment", SF),
]

FO = "使用林地"
FOREST: list[ElementSpec] = [
    docno("forest_land_permit_no", "使用林地审核同意书文号", "Forest land permit number", FO),
    area("forest_land_area", "使用林地面积", "Forest land area", FO),
    date("forest_land_start", "使用林地期限起", "Forest use from", FO),
    date("forest_land_end", "使用林地期限止", "Forest use until", FO),
    money("vegetation_restoration_fee", "森林植被恢复费", "Vegetation restoration fee", FO),
    text("forest_land_location", "林地坐落", "Forest land location", FO, 200),
    code("forest_type", "林地类型", "Forest land type", FO, "forest_type"),
]

HE = "文物保护"
HERITAGE: list[ElementSpec] = [
    name("heritage_unit_name", "涉及文物保护单位名称", "Heritage site", HE),
    text("heritage_protection_zone", "文物保护范围及建设控制地带", "Protection zone", HE, 500,
         synonyms=("文物保护范围",)),
    docno("archaeology_report_no", "考古勘探报告编号", "Archaeology report number", HE),
    text("archaeology_conclusion", "考古勘探结论", "Archaeology conclusion", HE, 1000),
    area("archaeology_area", "考古勘探面积", "Archaeology area", HE),
    docno("heritage_approval_no", "文物部门审批意见文号", "Heritage approval number", HE),
]

FR = "财政投资评审"
FIN_REVIEW: list[ElementSpec] = [
    code("fiscal_review_type", "评审类型", "Review type", FR, "fiscal_review_type"),
    money("declared_amount", "申报金额", "Declared amount", FR, definition="送审金额（元）"),
    money("estimate_approved_amount", "概算审定金额", "Approved estimate", FR),
    money("budget_approved_amount", "预算审定金额", "Approved budget", FR),
    money("settlement_approved_amount", "结算审定金额", "Approved settlement", FR),
    money("review_reduction", "审减金额", "Reduction", FR),
    pct("review_reduction_rate", "审减率", "Reduction rate", FR),
    docno("fiscal_review_report_no", "评审报告编号", "Review report number", FR),
    date("fiscal_review_date", "评审完成日期", "Review date", FR),
    docno("archive_no", "档案编号", "Archive number", FR),
]

BD = "工程招投标"
BIDDING: list[ElementSpec] = [
    docno("tender_filing_no", "招标备案编号", "Tender filing number", BD),
    name("bid_section_name", "标段名称", "Bid section", BD),
    docno("bid_section_no", "标段编号", "Bid section number", BD, 30),
    text("tender_scope", "招标范围", "Tender scope", BD, 500),
    money("tender_control_price", "招标控制价", "Control price", BD),
    date("tender_announcement_date", "招标公告发布日期", "Announcement date", BD),
    date("bid_opening_date", "开标日期", "Bid opening date", BD),
    text("bid_evaluation_method", "评标办法", "Evaluation method", BD, 100),
    count("bidder_count", "投标人数量", "Number of bidders", BD, "家"),
    money("bid_price", "中标价", "Winning bid", BD, synonyms=("中标金额",)),
    docno("bid_award_notice_no", "中标通知书编号", "Award notice number", BD),
    date("bid_award_date", "中标通知书发出日期", "Award date", BD),
    count("bid_duration_days", "投标工期", "Bid duration", BD, "天"),
]

ALL_REVIEWS = (FIRE_REVIEW + CIVIL_DEFENSE + LIGHTNING + ENVIRONMENT + WATER_AFFAIRS + DRAINAGE + GREENING
               + ROAD_WORKS + TRANSPORT + SAFETY + FOREST + HERITAGE + FIN_REVIEW + BIDDING)
