"""A copy in memory answers by rows, by columns and by cells alike, whether it holds Python lists (small
copies) or Arrow columns (long ones, such as a stage form's provenance)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from quancheng.serve import cache
from quancheng.serve.cache import Copy, build_index

TABLE = pa.table({
    "project_code": ["A", "A", "B", "C", "C", "C"],
    "element_key": ["x", "y", "x", "x", "y", "z"],
    "extracted_at": [datetime(2025, 7, 1, 8, tzinfo=UTC)] * 6,
    "area_m2": pa.array([Decimal("1.50"), None, Decimal("2.00"), None, Decimal("3.25"), None], pa.decimal128(9, 2)),
})


@pytest.mark.parametrize("python_lists", [True, False])
@pytest.mark.parametrize("indices", [[0, 1], [3, 4, 5], [0, 2, 5], [1], []])
def test_columns_and_cells_agree_with_rows(monkeypatch, python_lists, indices) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cache, "PY_CELLS", 10_000 if python_lists else 0)
    copy = Copy("stage.s1.provenance", "shared_open", "v1", TABLE, build_index(TABLE, ["project_code"]))
    assert (copy._pycols is not None) is python_lists
    columns = ["element_key", "extracted_at", "area_m2"]
    rows = copy.rows(indices, columns)
    assert copy.columns_of(indices, columns) == {c: [r[c] for r in rows] for c in columns}
    for i, row in zip(indices, rows, strict=True):
        assert copy.cells(i, columns) == [row[c] for c in columns]
    assert copy.cells(0, ["extracted_at", "area_m2"]) == ["2025-07-01T08:00:00+00:00", "1.50"]  # as JSON carries them
    assert copy.find("project_code", "C") == [3, 4, 5]


def test_answers_are_bounded_by_their_bytes() -> None:
    from quancheng.serve.cache import Answers

    held = Answers(limit=100, max_bytes=1000)
    for i in range(5):
        held.put(("prefill", i), b"x" * 300)
    assert held.get(("prefill", 4)) == b"x" * 300 and held.get(("prefill", 0)) is None  # 1,200 bytes: started anew
    assert held._bytes <= 1000
    facts = Answers(limit=3)
    for i in range(4):
        facts.put(("static", i), [i])
    assert facts.get(("static", 3)) == [3] and facts.get(("static", 0)) is None


@pytest.mark.parametrize("python_lists", [True, False])
@pytest.mark.parametrize("columns", [["element_key"], ["area_m2", "project_code", "extracted_at"], []])
def test_a_getter_gives_the_cells(monkeypatch, python_lists, columns) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cache, "PY_CELLS", 10_000 if python_lists else 0)
    copy = Copy("stage.s1", "shared_open", "v1", TABLE, build_index(TABLE, ["project_code"]))
    get = copy.getter(columns)
    for i in range(TABLE.num_rows):
        assert list(get(i)) == copy.cells(i, columns)
