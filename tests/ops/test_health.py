"""The health rules, case by case: one table of (schedule, runs, now) -> state and issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opsdata import make_run
from quancheng.catalog.models import System
from quancheng.errors import QuanchengError
from quancheng.ops.health import assess_system
from quancheng.ops.schedule import schedule_period

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def system(**kw: object) -> System:
    base = {"system_id": "s", "name_zh": "测试系统", "name_en": "Test", "department_zh": "测试局",
            "department_en": "Test Bureau", "stages": ("s1",), "kind": "sqlite", "conn_id": "qc_s",
            "extract_mode": "incremental", "schedule": "@daily", "freshness_hours": 36, "quarantine_threshold": 0.1}
    return System.model_validate({**base, **kw})


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


CASES = [
    # (id, system overrides, runs newest first, expected state, expected issue kinds)
    ("no records", {}, [], "never", ["stale"]),
    ("fresh and clean", {}, [make_run("s", finished=ago(2))], "ok", []),
    ("daily run missing", {}, [make_run("s", finished=ago(31))], "late", ["late"]),
    ("past freshness limit", {}, [make_run("s", finished=ago(40))], "stale", ["stale"]),
    ("newest failed, data still fresh", {},
     [make_run("s", status="failed", finished=ago(1), error="boom\nstack"), make_run("s", finished=ago(3))],
     "failed", ["failed"]),
    ("failed and stale", {},
     [make_run("s", status="failed", finished=ago(1), error="boom"), make_run("s", finished=ago(50))],
     "failed", ["failed", "stale"]),
    ("failed, never a success", {}, [make_run("s", status="failed", finished=ago(1), error="boom")],
     "failed", ["failed", "stale"]),
    ("over quarantine threshold", {}, [make_run("s", finished=ago(2), extracted=10, quarantined=2)],
     "quarantine", ["quarantine"]),
    ("at the threshold is fine", {}, [make_run("s", finished=ago(2), extracted=10, quarantined=1)], "ok", []),
    ("empty batch: the rate comes from the last batch with rows", {},
     [make_run("s", finished=ago(1), extracted=0), make_run("s", finished=ago(25), extracted=10, quarantined=5)],
     "quarantine", ["quarantine"]),
    ("hourly cron, two hours quiet", {"schedule": "0 * * * *", "freshness_hours": 6},
     [make_run("s", finished=ago(2))], "late", ["late"]),
    ("weekday cron over a weekend", {"schedule": "0 9 * * 1-5", "freshness_hours": 96},
     [make_run("s", finished=ago(60))], "ok", []),
    ("manual schedule is never late", {"schedule": "@once", "freshness_hours": 1000},
     [make_run("s", finished=ago(500))], "ok", []),
    ("stale and over threshold: stale first", {},
     [make_run("s", finished=ago(40), extracted=10, quarantined=9)], "stale", ["stale", "quarantine"]),
]


@pytest.mark.parametrize(("overrides", "runs", "state", "kinds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_state_and_issues(overrides, runs, state, kinds) -> None:  # type: ignore[no-untyped-def]
    h = assess_system(system(**overrides), runs, NOW)
    assert h.state == state
    assert [i.kind for i in h.issues] == kinds


def test_figures_behind_the_verdict() -> None:
    runs = [make_run("s", status="failed", finished=ago(1), error="source down: postgresql://u:***@h/db\ntrace"),
            make_run("s", finished=ago(5), extracted=40, quarantined=6, reasons={"R_type": 4, "R_required": 2}),
            make_run("s", finished=ago(29), extracted=20, quarantined=1)]
    h = assess_system(system(), runs, NOW)
    assert h.age_hours == pytest.approx(5)
    assert h.quarantine_rate == pytest.approx(6 / 40)
    assert h.reasons == {"R_type": 4, "R_required": 2}
    assert h.error == runs[0]["error"]
    assert h.issues[0].message == f"failed: source down: postgresql://u:***@h/db (batch {runs[0]['batch_id']})"
    assert h.failed_batch == runs[0]["batch_id"]
    assert h.issues[0].key == runs[0]["batch_id"]
    assert [p.batch_id for p in h.trend] == [r["batch_id"] for r in reversed(runs)]
    assert [p.rate for p in h.trend] == [1 / 20, 6 / 40, None]
    assert h.last_success is not None and h.last_success["batch_id"] == runs[1]["batch_id"]


def test_naive_timestamps_are_utc() -> None:
    run = make_run("s", finished=ago(2))
    run["finished_at"] = run["finished_at"].replace(tzinfo=None)
    assert assess_system(system(), [run], NOW).age_hours == pytest.approx(2)


@pytest.mark.parametrize(("gx", "docs"), [
    ('{"success": true, "data_docs_path": "gx/docs/index.html"}', "gx/docs/index.html"),
    ('{"ndrc_filing": {"success": true, "data_docs_path": "/h/gx/index.html"}}', "/h/gx/index.html"),
    ('{"success": true}', None),
    ("not json", None),
    (None, None),
])
def test_data_docs_link_from_gx_result(gx: str | None, docs: str | None) -> None:
    run = make_run("s", finished=ago(1), gx=gx)
    assert assess_system(system(), [run], NOW).data_docs == docs


@pytest.mark.parametrize(("schedule", "hours"), [("@hourly", 1), ("@daily", 24), ("0 0 * * *", 24),
                                                 ("*/15 * * * *", 0.25), ("0 9 * * 1-5", 72), ("@once", None)])
def test_schedule_period(schedule: str, hours: float | None) -> None:
    period = schedule_period(schedule, now=NOW)
    assert (period.total_seconds() / 3600 if period else None) == hours


def test_bad_schedule_names_the_system() -> None:
    with pytest.raises(QuanchengError, match=r"system 'x'.*'every tuesday'"):
        schedule_period("every tuesday", system_id="x", now=NOW)
