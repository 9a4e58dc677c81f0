"""Render one source form's native table from the canonical values, as its system stores it.

Rows: a form is about projects (it carries a 投资项目代码), enterprises (its key is a credit code) or
persons (its key is an ID number). A project form holds the projects that reached its stage; each form
takes a seeded 75-100 % subset of its eligible entities, so later inserts (``demo advance``) have
projects left to add. Columns, in fields.csv order, each rendered from its mapping:

- ``quantity``: converted from the element's unit into the field's (元 -> 万元, m² -> 亩 ...);
- ``date``: a date for date columns, else text in the system's own spelling (2019年11月21日, 20191121 ...);
- ``code``: the department's native value through its crosswalk, else the canonical code;
- ``nominal_diameter``: the size alone (``200``) in a field with a unit or a numeric type, else ``DN200``;
- ``split`` / ``date_range`` / ``concat``: packed cells joined with the field's separator,
  ``start至end`` or ``365天``, or the pieces of one value spread over several columns;
- the update column: a time inside the world's interval; excluded fields from their native type and
  label (remarks, clerks, internal numbers; key columns get unique serials).

Optional columns are sometimes empty; key columns never are. Every column is built whole from the
canonical Arrow columns (a take by entity index, then Arrow compute), never value by value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, Mapping, SourceField, SourceForm
from quancheng.demo.idgen import day_number
from quancheng.demo.pools import crc, person_name, phones, rng_for
from quancheng.demo.values import FREE_TEXT, EntityKind, Values
from quancheng.demo.vec import choose, concat, dates, lookup, num_text, strftime, zfill
from quancheng.sources.types import NATIVE_ARROW, source_keys

DATE_STYLES = ["%Y-%m-%d", "%Y年%m月%d日", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"]
NULL_RATE = 0.03


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

    def elements(self) -> set[str]:
        """The element ids this form's columns are rendered from."""
        return {m.element_id for maps in self.maps.values() for m in maps}

    def render(self, idx: np.ndarray, *, serial_start: int = 0, salt: str = "seed",
               updated_range: tuple[datetime, datetime] | None = None) -> pa.Table:
        n = len(idx)
        take = pa.array(np.asarray(idx, np.int64))
        cols: dict[str, pa.Array] = {}
        for f in self.catalog.fields_of(self.form.form_id):
            rng = rng_for(self.seed, f"{salt}.{self.form.form_id}.{f.column}")
            if f.column == self.form.updated_column:
                lo, hi = updated_range or self.interval
                span = int((hi - lo).total_seconds())
                seconds = rng.integers(0, span, n) + int((lo - datetime(1970, 1, 1)).total_seconds())
                vals: pa.Array = pa.array(seconds * 1_000_000, pa.timestamp("us"))
            elif f.column in self.maps:
                vals = self._mapped(f, self.maps[f.column], take, rng)
            else:
                vals = self._excluded(f, n, rng, serial_start)
            cols[f.column] = self._native(f, vals, rng)
        return pa.table(cols)

    # --- mapped fields ---
    def _canon(self, el: Element, take: pa.Array) -> pa.Array:
        return self.values.canonical(self.kind, el, self.form).take(take)

    def _mapped(self, f: SourceField, maps: list[Mapping], take: pa.Array, rng: np.random.Generator) -> pa.Array:
        maps = sorted(maps, key=lambda m: m.part)
        first = maps[0]
        el = self.catalog.element[first.element_id]
        if first.transform == "split" or (len(maps) > 1 and first.transform != "date_range"):
            parts = []
            for m in maps:
                part_el = self.catalog.element[m.element_id]
                parts.append(_as_text(self._one(f, part_el, self._canon(part_el, take), as_text=True)))
            sep = f.packed_sep or "/"
            return pc.binary_join_element_wise(*parts, sep)
        if first.transform == "date_range":
            by_part = {m.part: self._canon(self.catalog.element[m.element_id], take) for m in maps}
            if 0 in by_part and 1 in by_part:
                return concat(strftime(by_part[0], "%Y-%m-%d"), "至", strftime(by_part[1], "%Y-%m-%d"))
            key = next(iter(by_part))
            if key == 2:
                return concat(num_text(by_part[key]), "天")
            return strftime(by_part[key], "%Y-%m-%d")
        if first.transform == "concat":
            pieces = sorted(m.part for m in self.catalog.mappings_of(self.form.form_id)
                            if m.element_id == first.element_id and m.transform == "concat")
            return _piece(_as_text(self._canon(el, take)), len(pieces), pieces.index(first.part))
        if first.transform == "nominal_diameter" and (f.native_type != "text" or f.unit):
            # a 管径(mm) field holds the size in millimetres: DN200 is written 200
            return pc.utf8_slice_codeunits(self._canon(el, take), 2)
        return self._one(f, el, self._canon(el, take))

    def _one(self, f: SourceField, el: Element, v: pa.Array, as_text: bool = False) -> pa.Array:
        text = as_text or f.native_type == "text"
        numeric = pa.types.is_integer(v.type) or pa.types.is_floating(v.type)
        if el.data_type in ("decimal", "integer") and numeric:
            v = self._convert(v, el.unit, f.unit)
            return num_text(v) if text else v
        if pa.types.is_date(v.type):
            if text:
                return strftime(v, self.date_style if f.native_type == "text" else "%Y-%m-%d")
            return v
        if el.code_list and f.code_list and f.code_list in self.catalog.crosswalk:
            inverse = _inverse(self.catalog.crosswalk[f.code_list])
            return lookup(v.cast(pa.string()), inverse, default=next(iter(inverse.values()), None))
        return v

    def _convert(self, v: pa.Array, from_unit: str, to_unit: str) -> pa.Array:
        a, b = self.catalog.unit.get(from_unit), self.catalog.unit.get(to_unit)
        if not a or not b or a.dimension != b.dimension:
            return v
        factor = a.factor_num / a.factor_den * b.factor_den / b.factor_num
        return pc.round(pc.multiply(v.cast(pa.float64()), factor), 4)

    # --- excluded fields ---
    def _excluded(self, f: SourceField, n: int, rng: np.random.Generator, serial_start: int) -> pa.Array:
        label = f.label_zh + f.column
        if f.column in self.form.primary_key:
            serials = np.arange(serial_start + 1, serial_start + n + 1)
            if f.native_type == "integer":
                return pa.array(serials)
            prefix = "".join(c for c in f.column.upper() if c.isascii() and c.isalpha())[:4] or "BH"
            return concat(f"{prefix}{crc(self.form.form_id) % 90 + 10}", zfill(serials, 8))
        nt = f.native_type
        if nt == "integer":
            return pa.array(rng.integers(0, 100, n))
        if nt == "decimal":
            return pa.array(np.round(rng.uniform(0, 1000, n), 2))
        if nt in ("date", "datetime"):
            return dates(day_number(date(2015, 1, 1)) + rng.integers(0, 3650, n))
        if nt == "boolean":
            return pa.array(rng.random(n) < 0.5)
        if "备注" in label or "说明" in label:
            return choose(rng, ["", "无特殊说明", "加急办理", "材料齐全", "已补正"], n)
        if any(w in label for w in ("经办人", "受理人", "审核人", "审批人", "录入人", "操作员")):
            return person_name(rng, n)
        if "电话" in label:
            return phones(rng, n)
        if "时间" in label or "日期" in label:
            return strftime(dates(day_number(date(2015, 1, 1)) + rng.integers(0, 3650, n)), "%Y-%m-%d")
        for words, choices in FREE_TEXT:
            if any(w in label for w in words):
                return choose(rng, choices, n)
        if "编号" in label or label.endswith("号"):
            return zfill(rng.integers(0, 10**10, n), 10)
        return concat(f.label_zh, zfill(rng.integers(1, 999, n), 3))

    # --- native types ---
    def _native(self, f: SourceField, vals: pa.Array, rng: np.random.Generator) -> pa.Array:
        if isinstance(vals, pa.ChunkedArray):
            vals = vals.combine_chunks()
        if not self._required(f):
            holes = pa.array(rng.random(len(vals)) < NULL_RATE)
            vals = pc.if_else(holes, pa.scalar(None, vals.type), vals)
        if pa.types.is_string(vals.type):
            vals = pc.if_else(pc.equal(vals, ""), pa.scalar(None, pa.string()), vals)
        nt = f.native_type
        if nt == "text":
            return _as_text(vals)
        if nt == "decimal":
            return pc.cast(vals.cast(pa.float64()), NATIVE_ARROW[nt], safe=False)
        if nt == "datetime" and pa.types.is_date(vals.type):
            return vals.cast(pa.timestamp("us"))
        return pc.cast(vals, NATIVE_ARROW[nt], safe=False)

    def _required(self, f: SourceField) -> bool:
        if f.column in self.form.primary_key or f.column == self.form.updated_column:
            return True
        return any(self.form.stage_id in self.catalog.element[m.element_id].required_in
                   for m in self.maps.get(f.column, []))


def _as_text(v: pa.Array) -> pa.Array:
    """A column as the text a clerk would see: 是/否, trimmed numbers, ISO dates and times."""
    t = v.type
    if pa.types.is_string(t):
        return v
    if pa.types.is_boolean(t):
        return pc.if_else(v, "是", "否")
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return num_text(v)
    if pa.types.is_timestamp(t):
        return strftime(v, "%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return strftime(v, "%Y-%m-%d")
    return v.cast(pa.string())


def _piece(text: pa.Array, k: int, pos: int) -> pa.Array:
    """The ``pos``-th of ``k`` nearly equal pieces of each value (the last one may be shorter)."""
    s = pl.Series("v", text)
    step = (s.str.len_chars() + k - 1) // k
    out = pl.DataFrame({"v": s, "step": step}).select(pl.col("v").str.slice(pl.col("step") * pos, pl.col("step")))
    return out.to_series().to_arrow().cast(pa.string())


def _inverse(crosswalk: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for native, code in crosswalk.items():
        out.setdefault(code, native)
    return out


def dedupe_keys(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Keep the first row of each primary key (entity-derived keys can collide in tiny pools)."""
    if not keys or table.num_rows == 0:
        return table
    first = pl.Series(source_keys(table, keys)).is_first_distinct().to_arrow()
    if pc.all(first).as_py():
        return table
    return table.filter(first)


__all__ = ["FormRenderer", "dedupe_keys", "entity_kind", "select_rows"]
