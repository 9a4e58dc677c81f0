"""Render one source form's native table from the canonical values, as its system stores it.

Rows: a form is about projects (it carries a 投资项目代码), enterprises (its key is a credit code) or
persons (its key is an ID number). A project form holds the projects that reached its stage; each form
takes a seeded 75-100 % subset of its eligible entities, so later inserts (``demo advance``) have
projects left to add. Columns, in fields.csv order, each rendered from its mapping:

- ``quantity``: converted from the element's unit into the field's (元 -> 万元, m² -> 亩 ...);
- ``date``: a date for date columns, else text in the system's own spelling (2019年11月21日, 20191121 ...);
- ``code``: the department's native value through its crosswalk, else the canonical code;
- ``split`` / ``date_range`` / ``concat``: packed cells joined with the field's separator,
  ``start至end`` or ``365天``, or the pieces of one value spread over several columns;
- the update column: a time inside the world's interval; excluded fields from their native type and
  label (remarks, clerks, internal numbers; key columns get unique serials).

Optional columns are sometimes empty; key columns never are.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, Mapping, SourceField, SourceForm
from quancheng.demo.pools import person_name, phones, rng_for
from quancheng.demo.values import FREE_TEXT, EntityKind, Values, as_arrow
from quancheng.sources.types import NATIVE_ARROW, source_keys

DATE_STYLES = ["%Y-%m-%d", "%Y年%m月%d日", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"]
NULL_RATE = 0.03


def crc(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def entity_kind(catalog: Catalog, form: SourceForm) -> EntityKind:
    """What a row of ``form`` is about."""
    by_col = {m.column: catalog.element.get(m.element_id) for m in catalog.mappings_of(form.form_id)}
    els = [e for e in by_col.values() if e is not None]
    if any(e.identifier_kind == "project_code" for e in els):
        return "project"
    key_kinds = {by_col[k].identifier_kind for k in form.primary_key if by_col.get(k) is not None}  # type: ignore[union-attr]
    if key_kinds & {"uscc", "license_no", "org_code", "reg_no"}:
        return "enterprise"
    if "ric" in key_kinds:
        return "person"
    if els and sum(e.object_class in ("法人", "企业", "市场主体") for e in els) * 2 > len(els):
        return "enterprise"
    return "project"


def eligible(values: Values, catalog: Catalog, form: SourceForm, kind: EntityKind) -> np.ndarray:
    if kind != "project":
        return np.arange(values.size(kind))
    order = catalog.stage[form.stage_id].order if form.stage_id in catalog.stage else 1
    return np.flatnonzero(values.projects.reached >= order)


def select_rows(values: Values, catalog: Catalog, form: SourceForm, seed: int) -> tuple[EntityKind, np.ndarray]:
    """The form's entity kind and the (sorted) entity indices it holds at seeding time."""
    kind = entity_kind(catalog, form)
    pool = eligible(values, catalog, form, kind)
    rng = rng_for(seed, "select." + form.form_id)
    frac = 0.75 + 0.25 * rng.random()
    take = rng.choice(pool, size=round(frac * len(pool)), replace=False) if len(pool) else pool
    return kind, np.sort(take)


class FormRenderer:
    """Renders rows of one form for given entity indices."""

    def __init__(self, catalog: Catalog, values: Values, form: SourceForm, seed: int,
                 interval: tuple[datetime, datetime]):
        self.catalog, self.values, self.form, self.seed, self.interval = catalog, values, form, seed, interval
        self.kind = entity_kind(catalog, form)
        self.date_style = DATE_STYLES[crc(form.system_id) % len(DATE_STYLES)]
        self.maps: dict[str, list[Mapping]] = {}
        for m in catalog.mappings_of(form.form_id):
            if m.element_id in catalog.element:
                self.maps.setdefault(m.column, []).append(m)

    def render(self, idx: np.ndarray, *, serial_start: int = 0, salt: str = "seed",
               updated_range: tuple[datetime, datetime] | None = None) -> pa.Table:
        n = len(idx)
        cols: dict[str, pa.Array] = {}
        for f in self.catalog.fields_of(self.form.form_id):
            rng = rng_for(self.seed, f"{salt}.{self.form.form_id}.{f.column}")
            if f.column == self.form.updated_column:
                lo, hi = updated_range or self.interval
                span = int((hi - lo).total_seconds())
                vals: list[Any] = [lo + timedelta(seconds=int(s)) for s in rng.integers(0, span, n)]
            elif f.column in self.maps:
                vals = self._mapped(f, self.maps[f.column], idx, rng)
            else:
                vals = self._excluded(f, n, rng, serial_start)
            cols[f.column] = self._native(f, vals, rng)
        return pa.table(cols)

    # --- mapped fields ---
    def _canon(self, el: Element, idx: np.ndarray) -> list[Any]:
        full = self.values.canonical(self.kind, el)
        return [full[i] for i in idx]

    def _mapped(self, f: SourceField, maps: list[Mapping], idx: np.ndarray, rng: np.random.Generator) -> list[Any]:
        maps = sorted(maps, key=lambda m: m.part)
        first = maps[0]
        el = self.catalog.element[first.element_id]
        if first.transform == "split" or (len(maps) > 1 and first.transform != "date_range"):
            parts = [[self._one(f, self.catalog.element[m.element_id], v, as_text=True)
                      for v in self._canon(self.catalog.element[m.element_id], idx)] for m in maps]
            sep = f.packed_sep or "/"
            return [None if any(p is None for p in row) else sep.join(str(p) for p in row)
                    for row in zip(*parts, strict=True)]
        if first.transform == "date_range":
            by_part = {m.part: self._canon(self.catalog.element[m.element_id], idx) for m in maps}
            if 0 in by_part and 1 in by_part:
                return [None if a is None or b is None else f"{a:%Y-%m-%d}至{b:%Y-%m-%d}"
                        for a, b in zip(by_part[0], by_part[1], strict=True)]
            key = next(iter(by_part))
            return [None if v is None else (f"{v}天" if key == 2 else f"{v:%Y-%m-%d}") for v in by_part[key]]
        if first.transform == "concat":
            pieces = sorted(m.part for m in self.catalog.mappings_of(self.form.form_id)
                            if m.element_id == first.element_id and m.transform == "concat")
            k, pos = len(pieces), pieces.index(first.part)
            return [None if v is None else _piece(str(v), k, pos) for v in self._canon(el, idx)]
        return [self._one(f, el, v) for v in self._canon(el, idx)]

    def _one(self, f: SourceField, el: Element, v: Any, as_text: bool = False) -> Any:
        if v is None:
            return None
        text = as_text or f.native_type == "text"
        if el.data_type in ("decimal", "integer") and isinstance(v, int | float) and not isinstance(v, bool):
            v = self._convert(v, el.unit, f.unit)
            return _num_text(v) if text else v
        if isinstance(v, date):
            return v.strftime(self.date_style) if text and f.native_type == "text" else (
                f"{v:%Y-%m-%d}" if text else v)
        if el.code_list and f.code_list and f.code_list in self.catalog.crosswalk:
            inverse = _inverse(self.catalog.crosswalk[f.code_list])
            return inverse.get(str(v), next(iter(inverse.values()), v))
        return v

    def _convert(self, v: float, from_unit: str, to_unit: str) -> float:
        a, b = self.catalog.unit.get(from_unit), self.catalog.unit.get(to_unit)
        if not a or not b or a.dimension != b.dimension:
            return v
        return round(v * a.factor_num / a.factor_den * b.factor_den / b.factor_num, 4)

    # --- excluded fields ---
    def _excluded(self, f: SourceField, n: int, rng: np.random.Generator, serial_start: int) -> list[Any]:
        label = f.label_zh + f.column
        if f.column in self.form.primary_key:
            if f.native_type == "integer":
                return list(range(serial_start + 1, serial_start + n + 1))
            prefix = "".join(c for c in f.column.upper() if c.isascii() and c.isalpha())[:4] or "BH"
            return [f"{prefix}{crc(self.form.form_id) % 90 + 10}{serial_start + i + 1:08d}" for i in range(n)]
        nt = f.native_type
        if nt == "integer":
            return [int(x) for x in rng.integers(0, 100, n)]
        if nt == "decimal":
            return [float(x) for x in np.round(rng.uniform(0, 1000, n), 2)]
        if nt in ("date", "datetime"):
            days = rng.integers(0, 3650, n)
            base = date(2015, 1, 1)
            ds = [base + timedelta(days=int(d)) for d in days]
            return ds if nt == "date" else [datetime.combine(d, datetime.min.time()) for d in ds]
        if nt == "boolean":
            return list(rng.random(n) < 0.5)
        if "备注" in label or "说明" in label:
            return list(rng.choice(["", "无特殊说明", "加急办理", "材料齐全", "已补正"], n))
        if any(w in label for w in ("经办人", "受理人", "审核人", "审批人", "录入人", "操作员")):
            return person_name(rng, n)
        if "电话" in label:
            return phones(rng, n)
        if "时间" in label or "日期" in label:
            return [f"{date(2015, 1, 1) + timedelta(days=int(d)):%Y-%m-%d}" for d in rng.integers(0, 3650, n)]
        for words, choices in FREE_TEXT:
            if any(w in label for w in words):
                return list(rng.choice(choices, n))
        if "编号" in label or label.endswith("号"):
            return [f"{int(x):010d}" for x in rng.integers(0, 10**10, n)]
        return [f"{f.label_zh}{int(x):03d}" for x in rng.integers(1, 999, n)]

    # --- native types ---
    def _native(self, f: SourceField, vals: list[Any], rng: np.random.Generator) -> pa.Array:
        required = self._required(f)
        if not required:
            holes = rng.random(len(vals)) < NULL_RATE
            vals = [None if h else v for v, h in zip(vals, holes, strict=True)]
        vals = [None if v == "" else v for v in vals]
        target = NATIVE_ARROW[f.native_type]
        if f.native_type == "text":
            return pa.array([None if v is None else (v if isinstance(v, str) else _text(v)) for v in vals],
                            pa.string())
        if f.native_type == "decimal":
            return pc.cast(pa.array([None if v is None else float(v) for v in vals], pa.float64()), target,
                           safe=False)
        if f.native_type == "datetime":
            vals = [datetime.combine(v, datetime.min.time()) if isinstance(v, date) and not isinstance(v, datetime)
                    else v for v in vals]
        return pa.array(vals, target)

    def _required(self, f: SourceField) -> bool:
        if f.column in self.form.primary_key or f.column == self.form.updated_column:
            return True
        return any(self.form.stage_id in self.catalog.element[m.element_id].required_in
                   for m in self.maps.get(f.column, []))


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return _num_text(v)
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M:%S}"
    if isinstance(v, date):
        return f"{v:%Y-%m-%d}"
    return str(v)


def _num_text(v: float | int) -> str:
    if isinstance(v, int):
        return str(v)
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return s or "0"


def _piece(text: str, k: int, pos: int) -> str:
    step = -(-len(text) // k)
    return text[pos * step:(pos + 1) * step]


def _inverse(crosswalk: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for native, code in crosswalk.items():
        out.setdefault(code, native)
    return out


def dedupe_keys(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Keep the first row of each primary key (entity-derived keys can collide in tiny pools)."""
    if not keys or table.num_rows == 0:
        return table
    k = source_keys(table, keys)
    _, first = np.unique(np.asarray(k.to_pylist(), dtype=object), return_index=True)
    if len(first) == table.num_rows:
        return table
    return table.take(pa.array(np.sort(first)))


__all__ = ["FormRenderer", "as_arrow", "dedupe_keys", "entity_kind", "select_rows"]
