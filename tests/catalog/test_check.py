"""``quancheng catalog check``: one broken catalog per check, each reported at its file and line with a fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from catalog_files import CatalogFiles
from click.testing import CliRunner
from paths import FULL, SLICE
from quancheng.catalog import load_catalog
from quancheng.catalog.check import check
from quancheng.cli import cli
from quancheng.errors import CatalogError

Breaker = Callable[[CatalogFiles], tuple[str, int]]


def _field(form: str, column: str, **kw: str) -> dict[str, str]:
    return {"form_id": form, "column": column, "label_zh": column, "native_type": "text", **kw}


# (id, how to break the slice catalog -> (file, line), words the message must contain)
CASES: list[tuple[str, Breaker, str]] = [
    ("duplicate form id", lambda c: ("forms.csv", c.append("forms.csv", {
        "form_id": "hcb_permit", "system_id": "hcb_construction_permit", "name_zh": "重复", "name_en": "dup",
        "table": "x", "stage_id": "s3_construction", "primary_key": "施工许可证编号"})),
     "duplicate form_id 'hcb_permit' (first on line 3)"),
    ("form names unknown system", lambda c: ("forms.csv", c.set("forms.csv", {"form_id": "hcb_permit"},
                                                                system_id="hcb_nowhere")),
     "form 'hcb_permit': unknown system 'hcb_nowhere'"),
    ("form names unknown stage", lambda c: ("forms.csv", c.set("forms.csv", {"form_id": "hcb_permit"},
                                                               stage_id="s9_demolition")),
     "form 'hcb_permit': unknown stage 's9_demolition'"),
    ("primary key is no field", lambda c: ("forms.csv", c.set("forms.csv", {"form_id": "ndrc_filing"},
                                                              primary_key="XMBH")),
     "form 'ndrc_filing': column 'XMBH' is not a field of the form"),
    ("field of unknown form", lambda c: ("fields.csv", c.append("fields.csv", _field(
        "ghost_form", "X", excluded_reason="系统流水号")) ),
     "field ghost_form.X: unknown form 'ghost_form'"),
    ("field neither mapped nor excluded", lambda c: ("fields.csv", c.append("fields.csv", _field(
        "ndrc_filing", "LXDH"))),
     "field ndrc_filing.LXDH is neither mapped nor excluded"),
    ("field both mapped and excluded", lambda c: ("fields.csv", c.set("fields.csv", {
        "form_id": "ndrc_filing", "column": "XMMC"}, excluded_reason="办理人员内部备注")),
     "field ndrc_filing.XMMC is both mapped and excluded"),
    ("field unit unknown", lambda c: ("fields.csv", c.set("fields.csv", {"form_id": "ndrc_filing",
                                                                        "column": "ZTZ"}, unit="万万元")),
     "field ndrc_filing.ZTZ: unknown unit '万万元'"),
    ("field code list unknown", lambda c: ("fields.csv", c.set("fields.csv", {
        "form_id": "ndrc_filing", "column": "JSXZ"}, code_list="xw_nowhere")),
     "field ndrc_filing.JSXZ: unknown code list or crosswalk 'xw_nowhere'"),
    ("mapping of unknown field", lambda c: ("mappings.csv", c.append("mappings.csv", {
        "form_id": "ndrc_filing", "column": "NOPE", "element_id": "DE00002", "transform": "text", "part": "0"})),
     "mapping ndrc_filing.NOPE -> DE00002: no such field"),
    ("mapping to unknown element", lambda c: ("mappings.csv", c.set("mappings.csv", {
        "form_id": "ndrc_filing", "column": "XMMC"}, element_id="DE09999")),
     "mapping ndrc_filing.XMMC -> DE09999: unknown element 'DE09999'"),
    ("quantity without field unit", lambda c: (c.set("fields.csv", {"form_id": "ndrc_filing", "column": "ZTZ"},
                                                     unit="") and ("mappings.csv", _line(c, "mappings.csv", {
                                                         "form_id": "ndrc_filing", "column": "ZTZ"}))),
     "quantity needs a field unit and an element unit"),
    ("quantity across dimensions", lambda c: (c.set("fields.csv", {"form_id": "ndrc_filing", "column": "ZTZ"},
                                                    unit="亩") and ("mappings.csv", _line(c, "mappings.csv", {
                                                        "form_id": "ndrc_filing", "column": "ZTZ"}))),
     "unit '亩' (area) cannot convert to '元' (money)"),
    ("code without code list", lambda c: (c.set("fields.csv", {"form_id": "ndrc_filing", "column": "JSXZ"},
                                                code_list="") and c.set("elements.csv", {"element_id": "DE00003"},
                                                                        code_list="", code_list_version="")
                                          and ("mappings.csv", _line(c, "mappings.csv", {
                                              "form_id": "ndrc_filing", "column": "JSXZ"}))),
     "code transform without a code list"),
    ("crosswalk for another code list", lambda c: (c.set("fields.csv", {"form_id": "ndrc_filing",
                                                                        "column": "JSXZ"},
                                                         code_list="xw_hcb_structure_type")
                                                   and ("mappings.csv", _line(c, "mappings.csv", {
                                                       "form_id": "ndrc_filing", "column": "JSXZ"}))),
     "crosswalk 'xw_hcb_structure_type' maps to 'structure_type', the element uses 'construction_nature'"),
    ("split without separator", lambda c: (c.set("fields.csv", {"form_id": "hcb_permit",
                                                                "column": "地上地下面积"}, packed_sep="")
                                           and ("mappings.csv", _line(c, "mappings.csv", {
                                               "form_id": "hcb_permit", "column": "地上地下面积"}))),
     "split needs the field's packed_sep"),
    ("identifier without kind", lambda c: (c.set("elements.csv", {"element_id": "DE00010"}, identifier_kind="")
                                           and ("mappings.csv", _line(c, "mappings.csv", {
                                               "form_id": "hcb_permit", "column": "施工许可证编号"}))),
     "identifier transform but element DE00010 has no identifier_kind"),
    ("date_range part out of range", lambda c: (c.set("mappings.csv", {"form_id": "hcb_permit",
                                                                       "column": "发证日期"},
                                                      transform="date_range", part="5")
                                                and ("mappings.csv", _line(c, "mappings.csv", {
                                                    "form_id": "hcb_permit", "column": "发证日期"}))),
     "date_range part must be 0, 1 or 2"),
    ("element key not an identifier", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00002"},
                                                                       key="Project Name")),
     "element DE00002 (Project Name): key is not a lower-case SQL identifier"),
    ("element version rule", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00002"},
                                                              version="1.0")),
     "version '1.0' does not follow V<major>.<minor>"),
    ("element unit unknown", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00005"},
                                                              unit="两")),
     "element DE00005 (total_investment): unknown unit '两'"),
    ("element code list unknown", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00016"},
                                                                   code_list="building_kind")),
     "element DE00016 (structure_type): unknown code list 'building_kind'"),
    ("authority system unknown", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00002"},
                                                                  authority_system="ndrc_old")),
     "unknown authority_system 'ndrc_old'"),
    ("authority system does not feed", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00002"},
                                                                        authority_system="amr_enterprise")),
     "authority_system 'amr_enterprise' feeds no value of it"),
    ("required in unknown stage", lambda c: ("elements.csv", c.set("elements.csv", {"element_id": "DE00002"},
                                                                   required_in="s5_operation")),
     "required_in names unknown stage 's5_operation'"),
    ("required where no form feeds it", lambda c: ("elements.csv", c.set("elements.csv", {
        "element_id": "DE00022"}, required_in="s3_construction")),
     "element DE00022 (legal_representative): required in s3_construction but no form of that stage feeds it"),
    ("active element fed by nothing", lambda c: ("elements.csv", c.append("elements.csv", {
        "element_id": "DE00500", "key": "orphan_note", "name_zh": "孤立备注", "name_en": "Orphan note",
        "definition": "无来源", "object_class": "记录", "property": "备注", "representation_term": "文本",
        "data_type": "string"})),
     "element DE00500 (orphan_note) is active but no field maps to it"),
    ("code list version rule", lambda c: ("code_lists.csv", c.set("code_lists.csv", {
        "code_list_id": "structure_type"}, version="V1")),
     "code list 'structure_type': version 'V1' does not follow V<major>.<minor>"),
    ("crosswalk system unknown", lambda c: ("crosswalks.csv", c.set("crosswalks.csv", {
        "crosswalk_id": "xw_hcb_structure_type", "native_value": "A"}, system_id="hcb_gone")),
     "crosswalk xw_hcb_structure_type 'A': unknown system 'hcb_gone'"),
    ("crosswalk of another system", lambda c: ("fields.csv", c.set("fields.csv", {
        "form_id": "hcb_permit", "column": "结构类型"}, code_list="xw_ndrc_construction_nature")),
     "crosswalk 'xw_ndrc_construction_nature' belongs to system 'ndrc_investment', not 'hcb_construction_permit'"),
    ("crosswalk value given twice", lambda c: ("crosswalks.csv", c.append("crosswalks.csv", {
        "crosswalk_id": "xw_hcb_structure_type", "system_id": "hcb_construction_permit",
        "code_list_id": "structure_type", "native_value": "A", "code": "02"})),
     "duplicate native value ('xw_hcb_structure_type', 'A') (first on line 6)"),
    ("crosswalk code not in list", lambda c: ("crosswalks.csv", c.set("crosswalks.csv", {
        "crosswalk_id": "xw_hcb_structure_type", "native_value": "D"}, code="77")),
     "crosswalk xw_hcb_structure_type 'D': code '77' is not in code list 'structure_type'"),
    ("unit with unknown canonical", lambda c: ("units.csv", c.append("units.csv", {
        "unit": "丈", "dimension": "length", "canonical": "m", "factor_num": "10", "factor_den": "3"})),
     "unit '丈': canonical 'm' unknown"),
    ("material of unknown form", lambda c: ("materials.csv", c.set("materials.csv", {"material_id": "M0004"},
                                                                   form_id="ndrc_old")),
     "material M0004: unknown form 'ndrc_old'"),
    ("material issuer unknown", lambda c: ("materials.csv", c.set("materials.csv", {"material_id": "M0001"},
                                                                  issuer_system="amr_old")),
     "material M0001: unknown issuer_system 'amr_old'"),
    ("issuer on an identity document", lambda c: ("materials.csv", c.set("materials.csv", {
        "material_id": "M0004"}, issuer_system="amr_enterprise")),
     "material M0004: issuer_system set on a 'identity' material"),
    ("material element unknown", lambda c: ("materials.csv", c.set("materials.csv", {"material_id": "M0003"},
                                                                   elements="DE00001|DE00777")),
     "material M0003: unknown element 'DE00777'"),
    ("grant of unknown system", lambda c: ("grants.csv", c.set("grants.csv", {"system_id": "amr_enterprise"},
                                                               system_id="amr_gone")),
     "unknown system 'amr_gone'"),
    ("grant of an open element", lambda c: ("grants.csv", c.set("grants.csv", {"system_id": "amr_enterprise"},
                                                                elements="DE00021")),
     "element DE00021 is 'unconditional', not conditional"),
    ("rule of unknown element", lambda c: ("rules.csv", c.set("rules.csv", {"rule_id": "R001"},
                                                              elements="DE00012|DE00013|DE00888")),
     "rule R001: unknown element 'DE00888'"),
    ("rule with wrong arity", lambda c: ("rules.csv", c.append("rules.csv", {
        "rule_id": "R002", "kind": "before", "elements": "DE00007"})),
     "rule R002: before takes 2 elements, got 1"),
]


def _line(c: CatalogFiles, name: str, where: dict[str, str]) -> int:
    _, rows = c.rows(name)
    return next(i + 2 for i, r in enumerate(rows) if all(r[k] == v for k, v in where.items()))


@pytest.mark.parametrize(("breaker", "words"), [(b, w) for _, b, w in CASES], ids=[i for i, _, _ in CASES])
def test_each_problem_is_reported_at_its_file_and_line(slice_copy: CatalogFiles, breaker: Breaker,
                                                       words: str) -> None:
    file, line = breaker(slice_copy)
    problems = check(load_catalog(slice_copy.root))
    hits = [p for p in problems if words in p.message]
    assert hits, f"expected {words!r}, got {[p.render() for p in problems]}"
    assert (hits[0].file, hits[0].line) == (file, line)
    assert hits[0].fix, "every problem says how to fix it"
    assert hits[0].render().startswith(f"{file}:{line}: ")


def test_the_slice_and_the_full_catalog_are_clean() -> None:
    assert check(load_catalog(SLICE)) == []
    assert check(load_catalog(FULL)) == []


def test_a_missing_code_list_file_fails_loading_with_the_line_of_the_list(slice_copy: CatalogFiles) -> None:
    (slice_copy.root / "codes" / "structure_type.csv").unlink()
    with pytest.raises(CatalogError) as err:
        load_catalog(slice_copy.root)
    p = err.value.problems[0]
    assert (p.file, p.line) == ("code_lists.csv", 4)
    assert "has no file codes/structure_type.csv" in p.message


def test_cli_exits_0_when_clean_and_1_with_each_problem_on_its_own_line(slice_copy: CatalogFiles) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["catalog", "check", "--catalog", str(slice_copy.root)])
    assert ok.exit_code == 0, ok.output
    assert "is clean" in ok.output
    line = slice_copy.set("forms.csv", {"form_id": "hcb_permit"}, stage_id="s9_demolition")
    bad = runner.invoke(cli, ["catalog", "check", "--catalog", str(slice_copy.root)])
    assert bad.exit_code == 1
    assert f"forms.csv:{line}: form 'hcb_permit': unknown stage 's9_demolition' (fix: use one of" in bad.output
