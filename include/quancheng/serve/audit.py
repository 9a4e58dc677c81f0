"""The audit log of the data service: one row per call, refused ones included, in the shared database.

What a data-sharing office must be able to show: who called (client and department), which endpoint
and dataset, the keys asked for, how many rows went out, the HTTP status, when, and how long it took.
Rows are written by one background thread in small batches (a call never waits for the database; at 50
concurrent callers one INSERT and commit per call would be the bottleneck on SQLite), and
:meth:`AuditLog.close` writes whatever is left when the service stops. A failed write is logged with
the rows it lost; it is not swallowed silently.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from quancheng.errors import QuanchengError

AUDIT_TABLE = "_exchange_api_audit"
log = logging.getLogger(__name__)


def audit_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        AUDIT_TABLE, md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("department_en", sa.String(200), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("keys", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )


@dataclass
class Call:
    """One call as the audit log keeps it (``client`` is ``-`` when no valid key was presented)."""

    at: datetime
    method: str
    endpoint: str
    path: str
    client: str = "-"
    department_en: str = "-"
    dataset: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    status: int = 0
    latency_ms: float = 0.0
    error: str = ""

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d["keys"] = json.dumps(self.keys, ensure_ascii=False, sort_keys=True)
        d["path"] = self.path[:2000]  # a hostile URL must not bloat the log
        d["error"] = self.error[:500]
        return d


class AuditLog:
    """Appends calls to the audit table from a background thread."""

    def __init__(self, engine: sa.Engine, *, interval: float = 0.2):
        self.engine = engine
        md = sa.MetaData()
        self.table = audit_table(md)
        md.create_all(engine, checkfirst=True)
        self.interval = interval
        self._queue: queue.Queue[Call | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="quancheng-audit", daemon=True)
        self._thread.start()

    def record(self, call: Call) -> None:
        self._queue.put(call)

    def flush(self) -> None:
        """Wait until every call recorded so far is in the database."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        # one connection for the thread's life: opening one per batch (and setting WAL on it) five times a second
        # was work the callers' threads waited for; dropped and opened again after an error
        conn: sa.Connection | None = None
        stop = False
        while not stop:
            batch: list[Call] = []
            item = self._queue.get()
            taken = 1
            if item is None:
                stop = True
            else:
                batch.append(item)
            while not stop and len(batch) < 500:
                try:
                    item = self._queue.get(timeout=self.interval if not batch else 0.01)
                except queue.Empty:
                    break
                taken += 1
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            try:
                if batch:
                    conn = conn or self.engine.connect()
                    with conn.begin():
                        conn.execute(self.table.insert(), [b.row() for b in batch])
            except sa.exc.SQLAlchemyError as exc:
                log.error("audit log: %d call(s) could not be written to %s: %s", len(batch), AUDIT_TABLE, exc)
                if conn is not None:
                    conn.close()
                conn = None
            finally:
                for _ in range(taken):
                    self._queue.task_done()
        if conn is not None:
            conn.close()


_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: an ISO date or time (UTC unless it says otherwise) or an age such as ``15m``, ``2h``, ``7d``."""
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(text.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now - timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise QuanchengError(f"--since {text!r} is neither an ISO time (2026-12-03T08:00) nor an age "
                             "(15m, 2h, 7d)") from None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


def read_audit(engine: sa.Engine, since: datetime) -> list[dict[str, Any]]:
    """Every call at or after ``since``, oldest first, with ``keys`` decoded."""
    md = sa.MetaData()
    t = audit_table(md)
    md.create_all(engine, checkfirst=True)
    with engine.connect() as c:
        rows = c.execute(sa.select(t).where(t.c.at >= since.astimezone(UTC)).order_by(t.c.at, t.c.id)).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        at = d["at"]
        d["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
        d["keys"] = json.loads(d["keys"]) if d["keys"] else {}
        out.append(d)
    return out


def per_department(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls per department: how many, how many refused (4xx) and failed (5xx), rows sent, p95 latency."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in calls:
        groups.setdefault(c["department_en"], []).append(c)
    out = []
    for dept, cs in sorted(groups.items()):
        lat = sorted(float(c["latency_ms"]) for c in cs)
        out.append({"department_en": dept, "calls": len(cs),
                    "refused": sum(1 for c in cs if 400 <= c["status"] < 500),
                    "errors": sum(1 for c in cs if c["status"] >= 500), "rows": sum(int(c["rows"]) for c in cs),
                    "p95_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 1)})
    return out
