"""Canonical values of every data element for every entity, driven by the element's metadata.

:class:`Values` answers ``canonical(entity_kind, element)``: one value per entity of the pool, the same
in every system (so a project's 总投资 agrees wherever it appears). How a value is chosen:

- identifiers by ``identifier_kind`` (project code, credit code, ID number, permits ...) from the pools;
- elements whose ``object_class`` names a party (建设单位, 施工单位, 法人 ...) are attributes of the
  enterprise playing that role in the project (or of the enterprise itself), chosen by ``property``
  (名称, 法定代表人, 联系电话, 地址 ...); persons' names, ID numbers and phones likewise;
- codes from the element's code list (Jinan's current divisions for GB/T 2260);
- numbers by unit dimension (money in 元 rounded to 100, areas in m², counts by name), within min/max;
- dates from the project's stage dates (开工 after 施工许可, 竣工 at acceptance, 拟/计划 ahead);
- the catalog's cross-field rules hold: ``sum_equals`` totals are the sum of their parts, ``before``
  pairs are ordered and ``duration_days`` is end minus start.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from quancheng.catalog import Catalog
from quancheng.catalog.models import Element
from quancheng.demo.pools import CURRENT_DIVISIONS, Enterprises, Persons, Projects, rng_for, role_of

EntityKind = Literal["project", "enterprise", "person"]
EPOCH = date(1970, 1, 1)
PARTY_WORDS = ("单位", "企业", "法人", "公司", "机构", "组织", "申请人", "业主")
PERSON_WORDS = ("自然人", "人员", "个人", "经办人", "联系人", "负责人", "法定代表人", "项目经理", "总监")
FREE_TEXT = [
    (("意见", "结论"), ["同意", "符合要求", "同意办理", "经审查，符合规定"]),
    (("状态",), ["已办结", "审批中", "已受理", "已发证"]),
    (("规模", "内容"), ["新建框架结构建筑3栋", "新建厂房及配套设施", "改造道路2.3公里", "新建住宅楼12栋及地下车库"]),
    (("用途", "性质"), ["住宅", "商业", "工业", "教育", "医疗卫生", "公共管理"]),
    (("等级",), ["一级", "二级", "三级", "甲级", "乙级"]),
    (("邮箱",), ["service@example.cn", "jsb@example.cn", "gcb@example.cn"]),
]


def _h(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _days(d: date) -> int:
    return (d - EPOCH).days


class Values:
    """Canonical element values over the pools, cached per (entity kind, element)."""

    def __init__(self, catalog: Catalog, seed: int, persons: Persons, enterprises: Enterprises,
                 projects: Projects):
        self.catalog, self.seed = catalog, seed
        self.persons, self.enterprises, self.projects = persons, enterprises, projects
        self.cache: dict[tuple[str, str], list[Any]] = {}

    def size(self, kind: EntityKind) -> int:
        return {"project": self.projects.size, "enterprise": self.enterprises.size,
                "person": self.persons.size}[kind]

    def canonical(self, kind: EntityKind, element: Element) -> list[Any]:
        key = (kind, element.element_id)
        if key not in self.cache:
            self.cache[key] = self._make(kind, element)
            self._apply_rules(kind, element)
        return self.cache[key]

    # --- who an element is about ---
    def _party(self, kind: EntityKind, element: Element) -> np.ndarray | None:
        """Enterprise index per entity when ``element`` describes a party, else None."""
        oc = element.object_class + element.name_zh
        if not any(w in oc for w in PARTY_WORDS):
            return None
        if kind == "enterprise":
            return np.arange(self.enterprises.size)
        if kind == "project":
            return role_of(self.projects, self.seed, element.object_class, self.enterprises.size)
        return None

    def _person(self, kind: EntityKind, element: Element, party: np.ndarray | None) -> np.ndarray | None:
        text = element.property + element.name_zh
        if not any(w in text for w in (*PERSON_WORDS, "姓名", "身份证")) or "单位" in element.property:
            return None
        if kind == "person":
            return np.arange(self.persons.size)
        if party is not None:
            ent = self.enterprises
            pick = ent.legal_rep if "法定代表人" in text or "法人代表" in text else ent.contact
            return np.asarray(np.asarray(pick)[party])
        rng = rng_for(self.seed, f"person.{kind}.{element.object_class}.{element.property}")
        return rng.integers(0, self.persons.size, self.size(kind))

    # --- value makers ---
    def _make(self, kind: EntityKind, el: Element) -> list[Any]:
        n = self.size(kind)
        rng = rng_for(self.seed, f"{kind}.{el.element_id}")
        party = self._party(kind, el)
        person = self._person(kind, el, party)
        text = el.name_zh + el.property
        ent, per, prj = self.enterprises, self.persons, self.projects
        ik = el.identifier_kind
        if ik == "project_code" and kind == "project":
            return list(prj.code)
        if ik == "construction_permit" and kind == "project":
            return list(prj.construction_permit)
        if ik == "planning_permit" and kind == "project":
            return list(prj.planning_permit)
        if ik == "ric" or (person is not None and "身份证" in text):
            idx = person if person is not None else rng.integers(0, per.size, n)
            return [per.ric[i] for i in idx]
        if ik in ("uscc", "org_code", "reg_no", "license_no"):
            idx = party if party is not None else rng.integers(0, ent.size, n)
            if ik == "uscc":
                return [ent.uscc[i] for i in idx]
            if ik == "org_code":
                return [f"{ent.org_code[i][:8]}-{ent.org_code[i][8]}" for i in idx]
            if ik == "reg_no":
                return [ent.reg_no[i] or ent.uscc[i] for i in idx]
            return [ent.uscc[i] for i in idx]
        if ik in ("project_code", "construction_permit", "planning_permit"):
            idx = rng.integers(0, prj.size, n)
            src = {"project_code": prj.code, "construction_permit": prj.construction_permit,
                   "planning_permit": prj.planning_permit}[ik]
            return [src[i] for i in idx]
        if el.code_list:
            return self._codes(el, rng, n, party)
        if el.data_type in ("date", "datetime"):
            return self._dates(kind, el, rng, n, party, person)
        if el.data_type in ("decimal", "integer"):
            return self._numbers(kind, el, rng, n, party)
        if el.data_type == "boolean":
            return list(rng.random(n) < 0.5)
        if person is not None:
            if "电话" in text or "手机" in text:
                return [per.phone[i] for i in person]
            if "地址" in text or "住址" in text:
                return [per.address[i] for i in person]
            return [per.name[i] for i in person]
        if party is not None:
            if "电话" in text:
                return [ent.phone[i] for i in party]
            if "地址" in text or "住所" in text:
                return [ent.address[i] for i in party]
            if "资质等级" in text or text.endswith("等级"):
                return [ent.grade[i] for i in party]
            if "证书" in text or "编号" in text:
                return [ent.cert_no[i] for i in party]
            return [ent.name[i] for i in party]
        if kind == "project" and ("项目名称" in text or "工程名称" in text or el.property == "名称"):
            return list(prj.name)
        if kind == "project" and any(w in text for w in ("地点", "地址", "位置", "坐落")):
            from quancheng.demo.pools import addresses

            return addresses(rng, list(prj.division))
        if "电话" in text:
            from quancheng.demo.pools import phones

            return phones(rng, n)
        if "邮编" in text or "邮政编码" in text:
            return [f"2{int(x):05d}" for x in rng.integers(50000, 71999, n)]
        for words, choices in FREE_TEXT:
            if any(w in text for w in words):
                return list(rng.choice(choices, n))
        return [f"{el.name_zh}{int(x):04d}" for x in rng.integers(1, 9999, n)]

    def _codes(self, el: Element, rng: np.random.Generator, n: int, party: np.ndarray | None) -> list[Any]:
        if el.code_list == "gb2260":
            if party is not None:
                return [self.enterprises.division[i] for i in party]
            if "建设" in el.name_zh or "项目" in el.name_zh or "地点" in el.name_zh:
                return list(self.projects.division)[:n] if n == self.projects.size else \
                    list(rng.choice(CURRENT_DIVISIONS, n))
            return list(rng.choice(CURRENT_DIVISIONS, n))
        codes = [c for c in self.catalog.codes_by_list.get(el.code_list, []) if not c.valid_to]
        if not codes:
            return [None] * n
        leaves = [c.code for c in codes if not any(o.parent == c.code for o in codes)] or [c.code for c in codes]
        return list(rng.choice(leaves, n))

    def _numbers(self, kind: EntityKind, el: Element, rng: np.random.Generator, n: int,
                 party: np.ndarray | None) -> list[Any]:
        text = el.name_zh + el.property
        unit = self.catalog.unit.get(el.unit)
        dim = unit.dimension if unit else ""
        if party is not None and "注册资本" in text:
            vals = self.enterprises.capital_wan[party] * 10000
        elif dim == "money":
            vals = np.round(np.exp(rng.uniform(np.log(5e5), np.log(3e9), n)) / 100) * 100
        elif dim == "area":
            vals = np.round(np.exp(rng.uniform(np.log(300), np.log(300000), n)), 2)
        elif "层" in text:
            vals = rng.integers(1, 34, n).astype(float)
        elif "栋" in text or "幢" in text:
            vals = rng.integers(1, 13, n).astype(float)
        elif "天" in text or "工期" in text or "期限" in text:
            vals = rng.integers(90, 1100, n).astype(float)
        elif "高度" in text or "长度" in text or dim == "length":
            vals = np.round(rng.uniform(3, 150, n), 2)
        elif "率" in text or "比例" in text:
            vals = np.round(rng.uniform(0, 100, n), 2)
        elif "人数" in text or "人" in text:
            vals = rng.integers(3, 800, n).astype(float)
        else:
            vals = np.round(rng.uniform(1, 1000, n), 2)
        lo = el.min_value if el.min_value is not None else -np.inf
        hi = el.max_value if el.max_value is not None else np.inf
        vals = np.clip(vals, lo, hi)
        if el.data_type == "integer":
            return [int(v) for v in vals]
        return [float(v) for v in vals]

    def _dates(self, kind: EntityKind, el: Element, rng: np.random.Generator, n: int,
               party: np.ndarray | None, person: np.ndarray | None) -> list[Any]:
        text = el.name_zh + el.property
        if person is not None and "出生" in text:
            return [self.persons.birth[i] for i in person]
        if party is not None and ("成立" in text or "设立" in text or "注册" in text):
            return [self.enterprises.established[i] for i in party]
        if kind == "project":
            sd = self.projects.stage_dates
            if any(w in text for w in ("竣工", "验收", "完工", "备案")):
                base, jitter = sd[:, 3], rng.integers(0, 20, n)
            elif "开工" in text and not any(w in text for w in ("拟", "计划")):
                base, jitter = sd[:, 2], rng.integers(10, 60, n)
            elif any(w in text for w in ("拟", "计划")):
                base, jitter = sd[:, 0], rng.integers(60, 365, n)
            else:
                stage = self._stage_of(el)
                base, jitter = sd[:, stage], rng.integers(0, 25, n)
            days = base + jitter
        else:
            days = rng.integers(_days(date(2005, 1, 1)), _days(date(2025, 1, 1)), n)
        return [EPOCH + timedelta(days=int(d)) for d in days]

    def _stage_of(self, el: Element) -> int:
        orders = {s.stage_id: s.order for s in self.catalog.stages}
        for sid in el.required_in:
            if sid in orders:
                return orders[sid] - 1
        return _h(el.element_id) % 4

    # --- cross-field rules ---
    def _apply_rules(self, kind: EntityKind, el: Element) -> None:
        for rule in self.catalog.rules:
            if el.element_id not in rule.elements or not all(e in self.catalog.element for e in rule.elements):
                continue
            members = [self.catalog.element[e] for e in rule.elements]
            for m in members:  # make the other members without recursing into rules again
                self.cache.setdefault((kind, m.element_id), self._make(kind, m))
            cols = [self.cache[(kind, m.element_id)] for m in members]
            if rule.kind == "sum_equals" and len(cols) >= 2:
                parts = np.array([[float(v or 0) for v in c] for c in cols[1:]]).sum(axis=0)
                cols[0][:] = [round(float(v), 2) for v in parts]
            elif rule.kind == "before" and len(cols) == 2:
                for i, (a, b) in enumerate(zip(cols[0], cols[1], strict=True)):
                    if a is not None and b is not None and a > b:  # type: ignore[operator]
                        cols[0][i], cols[1][i] = b, a
            elif rule.kind == "duration_days" and len(cols) == 3:
                for i, (a, b) in enumerate(zip(cols[0], cols[1], strict=True)):
                    if a is not None and b is not None:
                        if a > b:  # type: ignore[operator]
                            cols[0][i], cols[1][i], a, b = b, a, b, a
                        cols[2][i] = (b - a).days  # type: ignore[operator]


def as_arrow(values: list[Any], el: Element) -> pa.Array:
    """Canonical values as an Arrow array of the element's type (decimals as float64 here)."""
    t = {"string": pa.string(), "integer": pa.int64(), "decimal": pa.float64(), "date": pa.date32(),
         "datetime": pa.timestamp("us"), "boolean": pa.bool_()}[el.data_type]
    if el.data_type == "datetime":
        from datetime import datetime, time

        values = [datetime.combine(v, time(9 + _h(str(v)) % 8, _h(str(v), "m") % 60))
                  if isinstance(v, date) and not isinstance(v, datetime) else v for v in values]
    return pa.array(values, t)
