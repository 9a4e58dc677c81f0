"""Test data for the ops tests: run records written directly, and an in-memory source for the real pipeline.

``synced_home`` (conftest) runs the lead's pipeline on the slice catalog with an in-memory source for one system
(some rows quarantined), records a failure for another (its error holds a password that must not show)
and leaves the third never run: the three states ops must tell apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from quancheng.catalog.models import SourceForm
from quancheng.sources import Window
from quancheng.sources.base import Source

SLICE = Path(__file__).resolve().parents[1] / "fixtures" / "slice_catalog"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = datetime(2026, 3, 2, tzinfo=UTC)
SECRET = "s3cr3t-pw"
FAILURE = (f"system 'hcb_construction_permit', table 'sgxk': source is down: connection to "
           f"postgresql://etl:{SECRET}@10.0.0.7/hcb refused")


class MemorySource(Source):
    """Rows held in a class attribute; a snapshot or a window read, as a database would serve it."""

    kind = "memory"
    tables: ClassVar[dict[str, pa.Table]] = {}

    def live_columns(self, form: SourceForm) -> list[str]:
        return self.tables[form.table].column_names

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        yield from self.tables[form.table].to_batches(max_chunksize=chunk_rows)


def ndrc_rows(n: int, *, bad: int) -> pa.Table:
    """Investment filings; the first ``bad`` have a total investment that is no number (quarantined)."""
    rows = [{"XMDM": f"2019-370102-47-01-{i:06d}", "XMMC": f"济南项目{i}", "JSXZ": "新建", "JSDD": "370102",
             "ZTZ": "不详" if i < bad else "1200.5", "ZYDMJ": "15", "NKGSJ": "2019-11-21",
             "XMDWMC": "山东某某建设有限公司", "XMDWZJHM": "913701007874076393", "GXSJ": "2026-03-01 08:00:00",
             "BZ": ""} for i in range(n)]
    return pa.Table.from_pylist(rows)


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


