"""The sharing rules made real in PostgreSQL: schemas, one role per department, GRANTs, comments.

Generated from the catalog (:func:`plan_access`) and applied idempotently (:func:`apply_access`):
- a role ``<prefix>open_reader`` that may read the open schema ``shared_open``;
- one NOLOGIN role per department (``<prefix><department slug>``), each a member of the open reader;
  people and services log in with their own roles and are granted a department role;
- a schema per department granted conditional elements (``dept_<department slug>``), readable by that
  department only, and a private schema per system (``src_<system>``), readable by the system's own
  department only; ``PUBLIC`` has no privilege on either;
- the exchange's internal tables (the lead's SharedStore, schema ``public``) are granted to nobody.

Roles are cluster-wide, so the role ``prefix`` is a parameter (tests use a throwaway prefix).
Statements are plain SQL strings run one by one; role creation tolerates a concurrent creator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quancheng.catalog import Catalog
from quancheng.sharing.rules import OPEN, Audience, department_audience, private_audience, slug

DEFAULT_PREFIX = "qc_"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_role(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}open_reader"


def department_role(department_en: str, prefix: str = DEFAULT_PREFIX) -> str:
    return prefix + slug(department_en, 63 - len(prefix))


def departments(catalog: Catalog) -> dict[str, str]:
    """English department name -> Chinese name, for every department with a system or a grant."""
    out = {s.department_en: s.department_zh for s in catalog.systems}
    for g in catalog.grants:
        out.setdefault(g.department_en, g.department_en)
    return dict(sorted(out.items()))


def audiences(catalog: Catalog) -> list[Audience]:
    """Every area the catalog calls for: open, each granted department, each system's own."""
    granted = sorted({g.department_en for g in catalog.grants})
    return [OPEN, *(department_audience(d) for d in granted), *(private_audience(catalog, s.system_id)
                                                              for s in catalog.systems)]


def readers(audience: Audience, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """The roles that may read an area's tables."""
    if audience.kind == "open":
        return [open_role(prefix)]
    return [department_role(audience.department_en, prefix)]


def _create_role(role: str, comment: str) -> list[str]:
    return [
        f"DO $$ BEGIN CREATE ROLE {ident(role)} NOLOGIN; "
        f"EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        f"COMMENT ON ROLE {ident(role)} IS {literal(comment)}",
    ]


def schema_sql(catalog: Catalog, audience: Audience, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Create an area's schema and give its readers (and only them) access, now and for future tables."""
    s = ident(audience.schema)
    roles = ", ".join(ident(r) for r in readers(audience, prefix))
    if audience.kind == "open":
        comment = ("无条件共享数据集（个人信息已令牌化） / "
                   "Unconditionally shared datasets (personal information tokenized)")
    elif audience.kind == "department":
        comment = (f"向{departments(catalog).get(audience.department_en, '')}有条件共享的数据集 / "
                   f"Datasets conditionally shared with {audience.department_en}")
    else:
        sy = catalog.system[audience.system_id]
        comment = f"{sy.name_zh}本系统区域（明文） / {sy.name_en}: the system's own area (clear values)"
    return [
        f"DO $$ BEGIN CREATE SCHEMA IF NOT EXISTS {s}; "
        f"EXCEPTION WHEN duplicate_schema OR unique_violation THEN NULL; END $$",
        f"REVOKE ALL ON SCHEMA {s} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {s} TO {roles}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {roles}",
        f"COMMENT ON SCHEMA {s} IS {literal(comment)}",
    ]


def plan_access(catalog: Catalog, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Every statement that sets up roles, schemas and grants for the catalog (idempotent)."""
    sql = _create_role(open_role(prefix), "开放共享数据读者 / Reader of the open shared schema")
    for en, zh in departments(catalog).items():
        role = department_role(en, prefix)
        sql += _create_role(role, f"{zh} / {en}")
        sql.append(f"GRANT {ident(open_role(prefix))} TO {ident(role)}")
    for aud in audiences(catalog):
        sql += schema_sql(catalog, aud, prefix)
    all_roles = ", ".join(ident(r) for r in [open_role(prefix), *(department_role(d, prefix)
                                                                 for d in departments(catalog))])
    sql.append(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {all_roles}")
    return sql


def table_sql(audience: Audience, table: str, table_meta: Mapping[str, str],
              columns: Mapping[str, Mapping[str, str]], prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Comments (Chinese and English names and definitions) and the readers' grant on one area table."""
    q = f"{ident(audience.schema)}.{ident(table)}"
    sql = [f"COMMENT ON TABLE {q} IS {literal(describe(table_meta))}"]
    for col, meta in columns.items():
        sql.append(f"COMMENT ON COLUMN {q}.{ident(col)} IS {literal(describe(meta))}")
    sql.append(f"GRANT SELECT ON {q} TO " + ", ".join(ident(r) for r in readers(audience, prefix)))
    return sql


def describe(meta: Mapping[str, str]) -> str:
    """``名称 / English name: 定义`` plus the unit and sharing type when known."""
    text = f"{meta.get('name_zh', '')} / {meta.get('name_en', '')}"
    if meta.get("definition"):
        text += f": {meta['definition']}"
    extras = [f"{k}={meta[k]}" for k in ("element_id", "unit", "share_type") if meta.get(k)]
    return text + (f" [{', '.join(extras)}]" if extras else "")


def pg_uri(sql_url: str) -> str:
    """A libpq URI from an SQLAlchemy URL (drops the ``+driver`` part)."""
    scheme, _, rest = sql_url.partition("://")
    return "postgresql://" + rest if scheme.split("+")[0] in ("postgresql", "postgres") else sql_url


def connect(sql_url: str) -> Any:
    import adbc_driver_postgresql.dbapi as pgd

    return pgd.connect(pg_uri(sql_url))


def execute_all(conn: Any, statements: list[str]) -> None:
    cur = conn.cursor()
    try:
        for s in statements:
            cur.execute(s)
    finally:
        cur.close()


def apply_access(sql_url: str, catalog: Catalog, prefix: str = DEFAULT_PREFIX) -> int:
    """Run :func:`plan_access` against the database in one transaction; returns the statement count."""
    plan = plan_access(catalog, prefix)
    conn = connect(sql_url)
    try:
        execute_all(conn, plan)
        conn.commit()
    finally:
        conn.close()
    return len(plan)
