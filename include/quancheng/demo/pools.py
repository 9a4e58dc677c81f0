"""The people, enterprises and construction projects the demo world's systems all talk about.

Every departmental record is about one entity of these pools, so one project appears in many systems
under the same 投资项目代码 and the same enterprise under the same 统一社会信用代码. Rules:

- projects are approved between 2015 and 2025 and move through the four stages (立项用地 -> 工程建设 ->
  施工 -> 竣工验收); a stage is reached when its date falls before the world's interval end; project
  codes are old-generation before November 2020 and new-generation after;
- a project's division code is the one valid when it was approved: 章丘市 370181 before 2016,
  莱芜市 371202/371203 before 2019, 济阳县 370125 before 2018, today's codes after;
- enterprises carry a valid 统一社会信用代码 (some with N/Y/A authorities), the embedded GB 11714 code and,
  for older ones, a 15-digit 工商注册号; a credit code keeps the division of first registration;
- persons carry a valid 18-digit 身份证号 (their 15-digit form is derivable) from their birthplace,
  including abolished Jinan codes.

Pools are pure functions of ``(seed, size)``: each attribute has its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from quancheng.demo import idgen

CURRENT_DIVISIONS = ["370102", "370103", "370104", "370105", "370112", "370113", "370114", "370115",
                     "370116", "370117", "370124", "370126"]
DIVISION_NAMES = {"370102": "历下区", "370103": "市中区", "370104": "槐荫区", "370105": "天桥区",
                  "370112": "历城区", "370113": "长清区", "370114": "章丘区", "370115": "济阳区",
                  "370116": "莱芜区", "370117": "钢城区", "370124": "平阴县", "370126": "商河县",
                  "370181": "章丘市", "371202": "莱城区", "371203": "钢城区", "370125": "济阳县"}
# current code -> (code used before, until when)
HISTORIC = {"370114": ("370181", date(2016, 8, 1)), "370116": ("371202", date(2019, 1, 9)),
            "370117": ("371203", date(2019, 1, 9)), "370115": ("370125", date(2018, 7, 1))}
OLD_ADDRESS_PREFIX = {"370181": "济南市章丘市", "371202": "莱芜市莱城区", "371203": "莱芜市钢城区",
                      "370125": "济南市济阳县"}
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红文斌玉亮成新海波宁鹏飞燕")
BRANDS = ["鲁信", "泉城", "齐鲁", "华建", "中建", "舜耕", "泺源", "历山", "大明湖", "千佛山", "海岱", "明泉",
          "金鼎", "恒丰", "宏远", "瑞通", "鸿润", "德信", "众诚", "泰和", "嘉盛", "东岳", "黄河", "章丘"]
TRADES = ["建筑工程", "建设集团", "工程设计", "勘察测绘", "工程监理", "建设工程咨询", "城市建设投资",
          "房地产开发", "置业", "科技", "新材料", "机械制造", "电力工程", "市政工程", "环保科技", "物流"]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]
PLACES = ["经十路", "工业南路", "旅游路", "二环东路", "北园大街", "济泺路", "世纪大道", "凤鸣路", "汇源大街",
          "明水大道", "花园路", "舜华路", "新泺大街", "春晖路", "龙山路"]
PROJECT_THINGS = ["综合楼", "产业园", "安置房", "标准厂房", "学校教学楼", "医院门诊楼", "商业综合体", "物流园",
                  "污水处理厂", "道路改造", "人才公寓", "数据中心", "体育馆", "养老服务中心", "住宅小区"]
PROJECT_TAILS = ["项目", "建设项目", "一期工程", "二期工程", "改扩建工程", "新建工程"]
ORG_GRADES = ["特级", "一级", "二级", "三级", "甲级", "乙级", "丙级"]


def rng_for(seed: int, tag: str) -> np.random.Generator:
    return np.random.default_rng([seed, *tag.encode()])


def division_at(current: str, when: date) -> str:
    old = HISTORIC.get(current)
    return old[0] if old and when < old[1] else current


def _dates(rng: np.random.Generator, start: date, end: date, n: int) -> list[date]:
    span = (end - start).days
    return [start + timedelta(days=int(d)) for d in rng.integers(0, span, n)]


def person_name(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN + [""] * 12, n)
    return [a + b + c for a, b, c in zip(s, g1, g2, strict=True)]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    prefix = rng.choice(["135", "137", "138", "139", "150", "151", "152", "158", "177", "186", "188"], n)
    mobile = [f"{p}{d:08d}" for p, d in zip(prefix, rng.integers(0, 10**8, n), strict=True)]
    landline = [f"0531-{d:08d}" for d in rng.integers(80000000, 89999999, n)]
    use_mobile = rng.random(n) < 0.7
    return [m if u else ln for m, ln, u in zip(mobile, landline, use_mobile, strict=True)]


def addresses(rng: np.random.Generator, divisions: list[str]) -> list[str]:
    n = len(divisions)
    road = rng.choice(PLACES, n)
    no = rng.integers(1, 3000, n)
    return [f"{OLD_ADDRESS_PREFIX.get(d, '山东省济南市' + DIVISION_NAMES.get(d, ''))}{r}{k}号"
            for d, r, k in zip(divisions, road, no, strict=True)]


@dataclass
class Persons:
    name: list[str]
    ric: list[str]
    ric15: list[str]  # the same person's old 15-digit number
    birth: list[date]
    phone: list[str]
    address: list[str]

    @property
    def size(self) -> int:
        return len(self.name)


@dataclass
class Enterprises:
    name: list[str]
    uscc: list[str]
    org_code: list[str]
    reg_no: list[str]  # 15-digit registration number, "" for those registered after 2015
    established: list[date]
    division: list[str]  # current division of the registered address
    address: list[str]
    legal_rep: np.ndarray  # person index
    contact: np.ndarray  # person index
    phone: list[str]
    grade: list[str]
    cert_no: list[str]
    capital_wan: np.ndarray  # registered capital in 万元

    @property
    def size(self) -> int:
        return len(self.name)


@dataclass
class Projects:
    code: list[str]
    name: list[str]
    stage_dates: np.ndarray  # (n, 4) days since 1970 of reaching each stage
    reached: np.ndarray  # highest stage order reached (1..4)
    division: list[str]  # current division of the site
    owner: np.ndarray  # enterprise index of the 建设单位
    construction_permit: list[str]
    planning_permit: list[str]
    roles: dict[str, np.ndarray] = field(default_factory=dict)  # party role -> enterprise index

    @property
    def size(self) -> int:
        return len(self.code)


def make_persons(seed: int, n: int) -> Persons:
    r = rng_for(seed, "persons")
    births = _dates(rng_for(seed, "persons.birth"), date(1950, 1, 1), date(1999, 12, 31), n)
    places = rng_for(seed, "persons.place").choice(
        [*CURRENT_DIVISIONS, "370181", "371202", "371203", "370125", "370802", "370303", "510103"], n)
    seqs = rng_for(seed, "persons.seq").integers(0, 1000, n)
    ric = [idgen.ric18(p, b, int(s)) for p, b, s in zip(places, births, seqs, strict=True)]
    ric15 = [idgen.ric15(p, b, int(s)) for p, b, s in zip(places, births, seqs, strict=True)]
    return Persons(person_name(r, n), ric, ric15, births, phones(rng_for(seed, "persons.phone"), n),
                   addresses(rng_for(seed, "persons.addr"), list(places)))


def make_enterprises(seed: int, n: int, persons: Persons) -> Enterprises:
    r = rng_for(seed, "enterprises")
    est = _dates(rng_for(seed, "ent.est"), date(1995, 1, 1), date(2024, 12, 31), n)
    current = list(rng_for(seed, "ent.div").choice(CURRENT_DIVISIONS, n))
    reg_div = [division_at(c, e) for c, e in zip(current, est, strict=True)]
    kinds = rng_for(seed, "ent.kind").choice(["91", "91", "91", "91", "92", "93", "12", "52", "N2", "Y1", "A1"], n)
    orgs = [idgen.org_code(r, new_style=e >= date(2015, 10, 1)) for e in est]
    usccs = [idgen.uscc(str(k), d, o) for k, d, o in zip(kinds, reg_div, orgs, strict=True)]
    reg_nos = [idgen.reg_no15(d, int(i)) if e < date(2015, 10, 1) else ""
               for d, i, e in zip(reg_div, r.integers(0, 10**8, n), est, strict=True)]
    rn = rng_for(seed, "ent.name")
    prefix = rn.choice(["济南", "山东", "济南市", "山东省", ""], n)
    bracket = rn.random(n) < 0.1
    brand, trade, suffix = rn.choice(BRANDS, n), rn.choice(TRADES, n), rn.choice(SUFFIXES, n, p=[.55, .2, .15, .1])
    names = [f"{b}{t}（山东）{s}" if br else f"{p}{b}{t}{s}"
             for p, b, t, s, br in zip(prefix, brand, trade, suffix, bracket, strict=True)]
    names = _unique([n.replace("集团集团", "集团") for n in names])
    rp = rng_for(seed, "ent.people")
    return Enterprises(
        name=names, uscc=usccs, org_code=orgs, reg_no=reg_nos, established=est, division=current,
        address=addresses(rng_for(seed, "ent.addr"), current),
        legal_rep=rp.integers(0, persons.size, n), contact=rp.integers(0, persons.size, n),
        phone=phones(rng_for(seed, "ent.phone"), n), grade=list(rp.choice(ORG_GRADES, n)),
        cert_no=[f"D{int(x):09d}" for x in rp.integers(10**8, 10**9, n)],
        capital_wan=np.round(np.exp(rp.uniform(np.log(50), np.log(100000), n)), 0))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for nm in names:
        k = seen.get(nm, 0)
        seen[nm] = k + 1
        out.append(nm if k == 0 else nm.replace("有限", f"第{k + 1}分有限", 1) if "有限" in nm else nm + str(k))
    return out


def make_projects(seed: int, n: int, enterprises: Enterprises, interval_end: date) -> Projects:
    r = rng_for(seed, "projects")
    d1 = np.array([(d - date(1970, 1, 1)).days for d in
                   _dates(rng_for(seed, "proj.d1"), date(2015, 3, 1), interval_end - timedelta(days=20), n)])
    gaps = rng_for(seed, "proj.gaps")
    d2 = d1 + gaps.integers(60, 240, n)
    d3 = d2 + gaps.integers(30, 180, n)
    d4 = d3 + gaps.integers(365, 1100, n)
    stage_dates = np.stack([d1, d2, d3, d4], axis=1)
    end_day = (interval_end - date(1970, 1, 1)).days
    reached = (stage_dates < end_day).sum(axis=1)
    current = list(rng_for(seed, "proj.div").choice(CURRENT_DIVISIONS, n))
    approved = [date(1970, 1, 1) + timedelta(days=int(d)) for d in d1]
    codes = [idgen.project_code(a, division_at(c, a), r) for a, c in zip(approved, current, strict=True)]
    rn = rng_for(seed, "proj.name")
    names = _unique([f"{DIVISION_NAMES[c]}{p}{t}{tail}" for c, p, t, tail in zip(
        current, rn.choice(PLACES, n), rn.choice(PROJECT_THINGS, n), rn.choice(PROJECT_TAILS, n), strict=True)])
    rp = rng_for(seed, "proj.permits")
    issued3 = [date(1970, 1, 1) + timedelta(days=int(d)) for d in d3]
    cperm = [idgen.construction_permit(c, i, k, int(cat)) for k, (c, i, cat) in
             enumerate(zip(current, issued3, rp.integers(1, 20, n), strict=True))]
    issued2 = [date(1970, 1, 1) + timedelta(days=int(d)) for d in d2]
    pperm = [idgen.planning_permit(c, i.year, k + 1) for k, (c, i) in enumerate(zip(current, issued2, strict=True))]
    return Projects(codes, names, stage_dates, reached, current,
                    rng_for(seed, "proj.owner").integers(0, enterprises.size, n), cperm, pperm)


def role_of(projects: Projects, seed: int, role: str, n_enterprises: int) -> np.ndarray:
    """The enterprise that plays ``role`` (勘察单位, 施工单位 ...) in each project; the owner for 建设单位."""
    if "建设单位" in role or "项目单位" in role or "申请" in role:
        return projects.owner
    if role not in projects.roles:
        projects.roles[role] = rng_for(seed, "role." + role).integers(0, n_enterprises, projects.size)
    return projects.roles[role]
