"""Validation rules compiled from the registry: one line per case (value in -> reasons out)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import CrossRule
from quancheng.normalize import normalize_form
from quancheng.validate import validate_form
from quancheng.validate.compile import compile_rules
from vcatalog import FORM, element, raw_batch

REQ = ("s1_project_land",)
CASES: list[tuple[str, Any, str, dict[str, Any], Any, list[str]]] = [
    # (case, element, transform, field kw, raw value, expected reason rules)
    ("required ok", element("name", required_in=REQ), "text", {}, "济南项目", []),
    ("required empty", element("name", required_in=REQ), "text", {}, "", ["required"]),
    ("required placeholder", element("name", required_in=REQ), "text", {}, "/", ["required"]),
    ("optional empty", element("name"), "text", {}, "", []),
    ("max_length", element("name", max_length=4, format="an..4"), "text", {}, "济南市项目", ["max_length"]),
    ("format n6", element("div", format="n6"), "text", {}, "37010", ["format"]),
    ("format n6 ok", element("div", format="n6"), "text", {}, "370102", []),
    ("format an18", element("code", format="an18"), "text", {}, "ABC", ["format"]),
    ("decimal digits", element("amt", "decimal", format="n..5.2"), "quantity", {}, "123456", ["format"]),
    ("min_value", element("amt", "decimal", format="n..18.2", min_value=0), "quantity", {}, "-5", ["min_value"]),
    ("max_value", element("pct", "decimal", max_value=100), "quantity", {}, "101", ["max_value"]),
    ("integer bounds", element("floors", "integer", min_value=1, max_value=200), "copy", {}, "0", ["min_value"]),
    ("date unreadable", element("day", "date", required_in=REQ), "date", {}, "明年", ["date.unparseable"]),
    ("date blank, required", element("day", "date", required_in=REQ), "date", {}, "年 月 日", ["required"]),
    ("identifier", element("uscc", identifier_kind="uscc", required_in=REQ), "identifier", {},
     "91110000600037341N", ["uscc.checksum"]),
    ("identifier fixed", element("uscc", identifier_kind="uscc"), "identifier", {}, "91110000600037341l", []),
    ("code unknown", element("nature", code_list="cn", format="n2"), "code", {"code_list": "cn"}, "09",
     ["code.unknown"]),
    ("code by name", element("nature", code_list="cn", format="n2"), "code", {"code_list": "cn"}, "名01", []),
    ("unit mismatch", element("amt", "decimal", unit="元"), "quantity", {"unit": "万元"}, "3亩", ["unit.mismatch"]),
    ("nominal diameter", element("dn", format="DNn..4", max_length=6), "nominal_diameter", {}, "200mm", []),
    ("diameter unread", element("dn", format="DNn..4", max_length=6), "nominal_diameter", {}, "De110",
     ["nominal_diameter.outside_diameter"]),
    ("format DN", element("dn", format="DNn..4", max_length=6), "text", {}, "DN 200", ["format"]),
]


@pytest.mark.parametrize(("case", "el", "transform", "fkw", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_case(make_catalog: Callable[..., Catalog], case: str, el: Any, transform: str, fkw: dict[str, Any],
              value: Any, expected: list[str]) -> None:
    cat = make_catalog([(el, transform, dict(fkw))], codes={"cn": ["01", "02"]})
    raw = raw_batch({el.key.upper(): [value]})
    result = validate_form(normalize_form(raw, FORM, cat), raw, FORM, cat)
    if not expected:
        assert result.valid.num_rows == 1 and result.quarantine.num_rows == 0, result.quarantine.to_pylist()
        return
    assert result.valid.num_rows == 0
    reasons = json.loads(result.quarantine["reasons"][0].as_py())
    assert [r["rule"] for r in reasons] == expected
    assert all(r["element"] == el.element_id and r["column"] == el.key.upper() for r in reasons)
    assert reasons[0]["value"] == (None if value is None else str(value))


AREA = {"data_type": "decimal", "unit": "m²", "format": "n..14.2"}
CROSS: list[tuple[str, CrossRule, dict[str, list[Any]], list[bool]]] = [
    ("sum_equals", CrossRule(rule_id="R1", kind="sum_equals", elements=("E_total", "E_up", "E_down"), tolerance=0.01),
     {"TOTAL": ["100.5", "100", "100", None], "UP": ["80", "80", "80", "80"], "DOWN": ["20.5", "20.01", "21", "1"]},
     [False, False, True, False]),  # within 0.01 passes; a missing value leaves the rule out
    ("before", CrossRule(rule_id="R2", kind="before", elements=("E_start", "E_end")),
     {"START": ["2019-01-01", "2019-05-01", "2019-05-01"], "END": ["2019-05-01", "2019-05-01", "2019-01-01"]},
     [False, False, True]),
    ("duration_days", CrossRule(rule_id="R3", kind="duration_days", elements=("E_start", "E_end", "E_days"),
                                tolerance=1),
     {"START": ["2019-01-01", "2019-01-01", "2019-01-01"], "END": ["2019-01-31", "2019-01-31", "2019-01-31"],
      "DAYS": ["30", "31", "45"]},
     [False, False, True]),
]


@pytest.mark.parametrize(("case", "rule", "columns", "fails"), CROSS, ids=[c[0] for c in CROSS])
def test_cross_field(make_catalog: Callable[..., Catalog], case: str, rule: CrossRule, columns: dict[str, list[Any]],
                     fails: list[bool]) -> None:
    kinds = {"TOTAL": ("quantity", AREA), "UP": ("quantity", AREA), "DOWN": ("quantity", AREA),
             "START": ("date", {"data_type": "date"}), "END": ("date", {"data_type": "date"}),
             "DAYS": ("copy", {"data_type": "integer"})}
    spec = [(element(c.lower(), **kinds[c][1]), kinds[c][0], {}) for c in columns]
    cat = make_catalog(spec, rules=[rule])
    raw = raw_batch(columns)
    result = validate_form(normalize_form(raw, FORM, cat), raw, FORM, cat)
    held = set(result.quarantine["_row"].to_pylist())
    assert [i in held for i in range(len(fails))] == fails
    for text in result.quarantine["reasons"].to_pylist():
        (reason,) = json.loads(text)
        assert reason["rule"] == rule.rule_id
        assert reason["element"] == "|".join(rule.elements)
        assert reason["column"] == "|".join(c for c in columns)


def test_rules_come_from_the_registry(make_catalog: Callable[..., Catalog]) -> None:
    els = [element("a", required_in=REQ, max_length=10, format="an..10"), element("b", format="n6"),
           element("c", "decimal", format="n..5.2", min_value=0, max_value=10), element("d")]
    cat = make_catalog([(e, "text" if e.data_type == "string" else "quantity", {}) for e in els])
    got = [(r.rule_id, r.elements[0].key) for r in compile_rules(cat, FORM)]
    assert got == [("required", "a"), ("max_length", "a"), ("format", "b"), ("format", "c"), ("min_value", "c"),
                   ("max_value", "c")]


def test_nothing_lost_and_quarantine_shape(make_catalog: Callable[..., Catalog]) -> None:
    el = element("name", required_in=REQ, max_length=3)
    cat = make_catalog([(el, "text", {})])
    values = ["甲", "", "乙丙丁戊", None, " 丁 ", "/"]
    raw = raw_batch({"NAME": values})
    result = validate_form(normalize_form(raw, FORM, cat), raw, FORM, cat)
    assert result.valid["_row"].to_pylist() == [0, 4]
    assert result.quarantine["_row"].to_pylist() == [1, 2, 3, 5]
    assert result.quarantine.column_names == [c for c in raw.column_names if c.startswith("_")] + ["reasons", "raw"]
    for row, text in zip(result.quarantine["_row"].to_pylist(), result.quarantine["raw"].to_pylist(), strict=True):
        assert json.loads(text) == {"id": str(row), "NAME": values[row]}
    assert result.valid["name"].to_pylist() == ["甲", "丁"]
