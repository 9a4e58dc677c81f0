"""Alert selection and de-duplication: each condition is announced once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsdata import make_run, write_runs
from quancheng.ops.alerts import alerts_for, mark_sent, render_html, task_failure_alert, unsent
from quancheng.ops.overview import build_overview
from quancheng.publish.store import SharedStore


def test_alerts_follow_the_health_issues(home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    ndrc, hcb, amr = (s.system_id for s in slice_catalog.systems)
    limit = slice_catalog.system[hcb].freshness_hours
    write_runs(home, [
        make_run(ndrc, finished=now - timedelta(hours=1), extracted=10, quarantined=9),
        make_run(hcb, finished=now - timedelta(hours=limit + 5)),
        make_run(amr, finished=now - timedelta(hours=2)),
        make_run(amr, status="failed", finished=now - timedelta(minutes=5), error="down <b>\ntrace"),
    ])
    ov = build_overview(home, slice_catalog, now)
    got = {(a.system_id, a.kind) for a in alerts_for(ov.systems)}
    assert got == {(ndrc, "quarantine"), (hcb, "stale"), (amr, "failed")}
    failed = next(a for a in alerts_for(ov.systems) if a.kind == "failed")
    assert failed.detail == "down <b>\ntrace" and "&lt;b&gt;" in render_html([failed])


def test_each_alert_is_sent_once(home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    store = SharedStore(home)
    a = task_failure_alert("ndrc_investment", "ndrc__b1", "extract", "boom")
    assert unsent(store, [a]) == [a]
    mark_sent(store, [a, a])
    assert unsent(store, [a]) == []
    again = task_failure_alert("ndrc_investment", "ndrc__b2", "extract", "boom")
    assert unsent(store, [a, again]) == [again]


def test_task_failure_and_hourly_check_share_a_key(home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    from quancheng import pipeline
    from quancheng.sources import Window
    from quancheng.steps import record_failure

    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    record_failure("amr_enterprise", start, end, "source down", home=str(home))
    mark_sent(SharedStore(home), [task_failure_alert(
        "amr_enterprise", pipeline.batch_id_for("amr_enterprise", Window(start, end)), "extract", "source down")])
    ov = build_overview(home, slice_catalog, datetime.now(UTC))
    pending = unsent(SharedStore(home), alerts_for(ov.systems))
    assert ("amr_enterprise", "failed") not in {(a.system_id, a.kind) for a in pending}
