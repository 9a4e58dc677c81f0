"""The prefill of a project equals what the stage-form, provenance, conflicts and materials datasets say,
on the slice catalog's demo world run through the real pipeline and consolidation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from quancheng.serve.cache import plain
from serve_kit import key_for

HCB = "Housing and Urban-Rural Development Bureau"
OPEN = "shared_open"


def _read(home: Path, ds: str, area: str = OPEN) -> list[dict]:  # type: ignore[type-arg]
    return [{k: plain(v) for k, v in r.items()}
            for r in pq.read_table(home / "shared" / "areas" / area / ds / "data.parquet").to_pylist()]


@pytest.fixture(scope="module")
def api(demo_home, slice_catalog):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient
    from quancheng.serve.app import create_app

    app = create_app(demo_home, slice_catalog, auth_ttl=0.0)
    with TestClient(app) as http:
        yield http, key_for(app, slice_catalog, "Development and Reform Commission")


@pytest.mark.parametrize("stage_id", ["s1_project_land", "s3_construction"])
def test_prefill_equals_the_stage_form_and_materials_datasets(demo_home, slice_catalog, api, stage_id) -> None:  # type: ignore[no-untyped-def]
    http, headers = api
    form = _read(demo_home, f"stage.{stage_id}")
    assert len(form) >= 10
    provenance = _read(demo_home, f"stage.{stage_id}.provenance")
    conflicts = _read(demo_home, "conflicts.stage_forms")
    materials = [m for m in _read(demo_home, "materials.by_stage") if m["stage_id"] == stage_id]
    with_conflicts = {c["project_code"] for c in conflicts}
    picked = [r for r in form if r["project_code"] in with_conflicts][:3] + form[:3]
    for row in picked:
        project = row["project_code"]
        r = http.get(f"/v1/prefill/{stage_id}/{project}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["stage"]["name_zh"] == slice_catalog.stage[stage_id].name_zh
        elements = {e["key"]: e for e in body["elements"]}
        # every element column of the stage form, with the form's value
        assert set(elements) == {c for c in row if c in slice_catalog.element_by_key}
        assert {k: e["value"] for k, e in elements.items()} == {k: row[k] for k in elements}
        # each value's system, record and time come from the provenance dataset
        prov = {p["element_key"]: p for p in provenance if p["project_code"] == project}
        for k, e in elements.items():
            p = prov.get(k)
            assert (e["source_system"], e["source_key"], e["as_of"], e["rule"]) == (
                (p["system_id"], p["source_key"], p["extracted_at"], p["rule"]) if p else (None, None, None, None))
        assert body["missing_required"] == [m for m in (row["_missing_required"] or "").split("|") if m]
        # the disagreements are the conflicts dataset's rows for the project's elements
        want = Counter((c["element_key"], c["system_id"], c["value"], c["winner_value"]) for c in conflicts
                       if c["project_code"] == project and c["element_key"] in elements)
        assert Counter((c["element_key"], c["system_id"], c["value"], c["winner_value"])
                       for c in body["conflicts"]) == want
        # the materials are the stage's rows of the materials dataset, waived or still required
        got = {m["material_key"]: m for m in body["materials"]}
        assert set(got) == {m["material_key"] for m in materials}
        for m in materials:
            g = got[m["material_key"]]
            assert (g["waived"], g["rule"], g["status"]) == (m["waived"], m["reason"],
                                                              "waived" if m["waived"] else "required")
            assert g["shared_datasets"] == [d for d in (m["shared_datasets"] or "").split("|") if d]
            assert [d["element_id"] for d in g["data"]] == [e for e in (m["elements"] or "").split("|") if e]
        assert body["summary"]["waived"] == sum(1 for m in materials if m["waived"])


def test_waived_material_carries_the_data_that_waived_it(demo_home, api) -> None:  # type: ignore[no-untyped-def]
    http, headers = api
    form = _read(demo_home, "stage.s3_construction")
    waived_seen = 0
    for row in form[:5]:
        body = http.get(f"/v1/prefill/s3_construction/{row['project_code']}", headers=headers).json()
        values = {e["key"]: e["value"] for e in body["elements"]}
        for m in body["materials"]:
            if m["waived"]:
                waived_seen += 1
                assert m["shared_datasets"] and m["rule"].startswith("data shared by")
                for d in m["data"]:
                    if d["dataset"] == "stage.s3_construction":
                        assert d["value"] == values[d["key"]]
    assert waived_seen


def test_personal_values_follow_the_caller(demo_home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    """The same prefill through HCB (granted legal_representative by name) and through NDRC (no grant)."""
    from fastapi.testclient import TestClient
    from quancheng.serve.app import create_app

    app = create_app(demo_home, slice_catalog, auth_ttl=0.0)
    form = _read(demo_home, "stage.s1_project_land")
    with TestClient(app) as http:
        project = form[0]["project_code"]
        hcb = http.get(f"/v1/prefill/s1_project_land/{project}", headers=key_for(app, slice_catalog, HCB)).json()
        other = http.get(f"/v1/prefill/s1_project_land/{project}",
                         headers=key_for(app, slice_catalog, "Development and Reform Commission")).json()
    hidden = {w["key"] for w in other["withheld"]}
    visible = {e["key"] for e in hcb["elements"]}
    assert hidden <= visible or not hidden  # what NDRC may not see, HCB (granted) sees
    assert not ({e["key"] for e in other["elements"]} & hidden)
    assert all(w["share_type"] in ("conditional", "none") and w["reason"] for w in other["withheld"])


def test_prefill_accepts_any_spelling_of_a_valid_code(demo_home, api) -> None:  # type: ignore[no-untyped-def]
    http, headers = api
    project = _read(demo_home, "stage.s1_project_land")[0]["project_code"]
    bare = http.get(f"/v1/prefill/s1_project_land/{project.replace('-', '')}", headers=headers)
    assert bare.status_code == 200 and bare.json()["project_code"] == project


def test_prefill_shows_what_the_systems_disagree_on(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    """In the grants world the permit system calls project 1 "项目1期", the filing authority "项目1"."""
    http, app = api_factory(grants_home, catalog)
    body = http.get("/v1/prefill/s3_construction/2019-370102-47-01-000201",
                    headers=key_for(app, catalog, HCB)).json()
    name = next(e for e in body["elements"] if e["key"] == "project_name")
    assert (name["value"], name["source_system"], name["rule"]) == ("项目1", "ndrc_investment", "authority_system")
    assert [(c["element_key"], c["system_id"], c["value"], c["winner_value"]) for c in body["conflicts"]] == [
        ("project_name", "hcb_construction_permit", "项目1期", "项目1")]
    assert body["summary"]["conflicts"] == 1
