"""The four task steps as plain functions of primitives: what each Airflow task calls, and nothing more.

Each takes the catalog (loaded once per process while its files are unchanged) and resolves the home
folder itself, so a task body is one line and the same call works from the CLI, a test or any other
scheduler.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from quancheng import pipeline
from quancheng.catalog import current_catalog
from quancheng.sources import Window

Ref = dict[str, Any]


def extract_step(system_id: str, start: datetime | None, end: datetime, *, uri: str | None = None,
                 home: str | None = None, full_refresh: bool = False, rebuild: bool = False) -> Ref:
    """Extract ``[start, end)`` of a system (``full_refresh`` reads from the beginning; ``rebuild`` too, and
    replaces the system's datasets instead of merging into them)."""
    window = Window(None if full_refresh or rebuild else start, end)
    return pipeline.extract(system_id, window, catalog=current_catalog(), uri=uri,
                            home=Path(home) if home else None, rebuild=rebuild)


def normalize_step(ref: Ref) -> Ref:
    return pipeline.normalize(ref, catalog=current_catalog())


def validate_step(ref: Ref) -> Ref:
    return pipeline.validate(ref, catalog=current_catalog())


def publish_step(ref: Ref) -> Ref:
    return pipeline.publish(ref, catalog=current_catalog())


def record_failure(system_id: str, start: datetime | None, end: datetime, error: str,
                   home: str | None = None) -> None:
    """Record a failed attempt so ``quancheng status`` shows which system failed and why."""
    from quancheng.publish.store import SharedStore
    from quancheng.runs import record_run
    from quancheng.sources.base import redact

    store = SharedStore(Path(home) if home else pipeline.default_home())
    ref = {"system_id": system_id, "batch_id": pipeline.batch_id_for(system_id, Window(start, end)),
           "window": {"start": start.isoformat() if start else None, "end": end.isoformat()}}
    record_run(store, ref, status="failed", error=redact(error)[:2000])
