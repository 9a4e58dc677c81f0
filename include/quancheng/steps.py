"""The four task steps as plain functions of primitives: what each Airflow task calls, and nothing more.

Each takes the catalog (loaded once per process while its files are unchanged) and resolves the home
folder itself, so a task body is one line and the same call works from the CLI, a test or any other
scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quancheng import pipeline
from quancheng.bucket import Bucket
from quancheng.catalog import current_catalog
from quancheng.safepath import safe_path
from quancheng.sources import Window

Ref = dict[str, Any]


def extract_step(system_id: str, start: datetime | str | None, end: datetime, *, uri: str | None = None,
                 home: str | None = None, since: str | None = None, full_refresh: bool = False,
                 rebuild: bool = False, allow_mass_delete: bool = False, lock_wait: float = 0) -> Ref:
    """Extract ``[start, end)`` of a system (``full_refresh`` reads from the beginning; ``rebuild`` too, and
    replaces the system's datasets instead of merging into them; ``allow_mass_delete`` lets a batch delete
    more than the system's ``max_delete_share`` of a dataset); ``lock_wait``: seconds to wait for the
    system's lock (see :mod:`quancheng.locks`); ``since`` (ISO) replaces ``start``."""
    window = window_of(since or start, end, full_refresh=full_refresh, rebuild=rebuild)
    ref = pipeline.extract(system_id, window, catalog=current_catalog(), uri=uri,
                           home=Path(home) if home else None, rebuild=rebuild,
                           allow_mass_delete=allow_mass_delete, lock_wait=lock_wait)
    return ran_on(_handed_on(ref, ["raw", "deleted", "snapshot_next"]), "extract")


def normalize_step(ref: Ref) -> Ref:
    ref = _taken_over(ref, ["raw"])
    return ran_on(_handed_on(pipeline.normalize(ref, catalog=current_catalog()), ["normalized", "issues"]),
                  "normalize")


def validate_step(ref: Ref) -> Ref:
    ref = pipeline.validate(_taken_over(ref, ["raw", "normalized", "issues"]), catalog=current_catalog())
    results = [Path(f["results_path"]).relative_to(ref["home"]) for f in ref.get("gx", {}).get("forms", {}).values()]
    suites = [f"quality/suites/{r.parent.name}.json" for r in results]  # beside validations/<dataset>/<run>.json
    return ran_on(_handed_on(ref, ["valid", "quarantine"], also=[r.as_posix() for r in results] + suites),
                  "validate")


def publish_step(ref: Ref, *, lock_wait: float = 0) -> Ref:
    ref = _taken_over(ref, ["valid", "quarantine", "deleted", "snapshot_next"])
    return pipeline.publish(ran_on(ref, "publish"), catalog=current_catalog(), lock_wait=lock_wait)


def _taken_over(ref: Ref, stages: list[str]) -> Ref:
    """The batch as this worker sees it. With the datasets on an object store (:mod:`quancheng.bucket`) the
    step works in this worker's own home (the one the ref names may be another host's): the ref is moved
    there and the stages the step reads are pulled from the bucket where this worker lacks them."""
    home = pipeline.default_home()
    bucket = Bucket.of(home)
    if bucket is None or "attempt" not in ref:
        return ref
    ref = {**ref, "home": str(home), "dir": str(safe_path(home, *ref["attempt"].split("/"), what="attempt"))}
    bucket.pull(home, [f"{ref['attempt']}/{stage}" for stage in stages])
    return ref


def _handed_on(ref: Ref, stages: list[str], also: list[str] | None = None) -> Ref:
    """Push what the step wrote (its stages' folders, and ``also``) to the bucket before the task ends, so
    the next step finds it on any worker; nothing to do with a local store."""
    bucket = Bucket.of(Path(ref["home"]))
    if bucket is not None and "attempt" in ref:
        attempt = Path(ref["home"], ref["attempt"])
        bucket.push(Path(ref["home"]), [f"{ref['attempt']}/{s}" for s in stages if (attempt / s).exists()]
                    + (also or []))
    return ref


def ran_on(ref: Ref, step: str) -> Ref:
    """Note which worker ran ``step`` of the batch (the run record keeps it: with several workers, each step
    may run on another host)."""
    from quancheng.runs import worker_name

    ref.setdefault("workers", {})[step] = worker_name()
    return ref


def window_of(start: datetime | str | None, end: datetime, *, full_refresh: bool = False,
              rebuild: bool = False) -> Window:
    """The window a run of the data interval ``[start, end)`` reads: from the beginning for a full refresh or a
    rebuild. One rule for ``extract_step`` and for the failure record, so both name the same batch. A start
    given as text (the DAG param ``since``) is ISO; without a zone it is UTC."""
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
        start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC)
    return Window(None if full_refresh or rebuild else start, end)


def batch_of(system_id: str, start: datetime | None, end: datetime, *, full_refresh: bool = False,
             rebuild: bool = False) -> str:
    """The batch id a run of ``[start, end)`` with these params extracts (``origin__...`` for a full refresh)."""
    return pipeline.batch_id_for(system_id, window_of(start, end, full_refresh=full_refresh, rebuild=rebuild))


def record_failure(system_id: str, start: datetime | str | None, end: datetime, error: str,
                   home: str | None = None, *, full_refresh: bool = False, rebuild: bool = False,
                   batch_id: str | None = None) -> None:
    """Record a failed attempt so ``quancheng status`` shows which system failed, in which batch and why.

    The batch is ``batch_id`` when the caller knows it, else the one the run's window and params make (the
    same rule as ``extract_step``). The error is stored with its first line whole and passwords redacted.
    """
    from quancheng.publish.store import SharedStore
    from quancheng.runs import failure_text, record_run

    store = SharedStore(Path(home) if home else pipeline.default_home())
    window = window_of(start, end, full_refresh=full_refresh, rebuild=rebuild)
    ref = {"system_id": system_id, "batch_id": batch_id or pipeline.batch_id_for(system_id, window),
           "window": {"start": window.start.isoformat() if window.start else None, "end": end.isoformat()}}
    record_run(store, ref, status="failed", error=failure_text(error))
