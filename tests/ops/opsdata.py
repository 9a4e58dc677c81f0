"""Test data for the ops tests: run records written directly (the in-memory source is ``memory_source``).

``synced_home`` (conftest) runs the lead's pipeline on the slice catalog with an in-memory source for one system
(some rows quarantined), records a failure for another (its error holds a password that must not show)
and leaves the third never run: the three states ops must tell apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = datetime(2026, 3, 2, tzinfo=UTC)
SECRET = "s3cr3t-pw"
FAILURE = (f"system 'hcb_construction_permit', table 'sgxk': source is down: connection to "
           f"postgresql://etl:{SECRET}@10.0.0.7/hcb refused")


def make_run(system_id: str, *, status: str = "success", finished: datetime, extracted: int = 10,
             quarantined: int = 0, reasons: dict[str, int] | None = None, error: str | None = None,
             batch: str | None = None, gx: str | None = None) -> dict[str, Any]:
    """A run record as the runs table holds it."""
    return {"system_id": system_id, "batch_id": batch or f"{system_id}__{finished:%Y%m%dT%H%M%S}",
            "window_start": None, "window_end": finished.isoformat(), "status": status,
            "extracted": extracted if status == "success" else 0,
            "published": extracted - quarantined if status == "success" else 0,
            "quarantined": quarantined if status == "success" else 0, "deleted": 0,
            "reasons": json.dumps(reasons or {}), "content_hashes": "{}", "gx": gx, "error": error,
            "started_at": finished - timedelta(seconds=5), "finished_at": finished, "seconds": 5.0}


def write_runs(home: Path, records: list[dict[str, Any]]) -> None:
    """Insert run records with their own timestamps (oldest first, as the pipeline would have)."""
    from quancheng.publish.store import SharedStore
    from quancheng.runs import runs_table

    store = SharedStore(home)
    t = runs_table()
    t.metadata.create_all(store.engine, checkfirst=True)
    with store.engine.begin() as c:
        c.execute(t.insert(), records)


