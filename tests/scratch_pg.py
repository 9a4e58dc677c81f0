"""A throwaway PostgreSQL database for one test or module: created on the local server, dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_database(prefix: str, *, drop_roles: str | None = None) -> Iterator[str]:
    """A new database named ``<prefix><random>``; yields its SQLAlchemy URL (psycopg driver).

    ``drop_roles``: a role-name prefix whose roles are dropped with the database (roles are cluster-wide).
    """
    import psycopg

    db = f"{prefix}{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            if drop_roles:
                roles = admin.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                                      (drop_roles + "%",)).fetchall()
                for (role,) in roles:
                    admin.execute(f'DROP ROLE IF EXISTS "{role}"')
