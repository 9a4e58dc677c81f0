"""source_keys: one text per row from the key columns, NUL characters escaped (table-driven; the arrays are
built so the NUL check sees bytes outside its slice, chunks with and without a NUL, and nulls)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from quancheng.sources.types import source_keys

WITH_NUL = pa.array(["a\x00b", "c", "d"], pa.string())

CASES = [
    # (name, key column, expected keys)
    ("plain", pa.array(["2019-01", "2019-02"], pa.string()), ["2019-01", "2019-02"]),
    ("a NUL escaped", WITH_NUL, ["a\\x00b", "c", "d"]),
    ("a NUL outside the slice", WITH_NUL.slice(1), ["c", "d"]),
    ("a NUL in the second chunk", pa.chunked_array([pa.array(["x"]), WITH_NUL]), ["x", "a\\x00b", "c", "d"]),
    ("no chunk", pa.chunked_array([], pa.string()), []),
    ("nulls and empty text", pa.array([None, "", "e"], pa.string()), ["", "", "e"]),
    ("all null", pa.array([None, None], pa.string()), ["", ""]),
    ("numbers", pa.array([7, None, 10], pa.int64()), ["7", "", "10"]),
]


@pytest.mark.parametrize(("name", "column", "expected"), CASES, ids=[c[0] for c in CASES])
def test_one_key_column(name: str, column: pa.Array | pa.ChunkedArray, expected: list[str]) -> None:
    assert source_keys(pa.table({"k": column}), ["k"]).to_pylist() == expected


def test_composite_keys_join_with_a_bar_and_escape_each_part() -> None:
    table = pa.table({"a": ["x\x00", "y", None], "b": pa.array([1, 2, 3], pa.int64())})
    assert source_keys(table, ["a", "b"]).to_pylist() == ["x\\x00|1", "y|2", "|3"]
