"""Client credentials of the data service: one API key per calling department, stored only as a hash.

A key is ``qck_`` plus 32 random bytes (URL-safe base64), shown once by ``quancheng serve clients add``;
the shared database keeps its SHA-256 (a key carries 256 bits of entropy, so a fast hash is enough: there
is nothing to brute-force) and its first characters, so an operator can tell keys apart. The department
must be one the SQL roles know (:func:`quancheng.sharing.postgres.departments`): a client is a department
role reached over HTTP. Revoking keeps the row (the audit log refers to it) and stamps ``revoked_at``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from quancheng.catalog import Catalog
from quancheng.errors import QuanchengError
from quancheng.sharing.postgres import departments

CLIENTS_TABLE = "_exchange_api_clients"
KEY_PREFIX = "qck_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clients_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        CLIENTS_TABLE, md,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("department_en", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hint", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


@dataclass(frozen=True)
class Client:
    """An authenticated caller: its name and the department whose rights it has."""

    name: str
    department_en: str


class ClientStore:
    """The clients table in the shared database: add, revoke, list, and look a key up."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        md = sa.MetaData()
        self.table = clients_table(md)
        md.create_all(engine, checkfirst=True)

    def add(self, name: str, department_en: str, catalog: Catalog) -> str:
        """Register a client and return its new key (the only time it is ever seen)."""
        known = departments(catalog)
        if department_en not in known:
            raise QuanchengError(f"department {department_en!r} is not in the catalog (systems.csv, grants.csv); "
                                 f"known: {', '.join(known)}")
        if not name.strip():
            raise QuanchengError("a client needs a name (quancheng serve clients add NAME --department DEPT)")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        t = self.table
        with self.engine.begin() as c:
            if c.execute(sa.select(t.c.name).where(t.c.name == name)).first():
                raise QuanchengError(f"client {name!r} already exists; revoke it first or choose another name")
            c.execute(t.insert().values(name=name, department_en=department_en, key_hash=hash_key(key),
                                        key_hint=key[:8], created_at=datetime.now(UTC), revoked_at=None))
        return key

    def revoke(self, name: str) -> None:
        t = self.table
        with self.engine.begin() as c:
            done = c.execute(t.update().where(t.c.name == name, t.c.revoked_at.is_(None))
                             .values(revoked_at=datetime.now(UTC))).rowcount
        if not done:
            raise QuanchengError(f"no active client named {name!r} (quancheng serve clients list shows them)")

    def listing(self) -> list[dict[str, Any]]:
        """Every client with department, key hint, created and revoked times (never the hash)."""
        t = self.table
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t.c.name, t.c.department_en, t.c.key_hint, t.c.created_at, t.c.revoked_at)
                             .order_by(t.c.name)).mappings().all()
        return [{**dict(r), "created_at": _iso(r["created_at"]), "revoked_at": _iso(r["revoked_at"])} for r in rows]

    def active(self) -> dict[str, Client]:
        """Key hash -> client, for every client not revoked."""
        t = self.table
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t.c.key_hash, t.c.name, t.c.department_en)
                             .where(t.c.revoked_at.is_(None))).all()
        return {h: Client(n, d) for h, n, d in rows}


class Authenticator:
    """Looks bearer keys up in memory, re-reading the table at most every ``ttl`` seconds (so a revoked
    key stops working within ``ttl``) and on a miss, so a key added while serving works at once."""

    def __init__(self, store: ClientStore, ttl: float = 2.0):
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_hash: dict[str, Client] = {}
        self._loaded = -1e9

    def _refresh(self, force: bool) -> None:
        if not force and time.monotonic() - self._loaded < self.ttl:
            return
        # when the keys are due for a re-read, one call re-reads them and the others go on with the keys read
        # before (at most ``ttl`` old): no call waits on another's database read
        if not self._lock.acquire(blocking=force or self._loaded < 0):
            return
        try:
            now = time.monotonic()
            if force or now - self._loaded >= self.ttl:
                self._by_hash = self.store.active()
                self._loaded = now
        finally:
            self._lock.release()

    def client(self, key: str) -> Client | None:
        h = hash_key(key)
        self._refresh(force=False)
        found = self._by_hash.get(h)
        if found is None and time.monotonic() - self._loaded > 0.5:  # bounded: a flood of bad keys is no DB load
            self._refresh(force=True)
            found = self._by_hash.get(h)
        return found


def _iso(v: datetime | None) -> str | None:
    if v is None:
        return None
    return (v if v.tzinfo else v.replace(tzinfo=UTC)).isoformat()
