"""An in-memory source for pipeline tests: rows held in a class attribute, read as a database would serve
them (a window on the form's update column, or everything), and the slice's investment filings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pyarrow as pa
import pytest
from quancheng.catalog.models import SourceForm
from quancheng.sources import Window
from quancheng.sources.base import SOURCE_KINDS, Source


class MemorySource(Source):
    """Rows held in ``tables`` (by source table), filtered by the window like a database would."""

    kind = "memory"
    tables: ClassVar[dict[str, pa.Table]] = {}

    def live_columns(self, form: SourceForm) -> list[str]:
        return self.tables[form.table].column_names

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        t = self.tables[form.table]
        if form.updated_column and window.start is not None:
            ts = [datetime.fromisoformat(v).replace(tzinfo=UTC) for v in t[form.updated_column].to_pylist()]
            t = t.filter(pa.array([window.start <= v < window.end for v in ts]))
        yield from t.to_batches(max_chunksize=chunk_rows)

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        yield from self.tables[form.table].select(list(form.primary_key)).to_batches(max_chunksize=chunk_rows)


def use_memory(monkeypatch: pytest.MonkeyPatch, catalog: Any, *system_ids: str) -> None:
    """Serve ``system_ids`` of ``catalog`` from :class:`MemorySource` for the test's duration."""
    monkeypatch.setitem(SOURCE_KINDS, "memory", MemorySource)
    for sid in system_ids:
        monkeypatch.setitem(catalog.system, sid, catalog.system[sid].model_copy(update={"kind": "memory"}))


def ndrc_rows(n: int, *, bad: int = 0) -> pa.Table:
    """Investment filings of the slice's TZ_XMBA; the first ``bad`` have a total investment that is no
    number (quarantined)."""
    rows = [{"XMDM": f"2019-370102-47-01-{i:06d}", "XMMC": f"济南项目{i}", "JSXZ": "新建", "JSDD": "370102",
             "ZTZ": "不详" if i < bad else "1200.5", "ZYDMJ": "15", "NKGSJ": "2019-11-21",
             "XMDWMC": "山东某某建设有限公司", "XMDWZJHM": "913701007874076393", "GXSJ": "2026-03-01 08:00:00",
             "BZ": ""} for i in range(n)]
    return pa.Table.from_pylist(rows)
