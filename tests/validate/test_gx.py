"""GX reporting: suites generated from the registry, and the vectorized results equal a real GX run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import CrossRule
from quancheng.normalize import normalize_form
from quancheng.validate.compile import compile_rules
from quancheng.validate.gx import expectation_results, gx_report, run_gx, suite_json
from vcatalog import FORM, element, raw_batch

REQ = ("s1_project_land",)


@pytest.fixture
def batch(make_catalog: Callable[..., Catalog]) -> tuple[Catalog, pa.Table]:
    area = {"unit": "m²", "format": "n..6.2", "min_value": 0}
    spec = [(element("name", required_in=REQ, max_length=6), "text", {}),
            (element("div", format="n6", code_list="gb2260", required_in=REQ), "code", {"code_list": "gb2260"}),
            (element("uscc", identifier_kind="uscc", format="an18"), "identifier", {}),
            (element("zip", format="n6"), "text", {}),
            (element("total", "decimal", **area), "quantity", {}),
            (element("up", "decimal", **area), "quantity", {}),
            (element("down", "decimal", **area), "quantity", {}),
            (element("start", "date"), "date", {}), (element("end", "date"), "date", {})]
    rules = [CrossRule(rule_id="R1", kind="sum_equals", elements=("E_total", "E_up", "E_down"), tolerance=0.01),
             CrossRule(rule_id="R2", kind="before", elements=("E_start", "E_end"))]
    cat = make_catalog(spec, rules=rules)
    n = 300
    cols = {
        "NAME": [["济南项目", "", "超过六个字的项目名称", None, "/"][i % 5] for i in range(n)],
        "DIV": [["370102", "370181", "999999", None, "371202", "370101"][i % 6] for i in range(n)],
        "USCC": [["91110000600037341L", "91110000600037341N", None][i % 3] for i in range(n)],
        "ZIP": [["250000", "2500", "２５００００", None][i % 4] for i in range(n)],
        "TOTAL": [str(100 + i % 7) if i % 11 else "1234567" for i in range(n)],
        "UP": [str(80 + i % 5) for i in range(n)],
        "DOWN": [str(20 + i % 3) if i % 13 else None for i in range(n)],
        "START": ["2019-01-01", "2020-05-01", None][:2] * (n // 2),
        "END": ["2019-06-01", "2019-05-01"] * (n // 2),
    }
    raw = raw_batch(cols)
    return cat, normalize_form(raw, FORM, cat).table


def test_suite_is_generated_from_the_rules(batch: tuple[Catalog, pa.Table]) -> None:
    cat, _ = batch
    suite = suite_json(cat, FORM)
    assert [(e["meta"]["rule"], e["type"]) for e in suite["expectations"]] == [
        (r.rule_id, r.gx_type) for r in compile_rules(cat, FORM)]
    kinds = {e["type"] for e in suite["expectations"]}
    assert {"expect_column_values_to_not_be_null", "expect_column_value_lengths_to_be_between",
            "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
            "expect_column_values_to_be_between"} <= kinds


def test_report_files(batch: tuple[Catalog, pa.Table], tmp_path: Path) -> None:
    cat, table = batch
    out = gx_report("ndrc__t", table, cat, FORM, tmp_path, run_name="b1")
    doc = json.loads(Path(out["results_path"]).read_text(encoding="utf-8"))
    assert doc["suite_name"] == "ndrc__t" and not out["success"]
    assert out["statistics"]["evaluated_expectations"] == len(doc["results"]) == len(suite_json(cat, FORM)[
        "expectations"])
    assert out["statistics"]["unsuccessful_expectations"] == sum(not r["success"] for r in doc["results"])


def _key(r: dict) -> tuple[str, str, str]:  # type: ignore[type-arg]
    c = r["expectation_config"]
    return c["type"], c["kwargs"]["column"], c["meta"]["rule"]


def test_vectorized_counts_equal_a_real_gx_run(batch: tuple[Catalog, pa.Table], tmp_path: Path) -> None:
    """The regression test the design rests on: GX itself, on the same suite and sample, counts the same."""
    cat, table = batch
    ours = {_key(r): r for r in expectation_results(table, cat, FORM, "b1")["results"]}
    real = {_key(r): r for r in run_gx(table, cat, FORM)["results"]}
    assert set(ours) == set(real)
    for k, r in real.items():
        assert not r["exception_info"]["raised_exception"], (k, r["exception_info"])
        mine = ours[k]
        assert mine["success"] == r["success"], k
        for field in ("element_count", "unexpected_count", "missing_count"):
            assert mine["result"].get(field) == r["result"].get(field), (k, field)
    assert any(not r["success"] for r in real.values())  # the sample exercises failures, not only passes
    from quancheng.validate.gx import build_data_docs, data_docs_index

    gx_report("ndrc__t", table, cat, FORM, tmp_path, run_name="b1")
    index = build_data_docs(tmp_path)
    assert index == data_docs_index(tmp_path) and index.exists()
    pages = list(index.parent.glob("validations/**/*.html"))
    assert pages and "ndrc__t" in index.read_text(encoding="utf-8")
