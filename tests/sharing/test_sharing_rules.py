"""Sharing rules: which area sees which element, in clear or as a token (table-driven over the catalog)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from issue6_builders import ric, system_table, uscc
from quancheng.sharing.rules import (
    OPEN,
    TOKENIZED,
    department_audience,
    policy,
    private_audience,
    sensitive_key_tables,
    split_long,
    split_system_dataset,
    split_table,
)

AMR = "amr_enterprise"
HCB = department_audience("Housing and Urban-Rural Development Bureau")  # granted 法定代表人 explicitly
NDRC = department_audience("Development and Reform Commission")  # granted every conditional element
HRSS = department_audience("Human Resources and Social Security Bureau")  # granted nothing

# element key -> policy for (open, HCB, NDRC) when the value comes from amr_enterprise
EXPECTED = {
    "enterprise_uscc": ("clear", "clear", "clear"),
    "enterprise_name": ("clear", "clear", "clear"),
    "legal_representative": ("hidden", "clear", "token"),  # personal, conditional
    "legal_rep_id_no": ("hidden", "hidden", "token"),  # sensitive, conditional, not in HCB's grant
    "enterprise_phone": ("token", "token", "token"),  # personal, unconditional
    "tax_credit_score": ("hidden", "hidden", "hidden"),  # 不予共享
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_policy_per_area(catalog, key: str) -> None:  # type: ignore[no-untyped-def]
    el = catalog.element_by_key[key]
    got = tuple(policy(catalog, aud, el, {AMR}) for aud in (OPEN, HCB, NDRC))
    assert got == EXPECTED[key]
    assert policy(catalog, private_audience(catalog, AMR), el, {AMR}) == "clear"
    assert policy(catalog, HRSS, el, {AMR}) == EXPECTED[key][0]  # no grant: sees what the open area sees


def test_a_conditional_element_fed_by_an_ungranting_system_stays_hidden(catalog) -> None:  # type: ignore[no-untyped-def]
    el = catalog.element_by_key["legal_representative"]
    assert policy(catalog, HCB, el, {AMR}) == "clear"
    assert policy(catalog, HCB, el, {AMR, "hrss_qualification"}) == "hidden"


def _amr_rows() -> list[dict]:
    return [{"enterprise_uscc": uscc(f"MA3C4X{i}A"), "enterprise_name": f"济南公司{i}",
             "legal_representative": f"张{i}", "legal_rep_id_no": ric(i),
             "enterprise_phone": "0531-8888666" + str(i), "_source_key": uscc(f"MA3C4X{i}A")}
            for i in range(5)]


def test_split_system_dataset(catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    table = system_table(catalog, "amr_enterprise_reg", _amr_rows())
    parts = split_system_dataset(table, catalog.form["amr_enterprise_reg"], catalog, tokenizer)
    assert set(parts) == {OPEN, HCB, NDRC, private_audience(catalog, AMR)}
    assert parts[private_audience(catalog, AMR)].equals(table)
    for n, aud in enumerate((OPEN, HCB, NDRC)):
        part = parts[aud]
        for key, policies in EXPECTED.items():
            p = policies[n]
            if p == "hidden":
                assert key not in part.column_names, (aud, key)
            elif p == "clear":
                assert part[key].equals(table[key]), (aud, key)
            else:
                assert part.schema.field(key).metadata == {TOKENIZED: b"true"}
                values = part[key].to_pylist()
                assert all(v.startswith("tk_") for v in values) and len(set(values)) == len(values)
                assert not set(values) & set(map(str, table[key].to_pylist()))
        assert part["_source_key"].equals(table["_source_key"])  # the form's key is openly shared
    assert parts[OPEN].num_rows == table.num_rows


def test_tokens_join_across_datasets_and_spellings(catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    amr = system_table(catalog, "amr_enterprise_reg", [{"enterprise_phone": "0531-88886666"}])
    qual = system_table(catalog, "qual_cert", [{"enterprise_phone": "+86 0531 8888 6666"[4:]}])
    a = split_system_dataset(amr, catalog.form["amr_enterprise_reg"], catalog, tokenizer)[OPEN]
    b = split_system_dataset(qual, catalog.form["qual_cert"], catalog, tokenizer)[OPEN]
    assert a["enterprise_phone"].to_pylist() == b["enterprise_phone"].to_pylist()


def test_a_personal_primary_key_is_tokenized_outside_the_private_area(catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    form = catalog.form["qual_cert"]
    assert (form.system_id, form.table) in sensitive_key_tables(catalog)  # its key ZSBH maps to no element
    table = system_table(catalog, "qual_cert", [{"enterprise_name": "甲", "_source_key": "ZS-001"}])
    parts = split_system_dataset(table, form, catalog, tokenizer)
    assert parts[OPEN]["_source_key"].to_pylist() == [tokenizer.token("ZS-001", "key")]
    assert tokenizer.token("ZS-001", "key") != tokenizer.token("ZS-001")  # key tokens never equal value tokens
    assert parts[private_audience(catalog, form.system_id)]["_source_key"].to_pylist() == ["ZS-001"]


def test_split_table_for_consolidated_data_has_no_private_copy(catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    table = pa.table({"project_code": ["p"], "legal_representative": ["张三"], "enterprise_name": ["甲"]})
    parts = split_table(table, catalog, {"legal_representative": {AMR}, "enterprise_name": {AMR}}, tokenizer)
    assert set(parts) == {OPEN, HCB, NDRC}
    assert parts[OPEN].column_names == ["project_code", "enterprise_name"]
    assert parts[HCB]["legal_representative"].to_pylist() == ["张三"]
    assert parts[NDRC]["legal_representative"].to_pylist() == [tokenizer.token("张三")]


def test_split_long_filters_rows_and_tokenizes_values(catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    rows = [("legal_representative", AMR, "张三"), ("enterprise_name", AMR, "甲公司"),
            ("tax_credit_score", AMR, "88.5"), ("enterprise_phone", AMR, "0531-88886666")]
    table = pa.table({"element_key": [r[0] for r in rows], "system_id": [r[1] for r in rows],
                      "source_table": ["enterprise"] * 4, "source_key": ["k"] * 4, "value": [r[2] for r in rows]})
    parts = split_long(table, catalog, tokenizer)
    open_rows = {r["element_key"]: r["value"] for r in parts[OPEN].to_pylist()}
    assert open_rows == {"enterprise_name": "甲公司", "enterprise_phone": tokenizer.token("0531-88886666", "phone")}
    hcb = {r["element_key"]: r["value"] for r in parts[HCB].to_pylist()}
    assert hcb["legal_representative"] == "张三" and "tax_credit_score" not in hcb
    ndrc = {r["element_key"]: r["value"] for r in parts[NDRC].to_pylist()}
    assert ndrc["legal_representative"] == tokenizer.token("张三")
