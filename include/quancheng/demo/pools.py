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

Pools are pure functions of ``(seed, size)``: each attribute has its own random stream. Every
attribute is built as a whole column without a loop over entities. Text attributes are numpy arrays
of ``str`` (iterate and index them like lists); :meth:`Pool.arrow` gives the same column as Arrow
strings, which is what the generator takes from. Dates are day numbers since 1970-01-01.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.demo import idgen
from quancheng.demo.idgen import day_number
from quancheng.demo.vec import choose, concat, from_matrix, lookup, zfill

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


PoolT = TypeVar("PoolT", bound="Pool")


def crc(*parts: str) -> int:
    """A stable small hash of ``parts`` (CRC-32 of them joined by ``|``): deterministic picks per name."""
    return zlib.crc32("|".join(parts).encode())


def rng_for(seed: int, tag: str) -> np.random.Generator:
    """The random stream of one attribute: seeded by ``seed`` and a 128-bit hash of ``tag``."""
    digest = hashlib.blake2b(tag.encode(), digest_size=16).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")])


def divisions_at(current: pa.Array, days: np.ndarray) -> pa.Array:
    """Each division code as it was on its day (the code it replaced, before the change)."""
    out = current
    for new, (old, until) in HISTORIC.items():
        hit = pc.and_(pc.equal(current, new), pa.array(np.asarray(days) < day_number(until)))
        out = pc.if_else(hit, old, out)
    return out


def _days(rng: np.random.Generator, start: date, end: date, n: int) -> np.ndarray:
    return day_number(start) + rng.integers(0, (end - start).days, n)


def person_name(rng: np.random.Generator, n: int) -> pa.Array:
    return concat(choose(rng, SURNAMES, n), choose(rng, GIVEN, n), choose(rng, GIVEN + [""] * 12, n))


def phones(rng: np.random.Generator, n: int) -> pa.Array:
    prefix = choose(rng, ["135", "137", "138", "139", "150", "151", "152", "158", "177", "186", "188"], n)
    mobile = concat(prefix, zfill(rng.integers(0, 10**8, n), 8))
    landline = concat("0531-", zfill(rng.integers(80000000, 89999999, n), 8))
    return pc.if_else(pa.array(rng.random(n) < 0.7), mobile, landline)


def addresses(rng: np.random.Generator, divisions: pa.Array) -> pa.Array:
    n = len(divisions)
    prefixes = {d: OLD_ADDRESS_PREFIX.get(d, "山东省济南市" + DIVISION_NAMES.get(d, "")) for d in DIVISION_NAMES}
    prefix = lookup(divisions, prefixes, default="山东省济南市")
    return concat(prefix, choose(rng, PLACES, n), rng_ints_text(rng, 1, 3000, n), "号")


def rng_ints_text(rng: np.random.Generator, lo: int, hi: int, n: int) -> pa.Array:
    return pa.array(rng.integers(lo, hi, n)).cast(pa.string())


def unique_names(names: pa.Array) -> pa.Array:
    """Make repeated names unique: the k-th repeat (k >= 1) of a company name becomes ``…第{k+1}分有限…``,
    of any other name ``name{k}``."""
    k = pl.int_range(pl.len()).over("n")
    parts = pl.col("n").str.splitn("有限", 2)
    out = pl.DataFrame({"n": pl.Series(names)}).select(
        pl.when(k == 0).then(pl.col("n"))
        .when(pl.col("n").str.contains("有限", literal=True))
        .then(pl.concat_str([parts.struct.field("field_0"), pl.lit("第"), (k + 1).cast(pl.String), pl.lit("分有限"),
                             parts.struct.field("field_1")]))
        .otherwise(pl.concat_str([pl.col("n"), k.cast(pl.String)])))
    return out.to_series().to_arrow().cast(pa.string())


class Pool:
    """Shared by the pools: text attributes as Arrow columns, converted once and kept."""

    _arrow: dict[str, pa.Array]

    def arrow(self, name: str) -> pa.Array:
        """The text attribute ``name`` as an Arrow string column."""
        if name not in self._arrow:
            self._arrow[name] = pa.array(getattr(self, name), pa.string())
        return self._arrow[name]

    def _keep(self, **columns: pa.Array) -> None:
        self._arrow.update(columns)


def _text(col: pa.Array) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


@dataclass
class Persons(Pool):
    name: np.ndarray
    ric: np.ndarray
    ric15: np.ndarray  # the same person's old 15-digit number
    birth: np.ndarray  # day numbers
    phone: np.ndarray
    address: np.ndarray
    _arrow: dict[str, pa.Array] = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.name)


@dataclass
class Enterprises(Pool):
    name: np.ndarray
    uscc: np.ndarray
    org_code: np.ndarray
    reg_no: np.ndarray  # 15-digit registration number, None for those registered after 2015
    established: np.ndarray  # day numbers
    division: np.ndarray  # current division of the registered address
    address: np.ndarray
    legal_rep: np.ndarray  # person index
    contact: np.ndarray  # person index
    phone: np.ndarray
    grade: np.ndarray
    cert_no: np.ndarray
    capital_wan: np.ndarray  # registered capital in 万元
    _arrow: dict[str, pa.Array] = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.name)


@dataclass
class Projects(Pool):
    code: np.ndarray
    name: np.ndarray
    stage_dates: np.ndarray  # (n, 4) days since 1970 of reaching each stage
    reached: np.ndarray  # highest stage order reached (1..4)
    division: np.ndarray  # current division of the site
    owner: np.ndarray  # enterprise index of the 建设单位
    construction_permit: np.ndarray
    planning_permit: np.ndarray
    roles: dict[str, np.ndarray] = field(default_factory=dict)  # party role -> enterprise index
    _arrow: dict[str, pa.Array] = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.code)


def _pool(cls: type[PoolT], **attrs: pa.Array | np.ndarray) -> PoolT:
    """Build a pool from its columns: Arrow text becomes numpy ``str`` arrays, and is kept as Arrow too."""
    arrow = {k: v for k, v in attrs.items() if isinstance(v, pa.Array)}
    pool = cls(**{k: _text(v) if isinstance(v, pa.Array) else v for k, v in attrs.items()})  # type: ignore[arg-type]
    pool._keep(**arrow)
    return pool


def make_persons(seed: int, n: int) -> Persons:
    r = rng_for(seed, "persons")
    births = _days(rng_for(seed, "persons.birth"), date(1950, 1, 1), date(1999, 12, 31), n)
    places = choose(rng_for(seed, "persons.place"),
                    [*CURRENT_DIVISIONS, "370181", "371202", "371203", "370125", "370802", "370303", "510103"], n)
    place_no = np.asarray(places.cast(pa.int64()))
    seqs = rng_for(seed, "persons.seq").integers(0, 1000, n)
    return _pool(Persons, name=person_name(r, n), ric=idgen.ric18_many(place_no, births, seqs),
                 ric15=idgen.ric15_many(place_no, births, seqs), birth=births,
                 phone=phones(rng_for(seed, "persons.phone"), n),
                 address=addresses(rng_for(seed, "persons.addr"), places))


def make_enterprises(seed: int, n: int, persons: Persons) -> Enterprises:
    r = rng_for(seed, "enterprises")
    est = _days(rng_for(seed, "ent.est"), date(1995, 1, 1), date(2024, 12, 31), n)
    current = choose(rng_for(seed, "ent.div"), CURRENT_DIVISIONS, n)
    reg_div = divisions_at(current, est)
    reg_no_div = np.asarray(reg_div.cast(pa.int64()))
    kinds = choose(rng_for(seed, "ent.kind"), ["91", "91", "91", "91", "92", "93", "12", "52", "N2", "Y1", "A1"], n)
    old_style = est < day_number(date(2015, 10, 1))
    orgs = idgen.org_code_matrix(r, ~old_style)
    reg_nos = pc.if_else(pa.array(old_style), idgen.reg_no15_many(reg_no_div, r.integers(0, 10**8, n)),
                         pa.scalar(None, pa.string()))
    rn = rng_for(seed, "ent.name")
    prefix = choose(rn, ["济南", "山东", "济南市", "山东省", ""], n)
    bracket = pa.array(rn.random(n) < 0.1)
    brand, trade = choose(rn, BRANDS, n), choose(rn, TRADES, n)
    suffix = choose(rn, SUFFIXES, n, p=[.55, .2, .15, .1])
    names = pc.if_else(bracket, concat(brand, trade, "（山东）", suffix), concat(prefix, brand, trade, suffix))
    names = unique_names(pc.replace_substring(names, "集团集团", "集团"))
    rp = rng_for(seed, "ent.people")
    return _pool(
        Enterprises, name=names, uscc=idgen.uscc_many(kinds, reg_no_div, orgs), org_code=from_matrix(orgs),
        reg_no=reg_nos,
        established=est, division=current, address=addresses(rng_for(seed, "ent.addr"), current),
        legal_rep=rp.integers(0, persons.size, n), contact=rp.integers(0, persons.size, n),
        phone=phones(rng_for(seed, "ent.phone"), n), grade=choose(rp, ORG_GRADES, n),
        cert_no=concat("D", rng_ints_text(rp, 10**8, 10**9, n)),
        capital_wan=np.round(np.exp(rp.uniform(np.log(50), np.log(100000), n)), 0))


def make_projects(seed: int, n: int, enterprises: Enterprises, interval_end: date) -> Projects:
    r = rng_for(seed, "projects")
    d1 = _days(rng_for(seed, "proj.d1"), date(2015, 3, 1), interval_end - timedelta(days=20), n)
    gaps = rng_for(seed, "proj.gaps")
    d2 = d1 + gaps.integers(60, 240, n)
    d3 = d2 + gaps.integers(30, 180, n)
    d4 = d3 + gaps.integers(365, 1100, n)
    stage_dates = np.stack([d1, d2, d3, d4], axis=1)
    reached = (stage_dates < day_number(interval_end)).sum(axis=1)
    current = choose(rng_for(seed, "proj.div"), CURRENT_DIVISIONS, n)
    codes = idgen.project_codes(r, d1, divisions_at(current, d1))
    rn = rng_for(seed, "proj.name")
    names = unique_names(concat(lookup(current, DIVISION_NAMES), choose(rn, PLACES, n), choose(rn, PROJECT_THINGS, n),
                                choose(rn, PROJECT_TAILS, n)))
    rp = rng_for(seed, "proj.permits")
    cperm = idgen.construction_permits(current, d3, np.arange(n), rp.integers(1, 20, n))
    pperm = idgen.planning_permits(current, idgen.ymd(d2)[0], np.arange(1, n + 1))
    return _pool(Projects, code=codes, name=names, stage_dates=stage_dates, reached=reached, division=current,
                 owner=rng_for(seed, "proj.owner").integers(0, enterprises.size, n), construction_permit=cperm,
                 planning_permit=pperm)


def role_of(projects: Projects, seed: int, role: str, n_enterprises: int) -> np.ndarray:
    """The enterprise that plays ``role`` (勘察单位, 施工单位 ...) in each project; the owner for 建设单位."""
    if "建设单位" in role or "项目单位" in role or "申请" in role:
        return projects.owner
    if role not in projects.roles:
        projects.roles[role] = rng_for(seed, "role." + role).integers(0, n_enterprises, projects.size)
    return projects.roles[role]
