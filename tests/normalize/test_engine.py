"""The engine's contract on the slice catalog: shape, order, types, native columns, edge batches, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.errors import SourceError
from quancheng.normalize import ISSUE_SCHEMA, normalize_form
from quancheng.normalize.types import ROW, arrow_type, with_provenance
from quancheng.validate import validate_form

NDRC = {
    "XMDM": ["2019-370102-47-03-000001", "2509-320193-89-01-544060", "bad"],
    "XMMC": ["  济南\u3000项目 ", "/", "（集团）项目"],
    "JSXZ": ["新建", "扩建", "拆除"],
    "JSDD": ["370181", "370102", "999999"],
    "ZTZ": ["12.5", "1250000元", "--"],
    "ZYDMJ": ["3", "1.5公顷", "0"],
    "NKGSJ": ["2019年11月21日", "二〇二〇年一月十日", "2019-02-30"],
    "XMDWMC": ["山东某公司", "", None],
    "XMDWZJHM": ["91110000600037341L", "９１１１００００６０００３７３４１Ｌ", "91110000600037341N"],
    "GXSJ": ["2024-01-01 10:00:00", "2024/01/02 11:00", "x"],
    "BZ": ["", "", ""],
}


def batch(catalog: Catalog, columns: dict[str, object], form_id: str = "ndrc_filing") -> pa.Table:
    return with_provenance(pa.table(columns), catalog.form[form_id], batch_id="b1",
                           extracted_at=datetime(2024, 1, 3, tzinfo=UTC))


def test_shape_order_and_types(slice_catalog: Catalog) -> None:
    form = slice_catalog.form["ndrc_filing"]
    raw = batch(slice_catalog, NDRC)
    norm = normalize_form(raw, form, slice_catalog)
    elements = slice_catalog.elements_of(form.form_id)
    assert norm.table.column_names == [c for c in raw.column_names if c.startswith("_")] + [
        e.key for e in elements]
    assert [norm.table.schema.field(e.key).type for e in elements] == [arrow_type(e) for e in elements]
    assert norm.table[ROW].to_pylist() == [0, 1, 2]
    assert norm.issues.schema.equals(ISSUE_SCHEMA)
    t = norm.table.to_pydict()
    assert t["project_name"] == ["济南 项目", None, "（集团）项目"]
    assert t["construction_nature"] == ["01", "02", None]
    assert t["construction_site_division"] == ["370114", "370102", None]
    assert t["total_investment"] == [Decimal("125000.00"), Decimal("1250000.00"), None]
    assert t["total_land_area"] == [Decimal("2000.00"), Decimal("15000.00"), Decimal("0.00")]
    assert t["planned_start_date"] == [date(2019, 11, 21), date(2020, 1, 10), None]
    assert t["construction_unit_uscc"] == ["91110000600037341L", "91110000600037341L", None]
    assert t["source_updated_at"] == [datetime(2024, 1, 1, 10), datetime(2024, 1, 2, 11), None]
    codes = {(r[ROW], r["code"]) for r in norm.issues.to_pylist()}
    assert {(0, "division.successor"), (1, "placeholder.null"), (1, "fullwidth.normalized"), (1, "unit.converted"),
            (2, "code.unknown"), (2, "date.invalid"), (2, "uscc.checksum"), (2, "datetime.unparseable"),
            (2, "project_code.format")} <= codes
    result = validate_form(norm, raw, form, slice_catalog)
    assert result.quarantine[ROW].to_pylist() == [1, 2]  # row 1: 项目名称 required but a placeholder


def test_native_columns_are_used_as_they_are(slice_catalog: Catalog) -> None:
    cols = dict(NDRC)
    cols["ZTZ"] = pa.array([Decimal("12.5"), Decimal("0.0001"), None], pa.decimal128(12, 4))
    cols["ZYDMJ"] = pa.array([3, None, 15], pa.int64())
    cols["JSDD"] = pa.array([370181, 370102, None], pa.int64())
    cols["GXSJ"] = pa.array([datetime(2024, 1, 1, 2, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))
    cols["NKGSJ"] = pa.array([date(2019, 1, 1), None, date(2020, 2, 29)], pa.date32())
    cols["BZ"] = pa.nulls(3)
    cols["XMMC"] = pa.array(["a", "b", "a"]).dictionary_encode()
    form = slice_catalog.form["ndrc_filing"]
    t = normalize_form(batch(slice_catalog, cols), form, slice_catalog).table.to_pydict()
    assert t["total_investment"] == [Decimal("125000.00"), Decimal("1.00"), None]
    assert t["total_land_area"] == [Decimal("2000.00"), None, Decimal("10000.00")]
    assert t["construction_site_division"] == ["370114", "370102", None]
    assert t["source_updated_at"] == [datetime(2024, 1, 1, 10)] * 3  # UTC 02:00 is 10:00 in Jinan
    assert t["planned_start_date"] == [date(2019, 1, 1), None, date(2020, 2, 29)]
    assert t["project_name"] == ["a", "b", "a"]


def test_empty_batch(slice_catalog: Catalog) -> None:
    form = slice_catalog.form["ndrc_filing"]
    raw = batch(slice_catalog, {k: pa.array([], pa.string()) for k in NDRC})
    norm = normalize_form(raw, form, slice_catalog)
    assert norm.table.num_rows == 0 and norm.issues.num_rows == 0
    result = validate_form(norm, raw, form, slice_catalog)
    assert result.valid.num_rows == result.quarantine.num_rows == 0
    assert result.quarantine.column_names[-2:] == ["reasons", "raw"]


def test_a_missing_column_names_system_table_and_column(slice_catalog: Catalog) -> None:
    cols = {k: v for k, v in NDRC.items() if k != "ZTZ"}
    with pytest.raises(SourceError, match=r"ndrc_investment.*TZ_XMBA.*ZTZ"):
        normalize_form(batch(slice_catalog, cols), slice_catalog.form["ndrc_filing"], slice_catalog)


def test_many_rows_take_the_parallel_path(slice_catalog: Catalog) -> None:
    """The thread pool (10 000+ rows) gives the same result as the one-row path, row for row."""
    form = slice_catalog.form["ndrc_filing"]
    big = batch(slice_catalog, {k: v * 4000 for k, v in NDRC.items()})
    norm = normalize_form(big, form, slice_catalog)
    small = normalize_form(batch(slice_catalog, NDRC), form, slice_catalog)
    assert norm.table.slice(0, 3).drop_columns(["_source_key"]).equals(small.table.drop_columns(["_source_key"]))
    assert norm.issues.num_rows == small.issues.num_rows * 4000


def test_amount_off_by_ten_thousand_is_quarantined_with_its_raw_value(slice_catalog: Catalog) -> None:
    """元 typed into the 万元 column: the value is nulled with the error ``unit.suspect_scale``, even when
    the cell also carried a unit note, and validation quarantines exactly that row naming ZTZ."""
    form = slice_catalog.form["ndrc_filing"]
    n = 24
    cols = {c: [v[0]] * n for c, v in NDRC.items()}
    cols["ZTZ"] = [str(1000 + 37 * i) for i in range(n - 2)] + ["12500000", "125000000000元"]
    raw = batch(slice_catalog, cols)
    norm = normalize_form(raw, form, slice_catalog)
    assert norm.table["total_investment"].to_pylist()[-3:] == [Decimal((1000 + 37 * 21) * 10000), None, None]
    off = [r for r in norm.issues.to_pylist() if r["code"] == "unit.suspect_scale"]
    assert [(r[ROW], r["column"], r["value"], r["severity"]) for r in off] == [
        (n - 2, "ZTZ", "12500000", "error"), (n - 1, "ZTZ", "125000000000元", "error")]
    result = validate_form(norm, raw, form, slice_catalog)
    assert result.quarantine[ROW].to_pylist() == [n - 2, n - 1]
