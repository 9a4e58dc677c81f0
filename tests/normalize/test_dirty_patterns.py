"""Every pattern of shared/reference/dirty_data_patterns.csv, with what normalization does about it.

The table ``HANDLED`` maps each (category, problem) row of the reference file to a check; a test reads
the file and fails when a row has no check, so a new pattern cannot slip in unhandled.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import Code, CodeList, Unit
from quancheng.ids import check, embedded_org_code
from quancheng.ids.make import org_code
from quancheng.normalize import normalize_form
from quancheng.normalize.codes import CodeTable
from quancheng.normalize.dates import parse_date_ranges, parse_dates
from quancheng.normalize.quantity import UnitTable, parse_quantities, suspect_scale
from quancheng.normalize.text import match_key, normalize_text
from quancheng.normalize.types import with_provenance
from quancheng.validate import validate_form
from stdnum.cn import uscc as stdnum_uscc

REFERENCE = Path(os.environ.get("QUANCHENG_REFERENCE",
                                Path(__file__).resolve().parents[2] / "reference"))
PATTERNS = REFERENCE / "dirty_data_patterns.csv"


def one(fn: Callable[[pl.Series], object], value: str) -> tuple[object, object]:
    o = fn(pl.Series([value], dtype=pl.String))
    return o.values[0], o.codes[0]  # type: ignore[attr-defined]


def fullwidth(c: Catalog) -> None:
    assert one(parse_dates, "２０１９年１１月２１日") == (date(2019, 11, 21), "fullwidth.normalized")
    assert check("９１３７０１００７８７４０７６３９３", "uscc").normalized == "913701007874076393"
    assert one(normalize_text, "山东（集团）\u3000有限公司 ") == ("山东（集团） 有限公司", None)  # display kept


def brackets(c: Catalog) -> None:
    a, b = "同方德诚（山东）科技股份公司", "同方德诚(山东)科技股份公司"
    assert one(normalize_text, a)[0] == a  # stored verbatim
    assert match_key(pl.Series([a]))[0] == match_key(pl.Series([b]))[0]  # compared on the key


def same_uscc(c: Catalog) -> None:
    # resolution is the enterprise master's (quancheng.consolidate): it gets one normalized USCC and both names
    assert check("913701007874076393", "uscc").valid
    names = ["山东伊莱特重工股份有限公司", "山东伊莱特重工有限公司"]
    assert [one(normalize_text, n)[0] for n in names] == names


def suffix_variants(c: Catalog) -> None:
    # not merged here (no fuzzy matching in normalization); the keys stay distinct for the master to decide
    keys = match_key(pl.Series(["济南中维世纪有限公司", "济南中维世纪有限责任公司"]))
    assert keys[0] != keys[1]


def mixed_dates(c: Catalog) -> None:
    for v in ["2019年11月21日", "20191121", "2019/11/21", "2019-11-21", "2019.11.21", "二〇一九年十一月二十一日"]:
        assert one(parse_dates, v) == (date(2019, 11, 21), None), v
    assert one(parse_dates, "年  月  日") == (None, "date.blank")


def date_ranges(c: Catalog) -> None:
    p = parse_date_ranges(pl.Series(["2019-03-01至2020-03-01", "365天"]))
    assert (p[0].values[0], p[1].values[0], p[2].values[0]) == (date(2019, 3, 1), date(2020, 3, 1), 366)
    assert (p[0].values[1], p[2].values[1]) == (None, 365)


def wan_yuan(c: Catalog) -> None:
    u = UnitTable.of(c.units)
    o = parse_quantities(pl.Series(["12.5", "12.5万元", "1250000元"]), u.get("万元"), u.get("元"), u, 2)
    assert o.values.to_list() == [Decimal("125000.00")] * 2 + [Decimal("1250000.00")]
    col = pl.Series([Decimal(100 + i) for i in range(20)] + [Decimal(100 * 10**4)], dtype=pl.Decimal(38, 2))
    assert suspect_scale(col).to_list() == [False] * 20 + [True]  # the row goes to quarantine: unit.suspect_scale


def land_units(c: Catalog) -> None:
    u = UnitTable.of(c.units)
    o = parse_quantities(pl.Series(["1", "1.5公顷", "800平方米"]), u.get("亩"), u.get("m²"), u, 2)
    assert o.values.to_list() == [Decimal("666.67"), Decimal("15000.00"), Decimal("800.00")]


def unit_symbols(c: Catalog) -> None:
    flow = [Unit(unit="m³/d", dimension="flow", canonical="m³/d", factor_num=1),
            Unit(unit="吨/日", dimension="flow", canonical="m³/d", factor_num=1),
            Unit(unit="m3/日", dimension="flow", canonical="m³/d", factor_num=1)]
    u = UnitTable.of([*c.units, *flow])
    for v in ["12平方米", "12m2", "12M2", "12㎡", "12m&sup2;", "12M²"]:
        assert parse_quantities(pl.Series([v]), u.get("m²"), u.get("m²"), u, 2).values[0] == Decimal(12), v
    o = parse_quantities(pl.Series(["30吨/日", "30m3/日"]), u.get("m³/d"), u.get("m³/d"), u, 2)
    assert o.values.to_list() == [Decimal(30), Decimal(30)]


def packed(c: Catalog) -> None:
    form = c.form["hcb_permit"]
    cols = {f.column: ["x"] * 3 for f in c.fields_of(form.form_id)}
    cols["地上地下面积"] = ["1000/200.5", "1000／200", "1000"]
    norm = normalize_form(with_provenance(pa.table(cols), form), form, c)
    assert norm.table["above_ground_area"].to_pylist()[:2] == [Decimal("1000.00")] * 2
    assert norm.table["underground_area"].to_pylist() == [Decimal("200.50"), Decimal("200.00"), None]
    assert "split.parts" in norm.issues["code"].to_pylist()  # ambiguous: rejected, not guessed


def old_id(c: Catalog) -> None:
    assert check("370802940221002", "ric").normalized == "370802199402210029"


def historic_ids(c: Catalog) -> None:
    for v in ["371202199001010032", "370102198001010015"]:  # abolished 莱城区; 历下区 code younger than the holder
        assert check(v, "ric").valid, v


def mixed_column(c: Catalog) -> None:
    kinds = [check(v, "license_no").kind for v in
             ["91110000600037341L", "370802940221002", "110108000000016", "60003734-1", "11010519491231002X"]]
    assert kinds == ["uscc", "ric", "reg_no", "org_code", "ric"]


def pre_uscc(c: Catalog) -> None:
    assert check("60003734-1", "org_code").normalized == check("600037341", "org_code").normalized == "600037341"
    assert check("110108000000016", "reg_no").valid
    tax = check("370102600037341", "license_no")
    assert (tax.kind, tax.valid) == ("tax_no", True)
    uscc = check("91110000600037341L", "uscc").normalized
    assert embedded_org_code(uscc or "", "uscc") == embedded_org_code(tax.normalized or "", "tax_no") == "600037341"


def mistyped(c: Catalog) -> None:
    assert check("913701007620260211", "uscc").reason == "uscc.checksum"
    assert check("110105195001010014", "ric").reason == "ric.checksum"
    form = c.form["amr_enterprise_reg"]
    cols = {f.column: [None] for f in c.fields_of(form.form_id)}
    cols["uscc"] = ["913701007620260211"]
    raw = with_provenance(pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()}), form)
    result = validate_form(normalize_form(raw, form, c), raw, form, c)
    assert result.quarantine.num_rows == 1 and "uscc.checksum" in result.quarantine["reasons"][0].as_py()


def frozen_region(c: Catalog) -> None:
    body = "91371202" + org_code(random.Random(1))  # a Laiwu code, issued before the 2019 merger
    assert check(body + stdnum_uscc.calc_check_digit(body), "uscc").valid


def separators(c: Catalog) -> None:
    assert check("44011320141005001x", "ric").normalized == "44011320141005001X"
    assert check("9 1 110000 600037341L", "uscc").normalized == "91110000600037341L"


def letter_uscc(c: Catalog) -> None:
    assert check("N2370102MA3C4K5Q4L", "uscc").valid


def crosswalks(c: Catalog) -> None:
    t = CodeTable.build(c, "structure_type", "xw_hcb_structure_type")
    assert t.resolve(pl.Series(["A", "B", "D"])).values.to_list() == ["01", "02", "05"]


def region_churn(c: Catalog) -> None:
    o = CodeTable.build(c, "gb2260").resolve(pl.Series(["370125", "370181", "371202"]))
    assert o.values.to_list() == ["370115", "370114", "370116"]
    assert set(o.codes.to_list()) == {"division.successor"}


def functional_zones(c: Catalog) -> None:
    # not in GB/T 2260: unknown there (quarantined, never dropped) ...
    assert CodeTable.build(c, "gb2260").resolve(pl.Series(["370171"])).codes[0] == "code.unknown"

    zones = SimpleNamespace(  # ... and a code of its own list (the catalog's functional_zone dimension)
        code_list={"functional_zone": CodeList(code_list_id="functional_zone", name_zh="功能区", name_en="Zones",
                                               version="V1.0", standard="统计用区划代码")},
        codes_by_list={"functional_zone": [Code(code_list_id="functional_zone", code="370171",
                                                name_zh="济南高新技术产业开发区")]},
        crosswalk={})
    t = CodeTable.build(zones, "functional_zone")  # type: ignore[arg-type]
    assert t.resolve(pl.Series(["370171", "济南高新技术产业开发区"])).values.to_list() == ["370171"] * 2


def industry(c: Catalog) -> None:
    industries = SimpleNamespace(
        code_list={"gb4754": CodeList(code_list_id="gb4754", name_zh="行业", name_en="Industries", version="2017",
                                      standard="GB/T 4754-2017")},
        codes_by_list={"gb4754": [Code(code_list_id="gb4754", code="E4710", name_zh="房屋建筑业")]},
        crosswalk={})
    t = CodeTable.build(industries, "gb4754")  # type: ignore[arg-type]
    assert t.resolve(pl.Series(["E4710", "4710", "e4710"])).values.to_list() == ["E4710"] * 3


def project_codes(c: Catalog) -> None:
    assert check("2019-370102-47-03-000001", "project_code").valid
    assert check("2509-320193-89-01-544060", "project_code").valid


def permits(c: Catalog) -> None:
    assert check("320623202004020101S", "construction_permit").valid
    assert check("建字第320623202000006号", "planning_permit").valid
    assert check("建字第32058320250012号", "planning_permit").valid


def old_names(c: Catalog) -> None:
    o = CodeTable.build(c, "gb2260").resolve(pl.Series(["章丘市", "莱城区"]))
    assert o.values.to_list() == ["370114", "370116"]
    assert one(normalize_text, "济南市章丘市官庄镇")[0] == "济南市章丘市官庄镇"  # free-text address kept verbatim


def placeholders(c: Catalog) -> None:
    for v in ["/", "无", "--", "NA", "0"]:
        assert one(normalize_text, v) == (None, "placeholder.null"), v
    assert one(parse_dates, "年 月 日") == (None, "date.blank")
    u = UnitTable.of(c.units)
    assert parse_quantities(pl.Series(["0"]), u.get("元"), u.get("元"), u, 2).values[0] == Decimal(0)  # a real 0


HANDLED: dict[tuple[str, str], Callable[[Catalog], None]] = {
    ("encoding/width", "Full-width digits/letters/brackets/spaces"): fullwidth,
    ("encoding/width", "Enterprise-name bracket convention conflicts between systems"): brackets,
    ("names", "Same USCC, different name strings"): same_uscc,
    ("names", "Organisational-form suffix variants"): suffix_variants,
    ("dates", "Mixed date formats"): mixed_dates,
    ("dates", "Date ranges packed in one field"): date_ranges,
    ("units", "万元 vs 元"): wan_yuan,
    ("units", "亩 vs 平方米 vs 公顷"): land_units,
    ("units", "Unit symbols vary"): unit_symbols,
    ("combined fields", "Two values in one cell"): packed,
    ("identifiers", "Old 15-digit ID numbers"): old_id,
    ("identifiers", "Historic region codes inside ID numbers"): historic_ids,
    ("identifiers", "Mixed identifier types in one column"): mixed_column,
    ("identifiers", "Pre-USCC codes still present"): pre_uscc,
    ("identifiers", "Mistyped identifiers in real records"): mistyped,
    ("identifiers", "USCC region segment is frozen"): frozen_region,
    ("identifiers", "Lower-case check letters / separators"): separators,
    ("identifiers", "Validator too strict for letter-prefixed USCC"): letter_uscc,
    ("code tables", "Department-specific code lists"): crosswalks,
    ("code tables", "Region code churn"): region_churn,
    ("code tables", "Functional zones not in GB/T 2260"): functional_zones,
    ("code tables", "Industry code versions"): industry,
    ("project codes", "Two generations of 投资项目代码"): project_codes,
    ("project codes", "Local permit numbers with suffixes"): permits,
    ("addresses", "Old/new administrative names in addresses"): old_names,
    ("nulls", "Placeholders for missing"): placeholders,
}


def _rows() -> list[tuple[str, str]]:
    if not PATTERNS.exists():
        if os.environ.get("CI", "").lower() == "true":
            raise FileNotFoundError(PATTERNS)
        pytest.skip(f"reference file not found: {PATTERNS} (set QUANCHENG_REFERENCE)", allow_module_level=True)
    with PATTERNS.open(encoding="utf-8") as fh:
        return [(r["category"], r["problem"]) for r in csv.DictReader(fh)]


ROWS = _rows()


def test_every_pattern_has_a_check() -> None:
    assert [r for r in ROWS if r not in HANDLED] == []


@pytest.mark.parametrize("row", ROWS, ids=[p for _, p in ROWS])
def test_pattern(row: tuple[str, str], slice_catalog: Catalog) -> None:
    HANDLED[row](slice_catalog)
