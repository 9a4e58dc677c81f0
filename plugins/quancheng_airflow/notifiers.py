"""Alerts through Airflow's notifier mechanism, delivered by the connection ``quancheng_alerts``.

The connection's type decides the channel:
- ``smtp``: an e-mail through the SMTP provider; extra ``{"to": "a@x, b@y", "from_email": "..."}``
- ``http`` / ``https``: a JSON POST (``{"text": ..., "alerts": [...]}``) through the HTTP provider to the
  connection's host, which holds the whole webhook URL, e.g.
  ``{"conn_type": "http", "host": "https://hooks.example/exchange?token=..."}``
- no such connection: each alert is written to the task log (what the demo does)

Sent alerts are remembered in the shared database (:mod:`quancheng.ops.alerts`), so a failure announced
by the failure callback is not announced again by the hourly freshness check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from airflow.sdk import BaseNotifier

DEFAULT_CONN_ID = "quancheng_alerts"
Channel = Literal["smtp", "webhook", "log", "none"]
log = logging.getLogger("quancheng.alerts")


def _connection(conn_id: str) -> Any | None:
    """The alert connection, or None when it is not configured (a missing one is not an outage)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def deliver(alerts: Sequence[Any], conn_id: str = DEFAULT_CONN_ID, context: Any = None) -> Channel:
    """Send ``alerts`` (``quancheng.ops.alerts.Alert``) through the connection; return the channel used.

    Delivery errors propagate: a notification that did not go out must not be marked sent.
    """
    from quancheng.ops.alerts import render_html, render_text

    if not alerts:
        return "none"
    conn = _connection(conn_id)
    if conn is None:
        for a in alerts:
            log.warning("ALERT %s (connection %r not configured, logged only)", a.text, conn_id)
        return "log"
    kind = (conn.conn_type or "").lower()
    if kind in ("smtp", "email"):
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        extra = conn.extra_dejson
        to = extra.get("to")
        if not to:
            raise ValueError(f"connection {conn_id!r} (smtp) needs the recipients in its extra: "
                             '{"to": "ops@example.org"}')
        subject = alerts[0].subject if len(alerts) == 1 else f"[Quancheng Exchange] {len(alerts)} alerts"
        SmtpNotifier(to=to, from_email=extra.get("from_email") or conn.login or "exchange@localhost",
                     subject=subject, html_content=render_html(alerts), smtp_conn_id=conn_id).notify(context or {})
        return "smtp"
    if kind in ("http", "https"):
        from airflow.providers.http.notifications.http import HttpNotifier

        payload = {"text": render_text(alerts), "alerts": [a.to_json() for a in alerts]}
        HttpNotifier(http_conn_id=conn_id, endpoint="", method="POST", json=payload).notify(context or {})
        return "webhook"
    raise ValueError(f"connection {conn_id!r} has type {conn.conn_type!r}; use smtp (e-mail) or http (webhook)")


def failure_alert(context: Any) -> Any:
    """The alert for a failed task, keyed like the failure's run record (system and batch)."""
    from quancheng.ops.alerts import Alert, task_failure_alert
    from quancheng.sources.base import redact
    from quancheng.steps import batch_of

    dag_id = context["dag"].dag_id
    ti = context.get("ti") or context.get("task_instance")
    task_id = getattr(ti, "task_id", "?")
    error = redact(str(context.get("exception") or "failed without an exception"))
    if dag_id.startswith("sync__") and context.get("data_interval_end") is not None:
        system_id = dag_id.removeprefix("sync__")
        params = context.get("params") or {}
        key = batch_of(system_id, context.get("data_interval_start"), context["data_interval_end"],
                       full_refresh=bool(params.get("full_refresh")), rebuild=bool(params.get("rebuild")))
        return task_failure_alert(system_id, key, task_id, error)
    return Alert("failed", dag_id, str(context.get("run_id", "")), f"task {task_id} failed: {error[:200]}", error,
                 dag_id)


class ExchangeNotifier(BaseNotifier):
    """Notify ops: by default about the failed task in ``context``; or about the ``alerts`` given.

    Use as ``on_failure_callback=ExchangeNotifier()`` (or call it with a context from a callback).
    """

    template_fields = ("conn_id",)

    def __init__(self, *, conn_id: str = DEFAULT_CONN_ID, alerts: Sequence[Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.alerts = list(alerts) if alerts is not None else None
        self.channel: Channel = "none"
        self.sent: list[Any] = []  # the alerts the last notify() delivered

    def notify(self, context: Any) -> None:
        from quancheng.ops.alerts import mark_sent, unsent
        from quancheng.pipeline import default_home
        from quancheng.publish.store import SharedStore

        alerts = self.alerts if self.alerts is not None else [failure_alert(context)]
        store = SharedStore(default_home())
        pending = unsent(store, alerts)
        self.channel = deliver(pending, self.conn_id, context)
        mark_sent(store, pending)
        self.sent = pending
