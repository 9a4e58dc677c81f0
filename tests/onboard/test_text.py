"""The label and column normalizers the mapping assistant compares with, one table each."""

from __future__ import annotations

import pytest
from quancheng.onboard.text import column_key, column_tokens, initials, split_label

UNITS = frozenset({"万元", "平方米", "m²", "亩", "米"})


@pytest.mark.parametrize(("label", "core", "unit"), [
    ("建筑面积（平方米）", "建筑面积", "平方米"),
    ("建筑面积(㎡)", "建筑面积", ""),  # ㎡ is no spelling in this table: dropped from the core, no unit
    ("总投资(万元)", "总投资", "万元"),
    ("总投资 （万元）", "总投资", "万元"),
    ("用地面积[亩]", "用地面积", "亩"),
    ("项目名称【必填】", "项目名称", ""),
    ("ＸＭＤＭ项目代码", "xmdm项目代码", ""),  # full-width letters become ordinary ones
    ("建设 单位：", "建设单位", ""),
    ("总投资万元", "总投资", "万元"),  # no brackets (a column name cannot hold them): the unit at the end
    ("万元", "万元", ""),  # a unit alone is no label with a unit
    ("", "", ""),
])
def test_split_label(label: str, core: str, unit: str) -> None:
    assert split_label(label, UNITS) == (core, unit)


@pytest.mark.parametrize(("column", "key", "tokens"), [
    ("TZ_XMDM", "tzxmdm", ("tz", "xmdm")),
    ("projectName", "projectname", ("project", "name")),
    ("powerAcptCaseAppDate", "poweracptcaseappdate", ("power", "acpt", "case", "app", "date")),
    ("building_area_m2", "buildingaream2", ("building", "area", "m2")),
    ("ＪＳＤＷＭＣ", "jsdwmc", ("jsdwmc",)),
    ("URLPath", "urlpath", ("url", "path")),
])
def test_column_key_and_tokens(column: str, key: str, tokens: tuple[str, ...]) -> None:
    assert column_key(column) == key
    assert column_tokens(column) == tokens


@pytest.mark.parametrize(("text", "expected"), [
    ("投资项目代码", "tzxmdm"),
    ("项目名称", "xmmc"),
    ("建设单位统一社会信用代码", "jsdwtyshxydm"),
    ("地上建筑面积2", "dsjzmj2"),
])
def test_pinyin_initials(text: str, expected: str) -> None:
    assert initials(text) == expected
