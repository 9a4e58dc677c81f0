"""Run records: one row per batch attempt in the shared database's ``_exchange_runs`` table.

Ops read them through ``quancheng status`` and the Exchange view: what ran, when, how many rows went
where (quarantine counted per reason), what it published (content hashes) and why a run failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from quancheng.publish.store import SharedStore

RUNS_TABLE = "_exchange_runs"
ERROR_CHARS = 4000  # what a run record keeps of an error beyond its first line
_PASSWORD_KV = re.compile(r"(?i)\b(password|passwd|pwd|secret|token)(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s,;)]+)")


def failure_text(error: str) -> str:
    """An error as a run record keeps it: passwords redacted (in URIs and ``password=...`` pairs), the first
    non-blank line whole (the cause is often at its end: ``... port 5432 failed: FATAL: ...``), the rest cut
    to :data:`ERROR_CHARS` characters."""
    from quancheng.sources.base import redact

    text = _PASSWORD_KV.sub(lambda m: f"{m[1]}{m[2]}***", redact(error)).strip()
    first, _, rest = text.partition("\n")
    return first + ("\n" + rest[:ERROR_CHARS] if rest else "")


def worker_name() -> str:
    """Who runs this process's steps: the Celery worker's name where the deployment sets one
    (``QUANCHENG_WORKER``), else the host's name."""
    import os
    import socket

    return os.environ.get("QUANCHENG_WORKER") or socket.gethostname()


def runs_table(md: sa.MetaData | None = None) -> sa.Table:
    md = md or sa.MetaData()
    return sa.Table(
        RUNS_TABLE, md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system_id", sa.String(100), nullable=False, index=True),
        sa.Column("batch_id", sa.String(200), nullable=False),
        sa.Column("window_start", sa.String(40)),
        sa.Column("window_end", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("extracted", sa.BigInteger, nullable=False, default=0),
        sa.Column("published", sa.BigInteger, nullable=False, default=0),
        sa.Column("quarantined", sa.BigInteger, nullable=False, default=0),
        sa.Column("deleted", sa.BigInteger, nullable=False, default=0),
        sa.Column("reasons", sa.Text, nullable=False, default="{}"),
        sa.Column("content_hashes", sa.Text, nullable=False, default="{}"),
        sa.Column("gx", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float),
        sa.Column("future_rows", sa.BigInteger, nullable=True),  # added later: see _add_missing_columns
        sa.Column("workers", sa.Text, nullable=True),  # JSON {step: worker}; added later too
    )


_checked: set[str] = set()  # databases whose runs table has every column, checked once per process


def _t(store: SharedStore) -> sa.Table:
    t = runs_table()
    from quancheng.publish.store import create_tables  # the module imports pyarrow; ops reads runs without it

    create_tables(store.engine, t.metadata)
    key = store.engine.url.render_as_string(hide_password=True)
    if key not in _checked:
        _add_missing_columns(store.engine, t)
        _checked.add(key)
    return t


def _add_missing_columns(engine: sa.Engine, t: sa.Table) -> None:
    """A runs table made by an older version gains the columns added since (nullable, so old rows stay)."""
    have = {c["name"] for c in sa.inspect(engine).get_columns(t.name)}
    with engine.begin() as c:
        for col in t.columns:
            if col.name not in have:
                c.execute(sa.text(f'ALTER TABLE "{t.name}" ADD COLUMN "{col.name}" '
                                  f"{col.type.compile(dialect=engine.dialect)}"))


def totals(ref: dict[str, Any]) -> dict[str, int]:
    """Rows extracted, published (valid), quarantined and deleted over all forms of a batch, and the rows
    left unread because their update time is at or after the window's end (zeros for a batch that failed
    before it had any)."""
    out = {"extracted": 0, "valid": 0, "quarantined": 0, "deleted": 0, "future_rows": 0}
    for c in ref.get("forms", {}).values():
        for k in out:
            out[k] += int(c.get(k, 0))
    return out


def record_run(store: SharedStore, ref: dict[str, Any], *, status: str, error: str | None = None,
               then: Callable[[sa.Connection], None] | None = None) -> None:
    """Append the record of one batch attempt (counts summed over the system's forms); ``then(connection)``
    runs in the same transaction (the publish clears its "publishing" mark with the record of its success)."""
    tot = totals(ref)
    reasons: dict[str, int] = {}
    for c in ref.get("forms", {}).values():
        for k, v in c.get("reasons", {}).items():
            reasons[k] = reasons.get(k, 0) + v
    started = datetime.fromisoformat(ref["started_at"]) if ref.get("started_at") else None
    finished = datetime.now(UTC)
    with store.engine.begin() as c:
        c.execute(_t(store).insert().values(
            system_id=ref["system_id"], batch_id=ref.get("batch_id", ""),
            window_start=ref.get("window", {}).get("start"), window_end=ref.get("window", {}).get("end", ""),
            status=status, extracted=tot["extracted"], published=tot["valid"], quarantined=tot["quarantined"],
            deleted=tot["deleted"], future_rows=tot["future_rows"],
            workers=json.dumps(ref.get("workers") or {"run": worker_name()}, sort_keys=True),
            reasons=json.dumps(reasons, ensure_ascii=False, sort_keys=True),
            content_hashes=json.dumps({k: v["content_hash"] for k, v in ref.get("published", {}).items()},
                                      sort_keys=True),
            gx=json.dumps(ref["gx"], ensure_ascii=False) if ref.get("gx") else None, error=error,
            started_at=started, finished_at=finished,
            seconds=(finished - started).total_seconds() if started else None,
        ))
        if then is not None:
            then(c)


def latest_runs(store: SharedStore) -> list[dict[str, Any]]:
    """The newest run record of every system."""
    t = _t(store)
    newest = sa.select(t.c.system_id, sa.func.max(t.c.id).label("id")).group_by(t.c.system_id).subquery()
    with store.engine.connect() as c:
        rows = c.execute(sa.select(t).join(newest, t.c.id == newest.c.id).order_by(t.c.system_id)).mappings().all()
    return [dict(r) for r in rows]
