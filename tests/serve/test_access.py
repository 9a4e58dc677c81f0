"""Who sees what through the API, per sharing type and grant, with real clients of each department.

The rule set is :mod:`quancheng.sharing.rules` (the one the SQL roles are built from): for every department
and every column of every system dataset, the API's answer (clear, token, hidden) must be the rule set's
(``policy`` for the department's audience; a department reading its own system's data gets its own area,
in clear, as its SQL role does). The PostgreSQL test checks the same answers against the real roles.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from quancheng.publish.store import SharedStore
from quancheng.sharing import postgres
from quancheng.sharing.rules import department_audience, policy
from serve_kit import AMR, HCB, HRSS, NDRC, key_for


def _expected(catalog, department: str, system_id: str, column: str) -> str | None:  # type: ignore[no-untyped-def]
    el = catalog.element_by_key.get(column)
    if el is None:
        return None
    if catalog.system[system_id].department_en == department:
        return "clear"  # the system's own area (schema src_<system>), which the owner's SQL role reads
    return policy(catalog, department_audience(department), el, {system_id})


def test_every_department_sees_every_system_dataset_as_the_rule_set_says(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    system_datasets = [d["dataset_id"] for d in SharedStore(grants_home).datasets() if d["kind"] == "system"]
    assert len(system_datasets) == 4
    seen: set[str] = set()
    for department in postgres.departments(catalog):
        headers = key_for(app, catalog, department)
        for ds in system_datasets:
            body = http.get(f"/v1/datasets/{ds}", headers=headers).json()
            system_id = ds.split(".")[0]
            for col in body["columns"]:
                want = _expected(catalog, department, system_id, col["name"])
                if want is not None:
                    assert col["access"] == want, (department, ds, col["name"])
                    seen.add(f"{catalog.element_by_key[col['name']].share_type}:{want}")
    # every sharing type was met, and each outcome the rules can give
    assert {"unconditional:clear", "conditional:clear", "conditional:token", "conditional:hidden",
            "none:hidden", "none:clear"} <= seen


def test_conditional_column_by_grant(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    ds = "amr_enterprise.amr_enterprise_reg"
    clear = sorted(SharedStore(grants_home).read(ds)["legal_representative"].to_pylist())
    url = f"/v1/datasets/{ds}/records?fields=legal_representative"

    named = http.get(url, headers=key_for(app, catalog, HCB))  # grant names the element: clear values
    assert named.status_code == 200
    assert sorted(r["legal_representative"] for r in named.json()["records"]) == clear

    everything = http.get(url, headers=key_for(app, catalog, NDRC))  # grant of all conditional: tokens
    assert everything.status_code == 200
    tokens = [r["legal_representative"] for r in everything.json()["records"]]
    assert len(tokens) == len(clear) and all(t.startswith("tk_") for t in tokens)

    refused = http.get(url, headers=key_for(app, catalog, HRSS))  # no grant: 403 with the reason
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "有条件共享" in message and HRSS in message and "grants.csv" in message
    plain = http.get(f"/v1/datasets/{ds}/records", headers=key_for(app, catalog, HRSS)).json()["records"]
    assert plain and all("legal_representative" not in r for r in plain)  # and the column is not in its rows


def test_not_shared_column_and_dataset(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    ds = "amr_enterprise.amr_enterprise_reg"
    for department in (HCB, NDRC, HRSS):
        r = http.get(f"/v1/datasets/{ds}/records?fields=tax_credit_score", headers=key_for(app, catalog, department))
        assert r.status_code == 403 and "不予共享" in r.json()["error"]["message"]
    own = http.get(f"/v1/datasets/{ds}/records?fields=tax_credit_score", headers=key_for(app, catalog, AMR))
    assert own.status_code == 200  # the owning department reads its own area, as its SQL role does
    assert sorted(float(r["tax_credit_score"]) for r in own.json()["records"]) == [90.0, 91.0, 92.0, 93.0]
    q = http.get("/v1/datasets/quarantine.amr_enterprise", headers=key_for(app, catalog, HCB))
    assert q.status_code == 403 and "不予共享" in q.json()["error"]["message"]
    listing = http.get("/v1/datasets", headers=key_for(app, catalog, HCB)).json()["datasets"]
    row = next(d for d in listing if d["id"] == "quarantine.amr_enterprise")
    assert row["readable"] is False and row["sharing_type"] == "none" and row["sharing_type_zh"] == "不予共享"
    reg = next(d for d in listing if d["id"] == ds)
    assert reg["readable"] and reg["sharing_type"] == "conditional" and reg["name_zh"]


def test_records_equal_the_area_copy_the_department_reads(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    ds = "amr_enterprise.amr_enterprise_reg"
    for department, schema in ((NDRC, department_audience(NDRC).schema), (HRSS, "shared_open")):
        body = http.get(f"/v1/datasets/{ds}/records", headers=key_for(app, catalog, department)).json()
        assert body["dataset"]["area"] == schema
        copy = pq.read_table(grants_home / "shared" / "areas" / schema / ds / "data.parquet")
        assert [r["_source_key"] for r in body["records"]] == copy["_source_key"].to_pylist()
        assert set(body["records"][0]) == set(copy.column_names)


@pytest.mark.postgres
def test_api_and_sql_roles_agree_for_every_department(catalog, tmp_path_factory, api_factory,
                                                      grants_world_builder) -> None:  # type: ignore[no-untyped-def]
    """The same world published to PostgreSQL: each department role's most complete readable table of each
    dataset has exactly the columns and values the API gives that department's client."""
    import uuid

    import psycopg

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    db = f"qc_serve_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
    home = tmp_path_factory.mktemp("pg_home")
    try:
        grants_world_builder(SharedStore(home, sql_url=url), catalog)  # the default role prefix, as the API assumes
        http, app = api_factory(home, catalog, sql_url=url)
        compared = 0
        with psycopg.connect(postgres.pg_uri(url), autocommit=True) as c:
            areas = [a for a in postgres.audiences(catalog)]
            for department in postgres.departments(catalog):
                headers = key_for(app, catalog, department)
                role = postgres.department_role(department)
                for d in SharedStore(home, sql_url=url).datasets():
                    ds, table = d["dataset_id"], d["sql_table"]
                    best: tuple[list[str], list[tuple]] | None = None  # type: ignore[type-arg]
                    for a in areas:
                        c.execute(f'SET ROLE "{role}"')
                        try:
                            cur = c.execute(f'SELECT * FROM "{a.schema}"."{table}" ORDER BY 1')
                            cols, rows = [x.name for x in cur.description or []], cur.fetchall()
                            if best is None or _completeness(cols, rows) > _completeness(*best):
                                best = (cols, rows)
                        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
                            pass
                        finally:
                            c.execute("RESET ROLE")
                    r = http.get(f"/v1/datasets/{ds}/records?page_size=1000", headers=headers)
                    if best is None:
                        assert r.status_code == 403, (department, ds)
                        continue
                    assert r.status_code == 200, (department, ds, r.text)
                    api_rows = r.json()["records"]
                    assert sorted(api_rows[0]) == sorted(best[0]) if api_rows else True, (department, ds)
                    assert len(api_rows) == len(best[1]), (department, ds)
                    for i, k in enumerate(best[0]):  # text columns (tokens, names, codes) hold the same values
                        if all(isinstance(row[i], str | None) for row in best[1]):
                            assert sorted(map(str, (row[i] for row in best[1]))) == sorted(
                                str(x.get(k)) for x in api_rows), (department, ds, k)
                    tokens_sql = {k for i, k in enumerate(best[0]) if any(str(row[i]).startswith("tk_")
                                                                          for row in best[1])}
                    tokens_api = {k for k in best[0] if any(str(x.get(k)).startswith("tk_") for x in api_rows)}
                    assert tokens_sql == tokens_api, (department, ds)
                    compared += 1
        assert compared >= 20
        app.state.audit.flush()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _completeness(cols: list[str], rows: list[tuple]) -> tuple[int, int]:  # type: ignore[type-arg]
    """More columns first, then fewer tokenized ones: the copy that tells the most."""
    tokens = sum(1 for i in range(len(cols)) if any(str(r[i]).startswith("tk_") for r in rows))
    return len(cols), -tokens
