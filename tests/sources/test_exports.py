"""Exports written column-wise read back exactly: Excel drops and MariaDB's LOAD DATA."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.demo import engines
from quancheng.sources.types import NATIVE_ARROW
from quancheng.sources.xlsx import column_letter, write_xlsx

AWKWARD = ["\u3000甲 ", "a&b<c>\"d\"", "NULL", "逗号,引号\"", "反斜杠\\N", "多行\n第二行", "  ", "12", None]


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index: int, letter: str) -> None:
    assert column_letter(index) == letter


def test_xlsx_reads_back_every_cell(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    table = pa.table({"名称": AWKWARD, "数量": list(range(len(AWKWARD)))})
    write_xlsx(table, tmp_path / "a.xlsx", block_rows=4)  # several blocks
    rows = list(CalamineWorkbook.from_path(str(tmp_path / "a.xlsx")).get_sheet_by_index(0).iter_rows())
    assert rows[0] == ["名称", "数量"]
    assert [r[0] if r[0] != "" else None for r in rows[1:]] == [v.replace("\r", "") if v else None for v in AWKWARD]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(AWKWARD))]


@pytest.mark.mariadb
def test_mariadb_load_keeps_text_nulls_and_types(catalog: Catalog) -> None:
    import pymysql

    form = catalog.form["amr_enterprise_reg"]
    fields = catalog.fields_of(form.form_id)
    n = len(AWKWARD)
    values = {"text": AWKWARD, "integer": list(range(n)), "decimal": [Decimal("1234.5678"), None] * (n // 2) + [None],
              "date": [date(2019, 11, 21)] * n, "datetime": [datetime(2025, 1, 1, 8, 30, 15, 250)] * n,
              "boolean": [True, False, None] * (n // 3)}
    cols = {}
    for f in fields:
        vals = values[f.native_type]
        if f.column in form.primary_key and f.native_type == "text":
            vals = [f"k{j}" for j in range(n)]
        cols[f.column] = pa.array((vals + [None] * n)[:n], NATIVE_ARROW[f.native_type])
    table = pa.table(cols)
    db = f"qc_test_{uuid.uuid4().hex[:10]}"
    uri = engines.recreate_database("mariadb", db)
    try:
        engines.load_mariadb(uri, catalog, form, table)
        conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=db, ssl_disabled=True)
        with conn.cursor() as cur:
            names = ", ".join(engines.quote("mariadb", f.column) for f in fields)
            key = engines.quote("mariadb", form.primary_key[0])
            cur.execute(f"SELECT {names} FROM {engines.quote('mariadb', form.table)} ORDER BY {key}")
            got = cur.fetchall()
        conn.close()
        expected = sorted(zip(*(table[f.column].to_pylist() for f in fields), strict=True),
                          key=lambda r: r[[f.column for f in fields].index(form.primary_key[0])])
        assert [tuple(bool(v) if f.native_type == "boolean" and v is not None else v
                      for v, f in zip(row, fields, strict=True)) for row in got] == expected
    finally:
        engines.drop_database("mariadb", db)
