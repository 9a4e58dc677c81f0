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


def _streamed(tmp_path, previous: pa.Table | None, current: pa.Table, keys: list[str], *, index_rows: int,  # type: ignore[no-untyped-def]
              batch: int) -> tuple[pa.Table, list[str], pa.Table]:
    """(upserts, deleted source keys, next snapshot) of :class:`StreamedDiff` fed ``batch`` rows at a time."""
    import pyarrow.parquet as pq
    from quancheng.sources.snapshot import StreamedDiff

    tmp_path.mkdir(parents=True, exist_ok=True)
    prev_path = None
    if previous is not None:
        prev_path = tmp_path / "previous.parquet"
        pq.write_table(previous, prev_path)
    diff = StreamedDiff(prev_path, keys, tmp_path / "work", snapshot_out=tmp_path / "next.parquet",
                        metadata={b"quancheng.position": b"export-2"}, index_rows=index_rows)
    for i in range(0, current.num_rows, batch):
        diff.add(current.slice(i, batch))
    parts, deleted = diff.finish(current.schema)
    upserts = pa.concat_tables([current.schema.empty_table(), *parts])
    return upserts, sorted(deleted.to_pylist()), pq.read_table(tmp_path / "next.parquet")


@pytest.mark.parametrize("index_rows", [1_000_000, 1], ids=["one bucket", "a bucket per row of the previous"])
@pytest.mark.parametrize(("name", "current", "inserts", "updates", "deletes"), CASES, ids=[c[0] for c in CASES])
def test_streamed_diff_follows_the_same_rules(tmp_path, index_rows, name, current, inserts, updates, deletes) -> None:  # type: ignore[no-untyped-def]
    from quancheng.sources.types import source_keys

    cur = _table(current)
    upserts, deleted, snapshot = _streamed(tmp_path, PREV, cur, ["k"], index_rows=index_rows, batch=2)
    assert sorted(_pairs(upserts), key=str) == sorted(inserts + updates, key=str)
    assert upserts.schema == cur.schema  # the rows as read, their own types
    assert deleted == sorted(source_keys(_table(deletes), ["k"]).to_pylist())
    assert snapshot.num_rows == cur.num_rows and set(snapshot.schema.types) == {pa.string()}
    assert snapshot.schema.metadata[b"quancheng.position"] == b"export-2"
    assert [i for i, r in enumerate(_pairs(cur)) if r in _pairs(upserts)] == sorted(
        i for i, r in enumerate(_pairs(cur)) if r in set(inserts + updates))  # in the read's order


def test_streamed_diff_against_its_own_text_snapshot_and_a_typed_one_finds_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    cur = pa.table({"id": pa.array(range(3000), pa.int64()), "at": pa.array(
        [1_700_000_000_000_000 + i for i in range(3000)], pa.timestamp("us", tz="UTC")),
        "amount": pa.array([i / 4 for i in range(3000)], pa.float64())})
    _, _, text = _streamed(tmp_path / "a", None, cur, ["id"], index_rows=500, batch=700)
    for previous in (text, cur):  # written by this version (text) or by an earlier one (typed)
        upserts, deleted, _ = _streamed(tmp_path / str(len(list(tmp_path.iterdir()))), previous, cur, ["id"],
                                        index_rows=500, batch=700)
        assert upserts.num_rows == 0 and deleted == []
    assert pq.read_table(tmp_path / "a" / "next.parquet").num_rows == 3000


def test_streamed_diff_of_an_empty_read_deletes_everything_and_checks_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from quancheng.errors import SourceError

    upserts, deleted, snapshot = _streamed(tmp_path / "a", PREV, _table([]), ["k"], index_rows=2, batch=5)
    assert upserts.num_rows == 0 and snapshot.num_rows == 0 and deleted == ["", "1", "2", "3"]
    with pytest.raises(SourceError, match="different columns"):
        _streamed(tmp_path / "b", PREV, pa.table({"k": [1], "w": ["x"]}), ["k"], index_rows=2, batch=5)
