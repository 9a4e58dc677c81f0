"""Canonical values of every data element for every entity, driven by the element's metadata.

:class:`Values` answers ``canonical(entity_kind, element)``: one value per entity of the pool, the same
in every system (so a project's 总投资 agrees wherever it appears). How a value is chosen:

- identifiers by ``identifier_kind`` (project code, credit code, ID number, permits ...) from the pools
  (a form about enterprises or persons carries its own entity's; other draws are distinct entities);
- document numbers (elements named …号: 文号, 编号, 备案号) are unique per entity;
- elements whose ``object_class`` names a party (建设单位, 施工单位, 法人 ...) are attributes of the
  enterprise playing that role in the project (or of the enterprise itself), chosen by ``property``
  (名称, 法定代表人, 联系电话, 地址 ...); persons' names, ID numbers and phones likewise;
- codes from the element's code list (Jinan's current divisions for GB/T 2260; where departments write
  the element through their crosswalks, the codes those can write); nominal pipe diameters
  (format ``DNn..4``) as designations, ``DN100``;
- numbers by unit dimension (money in 元 rounded to 100, areas in m², counts by name), within min/max;
- dates from the project's stage dates (开工 after 施工许可, 竣工 at acceptance, 拟/计划 ahead);
- the catalog's cross-field rules hold: ``sum_equals`` totals are the sum of their parts, ``before``
  pairs are ordered and ``duration_days`` is end minus start.

Values are whole Arrow columns (strings, int64, float64 for decimals, date32 for dates and date-times,
bool), one entry per entity, built with array operations only.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.catalog import Catalog
from quancheng.catalog.models import CrossRule, Element, SourceForm
from quancheng.demo.idgen import day_number
from quancheng.demo.pools import (
    CURRENT_DIVISIONS,
    Enterprises,
    Persons,
    Projects,
    addresses,
    crc,
    phones,
    rng_for,
    role_of,
)
from quancheng.demo.vec import choose, concat, dates, zfill

EntityKind = Literal["project", "enterprise", "person"]
PROJECT_ATTR = {"project_code": "code", "construction_permit": "construction_permit",
                "planning_permit": "planning_permit"}
PARTY_WORDS = ("单位", "企业", "法人", "公司", "机构", "组织", "申请人", "业主")
# nominal sizes (GB/T 1047) of water, gas and heat connections to a building or site
CONNECTION_DN = ["25", "32", "40", "50", "65", "80", "100", "150", "200", "250", "300", "400"]
NATURAL_PERSON_SHARE = 0.1  # rows of a mixed 证件号码 (license_no) column whose party is a natural person
PERSON_WORDS = ("自然人", "人员", "个人", "经办人", "联系人", "负责人", "法定代表人", "项目经理", "总监")
FREE_TEXT = [
    (("意见", "结论"), ["同意", "符合要求", "同意办理", "经审查，符合规定"]),
    (("状态",), ["已办结", "审批中", "已受理", "已发证"]),
    (("规模", "内容"), ["新建框架结构建筑3栋", "新建厂房及配套设施", "改造道路2.3公里", "新建住宅楼12栋及地下车库"]),
    (("用途", "性质"), ["住宅", "商业", "工业", "教育", "医疗卫生", "公共管理"]),
    (("等级",), ["一级", "二级", "三级", "甲级", "乙级"]),
    (("邮箱",), ["service@example.cn", "jsb@example.cn", "gcb@example.cn"]),
]


# a case's dates, each (lowest, highest + 1) days after the one before (申请 after the stage's date)
CASE_STEPS = {"申请日期": (0, 10), "受理日期": (0, 6), "审批决定日期": (1, 21), "有效期至": (365, 1096)}

def _take(col: pa.Array, idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(idx))


def _distinct(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """``n`` indices into a pool of ``size``: all different while the pool is large enough."""
    if n <= size:
        return rng.permutation(size)[:n]
    return rng.integers(0, size, n)


class Values:
    """Canonical element values over the pools, cached per (entity kind, element)."""

    def __init__(self, catalog: Catalog, seed: int, persons: Persons, enterprises: Enterprises,
                 projects: Projects):
        self.catalog, self.seed = catalog, seed
        self.persons, self.enterprises, self.projects = persons, enterprises, projects
        self.cache: dict[tuple[str, str], pa.Array] = {}

    def size(self, kind: EntityKind) -> int:
        return {"project": self.projects.size, "enterprise": self.enterprises.size,
                "person": self.persons.size}[kind]

    def canonical(self, kind: EntityKind, element: Element, form: SourceForm | None = None) -> pa.Array:
        """One value per entity of ``kind`` (see the module docstring for the types). The case record's
        elements (``filled_by == "office"``: 受理日期, 审批决定日期 …) have one value per entity and ``form``:
        each approval item is accepted and decided on its own days."""
        per_form = form is not None and element.filled_by == "office"
        key = (kind, f"{element.element_id}@{form.form_id}" if per_form and form else element.element_id)
        if key not in self.cache:
            self.cache[key] = self._make(kind, element, form if per_form else None)
            if not per_form:
                self._apply_rules(kind, element)
        return self.cache[key]

    def release(self, kind: EntityKind, element_id: str) -> None:
        """Forget a cached column (seeding drops each after the last form that uses it), per-form ones too."""
        for key in [k for k in self.cache if k[0] == kind and k[1].split("@")[0] == element_id]:
            del self.cache[key]

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
            picked: np.ndarray = np.asarray(pick)[party]
            return picked
        rng = rng_for(self.seed, f"person.{kind}.{element.object_class}.{element.property}")
        return _distinct(rng, self.persons.size, self.size(kind))

    # --- value makers ---
    def _make(self, kind: EntityKind, el: Element, form: SourceForm | None = None) -> pa.Array:
        n = self.size(kind)
        rng = rng_for(self.seed, f"{kind}.{el.element_id}" + (f".{form.form_id}" if form else ""))
        party = self._party(kind, el)
        person = self._person(kind, el, party)
        text = el.name_zh + el.property
        ent, per, prj = self.enterprises, self.persons, self.projects
        ik = el.identifier_kind
        if kind == "project" and ik in ("project_code", "construction_permit", "planning_permit"):
            return prj.arrow(PROJECT_ATTR[ik])
        if ik == "ric" or (person is not None and "身份证" in text):
            if person is None:  # a person form's own number, else someone's
                person = np.arange(n) if kind == "person" else _distinct(rng, per.size, n)
            return _take(per.arrow("ric"), person)
        if "单元号" in el.name_zh and el.max_length == 28:  # 不动产单元号: division, parcel, GB, lot, F, unit
            division = choose(rng, CURRENT_DIVISIONS, n)
            return concat(division, zfill(rng.integers(1, 999, n), 3), zfill(rng.integers(1, 999, n), 3), "GB",
                          zfill(rng.integers(1, 99999, n), 5), "F", zfill(rng.permutation(n) + 1, 8))
        if ik in ("uscc", "org_code", "reg_no", "license_no"):
            if party is None:  # an enterprise form's own code, else some enterprise's
                party = np.arange(n) if kind == "enterprise" else _distinct(rng, ent.size, n)
            idx = party
            if ik == "org_code":
                org = _take(ent.arrow("org_code"), idx)
                return concat(pc.utf8_slice_codeunits(org, 0, 8), "-", pc.utf8_slice_codeunits(org, 8, 9))
            if ik == "reg_no":
                # enterprises registered after 三证合一 (2015) have no 15-digit 注册号: the column (an15) is empty
                return _take(ent.arrow("reg_no"), idx)
            codes = _take(ent.arrow("uscc"), idx)
            if ik == "license_no":
                # a 证件号码 of an applicant or right holder is a natural person's ID number when the party is a
                # person (个人建房, 个人不动产登记): some rows of every such column hold one, as real forms do
                natural = rng.random(n) < NATURAL_PERSON_SHARE
                ids = _take(per.arrow("ric"), _distinct(rng, per.size, n))
                return pc.if_else(pa.array(natural), ids, codes)
            return codes
        if ik in ("project_code", "construction_permit", "planning_permit"):
            return _take(prj.arrow(PROJECT_ATTR[ik]), _distinct(rng, prj.size, n))
        if el.code_list:
            return self._codes(el, rng, n, party)
        if el.format.startswith("DN"):  # a nominal pipe diameter: the designation, a size of a utility connection
            return concat("DN", choose(rng, CONNECTION_DN, n))
        if el.data_type in ("date", "datetime"):
            return self._dates(kind, el, rng, n, party, person, form)
        if el.data_type in ("decimal", "integer"):
            return self._numbers(el, rng, n, party)
        if el.data_type == "boolean":
            return pa.array(rng.random(n) < 0.5)
        if "邮编" in text or "邮政编码" in text:
            return concat("2", zfill(rng.integers(50000, 71999, n), 5))
        if person is not None:
            if "电话" in text or "手机" in text:
                return _take(per.arrow("phone"), person)
            if "地址" in text or "住址" in text:
                return _take(per.arrow("address"), person)
            if el.name_zh.endswith("号"):  # a person's certificate number: fixed per person
                return concat("鲁1", zfill(np.asarray(person) * 7 + crc(el.element_id) % 7, 9))
            return _take(per.arrow("name"), person)
        if party is not None:
            if "电话" in text:
                return _take(ent.arrow("phone"), party)
            if "地址" in text or "住所" in text:
                return _take(ent.arrow("address"), party)
            if "资质等级" in text or text.endswith("等级"):
                return _take(ent.arrow("grade"), party)
            if "证书" in text or "编号" in text:
                return _take(ent.arrow("cert_no"), party)
            return _take(ent.arrow("name"), party)
        if kind == "project" and ("项目名称" in text or "工程名称" in text or el.property == "名称"):
            return prj.arrow("name")
        if kind == "project" and any(w in text for w in ("地点", "地址", "位置", "坐落")):
            return addresses(rng, prj.arrow("division"))
        if "电话" in text:
            return phones(rng, n)
        if el.name_zh.endswith("号"):  # a document number (文号, 编号, 备案号 ...): one per entity, never shared
            year = zfill(rng.integers(2015, 2026, n), 4)
            return concat(el.name_zh[:2], year, zfill(rng.permutation(n) + 1, 7))
        for words, choices in FREE_TEXT:
            if any(w in text for w in words):
                return choose(rng, choices, n)
        return concat(el.name_zh, zfill(rng.integers(1, 9999, n), 4))

    def _codes(self, el: Element, rng: np.random.Generator, n: int, party: np.ndarray | None) -> pa.Array:
        if el.code_list == "gb2260":
            if party is not None:
                return _take(self.enterprises.arrow("division"), party)
            if ("建设" in el.name_zh or "项目" in el.name_zh or "地点" in el.name_zh) and n == self.projects.size:
                return self.projects.arrow("division")
            return choose(rng, CURRENT_DIVISIONS, n)
        codes = [c for c in self.catalog.codes_by_list.get(el.code_list, []) if not c.valid_to]
        if not codes:
            return pa.nulls(n, pa.string())
        writable = self._crosswalk_codes(el)
        if writable is not None and (picked := sorted(writable & {c.code for c in codes})):
            return choose(rng, picked, n)
        parents = {c.parent for c in codes}
        leaves = [c.code for c in codes if c.code not in parents] or [c.code for c in codes]
        return choose(rng, leaves, n)

    def _crosswalk_codes(self, el: Element) -> set[str] | None:
        """The codes every department crosswalk feeding ``el`` can write (None: no field writes it through
        one), so a form that writes its own terms carries the same value as the truth."""
        cat, out = self.catalog, None
        for m in cat.mappings:
            if m.element_id != el.element_id:
                continue
            f = next((f for f in cat.fields_of(m.form_id) if f.column == m.column), None)
            if f is not None and f.code_list in cat.crosswalk:
                got = set(cat.crosswalk[f.code_list].values())
                out = got if out is None else out & got
        return out

    def _numbers(self, el: Element, rng: np.random.Generator, n: int, party: np.ndarray | None) -> pa.Array:
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
            return pa.array(vals.astype(np.int64))
        return pa.array(vals.astype(np.float64))

    def _dates(self, kind: EntityKind, el: Element, rng: np.random.Generator, n: int,
               party: np.ndarray | None, person: np.ndarray | None, form: SourceForm | None = None) -> pa.Array:
        text = el.name_zh + el.property
        if form is not None and el.property in CASE_STEPS:
            return self._case_date(kind, el, form, n)
        if person is not None and "出生" in text:
            return dates(self.persons.birth[person])
        if party is not None and ("成立" in text or "设立" in text or "注册" in text):
            return dates(self.enterprises.established[party])
        if kind == "project":
            sd = self.projects.stage_dates
            if any(w in text for w in ("竣工", "验收", "完工", "备案")):
                base, jitter = sd[:, 3], rng.integers(0, 20, n)
            elif "开工" in text and not any(w in text for w in ("拟", "计划")):
                base, jitter = sd[:, 2], rng.integers(10, 60, n)
            elif any(w in text for w in ("拟", "计划")):
                base, jitter = sd[:, 0], rng.integers(60, 365, n)
            else:
                base, jitter = sd[:, self._stage_of(el, form)], rng.integers(0, 25, n)
            return dates(base + jitter)
        return dates(rng.integers(day_number(date(2005, 1, 1)), day_number(date(2025, 1, 1)), n))

    def _case_date(self, kind: EntityKind, el: Element, form: SourceForm, n: int) -> pa.Array:
        """A case's dates in their order: applied, accepted 0-5 days later, decided 1-20 days after that, the
        decision valid one to three years; one draw per form, so every date of one case agrees."""
        rng = rng_for(self.seed, f"{kind}.case.{form.form_id}")
        if kind == "project":
            base = self.projects.stage_dates[:, self._stage_of(el, form)]
        else:
            base = rng.integers(day_number(date(2005, 1, 1)), day_number(date(2025, 1, 1)), n)
        steps = [rng.integers(lo, hi, n) for lo, hi in CASE_STEPS.values()]
        upto = list(CASE_STEPS).index(el.property) + 1
        return dates(base + sum(steps[:upto]))

    def _stage_of(self, el: Element, form: SourceForm | None = None) -> int:
        orders = {s.stage_id: s.order for s in self.catalog.stages}
        if form is not None and form.stage_id in orders:
            return orders[form.stage_id] - 1
        for sid in el.required_in:
            if sid in orders:
                return orders[sid] - 1
        return crc(el.element_id) % 4

    # --- cross-field rules ---
    def _sum_group(self, element_id: str) -> list[CrossRule]:
        """The ``sum_equals`` rules linked to ``element_id`` through shared elements, parts-first order."""
        rules = [r for r in self.catalog.rules
                 if r.kind == "sum_equals" and all(e in self.catalog.element for e in r.elements)]
        ids, picked, grown = {element_id}, [False] * len(rules), True
        while grown:
            grown = False
            for i, r in enumerate(rules):
                if not picked[i] and ids & set(r.elements):
                    picked[i], grown = True, True
                    ids |= set(r.elements)
        left = [r for i, r in enumerate(rules) if picked[i]]
        ordered: list[CrossRule] = []
        while left:  # a rule whose part is another rule's total comes after that rule
            totals = {r.elements[0] for r in left}
            ready = next((r for r in left if not (set(r.elements[1:]) & totals)), left[0])
            ordered.append(ready)
            left.remove(ready)
        return ordered

    def _settle_sums(self, kind: EntityKind, rules: list[CrossRule]) -> None:
        """Make every rule of a linked group hold at once, whatever element is asked for first.

        Values come from :meth:`_make` (pure per seed), so a released column is rebuilt identically. A total
        is the sum of its parts; a total already fixed by an earlier rule (总投资 is both 固定资产投资 +
        建设期利息 + 铺底流动资金 and the sum of the funding sources) instead has its free parts rescaled to
        it, in whole quanta (100 元 for money, as everywhere, so 万元 renderings stay exact), the rounding
        remainder going to the largest part.
        """
        members = list(dict.fromkeys(e for r in rules for e in r.elements))
        types = {e: self._make(kind, self.catalog.element[e]) for e in members}
        vals = {e: np.nan_to_num(np.asarray(a.cast(pa.float64()).to_numpy(zero_copy_only=False), float))
                for e, a in types.items()}
        fixed: set[str] = set()
        for r in rules:
            total, parts = r.elements[0], list(r.elements[1:])
            if total not in fixed:
                vals[total] = np.round(sum((vals[p] for p in parts), np.zeros(self.size(kind))), 2)
                fixed.add(total)
                fixed.update(parts)
                continue
            free = [p for p in parts if p not in fixed]
            if not free:
                continue
            unit = self.catalog.unit.get(self.catalog.element[total].unit)
            quantum = 100.0 if unit is not None and unit.dimension == "money" else 0.01
            target = vals[total] - sum((vals[p] for p in parts if p in fixed), np.zeros(self.size(kind)))
            raw = np.stack([vals[p] for p in free])
            weight = raw.sum(axis=0)
            share = np.where(weight > 0, raw / np.where(weight > 0, weight, 1), 1 / len(free))
            scaled = np.round(share * target / quantum) * quantum
            biggest = scaled.argmax(axis=0)
            scaled[biggest, np.arange(scaled.shape[1])] += target - scaled.sum(axis=0)
            for p, v in zip(free, np.round(scaled, 2), strict=True):
                vals[p] = v
            fixed.update(free)
        for e in members:
            self.cache[(kind, e)] = pa.array(vals[e]).cast(types[e].type, safe=False)

    def _apply_rules(self, kind: EntityKind, el: Element) -> None:
        group = self._sum_group(el.element_id)
        if group:
            self._settle_sums(kind, group)
        for rule in self.catalog.rules:
            if rule.kind == "sum_equals" or el.element_id not in rule.elements \
                    or not all(e in self.catalog.element for e in rule.elements):
                continue
            members = [self.catalog.element[e] for e in rule.elements]
            keys = [(kind, m.element_id) for m in members]
            for key, m in zip(keys, members, strict=True):  # the other members, without recursing into rules
                if key not in self.cache:
                    self.cache[key] = self._make(kind, m)
            cols = [self.cache[k] for k in keys]
            if ((rule.kind == "before" and len(cols) == 2) or (rule.kind == "duration_days" and len(cols) == 3)) \
                    and cols[0].type == cols[1].type:
                a, b = cols[0], cols[1]
                swap = pc.fill_null(pc.greater(a, b), False)
                a, b = pc.if_else(swap, b, a), pc.if_else(swap, a, b)
                self.cache[keys[0]], self.cache[keys[1]] = a, b
                if rule.kind == "duration_days" and len(cols) == 3 and pa.types.is_date(a.type):
                    days = pc.subtract(b.cast(pa.int32()).cast(pa.int64()), a.cast(pa.int32()).cast(pa.int64()))
                    self.cache[keys[2]] = pc.coalesce(days.cast(cols[2].type, safe=False), cols[2])
