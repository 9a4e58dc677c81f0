"""Materials per stage form: waived counts equal an independent reading of the catalog rule, on the
slice catalog and on the full catalog (where the reform says 511 -> 163)."""

from __future__ import annotations

import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.stats import compute
from quancheng.consolidate.materials import materials_by_stage, summary


@pytest.fixture(scope="module", params=["slice", "full"])
def catalog(request, slice_catalog, full_catalog) -> Catalog:  # type: ignore[no-untyped-def]
    return slice_catalog if request.param == "slice" else full_catalog


def independent_rule(catalog: Catalog) -> dict[tuple[str, str], bool]:
    """(stage, material key) -> waived, written from the issue text, not from the code under test."""
    held: dict[str, set[str]] = {}
    for m in catalog.mappings:
        held.setdefault(catalog.form[m.form_id].system_id, set()).add(m.element_id)
    out: dict[tuple[str, str], bool] = {}
    for mat in catalog.materials:
        g = (catalog.form[mat.form_id].stage_id, mat.material_key)
        ok = (mat.kind == "issued" and bool(mat.issuer_system)
              and all(e in held.get(mat.issuer_system, set()) and catalog.element[e].share_type != "none"
                      for e in mat.elements))
        out[g] = out.get(g, True) and ok
    return out


def test_waived_groups_follow_the_rule(catalog: Catalog) -> None:
    table = materials_by_stage(catalog)
    expected = independent_rule(catalog)
    got = {(r["stage_id"], r["material_key"]): r["waived"] for r in table.to_pylist()}
    assert got == expected
    s = summary(table)
    assert s["before"] == len(catalog.materials)
    assert s["after"] == sum(1 for w in expected.values() if not w) == compute(catalog)["materials_after"]


def test_waived_materials_name_the_datasets_that_carry_their_data(catalog: Catalog) -> None:
    for r in materials_by_stage(catalog).to_pylist():
        if not r["waived"]:
            assert r["reason"] and not r["reason"].startswith("data shared")
            continue
        datasets = r["shared_datasets"].split("|") if r["shared_datasets"] else []
        carried = {e.element_id for d in datasets for e in catalog.elements_of(d.split(".", 1)[1])}
        assert all(d.startswith(r["issuer_system"] + ".") for d in datasets)
        assert set(r["elements"].split("|")) - {""} <= carried


def test_live_flags_come_from_the_published_datasets(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    none = materials_by_stage(slice_catalog)
    assert none["datasets_published"].null_count == none.num_rows
    live = {"amr_enterprise.amr_enterprise_reg": 7}
    table = materials_by_stage(slice_catalog, published=live)
    for r in table.to_pylist():
        ds = r["shared_datasets"].split("|") if r["shared_datasets"] else []
        assert r["datasets_published"] == (bool(ds) and all(d in live for d in ds))
        assert r["shared_rows"] == sum(live.get(d, 0) for d in ds)
