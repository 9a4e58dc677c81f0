"""Upkeep of the shared datasets: compaction and vacuum, each dataset under its writer's lock.

Every publish adds files (a merge rewrites only the files holding its keys), so small files gather and old
versions keep theirs. :func:`maintain_all` compacts each dataset and vacuums the files no version younger
than the retention needs; versions older than that can no longer be read *as of*. A system's datasets are
maintained under the system's lock (:mod:`quancheng.locks`), so compaction never races a sync's merge; the
consolidated ones are written by the consolidation DAGs, whose pool the maintenance task shares. The
per-area copies' earlier versions (kept for the data service's *as of*) go by the same retention.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from quancheng.locks import system_lock
from quancheng.publish.delta import Maintenance
from quancheng.publish.store import SharedStore

# a week of versions stays readable as of its time
RETENTION_HOURS = 168
# how long maintenance waits for a system's running sync before giving up on that system
LOCK_WAIT_SECONDS = 1800.0


def system_of(dataset_id: str, kind: str) -> str | None:
    """The system whose syncs write the dataset (None for consolidated datasets)."""
    if kind == "quarantine":
        return dataset_id.removeprefix("quarantine.")
    return dataset_id.split(".", 1)[0] if kind == "system" else None


def maintain_all(store: SharedStore, retention_hours: int = RETENTION_HOURS, *,
                 lock_wait: float = LOCK_WAIT_SECONDS,
                 progress: Callable[[str, Maintenance], None] | None = None) -> dict[str, Maintenance]:
    """Compact and vacuum every published dataset, and delete the area copies' versions older than the
    retention (:func:`quancheng.sharing.areas.prune_versions`); what was done per dataset."""
    from quancheng.sharing.areas import prune_versions

    batch = f"maintain__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    out: dict[str, Maintenance] = {}
    for d in store.datasets():
        ds, system = str(d["dataset_id"]), system_of(str(d["dataset_id"]), str(d["kind"]))
        lock = (system_lock(system, home=Path(store.home), batch_id=batch, step="maintain", sql_url=store.sql_url,
                            wait=lock_wait) if system else contextlib.nullcontext())
        with lock:
            done = store.maintain(ds, retention_hours)
        if done is not None:
            out[ds] = done
            if progress is not None:
                progress(ds, done)
    prune_versions(store, retention_hours)
    return out


def maintain_step(home: str | None = None, retention_hours: int = RETENTION_HOURS) -> dict[str, dict[str, int]]:
    """What the maintenance DAG's task calls: :func:`maintain_all` on the home's store, as JSON."""
    from quancheng.pipeline import default_home

    done = maintain_all(SharedStore(Path(home) if home else default_home()), retention_hours)
    return {ds: {"files_compacted": m.files_compacted, "files_written": m.files_written,
                 "files_vacuumed": m.files_vacuumed, "version": m.version} for ds, m in done.items()}
