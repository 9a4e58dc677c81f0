"""The mapping assistant: each kind of evidence on its own, and its accuracy with each system held out."""

from __future__ import annotations

import random

import pytest
from quancheng.catalog.loader import Catalog
from quancheng.ids import make
from quancheng.onboard.heldout import hold_out, hold_out_all
from quancheng.onboard.suggest import FieldInfo, Knowledge, sample_kind, sample_unit, transform_for

TOP1_FLOOR = 0.9  # the goal; benchmarks/onboard_suggest.py prints the measured figure


@pytest.fixture(scope="module")
def know(full_catalog: Catalog) -> Knowledge:
    # a system that is not in the catalog: nothing it said is known, so only the shared vocabulary helps
    return Knowledge(full_catalog, hold_out="hcb_construction_permit")


def key(cat: Catalog, element_key: str) -> str:
    return cat.element_by_key[element_key].element_id


@pytest.mark.parametrize(("field", "element_key"), [
    # the label alone, with its unit in brackets
    (FieldInfo("T", "c1", "总投资（万元）", "decimal"), "total_investment"),
    # a column named by pinyin initials and no label (SQLite has no comments: the label is the column)
    (FieldInfo("T", "JSDWMC", "JSDWMC"), "construction_unit_name"),
    # an English camelCase column, no label
    (FieldInfo("T", "projectName", "projectName"), "project_name"),
    # a case-record label: the case record's one element, whatever the item
    (FieldInfo("T", "SLRQ", "受理日期", "date", context="燃气报装申请表燃气公司报装系统"),
     "case_accepted_date"),
])
def test_evidence_finds_the_element(know: Knowledge, full_catalog: Catalog, field: FieldInfo,
                                    element_key: str) -> None:
    [s] = know.suggest([field])
    assert not s.new_element
    assert s.candidates[0].element_id == key(full_catalog, element_key), s.candidates


def test_samples_confirm_or_weaken_an_identifier(know: Knowledge, full_catalog: Catalog) -> None:
    rng = random.Random(5)
    uscc, ric = tuple(make.uscc(rng) for _ in range(5)), tuple(make.ric(rng) for _ in range(5))
    label = "建设单位统一社会信用代码"
    want = key(full_catalog, "construction_unit_uscc")

    def best(samples: tuple[str, ...]) -> tuple[str, float, tuple[str, ...]]:
        [s] = know.suggest([FieldInfo("T", "C1", label, "text", samples=samples)])
        return s.candidates[0].element_id, s.candidates[0].score, s.candidates[0].evidence

    plain, with_uscc, with_ric = best(()), best(uscc), best(ric)
    assert plain[0] == with_uscc[0] == want
    assert "samples are uscc" in with_uscc[2] and with_uscc[1] >= plain[1]
    assert with_ric[0] != want or with_ric[1] < plain[1]  # ID-card numbers are no credit codes
    assert any("samples are ric" in w for w in with_ric[2])


def test_not_data_and_unknown_labels_are_new_elements(know: Knowledge) -> None:
    remark, serial, unknown = know.suggest([FieldInfo("T", "BZ", "备注"),
                                            FieldInfo("T", "XTLSH", "系统流水号", "integer"),
                                            FieldInfo("T", "QQQ", "地震烈度区划图版本")])
    assert remark.new_element and remark.not_data  # other systems excluded 备注, with their reason
    assert serial.new_element and serial.not_data
    assert unknown.new_element and not unknown.not_data


def test_a_generic_label_without_context_is_not_guessed(know: Knowledge) -> None:
    [s] = know.suggest([FieldInfo("T", "LXDH", "联系电话", "text", context="某某系统")])
    assert s.new_element  # every party's 联系电话 ties: picking one would be luck
    assert len(s.candidates) == 3


@pytest.mark.parametrize(("element_key", "native", "samples", "transform"), [
    ("project_code", "text", (), "identifier"),
    ("construction_nature", "text", (), "code"),
    ("total_investment", "decimal", (), "quantity"),
    ("project_name", "text", (), "text"),
    ("planned_start_date", "text", ("2024-01-01至2025-01-01",), "date_range"),
    ("planned_start_date", "date", (), "date"),
])
def test_transform_for(full_catalog: Catalog, element_key: str, native: str, samples: tuple[str, ...],
                       transform: str) -> None:
    e = full_catalog.element_by_key[element_key]
    assert transform_for(e, FieldInfo("T", "c", "l", native, samples=samples)) == transform


@pytest.mark.parametrize(("samples", "kind"), [
    (("2024-03-01", "2024/3/1", "2024年3月1日"), "date"),
    (("2024-03-01 08:00:00.123456",), "date"),
    (("12.5万元", "3,000万元"), "number"),
    (("2019-370102-04-01-123456", "2019-370112-47-03-000231"), "project_code"),
    (("甲", "乙"), "text"),
    (("", None), ""),
])
def test_sample_kind(samples: tuple[str, ...], kind: str) -> None:
    assert sample_kind([s for s in samples if s is not None]) == kind


def test_sample_unit() -> None:
    units = frozenset({"万元", "元"})
    assert sample_unit(("12.5万元", "3万元", "7"), units) == "万元"
    assert sample_unit(("12.5", "3"), units) == ""


def test_holding_a_system_out_removes_what_only_it_said(full_catalog: Catalog) -> None:
    # 国标行业 / GBHY is a synonym of the industry element that only ndrc_investment's field gives
    held = Knowledge(full_catalog, hold_out="ndrc_investment")
    full = Knowledge(full_catalog)
    industry = key(full_catalog, "industry_code")
    assert "国标行业" in full.names[industry].labels and "gbhy" in full.names[industry].columns
    assert "国标行业" not in held.names[industry].labels and "gbhy" not in held.names[industry].columns
    # 项目名称 is said by many systems: it stays known when any one of them is held out
    assert "项目名称" in held.names[key(full_catalog, "project_name")].labels
    [s] = full.suggest([FieldInfo("TZ_XMBA", "GBHY", "国标行业")])
    assert s.candidates[0].element_id == industry
    score, _ = hold_out(full_catalog, "ndrc_investment")
    assert score.mapped > 100 and score.top1 <= score.top3 <= score.mapped


def test_held_out_accuracy_keeps_its_floor(full_catalog: Catalog) -> None:
    total, per = hold_out_all(full_catalog)
    assert len(per) == len(full_catalog.systems)
    excluded = sum(1 for f in full_catalog.fields if f.excluded_reason)
    assert total.fields == len(full_catalog.fields)
    assert total.new_true == excluded
    assert total.top1_rate >= TOP1_FLOOR, (total.top1_rate, total.misses[:10])
    assert total.new_recall >= 0.9
