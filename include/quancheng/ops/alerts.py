"""Which conditions deserve a notification, worded once, and remembered so each is sent once.

Alerts come from the health rules (:mod:`quancheng.ops.health`): a failed run, a stale sync, a batch
quarantined over its system's threshold. ("late" only shows in the view.) A task failure seen by
Airflow's failure callback is the same ``failed`` alert, keyed by the same batch id, so the hourly
check does not repeat it. Sent alerts are kept in the shared database's ``_exchange_alerts`` table,
one row per (system, kind, key): a stale system is announced once per last-good batch, not every hour.
Delivery (SMTP, webhook, log) is Airflow's business: see ``plugins/quancheng_airflow/notifiers.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from quancheng.ops.health import ALERTING, IssueKind, SystemHealth, first_line
from quancheng.publish.store import SharedStore, create_tables

ALERTS_TABLE = "_exchange_alerts"
TITLES = {"failed": "sync failed", "incomplete": "publish incomplete", "stale": "sync is stale",
          "quarantine": "quarantine rate over threshold"}


@dataclass(frozen=True)
class Alert:
    """One notification: what happened to which system, and the occurrence it is about."""

    kind: IssueKind
    system_id: str
    key: str
    message: str
    detail: str = ""
    dag_id: str = ""

    @property
    def subject(self) -> str:
        return f"[Quancheng Exchange] {self.system_id}: {TITLES.get(self.kind, self.kind)}"

    @property
    def text(self) -> str:
        return f"{self.subject} — {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "subject": self.subject}


def alerts_for(systems: Iterable[SystemHealth]) -> list[Alert]:
    """Every alerting issue of every system, most severe first within a system."""
    return [Alert(i.kind, h.system_id, i.key, i.message, (h.error or "") if i.kind == "failed" else "",
                  h.dag_id)
            for h in systems for i in h.issues if i.kind in ALERTING]


def task_failure_alert(system_id: str, batch_id: str, task_id: str, error: str) -> Alert:
    """The alert a failed sync task raises (same key as the run record the failure leaves)."""
    return Alert("failed", system_id, batch_id, f"task {task_id} failed: {first_line(error)}", error,
                 f"sync__{system_id}")


def _table(md: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        ALERTS_TABLE, md or sa.MetaData(),
        sa.Column("system_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def _ensure(store: SharedStore) -> sa.Table:
    t = _table()
    create_tables(store.engine, t.metadata)
    return t


def unsent(store: SharedStore, alerts: Sequence[Alert]) -> list[Alert]:
    """The alerts not sent before (by system, kind and key)."""
    if not alerts:
        return []
    t = _ensure(store)
    with store.engine.connect() as c:
        sent = {(r.system_id, r.kind, r.key) for r in c.execute(sa.select(t.c.system_id, t.c.kind, t.c.key))}
    return [a for a in alerts if (a.system_id, a.kind, a.key) not in sent]


def mark_sent(store: SharedStore, alerts: Sequence[Alert], now: datetime | None = None) -> None:
    """Remember that ``alerts`` went out (call only after delivery succeeded)."""
    fresh = unsent(store, alerts)
    if not fresh:
        return
    t = _ensure(store)
    when = now or datetime.now(UTC)
    with store.engine.begin() as c:
        c.execute(t.insert(), [{"system_id": a.system_id, "kind": a.kind, "key": a.key, "message": a.message,
                                "sent_at": when} for a in {(a.system_id, a.kind, a.key): a for a in fresh}.values()])


def render_text(alerts: Sequence[Alert]) -> str:
    """A plain-text body listing the alerts (webhooks, logs)."""
    return "\n".join(a.text for a in alerts)


def render_html(alerts: Sequence[Alert]) -> str:
    """An HTML e-mail body: one row per alert, the full error under failed ones."""
    from html import escape

    rows = "".join(f"<tr><td>{escape(a.system_id)}</td><td>{escape(TITLES.get(a.kind, a.kind))}</td>"
                   f"<td>{escape(a.message)}{'<pre>' + escape(a.detail) + '</pre>' if a.detail else ''}</td></tr>"
                   for a in alerts)
    return (f"<p>Quancheng Exchange: {len(alerts)} alert(s)</p><table border='1' cellpadding='4'>"
            f"<tr><th>system</th><th>what</th><th>detail</th></tr>{rows}</table>")
