"""``quancheng catalog check``: one broken catalog per check, each reported at its file and line with a fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from catalog_files import CatalogFiles
from click.testing import CliRunner
from paths import FULL, SLICE
from quancheng.catalog import load_catalog
from quancheng.catalog.check import check
from quancheng.catalog.light import load_systems_and_forms
from quancheng.cli import cli
from quancheng.errors import CatalogError

Breaker = Callable[[CatalogFiles], tuple[str, int]]


def _field(form: str, column: str, **kw: str) -> dict[str, str]:
    return {"form_id": form, "column": column, "label_zh": column, "native_type": "text", **kw}


# (id, how to break the slice catalog -> (file, line), words the message must contain)
CASES: list[tuple[str, Breaker, str]] = [
    ("duplicate form id", lambda c: ("forms.csv", c.append("forms.csv", {
        "form_id": "hcb_permit", "system_id": "hcb_construction_permit", "name_zh": "重复", "name_en": "dup",
        "table": "x", "stage_id": "s3_construction", "form_kind": "application", "primary_key": "施工许可证编号"})),
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
    ("code list source file missing", lambda c: ("code_lists.csv", c.set("code_lists.csv", {
        "code_list_id": "structure_type"}, source="shared/reference/form_fields.csv")),
     "code list 'structure_type': source file 'shared/reference/form_fields.csv' not found"),
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
    ("material asked by a data table", lambda c: (c.set("forms.csv", {"form_id": "hcb_permit"}, form_kind="data")
                                                  and ("materials.csv", _line(c, "materials.csv",
                                                                              {"material_id": "M0002"}))),
     "material M0002: asked by 'hcb_permit', a data table (form_kind data), not an application form"),
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


# Cases that must give exactly one problem, at the edited file and line, with its fix: unsafe names (renamed
# consistently everywhere, so nothing else breaks), code lists' hierarchy and the retired generator's realism rules.
# (id, how to break the slice catalog -> (file, line), words of the message, words of the fix)
ONLY_CASES: list[tuple[str, Breaker, str, str]] = [
    ("system id with a quote and a semicolon", lambda c: (c.rename("ndrc_investment", "ndrc'; drop table x; --")
                                                          and ("systems.csv", 2)),
     "system_id \"ndrc'; drop table x; --\" is not a safe name", "lower-case ascii letters"),
    ("system id that is a path", lambda c: (c.rename("hcb_construction_permit", "../../etc/gas supply")
                                            and ("systems.csv", 3)),
     "system_id '../../etc/gas supply' is not a safe name", "lower-case ascii letters"),
    ("form id that is a path", lambda c: (c.rename("hcb_permit", "../../tmp/pwn") and ("forms.csv", 3)),
     "form_id '../../tmp/pwn' is not a safe name", "at most 63 characters"),
    ("stage id with a space", lambda c: (c.rename("s3_construction", "s3 construction") and ("stages.csv", 4)),
     "stage_id 's3 construction' is not a safe name", "lower-case ascii letters"),
    ("connection id with a semicolon", lambda c: ("systems.csv", c.set("systems.csv", {
        "system_id": "amr_enterprise"}, conn_id="qc_amr;rm -rf")),
     "system 'amr_enterprise': conn_id 'qc_amr;rm -rf' is not a safe name", "qc_<system_id>"),
    ("table that climbs out of the drop folder", lambda c: ("forms.csv", c.set("forms.csv", {
        "form_id": "hcb_permit"}, table="../sgxk")),
     "form 'hcb_permit': table '../sgxk' is not a safe name", "no path, quote, space"),
    ("table with a quote", lambda c: ("forms.csv", c.set("forms.csv", {"form_id": "ndrc_filing"},
                                                         table='TZ_XMBA"; --')),
     "form 'ndrc_filing': table 'TZ_XMBA\"; --' is not a safe name", "no path, quote, space"),
    ("column that takes a provenance name", lambda c: (
        c.set("mappings.csv", {"form_id": "ndrc_filing", "column": "XMMC"}, column="_batch_id")
        and ("fields.csv", c.set("fields.csv", {"form_id": "ndrc_filing", "column": "XMMC"}, column="_batch_id"))),
     "field ndrc_filing: column '_batch_id' is not a safe name", "not starting with _"),
    ("crosswalk id with a space", lambda c: (c.rename("xw_hcb_structure_type", "xw hcb structure")
                                             and ("crosswalks.csv", _line(c, "crosswalks.csv", {
                                                 "crosswalk_id": "xw hcb structure"}))),
     "crosswalk_id 'xw hcb structure' is not a safe name", "lower-case ascii letters"),
    ("code whose parent is missing", lambda c: ("codes/gb2260.csv", c.set("codes/gb2260.csv", {"code": "370100"},
                                                                          parent="379900")),
     "code '370100': parent '379900' is not a code of 'gb2260'", "add 379900 to codes/gb2260.csv"),
    ("code whose successor is missing", lambda c: ("codes/gb2260.csv", c.set("codes/gb2260.csv", {
        "code": "370100"}, successor="370199")),
     "code '370100': successor '370199' is not a code of 'gb2260'", "correct the successor"),
    ("code given twice", lambda c: ("codes/structure_type.csv", c.append("codes/structure_type.csv", {
        "code": "02", "name_zh": "框架结构（重复）"})),
     "duplicate code (with its valid_from) ('02', '') (first on line 3)", "give each code"),
    ("element fed by two fields of one form", lambda c: (
        c.append("fields.csv", _field("ndrc_filing", "GCMC", label_zh="工程名称"))
        and ("mappings.csv", c.append("mappings.csv", {"form_id": "ndrc_filing", "column": "GCMC",
                                                       "element_id": "DE00002", "transform": "text"}))),
     "the form already feeds DE00002 from column 'XMMC'", "one field per element and form"),
    ("mapping given twice", lambda c: ("mappings.csv", c.append("mappings.csv", {
        "form_id": "ndrc_filing", "column": "XMMC", "element_id": "DE00002", "transform": "text", "part": "0"})),
     "duplicate mapping ('ndrc_filing', 'XMMC', 'DE00002', 0)", "give each mapping once"),
    ("system lists a stage none of its forms is in", lambda c: ("systems.csv", c.set("systems.csv", {
        "system_id": "ndrc_investment"}, stages="s1_project_land|s3_construction")),
     "system 'ndrc_investment': stages lists 's3_construction' but none of its forms is in it",
     "write stages as its forms' stages: s1_project_land"),
    ("system does not list a stage of its forms", lambda c: ("systems.csv", c.set("systems.csv", {
        "system_id": "hcb_construction_permit"}, stages="s1_project_land")),
     "system 'hcb_construction_permit': stages lists 's1_project_land' but none of its forms is in it; does not "
     "list 's3_construction', though a form of it is in it",
     "write stages as its forms' stages: s3_construction"),
    ("schedule Airflow cannot run", lambda c: ("systems.csv", c.set("systems.csv", {
        "system_id": "amr_enterprise"}, schedule="0 25 * * *")),
     "system 'amr_enterprise': schedule '0 25 * * *' is neither a preset nor a valid cron expression",
     "write a cron expression such as '0 2 * * *'"),
    ("system without forms", lambda c: ("systems.csv", c.append("systems.csv", {
        "system_id": "cab_place_names", "name_zh": "地名", "name_en": "Place names", "department_zh": "民政局",
        "department_en": "Civil Affairs Bureau", "stages": "s1_project_land", "kind": "sqlite",
        "conn_id": "qc_cab_place_names", "extract_mode": "snapshot"})),
     "system 'cab_place_names' has no forms", "add its forms to forms.csv"),
    ("definition that only restates the name", lambda c: ("elements.csv", c.set("elements.csv", {
        "element_id": "DE00002"}, definition="建设项目的名称")),
     "definition '建设项目的名称' only restates the name", "a precise statement of meaning"),
    ("form without fields", lambda c: ("forms.csv", c.append("forms.csv", {
        "form_id": "ndrc_change", "system_id": "ndrc_investment", "name_zh": "项目变更", "name_en": "Change",
        "table": "TZ_XMBG", "stage_id": "s1_project_land", "form_kind": "application", "primary_key": "XMDM"})),
     "form 'ndrc_change' has no fields", "list its columns in fields.csv"),
]


@pytest.mark.parametrize(("breaker", "words", "fix"), [(b, w, f) for _, b, w, f in ONLY_CASES],
                         ids=[i for i, _, _, _ in ONLY_CASES])
def test_each_rejected_case_is_one_problem_at_its_file_and_line(slice_copy: CatalogFiles, breaker: Breaker,
                                                                words: str, fix: str) -> None:
    assert_one_problem(slice_copy, breaker, words, fix)


def assert_one_problem(files: CatalogFiles, breaker: Breaker, words: str, fix: str) -> None:
    """Breaking the catalog with ``breaker`` gives exactly one problem, at the line it broke, with the fix."""
    file, line = breaker(files)
    problems = check(load_catalog(files.root))
    assert [p.render() for p in problems if words not in p.message] == [], "nothing else breaks"
    assert len(problems) == 1, [p.render() for p in problems]
    assert problems[0].render().startswith(f"{file}:{line}: ")
    assert fix in problems[0].fix


def test_a_code_list_id_that_is_a_path_fails_loading_without_reading_outside(slice_copy: CatalogFiles) -> None:
    outside = slice_copy.root.parent / "outside.csv"
    outside.write_text("code,name_zh,parent,valid_from,valid_to,successor\nX,外部,,,,\n", encoding="utf-8")
    line = slice_copy.set("code_lists.csv", {"code_list_id": "structure_type"}, code_list_id="../outside")
    with pytest.raises(CatalogError) as err:
        load_catalog(slice_copy.root)
    assert [p.render() for p in err.value.problems] == [
        f"code_lists.csv:{line}: code_list_id '../outside' is not a safe identifier (fix: use lower-case ascii "
        "letters, digits and _ (starting with a letter, at most 63 characters))"]


def test_an_unknown_seed_figure_fails_loading_at_its_line(slice_copy: CatalogFiles) -> None:
    (slice_copy.root / "reform_figures.csv").write_text("figure,seed,source\nsystems,3,test\nforms,81,test\n",
                                                         encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(slice_copy.root)
    assert err.value.problems[0].render().startswith("reform_figures.csv:3: column 'figure'")
    assert "use one of systems, source_forms" in err.value.problems[0].fix


@pytest.mark.parametrize(("value", "says"), [("table", "Input should be 'application' or 'data'"),
                                             ("", "Field required")], ids=["unknown", "empty"])
def test_a_form_kind_other_than_application_or_data_fails_loading_at_its_line(slice_copy: CatalogFiles,
                                                                             value: str, says: str) -> None:
    line = slice_copy.set("forms.csv", {"form_id": "hcb_permit"}, form_kind=value)
    with pytest.raises(CatalogError) as err:
        load_catalog(slice_copy.root)
    assert [p.render() for p in err.value.problems] == [
        f"forms.csv:{line}: column 'form_kind': {says} (got {value!r}) (fix: use one of application, data)"]


def _references(c: CatalogFiles, value: str, columns: dict[str, str]) -> int:
    """How many rows of each file name ``value`` in the given column (``a|b`` cells count once)."""
    return sum(value in r[col].split("|") for name, col in columns.items() for r in c.rows(name)[1])


def test_a_renamed_system_id_is_one_problem_naming_every_reference_and_the_new_name(full_copy: CatalogFiles) -> None:
    refs = _references(full_copy, "gas_supply", {"forms.csv": "system_id", "crosswalks.csv": "system_id",
                                                 "elements.csv": "authority_system",
                                                 "materials.csv": "issuer_system", "grants.csv": "system_id"})
    assert refs > 3
    full_copy.set("systems.csv", {"system_id": "gas_supply"}, system_id="gas_supply_jn")
    problems = check(load_catalog(full_copy.root))
    assert len(problems) == 1, [p.render() for p in problems[:5]]
    p = problems[0]
    assert p.file == "forms.csv" and f"unknown system 'gas_supply'; named {refs - 1} more time(s)" in p.message
    assert "system 'gas_supply_jn' is defined but used nowhere: renamed?" in p.message
    assert p.fix.endswith("did you mean 'gas_supply_jn'?")


@pytest.mark.parametrize(("file", "column", "old", "new"), [
    ("forms.csv", "form_id", "gas_application", "gas_connection"),
    ("elements.csv", "element_id", "DE00002", "DE02002"),
    ("stages.csv", "stage_id", "s3_construction", "s3_construction_permit"),
    ("code_lists.csv", "code_list_id", "structure_type", "structure_types"),
])
def test_a_renamed_id_gives_one_problem_not_one_per_reference(full_copy: CatalogFiles, file: str, column: str,
                                                              old: str, new: str) -> None:
    full_copy.set(file, {column: old}, **{column: new})
    if file == "code_lists.csv":
        (full_copy.root / "codes" / f"{old}.csv").rename(full_copy.root / "codes" / f"{new}.csv")
    problems = check(load_catalog(full_copy.root))
    assert len(problems) == 1, [p.render() for p in problems[:5]]
    assert f"{old!r}; named " in problems[0].message, problems[0].render()
    assert f"did you mean {new!r}?" in problems[0].fix


def test_unknown_ids_fold_per_id_not_per_row(slice_copy: CatalogFiles) -> None:
    first = slice_copy.set("forms.csv", {"form_id": "ndrc_filing"}, system_id="hcb_nowhere")
    slice_copy.set("forms.csv", {"form_id": "hcb_permit"}, system_id="hcb_nowhere")
    slice_copy.set("forms.csv", {"form_id": "amr_enterprise_reg"}, system_id="amr_gone")
    problems = [p for p in check(load_catalog(slice_copy.root)) if "unknown system" in p.message]
    assert [p.render().split(" (fix")[0] for p in problems] == [
        f"forms.csv:{first}: form 'ndrc_filing': unknown system 'hcb_nowhere'; named 1 more time(s): "
        f"forms.csv:{first + 1}",
        f"forms.csv:{first + 2}: form 'amr_enterprise_reg': unknown system 'amr_gone'"]


def test_dag_parsing_names_an_unsafe_id_at_its_line(slice_copy: CatalogFiles) -> None:
    """What the DAG file reads (systems and forms only) refuses the same ids, at the same file and line."""
    slice_copy.rename("ndrc_investment", "ndrc'; --")
    line = slice_copy.set("forms.csv", {"form_id": "hcb_permit"}, form_id="../../tmp/pwn")
    with pytest.raises(CatalogError) as err:
        load_systems_and_forms(slice_copy.root)
    assert [p.render().split(" (fix")[0] for p in err.value.problems] == [
        "systems.csv:2: system_id \"ndrc'; --\" is not a safe identifier",
        f"forms.csv:{line}: form_id '../../tmp/pwn' is not a safe identifier"]


# the case record: a form's case fields (受理日期 …) are about the approval item the form names
ITEM_CASES: list[tuple[str, Breaker, str, str]] = [
    ("form with case fields but no item", lambda c: (
        c.delete("service_items.csv", {"form_id": "hcb_permit"})
        and ("mappings.csv", _line(c, "mappings.csv", {"form_id": "hcb_permit", "element_id": "DE01138"}))),
     "form 'hcb_permit' records case fields (审批机关, 有效期至 map to elements filled by the office) but names no "
     "approval item", "add a row item_id,name_zh,name_en,hcb_permit to service_items.csv"),
    ("item id that is a path", lambda c: ("service_items.csv", c.set("service_items.csv", {"form_id": "hcb_permit"},
                                                                      item_id="../permit")),
     "item_id '../permit' is not a safe name", "lower-case ascii letters"),
    ("item of an unknown form", lambda c: ("service_items.csv", c.append("service_items.csv", {
        "item_id": "seismic_review", "name_zh": "地震安全性评价审定", "name_en": "Seismic review",
        "form_id": "eqb_seismic"})),
     "item seismic_review: unknown form 'eqb_seismic'", "name a form of forms.csv"),
    ("two items on one form", lambda c: ("service_items.csv", c.append("service_items.csv", {
        "item_id": "permit_extension", "name_zh": "施工许可延期", "name_en": "Permit extension",
        "form_id": "hcb_permit"})),
     "duplicate form (one approval item per form) 'hcb_permit'", "give each form"),
]


@pytest.mark.parametrize(("breaker", "words", "fix"), [(b, w, f) for _, b, w, f in ITEM_CASES],
                         ids=[i for i, _, _, _ in ITEM_CASES])
def test_each_broken_approval_item_is_one_problem_at_its_file_and_line(full_copy: CatalogFiles, breaker: Breaker,
                                                                      words: str, fix: str) -> None:
    assert_one_problem(full_copy, breaker, words, fix)
