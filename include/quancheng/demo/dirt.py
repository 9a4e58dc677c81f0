"""Dirty data with ground truth: the patterns of shared/reference/dirty_data_patterns.csv, injected.

:func:`inject` dirties about ``rate`` of a form's rows, one cell each, and returns the manifest rows
``(system_id, table, source_key, column, pattern, expected)``. ``expected`` is what the pipeline must
do: ``fixed`` (normalization recovers the value) or ``quarantined`` (the row is held with a reason).
Key and update columns are never dirtied, so a row's source key stays stable. A pattern only goes
where it can occur: text patterns in text columns, numeric ones in any column of the quantity.

``wan_yuan_mix`` is the slip that *looks* off by 10⁴: a value at or above its column's median (of 20 or
more amounts) typed in 元, so it lands 10⁴ times over the median. A slip of a small amount lands among
the genuine large ones; no rule on the value alone can tell it from them, so it is not injected as a
pattern the pipeline must catch (the pipeline quarantines values 10^3.5 over the median of its batch).

| pattern | where | becomes | expected |
| --- | --- | --- | --- |
| fullwidth_chars | identifiers, text dates | ２０１９… | fixed |
| ideographic_space | text fields | U+3000 and spaces around | fixed |
| date_format_variant | text dates | another spelling (2019/11/21 …) | fixed |
| date_chinese_numerals | text dates | 二〇一九年十一月二十一日 | fixed |
| date_blank | required text dates | 年  月  日 | quarantined |
| placeholder | required text fields | / 无 -- NA | quarantined |
| wan_yuan_mix | 万元 quantities, at or above the median | value in 元 (10⁴ over the median) | quarantined |
| unit_in_value | text quantities | 1234.5平方米 / ㎡ / m2 / 万元 / 亩 | fixed |
| packed_sep_variant | packed cells | ／ for / | fixed |
| old_id_15 | 身份证号 | the 15-digit number | fixed |
| id_case_spacing | credit codes, ID numbers | lower case or spaces | fixed |
| mistyped_identifier | credit codes, ID numbers | one digit changed | quarantined |
| legacy_identifier | 证照号码 columns | organisation code 12345678-9 | fixed |
| unknown_code | coded fields | a code no list knows | quarantined |
| old_division_code | GB/T 2260 fields | 370181 / 371202 / 370125 | fixed |
| project_code_separator | 投资项目代码 | －, space or no separator | fixed |
| permit_suffix | 施工许可证编号 | S/J/Z/A 副本 suffix | fixed |
| historic_address | addresses | 章丘市 / 莱芜市莱城区 | fixed |
| name_variant | enterprise names | 有限公司 <-> 有限责任公司, （） -> () | fixed |
| diameter_spelling | text pipe diameters | dn200 / 200mm / Φ200 / DN 200 for 200 | fixed |
| outside_diameter | text pipe diameters | De110 (a plastic pipe's outside diameter) | quarantined |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, SourceField, SourceForm
from quancheng.demo.generate import DATE_STYLES
from quancheng.demo.pools import HISTORIC
from quancheng.normalize.quantity import medians
from quancheng.sources.types import source_keys

Expected = Literal["fixed", "quarantined"]
MANIFEST_SCHEMA = pa.schema([("system_id", pa.string()), ("table", pa.string()), ("source_key", pa.string()),
                             ("column", pa.string()), ("pattern", pa.string()), ("expected", pa.string())])
DEFAULT_RATE = 0.03
_FW = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
_CN_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Ctx:
    """What a pattern needs to know about a column."""

    field: SourceField
    element: Element | None
    transform: str
    required: bool
    date_style: str
    median: float | None = None  # of a numeric column's positive values in the table (20 or more), else None

    @property
    def text(self) -> bool:
        return self.field.native_type == "text"

    @property
    def ik(self) -> str:
        return (self.element.identifier_kind or "") if self.element else ""

    @property
    def name(self) -> str:
        return (self.element.name_zh + self.element.property) if self.element else self.field.label_zh


Apply = Callable[[Any, np.random.Generator, Ctx], Any]


@dataclass(frozen=True)
class Pattern:
    name: str
    expected: Expected
    applies: Callable[[Ctx], bool]
    apply: Apply  # returns the dirty value, or None when this value cannot carry the pattern


def _cn_date(d: datetime) -> str:
    def num(n: int) -> str:
        if n < 10:
            return _CN_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return "".join(_CN_DIGITS[int(c)] for c in f"{d:%Y}") + f"年{num(d.month)}月{num(d.day)}日"


def _parse(v: str, ctx: Ctx) -> datetime | None:
    try:
        return datetime.strptime(v, ctx.date_style)
    except ValueError:
        return None


def _other_style(v: str, rng: np.random.Generator, ctx: Ctx) -> str | None:
    d = _parse(v, ctx)
    styles = [s for s in DATE_STYLES if s != ctx.date_style]
    return d.strftime(str(rng.choice(styles))) if d else None


def _mistype(v: str, rng: np.random.Generator, ctx: Ctx) -> str | None:
    digits = [i for i, c in enumerate(v) if c.isdigit() and i < len(v) - 1]
    if not digits:
        return None
    i = int(rng.choice(digits))
    return v[:i] + str((int(v[i]) + int(rng.integers(1, 10))) % 10) + v[i + 1:]


def _unit_suffix(v: str, rng: np.random.Generator, ctx: Ctx) -> str:
    unit = ctx.field.unit
    if unit in ("平方米", "m²", "m2", "M2", "㎡", "M²"):
        return v + str(rng.choice(["平方米", "㎡", "m2", "M²"]))
    return v + unit


def _wan_yuan(v: Any, rng: np.random.Generator, ctx: Ctx) -> Any:
    if ctx.median is None or not _number(v) >= ctx.median:
        return None  # a small amount typed in 元 stays among the genuine large ones: not visibly off
    if isinstance(v, str):
        try:
            return f"{Decimal(v) * 10000:f}".rstrip("0").rstrip(".")
        except ArithmeticError:
            return None
    return v * 10000


def _name_variant(v: str, rng: np.random.Generator, ctx: Ctx) -> str | None:
    for a, b in (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"), ("有限公司", "有限责任公司")):
        if a in v:
            return v.replace(a, b).replace("（", "(").replace("）", ")")
    return v.replace("（", "(").replace("）", ")") if "（" in v else None


def _historic_address(v: str, rng: np.random.Generator, ctx: Ctx) -> str | None:
    renames = (("济南市章丘区", "济南市章丘市"), ("济南市莱芜区", "莱芜市莱城区"), ("济南市钢城区", "莱芜市钢城区"),
               ("济南市济阳区", "济南市济阳县"))
    for new, old in renames:
        if new in v:
            return v.replace(new, old)
    return None


def _diameter_spelling(v: str, rng: np.random.Generator, ctx: Ctx) -> str | None:
    size = v.removeprefix("DN")
    if not size.isdigit():
        return None
    return str(rng.choice([f"dn{size}", f"{size}mm", f"Φ{size}", f"DN {size}"]))


def _is_party_name(ctx: Ctx) -> bool:
    el = ctx.element
    return bool(el and ctx.text and "名称" in el.property and any(
        w in el.object_class for w in ("单位", "企业", "法人", "公司", "机构")))


def _number(v: Any) -> float:
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        return float("nan")


PATTERNS: list[Pattern] = [
    Pattern("fullwidth_chars", "fixed", lambda c: c.text and (bool(c.ik) or c.transform == "date"),
            lambda v, r, c: v.translate(_FW) if any(ch.isascii() and ch.isalnum() for ch in v) else None),
    Pattern("ideographic_space", "fixed", lambda c: c.text and c.transform == "text",
            lambda v, r, c: "\u3000" + v + " "),
    Pattern("date_format_variant", "fixed", lambda c: c.text and c.transform == "date", _other_style),
    Pattern("date_chinese_numerals", "fixed", lambda c: c.text and c.transform == "date",
            lambda v, r, c: _cn_date(d) if (d := _parse(v, c)) else None),
    Pattern("date_blank", "quarantined", lambda c: c.text and c.transform == "date" and c.required,
            lambda v, r, c: "年  月  日"),
    Pattern("placeholder", "quarantined", lambda c: c.text and c.required and c.transform in ("text", "identifier",
                                                                                                "code", "date"),
            lambda v, r, c: str(r.choice(["/", "无", "--", "NA"]))),
    Pattern("wan_yuan_mix", "quarantined", lambda c: c.transform == "quantity" and c.field.unit == "万元", _wan_yuan),
    Pattern("unit_in_value", "fixed", lambda c: c.text and c.transform == "quantity" and bool(c.field.unit),
            _unit_suffix),
    Pattern("packed_sep_variant", "fixed", lambda c: c.text and c.transform == "split" and c.field.packed_sep == "/",
            lambda v, r, c: v.replace("/", "／") if "/" in v else None),
    Pattern("old_id_15", "fixed", lambda c: c.text and c.ik == "ric",
            lambda v, r, c: v[:6] + v[8:17] if len(v) == 18 and v[6:8] == "19" else None),
    Pattern("id_case_spacing", "fixed", lambda c: c.text and c.ik in ("uscc", "ric", "license_no"),
            lambda v, r, c: v.lower() if v[-1].isalpha() else f"{v[:6]} {v[6:]}"),
    Pattern("mistyped_identifier", "quarantined", lambda c: c.text and c.ik in ("uscc", "ric"), _mistype),
    Pattern("legacy_identifier", "fixed", lambda c: c.text and c.ik == "license_no",
            lambda v, r, c: f"{v[8:16]}-{v[16]}" if len(v) == 18 else None),
    # not "99": it is 其他 in several canonical lists (structure_type, building_use ...), so it is a real code
    Pattern("unknown_code", "quarantined", lambda c: c.text and c.transform == "code", lambda v, r, c: "ZZ"
            if v != "ZZ" else "Z9"),
    Pattern("old_division_code", "fixed",
            lambda c: c.text and c.transform == "code" and c.field.code_list == "gb2260",
            lambda v, r, c: HISTORIC[v][0] if v in HISTORIC else None),
    Pattern("project_code_separator", "fixed", lambda c: c.text and c.ik == "project_code",
            lambda v, r, c: v.replace("-", str(r.choice(["－", " ", ""])))),
    Pattern("permit_suffix", "fixed", lambda c: c.text and c.ik == "construction_permit",
            lambda v, r, c: v + str(r.choice(["S", "J", "Z", "A"]))),
    Pattern("historic_address", "fixed", lambda c: c.text and any(w in c.name for w in ("地址", "住所")),
            _historic_address),
    Pattern("name_variant", "fixed", _is_party_name, _name_variant),
    Pattern("diameter_spelling", "fixed", lambda c: c.text and c.transform == "nominal_diameter",
            _diameter_spelling),
    Pattern("outside_diameter", "quarantined", lambda c: c.text and c.transform == "nominal_diameter",
            lambda v, r, c: str(r.choice(["De110", "De63", "Φ219×6"]))),
]
PATTERN_BY_NAME = {p.name: p for p in PATTERNS}


def contexts(catalog: Catalog, form: SourceForm, date_style: str) -> list[Ctx]:
    maps: dict[str, list[Any]] = {}
    for m in catalog.mappings_of(form.form_id):
        maps.setdefault(m.column, []).append(m)
    out = []
    for f in catalog.fields_of(form.form_id):
        if f.column in form.primary_key or f.column == form.updated_column or f.column not in maps:
            continue
        m = sorted(maps[f.column], key=lambda x: x.part)[0]
        el = catalog.element.get(m.element_id)
        required = any(form.stage_id in catalog.element[x.element_id].required_in
                       for x in maps[f.column] if x.element_id in catalog.element)
        out.append(Ctx(f, el, m.transform, required, date_style))
    return out


def inject(table: pa.Table, catalog: Catalog, form: SourceForm, rng: np.random.Generator, *,
           rate: float = DEFAULT_RATE, date_style: str = "%Y-%m-%d") -> tuple[pa.Table, list[dict[str, str]]]:
    """Dirty about ``rate`` of the rows (one cell each); returns the table and its manifest rows.

    Only the chosen rows are read into Python (a take per touched column); each touched column is then
    rewritten in one ``replace_with_mask``, so the cost follows the dirt, not the table.
    """
    ctxs = contexts(catalog, form, date_style)
    found = medians(table, [c.field.column for c in ctxs if c.field.unit == "万元"], min_rows=20)
    ctxs = [replace(c, median=found.get(c.field.column)) for c in ctxs]
    candidates = [(ctx, p) for ctx in ctxs for p in PATTERNS if p.applies(ctx)]
    n = table.num_rows
    if not candidates or n == 0 or rate <= 0:
        return table, []
    rows = np.sort(rng.choice(n, size=min(n, max(1, round(rate * n))), replace=False))
    at_rows = pa.array(rows, pa.int64())
    # each row tries the candidates in its own random order (all orders drawn at once)
    orders = rng.permuted(np.broadcast_to(np.arange(len(candidates)), (len(rows), len(candidates))), axis=1).tolist()
    values: dict[str, list[Any]] = {}  # column -> its values at ``rows``
    changes: dict[str, dict[int, Any]] = {}  # column -> position in ``rows`` -> dirty value
    hits: list[tuple[int, str, Pattern]] = []
    for pos, order in enumerate(orders):
        for k in order:
            ctx, pattern = candidates[k]
            column = ctx.field.column
            if column not in values:
                values[column] = table[column].take(at_rows).to_pylist()
            value = values[column][pos]
            if value is None:
                continue
            dirty = pattern.apply(value, rng, ctx)
            if dirty is None or dirty == value:
                continue
            changes.setdefault(column, {})[pos] = dirty
            hits.append((pos, column, pattern))
            break
    if not hits:
        return table, []
    if form.primary_key:
        keys = source_keys(table.take(at_rows), form.primary_key).to_pylist()
    else:
        keys = [str(int(r)) for r in rows]
    manifest = [{"system_id": form.system_id, "table": form.table, "source_key": str(keys[pos]), "column": column,
                 "pattern": pattern.name, "expected": pattern.expected} for pos, column, pattern in hits]
    for column, by_pos in changes.items():
        order = sorted(by_pos)
        mask = np.zeros(n, bool)
        mask[rows[order]] = True
        i = table.column_names.index(column)
        typ = table.schema.field(column).type
        col = table.column(i).combine_chunks()
        dirty_col = pc.replace_with_mask(col, pa.array(mask), pa.array([by_pos[p] for p in order], typ))
        table = table.set_column(i, column, dirty_col)
    return table, manifest
