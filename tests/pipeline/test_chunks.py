"""A batch is processed chunk by chunk (issue 12: memory bounded by the chunk, not the window): staging holds
one part per chunk, and the result is the same as in one piece: the same published rows, the same
quarantine with the same reasons, the same counts, the same GX result."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from memory_source import MemorySource, ndrc_rows, use_memory
from quancheng import pipeline
from quancheng.publish.store import SharedStore
from quancheng.sources import Window

WINDOW = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))


def sync(catalog: Any, home: Path, chunk_rows: int) -> dict[str, Any]:
    ref = pipeline.extract("ndrc_investment", WINDOW, catalog=catalog, home=home, uri="memory://",
                           chunk_rows=chunk_rows)
    for step in (pipeline.normalize, pipeline.validate, pipeline.publish):
        ref = step(ref, catalog=catalog)
    return ref


def gx_result(ref: dict[str, Any]) -> list[tuple[Any, ...]]:
    doc = json.loads(Path(ref["gx"]["forms"]["ndrc_filing"]["results_path"]).read_text())
    return [(r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column"), r["success"],
             r["result"]["element_count"], r["result"]["unexpected_count"], r["result"].get("missing_count"),
             r["result"]["partial_unexpected_list"], r["result"]["partial_unexpected_index_list"])
            for r in doc["results"]]


@pytest.mark.parametrize("chunk_rows", [1, 6])
def test_a_batch_in_chunks_publishes_what_it_does_whole(slice_catalog, tmp_path: Path, monkeypatch,
                                                        chunk_rows: int) -> None:  # type: ignore[no-untyped-def]
    use_memory(monkeypatch, slice_catalog, "ndrc_investment")
    rows = ndrc_rows(20, bad=3).to_pylist()
    rows[17]["ZTZ"] = "约1200"  # a bad row in the last chunk too
    import pyarrow as pa

    MemorySource.tables = {"TZ_XMBA": pa.Table.from_pylist(rows)}
    whole = sync(slice_catalog, tmp_path / "whole", 1000)
    parts = sync(slice_catalog, tmp_path / "parts", chunk_rows)
    raw = Path(parts["dir"]) / "raw" / "ndrc_filing"
    assert len(list(raw.glob("part-*.arrow"))) == -(-20 // chunk_rows)
    assert parts["forms"] == whole["forms"] and pipeline.totals(parts)["quarantined"] == 4
    for ds in ("ndrc_investment.ndrc_filing", "quarantine.ndrc_investment"):
        a, b = SharedStore(tmp_path / "whole").read(ds), SharedStore(tmp_path / "parts").read(ds)
        assert a is not None and b is not None and a.to_pylist() == b.to_pylist(), ds
    assert gx_result(parts) == gx_result(whole)
    assert parts["gx"]["forms"]["ndrc_filing"]["statistics"] == whole["gx"]["forms"]["ndrc_filing"]["statistics"]


def test_an_attempt_without_its_parts_stops_publish_with_the_fix(slice_catalog, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch) -> None:
    """Staging parts are Arrow IPC files (``part-NNNNN.arrow``); an attempt that holds none of a stage (one
    staged by an earlier release, or damaged) stops publish with the batch, stage, form and fix, and nothing
    is published."""
    from quancheng.errors import QuanchengError

    use_memory(monkeypatch, slice_catalog, "ndrc_investment")
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(5)}
    ref = pipeline.extract("ndrc_investment", WINDOW, catalog=slice_catalog, home=tmp_path, uri="memory://")
    for step in (pipeline.normalize, pipeline.validate):
        ref = step(ref, catalog=slice_catalog)
    valid = Path(ref["dir"]) / "valid" / "ndrc_filing"
    assert [p.name for p in valid.iterdir()] == ["part-00000.arrow"]
    for p in valid.iterdir():
        p.rename(p.with_suffix(".parquet"))
    with pytest.raises(QuanchengError, match=r"holds no valid part of form 'ndrc_filing' \(fix: run the batch "):
        pipeline.publish(ref, catalog=slice_catalog)
    assert SharedStore(tmp_path).read("ndrc_investment.ndrc_filing") is None
