"""Text and code normalizers: one line per case (rules in quancheng.normalize.text and .codes)."""

from __future__ import annotations

import polars as pl
import pytest
from quancheng.catalog.models import Code, CodeList
from quancheng.normalize.codes import CodeTable, section_of
from quancheng.normalize.text import clean_text, match_key, normalize_text


@pytest.mark.parametrize(("text", "value", "code"), [
    ("  济南市\u3000历下区  ", "济南市 历下区", None),       # U+3000 -> one space, trimmed
    ("a \t\n b", "a b", None),
    ("山东（集团）有限公司", "山东（集团）有限公司", None),    # display value keeps full-width brackets
    ("１２㎡", "１２㎡", None),                              # and full-width digits, ㎡ (no NFKC)
    ("/", None, "placeholder.null"), ("／", None, "placeholder.null"), (" 无 ", None, "placeholder.null"),
    ("--", None, "placeholder.null"), ("NA", None, "placeholder.null"), ("n/a", None, "placeholder.null"),
    ("N/A", None, "placeholder.null"), ("0", None, "placeholder.null"), ("暂无", None, "placeholder.null"),
    ("", None, None), ("   ", None, None), (None, None, None),
    ("无锡市建设局", "无锡市建设局", None),                   # '无' inside a name is not a placeholder
])
def test_normalize_text(text: str | None, value: str | None, code: str | None) -> None:
    o = normalize_text(pl.Series([text], dtype=pl.String))
    assert (o.values[0], o.codes[0]) == (value, code)


@pytest.mark.parametrize(("a", "b"), [
    ("同方德诚（山东）科技股份公司", "同方德诚(山东)科技股份公司"),
    ("济南 某某 公司", "济南某某公司"),
    ("ＡＢＣ公司", "abc公司"),
    ("【济南】公司", "(济南)公司"),
])
def test_match_key_unifies(a: str, b: str) -> None:
    assert match_key(pl.Series([a]))[0] == match_key(pl.Series([b]))[0]


def test_clean_text_keeps_single_spaces_untouched() -> None:
    s = pl.Series(["a b", "ab"])
    assert clean_text(s).to_list() == ["a b", "ab"]


@pytest.fixture(scope="module")
def division(slice_catalog):  # type: ignore[no-untyped-def]
    return CodeTable.build(slice_catalog, "gb2260")


@pytest.mark.parametrize(("text", "value", "code"), [
    ("370102", "370102", None),
    (" 370102 ", "370102", None),
    ("370102.0", "370102", None),                         # a float cell
    ("３７０１０２", "370102", None),
    ("370181", "370114", "division.successor"),           # 章丘市 -> 章丘区 (2016)
    ("370122", "370114", "division.successor"),           # 章丘县 -> 章丘市 -> 章丘区: the chain's end
    ("370125", "370115", "division.successor"),           # 济阳县 -> 济阳区 (2018)
    ("371202", "370116", "division.successor"),           # 莱城区 -> 莱芜区 (2019)
    ("历下区", "370102", "code.by_name"),
    ("章丘市", "370114", "division.successor"),           # an old name: its code, then the successor
    ("370120", None, "code.retired"),                     # 市区: abolished, no successor
    ("999999", None, "code.unknown"),
    ("/", None, "placeholder.null"),
    ("0", None, "placeholder.null"),
])
def test_gb2260(division: CodeTable, text: str, value: str | None, code: str | None) -> None:
    o = division.resolve(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)


@pytest.mark.parametrize(("text", "value", "code"), [
    ("A", "01", None), ("a", "01", None), ("Ｄ", "05", None),   # the bureau's own codes
    ("02", "02", None),                                      # already canonical
    ("框架结构", "02", "code.by_name"),
    ("Z", None, "code.unknown"),
])
def test_crosswalk(slice_catalog, text: str, value: str | None, code: str | None) -> None:  # type: ignore[no-untyped-def]
    t = CodeTable.build(slice_catalog, "structure_type", "xw_hcb_structure_type")
    o = t.resolve(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)


class _Industry:
    """A catalog stand-in holding a GB/T 4754 list written with section letters."""

    def __init__(self, with_letters: bool):
        codes = ["0111", "4710", "4720", "7010"]
        self.code_list = {"gbt4754": CodeList(code_list_id="gbt4754", name_zh="国民经济行业分类",
                                              name_en="Industries", version="2017", standard="GB/T 4754-2017")}
        self.codes_by_list = {"gbt4754": [
            Code(code_list_id="gbt4754", code=(section_of(c) or "") + c if with_letters else c, name_zh=f"行业{c}")
            for c in codes]}
        self.crosswalk: dict[str, dict[str, str]] = {}


@pytest.mark.parametrize(("with_letters", "text", "value", "code"), [
    (True, "E4710", "E4710", None), (True, "4710", "E4710", "industry.normalized"),
    (True, "e 4710", "E4710", None), (True, "K7010", "K7010", None), (True, "7010", "K7010", "industry.normalized"),
    (False, "4710", "4710", None), (False, "E4710", "4710", "industry.normalized"), (False, "A0111", "0111",
                                                                                      "industry.normalized"),
    (False, "9999", None, "code.unknown"),
])
def test_gb4754_one_form(with_letters: bool, text: str, value: str | None, code: str | None) -> None:
    t = CodeTable.build(_Industry(with_letters), "gbt4754")  # type: ignore[arg-type]
    o = t.resolve(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)


@pytest.mark.parametrize(("digits", "section"), [("0111", "A"), ("4710", "E"), ("47", "E"), ("7010", "K"),
                                                  ("9700", "T"), ("1310", "C"), ("x", None)])
def test_section_of(digits: str, section: str | None) -> None:
    assert section_of(digits) == section


class _Planning:
    """A catalog stand-in holding GB 50137 codes whose names repeat under different parents."""

    def __init__(self) -> None:
        rows = [("R", "居住用地", ""), ("R1", "一类居住用地", "R"), ("R11", "住宅用地", "R1"),
                ("R2", "二类居住用地", "R"), ("R21", "住宅用地", "R2"), ("G1", "公园绿地", "")]
        self.code_list = {"gb50137": CodeList(code_list_id="gb50137", name_zh="城市用地分类", name_en="Urban land use",
                                              version="2011", standard="GB 50137-2011")}
        self.codes_by_list = {"gb50137": [Code(code_list_id="gb50137", code=c, name_zh=n, parent=p)
                                          for c, n, p in rows]}
        self.crosswalk = {"xw": {"住宅用地": "R"}}


@pytest.mark.parametrize(("crosswalk", "text", "value", "code"), [
    ("", "二类居住用地", "R2", "code.by_name"),
    ("", "公园绿地", "G1", "code.by_name"),
    ("", "住宅用地", None, "code.unknown"),      # R11 or R21: the name alone does not say
    ("xw", "住宅用地", "R", None),               # the department's crosswalk does
])
def test_a_name_several_codes_share_is_no_alias(crosswalk: str, text: str, value: str | None,
                                                code: str | None) -> None:
    t = CodeTable.build(_Planning(), "gb50137", crosswalk)  # type: ignore[arg-type]
    o = t.resolve(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)
