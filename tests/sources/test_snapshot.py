"""diff_snapshots: inserts, updates and deletes between two full snapshots (table-driven)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from quancheng.sources.snapshot import diff_snapshots

PREV = pa.table({"k": [1, 2, 3, None], "v": ["a", "b", "c", "n"]})

CASES = [
    # (name, current rows, expected inserts, updates, deletes) as (k, v) pairs
    ("unchanged", [(1, "a"), (2, "b"), (3, "c"), (None, "n")], [], [], []),
    ("insert", [(1, "a"), (2, "b"), (3, "c"), (None, "n"), (4, "d")], [(4, "d")], [], []),
    ("update", [(1, "a"), (2, "B"), (3, "c"), (None, "n")], [], [(2, "B")], []),
    ("delete", [(1, "a"), (None, "n")], [], [], [(2, "b"), (3, "c")]),
    ("null key updated", [(1, "a"), (2, "b"), (3, "c"), (None, "N")], [], [(None, "N")], []),
    ("value to null", [(1, None), (2, "b"), (3, "c"), (None, "n")], [], [(1, None)], []),
    ("all three", [(2, "b2"), (5, "e"), (None, "n")], [(5, "e")], [(2, "b2")], [(1, "a"), (3, "c")]),
    ("duplicate key kept", [(1, "a"), (1, "a2"), (2, "b"), (3, "c"), (None, "n")], [], [(1, "a2")], []),
]


def _table(rows: list[tuple[int | None, str | None]]) -> pa.Table:
    return pa.table({"k": pa.array([r[0] for r in rows], pa.int64()),
                     "v": pa.array([r[1] for r in rows], pa.string())})


def _pairs(table: pa.Table) -> list[tuple[object, object]]:
    return list(zip(table["k"].to_pylist(), table["v"].to_pylist(), strict=True))


@pytest.mark.parametrize(("name", "current", "inserts", "updates", "deletes"), CASES, ids=[c[0] for c in CASES])
def test_diff(name: str, current: list, inserts: list, updates: list, deletes: list) -> None:
    ins, upd, dele = diff_snapshots(PREV, _table(current), ["k"])
    assert (_pairs(ins), _pairs(upd), _pairs(dele)) == (inserts, updates, deletes)
    assert ins.schema == upd.schema == dele.schema == PREV.schema


def test_first_snapshot_is_all_inserts() -> None:
    cur = _table([(1, "a"), (2, "b")])
    ins, upd, dele = diff_snapshots(None, cur, ["k"])
    assert ins.equals(cur) and upd.num_rows == 0 and dele.num_rows == 0


def test_composite_keys() -> None:
    prev = pa.table({"a": ["x", "x"], "b": [1, 2], "v": [1.0, 2.0]})
    cur = pa.table({"a": ["x", "y"], "b": [1, 2], "v": [1.5, 2.0]})
    ins, upd, dele = diff_snapshots(prev, cur, ["a", "b"])
    assert ins.to_pylist() == [{"a": "y", "b": 2, "v": 2.0}]
    assert upd.to_pylist() == [{"a": "x", "b": 1, "v": 1.5}]
    assert dele.to_pylist() == [{"a": "x", "b": 2, "v": 2.0}]


def test_counts_add_up_on_a_larger_table() -> None:
    n = 20_000
    prev = pa.table({"id": list(range(n)), "v": [i % 97 for i in range(n)]})
    cur_ids = list(range(1000, n + 500))
    cur = pa.table({"id": cur_ids, "v": [(i % 97) + (1 if i % 10 == 0 else 0) for i in cur_ids]})
    ins, upd, dele = diff_snapshots(prev, cur, ["id"])
    assert ins.num_rows == 500 and dele.num_rows == 1000
    assert upd.num_rows == len([i for i in range(1000, n) if i % 10 == 0])


def test_missing_key_column_is_an_error() -> None:
    with pytest.raises(Exception, match="missing"):
        diff_snapshots(PREV, PREV, ["nope"])
