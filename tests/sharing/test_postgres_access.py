"""The sharing rules in the real PostgreSQL server: each department role reads what the catalog grants it
and is refused the rest; no open table holds a clear ID number; tables and columns carry their names.

A throwaway database and a throwaway role prefix per module; both are dropped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from issue6_builders import build_grants_world
from quancheng.consolidate.run import (
    share_system_datasets,
)
from quancheng.publish.store import SharedStore
from quancheng.sharing import postgres
from quancheng.sharing.rules import department_audience, private_audience
from quancheng.sharing.scan import clear_id_numbers
from quancheng.sharing.tokenize import CONN_ENV, KEY_ENV, TokenizationKeyMissing, Tokenizer
from scratch_pg import postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres_sharing")]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
KEY = "pg-test-key-not-secret-0123456789"


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    prefix = f"qt{uuid.uuid4().hex[:6]}_"
    with postgres_database("qc_issue6_", drop_roles=prefix) as url:
        yield url, prefix


@pytest.fixture(scope="module")
def world(pg, catalog, tmp_path_factory):  # type: ignore[no-untyped-def]
    url, prefix = pg
    store = SharedStore(tmp_path_factory.mktemp("pg_home"), sql_url=url)
    areas = build_grants_world(store, catalog, key=KEY, role_prefix=prefix)
    return store, areas, url, prefix


def _conn(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(postgres.pg_uri(url), autocommit=True)


def _tables(url: str) -> list[tuple[str, str]]:
    with _conn(url) as c:
        return c.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                         "ORDER BY 1, 2").fetchall()


def _readable(role: str, schema: str, catalog, prefix: str) -> bool:  # type: ignore[no-untyped-def]
    if schema == "shared_open":
        return True
    for aud in postgres.audiences(catalog):
        if aud.schema == schema and aud.kind != "open":
            return postgres.department_role(aud.department_en, prefix) == role
    return False  # the exchange's internal tables (schema public)


def test_services_mode_needs_a_key(pg, catalog, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(CONN_ENV, raising=False)
    store = SharedStore(tmp_path, sql_url=pg[0])
    with pytest.raises(TokenizationKeyMissing, match="qc_tokenization_key"):
        share_system_datasets(store, catalog)


def test_every_role_reads_exactly_what_it_is_granted(world, catalog) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    _, _, url, prefix = world
    tables = _tables(url)
    schemas = {s for s, _ in tables}
    assert {"shared_open", "public", private_audience(catalog, "amr_enterprise").schema,
            department_audience("Housing and Urban-Rural Development Bureau").schema} <= schemas
    roles = [postgres.open_role(prefix), *(postgres.department_role(d, prefix) for d in postgres.departments(catalog))]
    allowed = refused = 0
    with _conn(url) as c:
        for role in roles:
            for schema, table in tables:
                c.execute(f'SET ROLE "{role}"')
                try:
                    c.execute(f'SELECT * FROM "{schema}"."{table}" LIMIT 1').fetchall()
                    ok = True
                except psycopg.errors.InsufficientPrivilege:
                    ok = False
                finally:
                    c.execute("RESET ROLE")
                assert ok == _readable(role, schema, catalog, prefix), (role, schema, table)
                allowed += ok
                refused += not ok
    assert allowed and refused


def test_columns_follow_the_sharing_type(world, catalog) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    store, _, url, prefix = world
    clear = sorted(store.read("amr_enterprise.amr_enterprise_reg")["legal_representative"].to_pylist())
    hcb = department_audience("Housing and Urban-Rural Development Bureau")
    ndrc = department_audience("Development and Reform Commission")
    table = '"amr_enterprise__amr_enterprise_reg"'
    with _conn(url) as c:
        c.execute(f'SET ROLE "{postgres.department_role(hcb.department_en, prefix)}"')
        rows = c.execute(f'SELECT legal_representative FROM "{hcb.schema}".{table} ORDER BY 1').fetchall()
        assert [r[0] for r in rows] == clear  # granted by name: clear
        c.execute(f'SET ROLE "{postgres.department_role(ndrc.department_en, prefix)}"')
        rows = c.execute(f'SELECT legal_representative, legal_rep_id_no FROM "{ndrc.schema}".{table}').fetchall()
        assert rows and all(a.startswith("tk_") and b.startswith("tk_") for a, b in rows)  # granted by "all": tokens
        c.execute(f'SET ROLE "{postgres.open_role(prefix)}"')
        with pytest.raises(psycopg.errors.UndefinedColumn):
            c.execute(f"SELECT legal_representative FROM shared_open.{table}")
        c.execute("RESET ROLE")
        with pytest.raises(psycopg.errors.UndefinedColumn):
            c.execute(f"SELECT tax_credit_score FROM shared_open.{table}")  # 不予共享: only in its own area


def test_no_clear_id_number_in_any_shared_schema(world, catalog) -> None:  # type: ignore[no-untyped-def]
    _, _, url, _ = world
    conn = postgres.connect(url)
    try:
        cur = conn.cursor()
        scanned = 0
        for schema, table in _tables(url):
            if schema == "public":
                continue
            cur.execute(f'SELECT * FROM "{schema}"."{table}"')
            found = clear_id_numbers(cur.fetch_arrow_table(), catalog)
            if schema.startswith("src_"):
                continue  # a system's own area holds clear values by design
            assert found == [], (schema, table)
            scanned += 1
        cur.execute('SELECT * FROM "src_amr_enterprise"."amr_enterprise__amr_enterprise_reg"')
        assert clear_id_numbers(cur.fetch_arrow_table(), catalog)  # the scanner finds them where they are
    finally:
        conn.close()
    assert scanned >= 10


def test_tables_and_columns_carry_chinese_and_english_names(world, catalog) -> None:  # type: ignore[no-untyped-def]
    el = catalog.element_by_key["project_name"]
    _, _, url, _ = world
    with _conn(url) as c:
        col = c.execute("SELECT col_description('shared_open.stage__s1_project_land'::regclass, ordinal_position) "
                        "FROM information_schema.columns WHERE table_schema = 'shared_open' "
                        "AND table_name = 'stage__s1_project_land' AND column_name = 'project_name'").fetchone()[0]
        tab = c.execute("SELECT obj_description('shared_open.stage__s1_project_land'::regclass)").fetchone()[0]
    assert el.name_zh in col and el.name_en in col and el.definition in col
    assert catalog.stage["s1_project_land"].name_zh in tab


def test_access_is_idempotent(world, catalog) -> None:  # type: ignore[no-untyped-def]
    _, _, url, prefix = world
    before = _tables(url)
    assert postgres.apply_access(url, catalog, prefix) == postgres.apply_access(url, catalog, prefix)
    assert _tables(url) == before


def test_republishing_changes_nothing(world, catalog) -> None:  # type: ignore[no-untyped-def]
    store, areas, _, _ = world
    out = share_system_datasets(store, catalog, areas=areas, tokenizer=Tokenizer(KEY.encode()))
    assert out and not any(v["changed"] for v in out.values())


def test_a_withdrawn_grant_takes_the_department_table_out_of_postgres(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """In PostgreSQL the department's role kept SELECT on its table; the table itself must go."""
    from issue6_builders import ric, system_table, uscc, without_grant
    from quancheng.sharing.areas import AreaStore
    from quancheng.sharing.publish import share_system_dataset

    prefix = f"qt{uuid.uuid4().hex[:6]}_"
    rows = [{"enterprise_uscc": uscc(f"MA3C4X{i}A"), "enterprise_name": f"济南公司{i}", "legal_representative": "张三",
             "legal_rep_id_no": ric(i), "_source_key": uscc(f"MA3C4X{i}A")} for i in range(3)]
    table = system_table(catalog, "amr_enterprise_reg", rows)
    ndrc = department_audience("Development and Reform Commission").schema
    hcb = department_audience("Housing and Urban-Rural Development Bureau").schema
    with postgres_database("qc_revoke_", drop_roles=prefix) as url:
        store = SharedStore(tmp_path / "home", sql_url=url)
        for cat, batch in ((catalog, "b1"), (without_grant(tmp_path, "Development and Reform Commission"), "b2")):
            share_system_dataset(store, cat, cat.form["amr_enterprise_reg"], table, batch_id=batch,
                                 areas=AreaStore(store, cat, role_prefix=prefix), tokenizer=Tokenizer(KEY.encode()))
            tables = {s for s, t in _tables(url) if t == "amr_enterprise__amr_enterprise_reg"}
            assert (ndrc in tables) == (batch == "b1") and hcb in tables and "shared_open" in tables
