"""Enterprise master: credit code, embedded organisation code and registration number merge; exact
names join an identified entity; name variants only go to review; conflicting identifiers are refused."""

from __future__ import annotations

from datetime import datetime

import pytest
from issue6_builders import bad_check, extended_catalog, org_code, reg_no, ric, system_table, uscc
from quancheng.consolidate.enterprise import build_enterprise_master
from quancheng.consolidate.keys import name_exact_key
from quancheng.consolidate.mentions import entity_roles, valid_org_code, valid_reg_no, valid_uscc

U1, U2, U3, U4, U5 = uscc("MA3C4X5Y"), uscc("12345678"), uscc("MA9WWWW1"), uscc("MA7ABCD2"), uscc("MA5BCDE3")
OLD_ORG, OLD_REG = org_code("87654321"), reg_no(7)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):  # type: ignore[no-untyped-def]
    return extended_catalog(tmp_path_factory.mktemp("cat"))


@pytest.fixture(scope="module")
def datasets(catalog):  # type: ignore[no-untyped-def]
    amr = [
        {"enterprise_uscc": U1, "enterprise_name": "济南恒达建设有限公司", "legal_representative": "张三",
         "legal_rep_id_no": ric(1), "source_updated_at": datetime(2026, 1, 5, 9, 0), "_source_key": U1},
        {"enterprise_uscc": U2, "enterprise_name": "山东泉城置业有限公司", "_source_key": U2},
        {"enterprise_uscc": U3, "enterprise_name": "济南泉城置业有限公司", "_source_key": U3},
    ]
    ndrc = [
        {"project_code": "2019-370102-47-01-000001", "construction_unit_uscc": U1,
         "construction_unit_name": "济南恒达建设有限公司", "source_updated_at": datetime(2025, 6, 1)},
        {"project_code": "2019-370102-47-01-000002", "construction_unit_uscc": U1,
         "construction_unit_name": "恒达建设集团有限公司", "source_updated_at": datetime(2026, 2, 1)},
        {"project_code": "2019-370102-47-01-000003", "construction_unit_uscc": bad_check(U4),
         "construction_unit_name": "济南新城开发有限公司"},
        {"project_code": "2019-370102-47-01-000006", "construction_unit_uscc": U5,
         "construction_unit_name": "旧名置业有限公司", "source_updated_at": datetime(2025, 6, 1, 9, 0)},
        {"project_code": "2019-370102-47-01-000007", "construction_unit_uscc": U5,
         "construction_unit_name": "新名置业有限公司", "source_updated_at": datetime(2026, 2, 1, 9, 0)},
    ]
    hcb = [
        {"project_code": "2019-370102-47-01-000001", "construction_unit_name": "恒达建设有限责任公司"},
        {"project_code": "2019-370102-47-01-000004", "construction_unit_name": "山东泉城置业有限公司"},
        {"project_code": "2019-370102-47-01-000005", "construction_unit_name": "济南新城开发有限公司"},
    ]
    qual = [
        {"enterprise_org_code": org_code("MA3C4X5Y"), "enterprise_name": "济南恒达建设有限公司"},
        {"enterprise_org_code": OLD_ORG, "enterprise_reg_no": OLD_REG, "enterprise_name": "老字号商行"},
        {"enterprise_reg_no": OLD_REG, "enterprise_name": "老字号商行有限公司"},
        {"enterprise_org_code": org_code("12345678"), "enterprise_reg_no": reg_no(8), "enterprise_name": "某某公司"},
        {"enterprise_org_code": org_code("55554444"), "enterprise_reg_no": reg_no(8), "enterprise_name": "另一公司"},
        {"enterprise_reg_no": reg_no(8), "enterprise_name": "第三公司"},
    ]
    forms = {"amr_enterprise.amr_enterprise_reg": ("amr_enterprise_reg", amr),
             "ndrc_investment.ndrc_filing": ("ndrc_filing", ndrc),
             "hcb_construction_permit.hcb_permit": ("hcb_permit", hcb),
             "hrss_qualification.qual_cert": ("qual_cert", qual)}
    return {ds: system_table(catalog, form, rows) for ds, (form, rows) in forms.items()}


@pytest.fixture(scope="module")
def master(datasets, catalog):  # type: ignore[no-untyped-def]
    return build_enterprise_master(datasets, catalog, batch_id="t")


def _link(master, datasets, dataset_id: str, name_col: str, name: str) -> str:  # type: ignore[no-untyped-def]
    keys = [r["_source_key"] for r in datasets[dataset_id].to_pylist() if r[name_col] == name]
    ents = {r["entity_id"] for r in master.links.to_pylist()
            if r["dataset_id"] == dataset_id and r["source_key"] in keys}
    assert len(ents) == 1, (dataset_id, name, ents)
    return ents.pop()


def test_roles_are_found_from_the_registry(catalog) -> None:  # type: ignore[no-untyped-def]
    roles = entity_roles(catalog)
    ndrc = roles["ndrc_filing"][0]
    assert (ndrc.uscc, ndrc.name) == ("construction_unit_uscc", "construction_unit_name")
    qual = roles["qual_cert"][0]
    assert (qual.org_code, qual.reg_no, qual.name) == ("enterprise_org_code", "enterprise_reg_no", "enterprise_name")
    assert "legal_representative" not in {r.name for rs in roles.values() for r in rs}  # a person, not an entity


@pytest.mark.parametrize(("check", "value", "ok"), [
    (valid_uscc, U1, True), (valid_uscc, bad_check(U1), False), (valid_uscc, ric(1), False),
    (valid_org_code, OLD_ORG, True), (valid_org_code, bad_check(OLD_ORG), False),
    (valid_reg_no, OLD_REG, True), (valid_reg_no, bad_check(OLD_REG), False),
])
def test_identifier_checks(check, value: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    assert check(value) is ok


def test_one_row_per_entity_and_every_mention_linked(master, datasets, catalog) -> None:  # type: ignore[no-untyped-def]
    ids = master.master["entity_id"].to_pylist()
    assert len(ids) == len(set(ids))
    roles = entity_roles(catalog)
    expected = 0
    for ds, table in datasets.items():
        for role in roles.get(ds.split(".", 1)[1], []):
            cols = [c for c in (role.uscc, role.org_code, role.reg_no, role.name) if c]
            expected += sum(1 for r in table.to_pylist() if any(r.get(c) for c in cols))
    assert master.links.num_rows == expected
    assert set(master.links["entity_id"].to_pylist()) == set(ids)
    assert sum(master.master["mentions"].to_pylist()) == expected


def test_credit_code_and_embedded_org_code_merge(master, datasets) -> None:  # type: ignore[no-untyped-def]
    e = _link(master, datasets, "hrss_qualification.qual_cert", "enterprise_name", "济南恒达建设有限公司")
    assert e == f"uscc:{U1}"
    assert _link(master, datasets, "amr_enterprise.amr_enterprise_reg", "enterprise_name", "济南恒达建设有限公司") == e
    row = next(r for r in master.master.to_pylist() if r["entity_id"] == e)
    assert row["enterprise_org_code"] == U1[8:17]
    assert {"uscc", "org_code"} <= set(row["match_rules"].split("|"))


def test_registration_number_merges_with_org_code(master, datasets) -> None:  # type: ignore[no-untyped-def]
    a = _link(master, datasets, "hrss_qualification.qual_cert", "enterprise_name", "老字号商行")
    b = _link(master, datasets, "hrss_qualification.qual_cert", "enterprise_name", "老字号商行有限公司")
    assert a == b == f"org:{OLD_ORG}"
    row = next(r for r in master.master.to_pylist() if r["entity_id"] == a)
    assert row["enterprise_reg_no"] == OLD_REG


def test_conflicting_identifiers_are_refused_and_reviewed(master, datasets) -> None:  # type: ignore[no-untyped-def]
    qual = "hrss_qualification.qual_cert"
    a = _link(master, datasets, qual, "enterprise_name", "某某公司")
    b = _link(master, datasets, qual, "enterprise_name", "另一公司")
    weak = _link(master, datasets, qual, "enterprise_name", "第三公司")
    assert a == f"uscc:{U2}"  # joined by its organisation code, which U2 embeds
    assert b == f"org:{org_code('55554444')}"
    assert weak == f"reg:{reg_no(8)}"  # known by the disputed number alone: joins neither
    review = {(r["entity_id_a"], r["entity_id_b"]) for r in master.review.to_pylist()
              if r["reason"] == "conflicting_identifiers"}
    assert review == {tuple(sorted(p)) for p in ((a, b), (a, weak), (b, weak))}


def test_name_variant_goes_to_review_never_merged(master, datasets) -> None:  # type: ignore[no-untyped-def]
    variant = _link(master, datasets, "hcb_construction_permit.hcb_permit", "construction_unit_name",
                    "恒达建设有限责任公司")
    assert variant.startswith("name:") and variant != f"uscc:{U1}"
    pairs = {(r["entity_id_a"], r["entity_id_b"]) for r in master.review.to_pylist() if r["reason"] == "name_variant"}
    assert tuple(sorted((variant, f"uscc:{U1}"))) in pairs
    flagged = {r["entity_id"] for r in master.master.to_pylist() if r["in_review"]}
    assert {variant, f"uscc:{U1}"} <= flagged


def test_exact_name_joins_the_one_identified_entity(master, datasets) -> None:  # type: ignore[no-untyped-def]
    assert _link(master, datasets, "hcb_construction_permit.hcb_permit", "construction_unit_name",
                 "山东泉城置业有限公司") == f"uscc:{U2}"
    link = [r for r in master.links.to_pylist() if r["dataset_id"] == "hcb_construction_permit.hcb_permit"
            and r["entity_id"] == f"uscc:{U2}"]
    assert [r["match_rule"] for r in link] == ["name_exact"]


def test_different_credit_codes_are_never_reviewed_as_variants(master) -> None:  # type: ignore[no-untyped-def]
    pair = tuple(sorted((f"uscc:{U2}", f"uscc:{U3}")))
    assert pair not in {(r["entity_id_a"], r["entity_id_b"]) for r in master.review.to_pylist()}


def test_invalid_credit_code_is_not_used_and_name_only_rows_group(master, datasets) -> None:  # type: ignore[no-untyped-def]
    a = _link(master, datasets, "ndrc_investment.ndrc_filing", "construction_unit_name", "济南新城开发有限公司")
    b = _link(master, datasets, "hcb_construction_permit.hcb_permit", "construction_unit_name", "济南新城开发有限公司")
    assert a == b and a.startswith("name:")
    assert bad_check(U4) not in master.master["enterprise_uscc"].to_pylist()


def test_name_history_and_current_name(master) -> None:  # type: ignore[no-untyped-def]
    names = [r for r in master.names.to_pylist() if r["entity_id"] == f"uscc:{U1}"]
    assert {r["name"] for r in names} == {"济南恒达建设有限公司", "恒达建设集团有限公司"}
    current = [r["name"] for r in names if r["is_current"]]
    assert current == ["济南恒达建设有限公司"]  # the registration system is the name's authority
    row = next(r for r in master.master.to_pylist() if r["entity_id"] == f"uscc:{U1}")
    assert row["enterprise_name"] == "济南恒达建设有限公司" and row["former_names"] == "恒达建设集团有限公司"
    assert row["name_count"] == len(names)


def test_stable_ids_and_order_independence(datasets, catalog, master) -> None:  # type: ignore[no-untyped-def]
    shuffled = {k: datasets[k].take(list(reversed(range(datasets[k].num_rows)))) for k in reversed(list(datasets))}
    again = build_enterprise_master(shuffled, catalog, batch_id="t")
    for a, b in ((master.master, again.master), (master.names, again.names), (master.links, again.links),
                 (master.review, again.review)):
        assert a.equals(b)
    assert all(e.split(":", 1)[0] in {"uscc", "org", "reg", "name"} for e in master.master["entity_id"].to_pylist())
    assert name_exact_key("恒达（济南）") == name_exact_key("恒达(济南)")


def test_without_an_authority_the_most_recent_name_is_current(master) -> None:  # type: ignore[no-untyped-def]
    row = next(r for r in master.master.to_pylist() if r["entity_id"] == f"uscc:{U5}")
    assert (row["enterprise_name"], row["former_names"]) == ("新名置业有限公司", "旧名置业有限公司")
