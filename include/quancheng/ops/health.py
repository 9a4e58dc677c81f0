"""The health of each system and shared dataset, decided from run records by fixed rules.

Pure functions over plain records (``now`` is always passed in), so ``quancheng status``, the Exchange
view and the freshness DAG give one verdict. Per system, the issues are:

- ``failed``      the newest run record failed; its error (first line whole) is the reason
- ``incomplete``  a batch began swapping the system's datasets and never recorded its success: the system
                  serves a mix of versions; the reason names the datasets ahead and those still behind
- ``stale``       the last successful sync finished more than the catalog's ``freshness_hours`` ago, or never
- ``quarantine``  the newest batch that extracted rows quarantined a larger share of them than the
                  catalog's ``quarantine_threshold``
- ``late``        the last success is older than one schedule period plus 25 % (a run is missing) but not stale

The state is the most severe issue (failed > incomplete > stale > quarantine > late), ``never`` when the system has
no run record at all, else ``ok``. Freshness is measured from when the last good sync *finished*: the
data interval can lie in the past (a backfill, the demo's fixed world) and still be the newest there is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from quancheng.catalog.models import System
from quancheng.ops.schedule import schedule_period
from quancheng.publish.intent import Publishing

IssueKind = Literal["failed", "incomplete", "stale", "quarantine", "late"]
State = Literal["ok", "late", "quarantine", "stale", "incomplete", "failed", "never"]
SEVERITY: tuple[IssueKind, ...] = ("failed", "incomplete", "stale", "quarantine", "late")
ALERTING: frozenset[IssueKind] = frozenset({"failed", "incomplete", "stale", "quarantine"})  # "late": view only
LATE_SLACK = 1.25
TREND_RUNS = 30
DatasetState = Literal["ok", "stale"]


def as_utc(value: Any) -> datetime | None:
    """A run record's timestamp as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None or value == "":
        return None
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(dt, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def first_line(text: str | None, limit: int | None = None) -> str:
    """The first non-blank line of an error, whole (its cause is often at the end: ``... port 5432 failed:
    FATAL: ...``), or cut to ``limit`` characters where a cell cannot wrap."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"
    return ""


@dataclass(frozen=True)
class RunPoint:
    """One batch in a trend."""

    batch_id: str
    finished_at: datetime
    status: str
    extracted: int
    published: int
    quarantined: int

    @property
    def rate(self) -> float | None:
        return self.quarantined / self.extracted if self.extracted else None


@dataclass(frozen=True)
class Issue:
    """Something wrong with a system; ``key`` names the occurrence so an alert is sent once for it."""

    kind: IssueKind
    message: str
    key: str


@dataclass(frozen=True)
class SystemHealth:
    """A system's verdict and the figures behind it."""

    system_id: str
    name_zh: str
    name_en: str
    department_zh: str
    kind: str
    schedule: str
    dag_id: str
    state: State
    issues: tuple[Issue, ...]
    freshness_hours: float
    period_hours: float | None
    quarantine_threshold: float
    age_hours: float | None  # since the last successful sync finished
    quarantine_rate: float | None  # of the newest batch that extracted rows
    last_run: dict[str, Any] | None
    last_success: dict[str, Any] | None
    error: str | None  # full (redacted) error of the newest run when it failed
    failed_batch: str | None  # the batch id of the newest run when it failed (the batch that ran)
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine counts per rule, newest batch with rows
    trend: tuple[RunPoint, ...] = ()  # oldest first
    data_docs: str | None = None
    publishing: dict[str, Any] | None = None  # an unfinished publish: batch_id, started_at, ahead, pending

    @property
    def reason(self) -> str:
        """One line saying why the system is not ok (empty when it is)."""
        return "; ".join(i.message for i in self.issues)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["reason"] = self.reason
        d["trend"] = [{**asdict(p), "finished_at": p.finished_at.isoformat(), "rate": p.rate} for p in self.trend]
        out: dict[str, Any] = _jsonable(d)
        return out


@dataclass(frozen=True)
class DatasetHealth:
    """A shared dataset's freshness and quarantine share, with the systems that feed it."""

    dataset_id: str
    kind: str
    rows: int
    content_hash: str
    last_batch: str
    updated_at: datetime | None
    age_hours: float | None
    freshness_hours: float
    state: DatasetState
    systems: tuple[str, ...]
    system_states: tuple[str, ...]
    quarantined_rows: int | None  # rows of this dataset's source table held in quarantine now
    quarantine_rate: float | None
    parquet_path: str
    sql_table: str
    trend: tuple[RunPoint, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["trend"] = [{**asdict(p), "finished_at": p.finished_at.isoformat(), "rate": p.rate} for p in self.trend]
        out: dict[str, Any] = _jsonable(d)
        return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _point(r: Mapping[str, Any]) -> RunPoint:
    finished = as_utc(r["finished_at"])
    assert finished is not None, "finished_at is NOT NULL in the runs table"
    return RunPoint(str(r["batch_id"]), finished, str(r["status"]), int(r["extracted"] or 0),
                    int(r["published"] or 0), int(r["quarantined"] or 0))


DOCS_KEYS = ("data_docs_path", "data_docs", "data_docs_url")


def data_docs_of(run: Mapping[str, Any] | None) -> str | None:
    """Where a run's Great Expectations Data Docs are: a ``data_docs_path`` (or ``data_docs``) entry of its GX
    result, at the top level or in a per-form entry (the first one found)."""
    if not run or not run.get("gx"):
        return None
    gx = run["gx"]
    if isinstance(gx, str):
        try:
            gx = json.loads(gx)
        except json.JSONDecodeError:
            return None
    if not isinstance(gx, dict):
        return None
    for entry in [gx, *(v for v in gx.values() if isinstance(v, dict))]:
        for key in DOCS_KEYS:
            value = entry.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def assess_system(system: System, runs: Sequence[Mapping[str, Any]], now: datetime,
                  publishing: Publishing | None = None) -> SystemHealth:
    """The verdict for one system from its run records, newest first, and its unfinished publish if any."""
    now = now.astimezone(UTC)
    period = schedule_period(system.schedule, system_id=system.system_id, now=now)
    newest = dict(runs[0]) if runs else None
    success = next((dict(r) for r in runs if r["status"] == "success"), None)
    with_rows = next((r for r in runs if r["status"] == "success" and int(r["extracted"] or 0) > 0), None)
    issues: list[Issue] = []
    error = None
    if newest is not None and newest["status"] != "success":
        error = str(newest.get("error") or "failed without an error message")
        issues.append(Issue("failed", f"failed: {first_line(error)} (batch {newest['batch_id']})",
                            str(newest["batch_id"])))
    if publishing is not None:
        issues.append(Issue("incomplete", publishing.message, publishing.batch_id))
    age = None
    if success is None:
        issues.append(Issue("stale", "never synced successfully", "never"))
    else:
        finished = as_utc(success["finished_at"])
        assert finished is not None
        age = _hours(now - finished)
        if age > system.freshness_hours:
            issues.append(Issue("stale", f"last good sync {age:.1f} h ago, limit {system.freshness_hours} h",
                                str(success["batch_id"])))
        elif period is not None and age > _hours(period) * LATE_SLACK:
            issues.append(Issue("late", f"no sync for {age:.1f} h, expected every {_hours(period):g} h",
                                str(success["batch_id"])))
    rate = None
    reasons: dict[str, int] = {}
    if with_rows is not None:
        rate = int(with_rows["quarantined"] or 0) / int(with_rows["extracted"])
        reasons = {str(k): int(v) for k, v in json.loads(with_rows.get("reasons") or "{}").items()}
        if rate > system.quarantine_threshold:
            issues.append(Issue("quarantine", f"quarantined {rate:.1%} of batch, threshold "
                                f"{system.quarantine_threshold:.1%}", str(with_rows["batch_id"])))
    issues.sort(key=lambda i: SEVERITY.index(i.kind))
    state: State = "never" if newest is None else (issues[0].kind if issues else "ok")
    return SystemHealth(
        system_id=system.system_id, name_zh=system.name_zh, name_en=system.name_en,
        department_zh=system.department_zh, kind=system.kind, schedule=system.schedule,
        dag_id=f"sync__{system.system_id}", state=state, issues=tuple(issues),
        freshness_hours=system.freshness_hours, period_hours=_hours(period) if period is not None else None,
        quarantine_threshold=system.quarantine_threshold, age_hours=age, quarantine_rate=rate,
        last_run=_brief(newest), last_success=_brief(success), error=error,
        failed_batch=str(newest["batch_id"]) if error is not None and newest is not None else None, reasons=reasons,
        trend=tuple(reversed([_point(r) for r in runs[:TREND_RUNS]])), data_docs=data_docs_of(success or newest),
        publishing=publishing.to_json() if publishing is not None else None,
    )


def _brief(run: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The fields of a run record worth showing (timestamps as aware datetimes)."""
    if run is None:
        return None
    keep = ("batch_id", "status", "window_start", "window_end", "extracted", "published", "quarantined",
            "deleted", "future_rows", "seconds", "workers")
    out = {k: run.get(k) for k in keep}
    if isinstance(out["workers"], str):  # JSON {step: worker} in the run record
        import json

        out["workers"] = json.loads(out["workers"])
    out["started_at"] = as_utc(run.get("started_at"))
    out["finished_at"] = as_utc(run.get("finished_at"))
    return out


def assess_dataset(entry: Mapping[str, Any], *, systems: Sequence[SystemHealth], quarantined_rows: int | None,
                   now: datetime, default_freshness_hours: float = 36) -> DatasetHealth:
    """The verdict for one registry entry, given the health of the systems that feed it.

    A dataset is as fresh as its last publish: stale past the largest freshness limit among its feeders.
    """
    updated = as_utc(entry.get("updated_at"))
    age = _hours(now.astimezone(UTC) - updated) if updated else None
    limit = max((s.freshness_hours for s in systems), default=default_freshness_hours)
    rows = int(entry["rows"])
    state: DatasetState = "stale" if age is None or age > limit else "ok"
    rate = None
    if quarantined_rows is not None and rows + quarantined_rows:
        rate = quarantined_rows / (rows + quarantined_rows)
    owner_trend = systems[0].trend if len(systems) == 1 else ()
    return DatasetHealth(
        dataset_id=str(entry["dataset_id"]), kind=str(entry["kind"]), rows=rows,
        content_hash=str(entry["content_hash"]), last_batch=str(entry["last_batch"]), updated_at=updated,
        age_hours=age, freshness_hours=limit, state=state, systems=tuple(s.system_id for s in systems),
        system_states=tuple(s.state for s in systems), quarantined_rows=quarantined_rows, quarantine_rate=rate,
        parquet_path=str(entry.get("parquet_path", "")), sql_table=str(entry.get("sql_table", "")),
        trend=owner_trend,
    )


STATE_ORDER: tuple[State, ...] = ("failed", "incomplete", "stale", "quarantine", "late", "never", "ok")


def counts_by_state(healths: Sequence[SystemHealth]) -> dict[str, int]:
    """How many systems are in each state, every state listed (zeros included), most severe first."""
    return {s: sum(h.state == s for h in healths) for s in STATE_ORDER}


def most_severe_first(healths: Sequence[SystemHealth]) -> list[SystemHealth]:
    """Systems ordered by state (failed first, ok last), catalog order within a state."""
    return sorted(healths, key=lambda h: STATE_ORDER.index(h.state))
