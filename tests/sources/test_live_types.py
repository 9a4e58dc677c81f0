"""What a reflected SQL type may hold, per engine: the rule behind retyped-column drift."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from quancheng.sources.sql import _accepts
from sqlalchemy.dialects import mysql, postgresql, sqlite

CASES = [
    # engine, reflected type, native types it holds
    ("postgresql", postgresql.TEXT(), {"text"}),
    ("postgresql", sa.BIGINT(), {"integer"}),
    ("postgresql", postgresql.NUMERIC(24, 4), {"decimal"}),
    ("postgresql", postgresql.DOUBLE_PRECISION(), {"decimal"}),
    ("postgresql", sa.DATE(), {"date"}),
    ("postgresql", postgresql.TIMESTAMP(), {"datetime"}),
    ("postgresql", sa.BOOLEAN(), {"boolean"}),
    ("postgresql", postgresql.JSONB(), set()),
    ("mariadb", mysql.TEXT(), {"text"}),
    ("mariadb", mysql.VARCHAR(190), {"text"}),
    ("mariadb", mysql.BIGINT(), {"integer", "boolean"}),
    ("mariadb", mysql.TINYINT(display_width=1), {"integer", "boolean"}),
    ("mariadb", mysql.DECIMAL(24, 4), {"decimal"}),
    ("mariadb", mysql.DATETIME(fsp=6), {"datetime"}),
    ("mariadb", mysql.DATE(), {"date"}),
    ("sqlite", sqlite.TEXT(), {"text", "date", "datetime"}),
    ("sqlite", sqlite.INTEGER(), {"integer", "boolean"}),
    ("sqlite", sqlite.REAL(), {"decimal"}),
    ("sqlite", sa.types.NullType(), set()),
]


@pytest.mark.parametrize(("engine", "sql_type", "holds"), CASES, ids=[f"{c[0]}-{c[1]!r}" for c in CASES])
def test_accepts(engine: str, sql_type: object, holds: set[str]) -> None:
    assert set(_accepts(engine, sql_type)) == holds  # type: ignore[arg-type]
