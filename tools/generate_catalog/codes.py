"""Code lists (GB/T 2260, GB/T 4754-2017 and the domain lists the forms use) and department crosswalks.

GB/T 2260 comes from shared/reference/jinan_division_codes.csv with its history: an abolished code
keeps its validity years and names its successor. 370171 (济南高新区) is an NBS statistical code,
not a GB/T 2260 division, so it lives in its own ``functional_zone`` list.
GB/T 4754-2017 codes are written section letter + digits at every level: ``A``, ``A01``, ``A011``,
``A0111`` (the "A0111 style" seen in real systems); the parent is the level above.
"""

from __future__ import annotations

import csv
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"  # a copy of the shared reference facts

# list id -> (name_zh, name_en, version, standard, source, [(code, name_zh)])
DOMAIN: dict[str, tuple[str, str, str, str, list[tuple[str, str]]]] = {
    "construction_nature": ("建设性质", "Construction nature", "V1.0", "",
                            [("01", "新建"), ("02", "扩建"), ("03", "改建"), ("04", "迁建"), ("05", "续建"),
                             ("06", "恢复")]),
    "project_type": ("项目类型", "Project type", "V1.0", "",
                     [("1", "审批类"), ("2", "核准类"), ("3", "备案类")]),
    "structure_type": ("结构类型", "Structure type", "V1.1", "",
                       [("01", "砖混结构"), ("02", "框架结构"), ("03", "框架-剪力墙结构"), ("04", "剪力墙结构"),
                        ("05", "钢结构"), ("06", "砖木结构"), ("07", "钢筋混凝土结构"), ("08", "钢-混凝土混合结构"),
                        ("09", "框架-核心筒结构"), ("99", "其他结构")]),
    "fire_resistance": ("耐火等级", "Fire resistance rating", "V1.0", "GB 50016",
                        [("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级")]),
    "land_use": ("土地利用现状分类", "Land use classification", "V1.0", "GB/T 21010-2017",
                 [("05", "商服用地"), ("0501", "零售商业用地"), ("0502", "批发市场用地"), ("0503", "餐饮用地"),
                  ("0504", "旅馆用地"), ("0505", "商务金融用地"), ("0506", "娱乐用地"), ("0507", "其他商服用地"),
                  ("06", "工矿仓储用地"), ("0601", "工业用地"), ("0602", "采矿用地"), ("0604", "仓储用地"),
                  ("07", "住宅用地"), ("0701", "城镇住宅用地"), ("0702", "农村宅基地"),
                  ("08", "公共管理与公共服务用地"), ("0801", "机关团体用地"), ("0802", "新闻出版用地"),
                  ("0803", "教育用地"), ("0804", "科研用地"), ("0805", "医疗卫生用地"), ("0806", "社会福利用地"),
                  ("0807", "文化设施用地"), ("0808", "体育用地"), ("0809", "公用设施用地"), ("0810", "公园与绿地"),
                  ("09", "特殊用地"), ("10", "交通运输用地"), ("1003", "公路用地"), ("1004", "城镇村道路用地"),
                  ("1005", "交通服务场站用地"), ("11", "水域及水利设施用地"), ("12", "其他土地")]),
    "fund_source": ("资金来源", "Source of funds", "V1.0", "",
                    [("1", "财政性资金"), ("2", "自有资金"), ("3", "银行贷款"), ("4", "债券"), ("5", "外资"),
                     ("9", "其他")]),
    "id_doc_type": ("证件类型", "ID document type", "V1.0", "GA/T 517",
                    [("111", "居民身份证"), ("414", "普通护照"), ("516", "港澳居民来往内地通行证"),
                     ("511", "台湾居民来往大陆通行证"), ("554", "外国人永久居留身份证"), ("990", "其他")]),
    "enterprise_type": ("企业类型", "Enterprise type", "V1.0", "市场主体登记类型",
                        [("1100", "有限责任公司"), ("1110", "有限责任公司（国有独资）"),
                         ("1130", "有限责任公司（自然人投资或控股）"), ("1200", "股份有限公司"),
                         ("1210", "股份有限公司（上市）"), ("3100", "全民所有制企业"), ("3200", "集体所有制企业"),
                         ("4100", "个人独资企业"), ("4200", "合伙企业"), ("5100", "有限责任公司（外商投资）"),
                         ("9100", "个体工商户")]),
    "investment_nature": ("投资性质", "Investment nature", "V1.0", "",
                          [("1", "财政投入"), ("2", "国有资本"), ("3", "集体资本"), ("4", "民营资本"),
                           ("5", "外商投资"), ("6", "混合经济")]),
    "ownership_type": ("单位性质", "Ownership type", "V1.0", "",
                       [("1", "国有"), ("2", "集体"), ("3", "私营"), ("4", "股份制"), ("5", "外商投资"),
                        ("6", "港澳台投资"), ("9", "其他")]),
    "legal_entity_type": ("法人类型", "Legal entity type", "V1.0", "",
                          [("1", "企业法人"), ("2", "机关法人"), ("3", "事业单位法人"), ("4", "社会团体法人"),
                           ("9", "其他组织")]),
    "engineering_category": ("工程类别", "Engineering category", "V1.0", "",
                             [("1", "房屋建筑工程"), ("2", "市政基础设施工程"), ("9", "其他")]),
    "building_use": ("工程用途", "Building use", "V1.0", "",
                     [("01", "住宅"), ("02", "办公"), ("03", "商业"), ("04", "工业厂房"), ("05", "仓储"),
                      ("06", "教育"), ("07", "医疗卫生"), ("08", "文化体育"), ("09", "交通"), ("10", "综合"),
                      ("99", "其他")]),
    "procurement_method": ("发包方式", "Procurement method", "V1.0", "",
                           [("1", "公开招标"), ("2", "邀请招标"), ("3", "直接发包")]),
    "qualification_grade": ("资质等级", "Qualification grade", "V1.0", "",
                            [("00", "特级"), ("01", "一级"), ("02", "二级"), ("03", "三级"), ("11", "甲级"),
                             ("12", "乙级"), ("13", "丙级"), ("21", "不分等级")]),
    "registration_grade": ("注册等级", "Registration grade", "V1.0", "", [("1", "一级"), ("2", "二级")]),
    "title_grade": ("职称等级", "Professional title grade", "V1.0", "",
                    [("1", "正高级"), ("2", "副高级"), ("3", "中级"), ("4", "初级")]),
    "lightning_class": ("防雷类别", "Lightning protection class", "V1.0", "GB 50057",
                        [("1", "第一类防雷建筑物"), ("2", "第二类防雷建筑物"), ("3", "第三类防雷建筑物")]),
    "lightning_use_category": ("防雷使用类别", "Lightning use category", "V1.0", "",
                               [("1", "民用建筑"), ("2", "工业建筑"), ("3", "易燃易爆场所"), ("9", "其他")]),
    "power_supply_type": ("电源情况", "Power supply type", "V1.0", "",
                          [("1", "架空进线"), ("2", "自设变配电"), ("3", "埋地进线")]),
    "protection_grade": ("人防防护等级", "Shelter protection grade", "V1.0", "",
                         [("H5", "核5级"), ("H6", "核6级"), ("H6B", "核6B级"), ("C5", "常5级"), ("C6", "常6级")]),
    "chemical_protection_grade": ("防化等级", "Chemical protection grade", "V1.0", "",
                                  [("1", "甲级"), ("2", "乙级"), ("3", "丙级"), ("4", "丁级")]),
    "wartime_function": ("战时功能", "Wartime function", "V1.0", "",
                         [("01", "二等人员掩蔽所"), ("02", "一等人员掩蔽所"), ("03", "物资库"),
                          ("04", "专业队队员掩蔽部"), ("05", "医疗救护站"), ("06", "防空专业队装备掩蔽部"),
                          ("99", "其他")]),
    "peacetime_use": ("平时用途", "Peacetime use", "V1.0", "",
                      [("01", "汽车库"), ("02", "商业"), ("03", "仓储"), ("04", "设备用房"), ("99", "其他")]),
    "acceptance_result": ("验收结论", "Acceptance result", "V1.0", "", [("1", "合格"), ("2", "不合格")]),
    "review_result": ("审查结论", "Review result", "V1.0", "",
                      [("1", "通过"), ("2", "修改后通过"), ("3", "不通过")]),
    "foundation_type": ("基础类型", "Foundation type", "V1.0", "",
                        [("01", "独立基础"), ("02", "条形基础"), ("03", "筏板基础"), ("04", "桩基础"),
                         ("05", "箱形基础"), ("99", "其他")]),
    "occupancy_type": ("人员密集场所类型", "Crowded-place type", "V1.0", "",
                       [("00", "非人员密集场所"), ("01", "体育场馆、会堂、公共展览馆"),
                        ("02", "航站楼、客运车站候车室"), ("03", "宾馆、饭店、商场、市场"),
                        ("04", "影剧院、图书馆阅览室、室内健身场所"), ("05", "医院、养老院、托儿所、幼儿园"),
                        ("06", "学校教学楼、图书馆、食堂、宿舍"), ("07", "歌舞娱乐放映游艺场所"), ("99", "其他")]),
    "fire_review_category": ("消防审查类别", "Fire review category", "V1.0", "",
                             [("1", "新建"), ("2", "扩建"), ("3", "改建"), ("4", "装修"), ("5", "建筑保温"),
                              ("6", "改变用途")]),
    "building_height_class": ("建筑分类（消防）", "Building class (fire code)", "V1.0", "GB 50016",
                              [("1", "一类高层"), ("2", "二类高层"), ("3", "多层"), ("4", "单层"), ("5", "地下")]),
    "fire_hazard_category": ("火灾危险性类别", "Fire hazard category", "V1.0", "GB 50016",
                             [("1", "甲"), ("2", "乙"), ("3", "丙"), ("4", "丁"), ("5", "戊")]),
    "insulation_fire_grade": ("燃烧性能等级", "Reaction-to-fire class", "V1.0", "GB 8624",
                              [("A", "A级"), ("B1", "B1级"), ("B2", "B2级"), ("B3", "B3级")]),
    "seismic_intensity": ("抗震设防烈度", "Seismic intensity", "V1.0", "GB 50011",
                          [("6", "6度"), ("7", "7度"), ("8", "8度"), ("9", "9度")]),
    "energy_standard": ("节能设计标准", "Energy design standard", "V1.0", "",
                        [("1", "节能65%"), ("2", "节能75%"), ("3", "超低能耗"), ("4", "近零能耗")]),
    "green_building_grade": ("绿色建筑等级", "Green building grade", "V1.0", "GB/T 50378",
                             [("0", "基本级"), ("1", "一星级"), ("2", "二星级"), ("3", "三星级")]),
    "land_supply_method": ("供地方式", "Land supply method", "V1.0", "",
                           [("1", "划拨"), ("2", "招标出让"), ("3", "拍卖出让"), ("4", "挂牌出让"),
                            ("5", "协议出让"), ("6", "租赁"), ("9", "其他")]),
    "current_land_category": ("现状土地类别", "Current land category", "V1.0", "",
                              [("1", "旧城区"), ("2", "村庄"), ("3", "荒地"), ("4", "工厂"), ("5", "耕地"),
                               ("9", "其他")]),
    "currency": ("币种", "Currency", "V1.0", "GB/T 12406",
                 [("CNY", "人民币"), ("USD", "美元"), ("HKD", "港元"), ("EUR", "欧元"), ("JPY", "日元")]),
    "enterprise_status": ("登记状态", "Registration status", "V1.0", "",
                          [("1", "存续（在营、开业、在册）"), ("2", "吊销"), ("3", "注销"), ("4", "迁出"),
                           ("9", "其他")]),
    "tax_credit_grade": ("纳税信用等级", "Tax credit grade", "V1.0", "",
                         [("A", "A级"), ("B", "B级"), ("M", "M级"), ("C", "C级"), ("D", "D级")]),
    "taxpayer_type": ("纳税人类型", "Taxpayer type", "V1.0", "", [("1", "一般纳税人"), ("2", "小规模纳税人")]),
    "eia_category": ("环评文件类别", "EIA document category", "V1.0", "",
                     [("1", "环境影响报告书"), ("2", "环境影响报告表"), ("3", "环境影响登记表")]),
    "voltage_level": ("电压等级", "Voltage level", "V1.0", "",
                      [("01", "220V"), ("02", "380V"), ("03", "10kV"), ("04", "35kV"), ("05", "110kV")]),
    "road_category": ("道路种类", "Road category", "V1.0", "CJJ 37",
                      [("1", "快速路"), ("2", "主干路"), ("3", "次干路"), ("4", "支路"), ("5", "人行道")]),
    "registration_region": ("企业注册所在地", "Registration region", "V1.0", "",
                            [("1", "省内"), ("2", "省外"), ("3", "中央企业"), ("4", "境外")]),
    "supervision_scope": ("申报监督内容", "Supervision scope", "V1.0", "",
                          [("1", "质量监督"), ("2", "安全监督"), ("3", "质量安全监督")]),
    "pipeline_category": ("管线类别", "Pipeline category", "V1.0", "",
                          [("1", "电力"), ("2", "通信"), ("3", "给水"), ("4", "排水"), ("5", "防洪"),
                           ("6", "燃气"), ("7", "热力")]),
    "advance_funding": ("垫资情况", "Advance funding", "V1.0", "",
                        [("1", "不垫资"), ("2", "部分垫资"), ("3", "全额垫资")]),
    "drainage_category": ("排水户类型", "Drainage household type", "V1.0", "",
                          [("1", "工业"), ("2", "建筑施工"), ("3", "餐饮"), ("4", "医疗"), ("5", "洗车"),
                           ("9", "其他")]),
    "forest_type": ("林地类型", "Forest land type", "V1.0", "",
                    [("1", "防护林地"), ("2", "特种用途林地"), ("3", "用材林地"), ("4", "经济林地"),
                     ("9", "其他林地")]),
    "water_source_type": ("取水水源类型", "Water source", "V1.0", "", [("1", "地表水"), ("2", "地下水")]),
    "engineering_grade": ("水利工程等别", "Hydraulic engineering grade", "V1.0", "SL 252",
                          [("I", "Ⅰ等"), ("II", "Ⅱ等"), ("III", "Ⅲ等"), ("IV", "Ⅳ等"), ("V", "Ⅴ等")]),
    "safety_project_type": ("安全审查项目类型", "Safety review project type", "V1.0", "",
                            [("1", "危险化学品生产"), ("2", "危险化学品储存"), ("3", "金属冶炼"), ("9", "其他")]),
    "fiscal_review_type": ("评审类型", "Review type", "V1.0", "",
                           [("1", "概算"), ("2", "预算"), ("3", "结算"), ("4", "决算")]),
    "case_status": ("办件状态", "Case status", "V1.0", "",
                    [("1", "已受理"), ("2", "办理中"), ("3", "已办结"), ("4", "不予受理"), ("5", "退回补正")]),
    "approval_stage": ("审批阶段", "Approval stage", "V1.0", "",
                       [("1", "立项用地规划许可"), ("2", "工程建设许可"), ("3", "施工许可"), ("4", "竣工验收")]),
    "right_type": ("权利类型", "Right type", "V1.0", "",
                   [("3", "国有建设用地使用权"), ("4", "国有建设用地使用权/房屋所有权"), ("9", "其他")]),
    "right_nature": ("权利性质", "Right nature", "V1.0", "",
                     [("101", "划拨"), ("102", "出让"), ("103", "租赁"), ("199", "其他")]),
    "co_ownership": ("共有情况", "Co-ownership", "V1.0", "", [("0", "单独所有"), ("1", "共同共有"), ("2",
    "按份共有")]),
    "registration_type": ("登记类型", "Registration type", "V1.0", "",
                          [("100", "首次登记"), ("200", "转移登记"), ("300", "变更登记"), ("700", "抵押登记")]),
    "coordinate_system": ("坐标系", "Coordinate system", "V1.0", "",
                          [("1", "2000国家大地坐标系"), ("2", "济南城市坐标系"), ("3", "1980西安坐标系"),
                           ("4", "1954北京坐标系")]),
    "place_name_category": ("地名类别", "Place-name category", "V1.0", "",
                            [("1", "居民区"), ("2", "建筑物"), ("3", "道路街巷")]),
    "industrial_policy": ("产业结构调整指导目录类别", "Industrial policy category", "V1.0", "",
                          [("1", "鼓励类"), ("2", "限制类"), ("3", "淘汰类"), ("4", "允许类")]),
}

# crosswalk id -> (system_id, code list, [(native value, canonical code)])
CROSSWALKS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "xw_ndrc_construction_nature": ("ndrc_investment", "construction_nature",
                                    [("新建", "01"), ("扩建", "02"), ("改建", "03"), ("迁建", "04"), ("续建", "05")]),
    "xw_ndrc_project_type": ("ndrc_investment", "project_type", [("审批类", "1"), ("核准类", "2"), ("备案类", "3")]),
    "xw_hcb_structure_type": ("hcb_construction_permit", "structure_type",
                              [("A", "01"), ("B", "02"), ("C", "03"), ("D", "05")]),
    "xw_hcb_building_use": ("hcb_construction_permit", "building_use",
                            [("住宅", "01"), ("厂房", "04"), ("公共建筑", "10"), ("其他", "99")]),
    "xw_hcb_construction_nature": ("hcb_construction_permit", "construction_nature",
                                   [("新建", "01"), ("扩建", "02"), ("改建", "03"), ("续建", "05")]),
    "xw_met_structure_type": ("met_lightning", "structure_type",
                              [("A", "06"), ("B", "01"), ("C", "07"), ("D", "05")]),
    "xw_met_power_supply_type": ("met_lightning", "power_supply_type", [("A", "1"), ("B", "2"), ("C", "3")]),
    "xw_hqs_structure_type": ("hcb_quality_safety", "structure_type",
                              [("砖混", "01"), ("框架", "02"), ("框剪", "03"), ("剪力墙", "04"), ("钢结构", "05"),
                               ("框架核心筒", "09"), ("其他", "99")]),
    "xw_hqs_investment_nature": ("hcb_quality_safety", "investment_nature",
                                 [("财政投入", "1"), ("国有资本", "2"), ("集体资本", "3"), ("民营资本", "4"),
                                  ("外商投资", "5"), ("混合经济", "6")]),
    "xw_hcbc_structure_type": ("hcb_completion", "structure_type",
                               [("砖混结构", "01"), ("框架结构", "02"), ("框架剪力墙结构", "03"), ("剪力墙结构",
                               "04"),
                                ("钢结构", "05"), ("砖木结构", "06"), ("钢筋混凝土结构", "07")]),
    "xw_fire_fire_resistance": ("hcb_fire_review", "fire_resistance",
                                [("一级", "1"), ("二级", "2"), ("三级", "3"), ("四级", "4")]),
    "xw_nrp_land_use": ("nrp_site_planning", "land_use",
                        [("机关事业单位办公用地", "0801"), ("工业用地", "0601"), ("住宅用地", "0701"),
                         ("商业用地", "05"), ("教育用地", "0803"), ("医疗卫生用地", "0805"), ("仓储用地", "0604"),
                         ("道路用地", "1004"), ("公园绿地", "0810")]),
    "xw_cda_protection_grade": ("cda_civil_defense", "protection_grade",
                                [("核5级", "H5"), ("核6级", "H6"), ("核6B级", "H6B"), ("常5级", "C5"), ("常6级",
                                "C6")]),
    "xw_prtc_procurement_method": ("prtc_bidding", "procurement_method",
                                   [("公开招标", "1"), ("邀请招标", "2"), ("直接发包", "3"), ("直接委托", "3")]),
    "xw_amr_enterprise_status": ("amr_enterprise", "enterprise_status",
                                 [("存续", "1"), ("在营（开业）企业", "1"), ("吊销，未注销", "2"), ("注销", "3"),
                                  ("迁出", "4")]),
    "xw_fb_division": ("fb_forest_land", "gb2260",
                       [("历下区", "370102"), ("市中区", "370103"), ("槐荫区", "370104"), ("天桥区", "370105"),
                        ("历城区", "370112"), ("长清区", "370113"), ("章丘区", "370114"), ("章丘市", "370181"),
                        ("济阳区", "370115"), ("济阳县", "370125"), ("莱芜区", "370116"), ("钢城区", "370117"),
                        ("平阴县", "370124"), ("商河县", "370126")]),
    "xw_asb_functional_zone": ("asb_one_window", "functional_zone", [("370176", "370171"), ("370171", "370171")]),
    "xw_glb_division": ("glb_greening", "gb2260",
                        [("历下区", "370102"), ("市中区", "370103"), ("槐荫区", "370104"), ("天桥区", "370105"),
                         ("历城区", "370112"), ("长清区", "370113"), ("章丘区", "370114"), ("济阳区", "370115"),
                         ("莱芜区", "370116"), ("钢城区", "370117"), ("平阴县", "370124"), ("商河县", "370126")]),
    "xw_tax_credit_grade": ("tax_credit", "tax_credit_grade",
                            [("A级", "A"), ("B级", "B"), ("M级", "M"), ("C级", "C"), ("D级", "D")]),
}

# which crosswalk a system's fields use for a code list (system_id, code list) -> crosswalk id
SYSTEM_CROSSWALK: dict[tuple[str, str], str] = {(s, cl): xw for xw, (s, cl, _) in CROSSWALKS.items()}


def gb2260_codes() -> list[dict[str, str]]:
    """GB/T 2260 codes for Jinan with validity years and successors; 370171 is left out (not a division)."""
    rows = []
    with (REFERENCE / "jinan_division_codes.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["code"] == "370171":
                continue
            parent = "" if r["code"] == "370000" else ("370000" if r["code"].endswith("00") else
                                                        r["code"][:4] + "00")
            rows.append({"code": r["code"], "name_zh": r["name"], "parent": parent,
                         "valid_from": r["valid_from"], "valid_to": r["valid_to"], "successor": r["successor_code"]})
    return rows


def functional_zone_codes() -> list[dict[str, str]]:
    """Statistical functional-zone codes (NBS 统计用区划代码) that real records carry beside GB/T 2260."""
    return [{"code": "370171", "name_zh": "济南高新技术产业开发区", "parent": "370100", "valid_from": "",
             "valid_to": "", "successor": ""}]


def gb4754_codes() -> list[dict[str, str]]:
    """GB/T 4754-2017, every level, coded section letter + digits (A, A01, A011, A0111)."""
    rows = []
    with (REFERENCE / "gbt4754_2017_industries.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            sec, div, grp, cls = r["section"], r["division"], r["group"], r["class"]
            level = int(r["level"])
            code_ = sec + {1: "", 2: div, 3: grp, 4: cls}[level]
            parent = {1: "", 2: sec, 3: sec + div, 4: sec + grp}[level]
            rows.append({"code": code_, "name_zh": r["name"], "parent": parent, "valid_from": "2017",
                         "valid_to": "", "successor": ""})
    return rows


def code_lists() -> list[dict[str, object]]:
    """Every code list: id, names, version, standard, source and its codes."""
    out: list[dict[str, object]] = [
        {"code_list_id": "gb2260", "name_zh": "县以上行政区划代码", "name_en": "Administrative division codes",
         "version": "2023", "standard": "GB/T 2260", "source": "shared/reference/jinan_division_codes.csv",
         "codes": gb2260_codes()},
        {"code_list_id": "functional_zone", "name_zh": "功能区统计用代码", "name_en": "Functional zone codes",
         "version": "V1.0", "standard": "统计用区划代码",
         "source": "shared/reference/jinan_division_codes.csv", "codes": functional_zone_codes()},
        {"code_list_id": "gb4754", "name_zh": "国民经济行业分类", "name_en": "Industrial classification",
         "version": "2017", "standard": "GB/T 4754-2017", "source": "shared/reference/gbt4754_2017_industries.csv",
         "codes": gb4754_codes()},
    ]
    for cl, (zh, en, version, standard, codes) in DOMAIN.items():
        out.append({"code_list_id": cl, "name_zh": zh, "name_en": en, "version": version, "standard": standard,
                    "source": "shared/reference/form_fields.csv",
                    "codes": [{"code": c, "name_zh": n, "parent": (c[:2] if cl == "land_use" and len(c) == 4 else ""),
                               "valid_from": "", "valid_to": "", "successor": ""} for c, n in codes]})
    return out
