"""The Airflow notifier: the connection's type picks SMTP, webhook or the log; each alert goes out once."""

from __future__ import annotations

import email
import json
import logging
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path
from types import SimpleNamespace

import pytest
from quancheng.ops.alerts import task_failure_alert
from servers import smtp_server, webhook

pytestmark = pytest.mark.airflow
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
CONN = "AIRFLOW_CONN_QUANCHENG_ALERTS"


@pytest.fixture
def notifiers(home, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setenv("QUANCHENG_HOME", str(home))
    monkeypatch.delenv(CONN, raising=False)
    from quancheng_airflow import notifiers

    return notifiers


def alerts() -> list:  # type: ignore[type-arg]
    return [task_failure_alert("ndrc_investment", "ndrc__b1", "extract", "schema drift: columns missing ['ZTZ']"),
            task_failure_alert("amr_enterprise", "amr__b1", "extract", "source down")]


def test_webhook_posts_json_once(notifiers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with webhook() as (url, received):
        monkeypatch.setenv(CONN, json.dumps({"conn_type": "http", "host": url}))
        n = notifiers.ExchangeNotifier(alerts=alerts())
        n.notify({})
        assert n.channel == "webhook"
        assert len(received) == 1 and received[0]["path"] == "/hooks/exchange"
        body = received[0]["json"]
        assert [a["system_id"] for a in body["alerts"]] == ["ndrc_investment", "amr_enterprise"]
        assert "schema drift" in body["text"]
        again = notifiers.ExchangeNotifier(alerts=alerts())
        again.notify({})
        assert len(received) == 1 and again.sent == []


def test_smtp_sends_one_mail_with_every_alert(notifiers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as (port, received):
        monkeypatch.setenv(CONN, json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"to": "ops@example.org", "from_email": "exchange@example.org", "disable_ssl": True,
                      "disable_tls": True, "retry_limit": 1, "timeout": 5}}))
        n = notifiers.ExchangeNotifier(alerts=alerts())
        n.notify({})
    assert n.channel == "smtp" and len(received) == 1
    msg = email.message_from_string(received[0]["data"])
    assert str(make_header(decode_header(msg["Subject"]))) == "[Quancheng Exchange] 2 alerts"
    assert "ops@example.org" in received[0]["rcpt"][0]
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "schema drift" in html and "amr_enterprise" in html


def test_without_a_connection_alerts_are_logged(notifiers, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="quancheng.alerts"):
        n = notifiers.ExchangeNotifier(alerts=alerts())
        n.notify({})
    assert n.channel == "log"
    assert sum("ALERT [Quancheng Exchange] ndrc_investment" in r.getMessage() for r in caplog.records) == 1


def test_unknown_connection_type_is_an_error(notifiers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CONN, json.dumps({"conn_type": "ftp", "host": "x"}))
    with pytest.raises(ValueError, match=r"use smtp .* or http"):
        notifiers.ExchangeNotifier(alerts=alerts()).notify({})


def test_failure_callback_alert_has_the_run_record_key(notifiers, home) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk import DAG
    from quancheng import pipeline
    from quancheng.sources import Window

    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    context = {"dag": DAG("sync__ndrc_investment", schedule=None), "ti": SimpleNamespace(task_id="extract"),
               "data_interval_start": start, "data_interval_end": end, "run_id": "manual__1",
               "exception": RuntimeError("connection to postgresql://etl:pw@db/x refused")}
    alert = notifiers.failure_alert(context)
    assert (alert.system_id, alert.kind) == ("ndrc_investment", "failed")
    assert alert.key == pipeline.batch_id_for("ndrc_investment", Window(start, end))
    assert "pw@" not in alert.detail and "task extract failed" in alert.message
    n = notifiers.ExchangeNotifier()
    n(context)  # the way Airflow calls a notifier given as on_failure_callback
    assert n.channel == "log" and [a.key for a in n.sent] == [alert.key]
