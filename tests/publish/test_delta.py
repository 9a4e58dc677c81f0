"""quancheng.publish.delta: a dataset as a Delta table merged batch by batch, with history, time travel,
atomic commits and maintenance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from quancheng.publish import delta
from quancheng.publish.delta import BatchError

KEY = "_source_key"
META = {"project_name": {"name_zh": "项目名称", "name_en": "project name", "comment": "备案时的名称"},
        "total_investment": {"name_zh": "总投资", "name_en": "total investment", "comment": "万元"}}
NO_KEYS = pa.array([], pa.string())


def rows(keys: list[int], tag: str = "") -> pa.Table:
    """Project rows for ``keys`` (the same keys and tag always give the same rows)."""
    return pa.table({
        KEY: pa.array([f"2019-370102-{k:06d}" for k in keys], pa.string()),
        "project_name": pa.array([f"济南项目{k}{tag}" for k in keys], pa.string()),
        "total_investment": pa.array([k * 10 + len(tag) for k in keys], pa.int64()),
        "start_date": pa.array([datetime(2020, 1, 1).date() + timedelta(days=k % 365) for k in keys], pa.date32()),
    })


def keys_of(keys: list[int]) -> pa.Array:
    return pa.array([f"2019-370102-{k:06d}" for k in keys], pa.string())


def expect(current: pa.Table, upserts: pa.Table, deleted: pa.Array) -> pa.Table:
    """What a batch should leave: current rows not upserted nor deleted, plus the upserts."""
    drop = pa.concat_arrays([upserts[KEY].combine_chunks(), deleted])
    kept = current.filter(pc.invert(pc.is_in(current[KEY], value_set=drop)))
    return pa.concat_tables([kept, upserts]).sort_by(KEY)


def content(table: pa.Table) -> list[dict[str, object]]:
    return table.select(rows([0]).column_names).sort_by(KEY).to_pylist()


def test_first_publish_creates_the_table(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    assert delta.current_version(path) is None
    v = delta.merge_batch(path, rows(list(range(50))), NO_KEYS, metadata=META, commit_info={"batch": "b1"})
    assert v == 0 == delta.current_version(path)
    assert content(delta.read(path)) == content(rows(list(range(50))))


@pytest.mark.parametrize(("upsert_keys", "tag", "deleted"), [
    ([1, 2, 3], "改", []),                  # updates only
    ([100, 101], "", []),                   # inserts only
    ([], "", [5, 6, 7]),                    # deletes only
    ([2, 200], "改", [9, 999]),             # update, insert, delete, delete of an unknown key
    ([0, 1], "", [3]),                      # rows equal to the current ones plus a delete
])
def test_batch_leaves_the_expected_table(tmp_path: Path, upsert_keys: list[int], tag: str,
                                         deleted: list[int]) -> None:
    path = tmp_path / "ds"
    initial = rows(list(range(20)))
    delta.merge_batch(path, initial, NO_KEYS, metadata=META)
    ups, dels = rows(upsert_keys, tag), keys_of(deleted)
    v = delta.merge_batch(path, ups, dels, metadata=META)
    assert v == 1
    assert content(delta.read(path)) == content(expect(initial, ups, dels))
    assert delta.read(path).num_rows == expect(initial, ups, dels).num_rows


@pytest.mark.parametrize(("name", "upsert_keys", "tag", "deleted"), [
    ("the same batch again", [1, 2, 300], "改", [4]),
    ("an empty batch", [], "", []),
    ("rows equal to the current ones", [1, 2], "改", []),
    ("keys already deleted", [], "", [4, 12345]),
])
def test_batch_that_changes_nothing_commits_nothing(tmp_path: Path, name: str, upsert_keys: list[int], tag: str,
                                                    deleted: list[int]) -> None:
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(20))), NO_KEYS, metadata=META)
    v1 = delta.merge_batch(path, rows([1, 2, 300], "改"), keys_of([4]), metadata=META)
    before = delta.read(path)
    assert delta.merge_batch(path, rows(upsert_keys, tag), keys_of(deleted), metadata=META) == v1, name
    assert delta.current_version(path) == v1
    assert [c.version for c in delta.history(path)] == [v1, 0]
    assert content(delta.read(path)) == content(before)


@pytest.mark.parametrize(("upserts", "deleted", "message"), [
    (rows([1, 1]), NO_KEYS, "more than once"),
    (rows([1]), keys_of([1]), "both upserts and deletes"),
    (rows([1]).drop_columns([KEY]), NO_KEYS, "no key column"),
    (pa.table({KEY: pa.array([None, "a"], pa.string())}), NO_KEYS, "null"),
])
def test_bad_batch_is_refused_and_commits_nothing(tmp_path: Path, upserts: pa.Table, deleted: pa.Array,
                                                  message: str) -> None:
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(5))), NO_KEYS)
    with pytest.raises(BatchError, match=message):
        delta.merge_batch(path, upserts, deleted)
    assert delta.current_version(path) == 0


def test_a_column_new_in_a_batch_is_added(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(5))), NO_KEYS)
    ups = rows([1, 7]).append_column("approval_no", pa.array(["鲁发改2024-1", "鲁发改2024-7"]))
    described = {"approval_no": {"name_zh": "批准文号", "name_en": "approval number"}}
    v = delta.merge_batch(path, ups, NO_KEYS, metadata=described)  # key 1 differs only in the new column
    got = delta.read(path).sort_by(KEY)
    assert got.column("approval_no").to_pylist() == [None, "鲁发改2024-1", None, None, None, "鲁发改2024-7"]
    assert content(got) == content(rows([0, 1, 2, 3, 4, 7]))
    assert delta.column_meta(path) == described
    assert delta.merge_batch(path, ups, NO_KEYS, metadata=described) == v  # and a rerun is still a no-op


def test_history_and_as_of_by_version_and_by_time(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    states = []
    current = rows(list(range(30)))
    delta.merge_batch(path, current, NO_KEYS, commit_info={"batch": "b0"})
    states.append(current.sort_by(KEY))
    for i, (ups, dels) in enumerate([(rows([1, 40], "一"), keys_of([2])), (rows([3], "二"), keys_of([40, 5]))]):
        time.sleep(0.01)  # distinct commit timestamps (milliseconds), so each time names one version
        delta.merge_batch(path, ups, dels, commit_info={"batch": f"b{i + 1}"})
        current = expect(current, ups, dels)
        states.append(current)

    log = delta.history(path)
    assert [(c.version, c.operation) for c in log] == [(2, "MERGE"), (1, "MERGE"), (0, "CREATE TABLE")]
    assert (log[0].rows_added, log[0].rows_updated, log[0].rows_removed) == (0, 1, 2)
    assert (log[1].rows_added, log[1].rows_updated, log[1].rows_removed) == (1, 1, 1)
    assert log[2].rows_added == 30
    for c in log:
        assert content(delta.read(path, as_of=c.version)) == content(states[c.version])
        assert content(delta.read(path, as_of=c.timestamp)) == content(states[c.version])
        assert content(delta.read(path, as_of=c.timestamp + timedelta(microseconds=500))) == content(
            states[c.version])
    assert content(delta.read(path)) == content(states[-1])
    with pytest.raises(ValueError, match="time zone"):
        delta.read(path, as_of=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="no version"):
        delta.read(path, as_of=log[-1].timestamp - timedelta(days=1))


def test_changes_since_a_version(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(10))), NO_KEYS)
    v1 = delta.merge_batch(path, rows([1, 50], "改"), keys_of([2]))
    v2 = delta.merge_batch(path, rows([3], "二"), keys_of([50]))
    got = delta.changes(path, since_version=0)
    kinds = sorted(zip(got["_commit_version"].to_pylist(), got["_change_type"].to_pylist(), got[KEY].to_pylist(),
                       strict=True))
    k = keys_of([1, 2, 3, 50]).to_pylist()
    assert kinds == sorted([
        (v1, "update_preimage", k[0]), (v1, "update_postimage", k[0]), (v1, "insert", k[3]), (v1, "delete", k[1]),
        (v2, "update_preimage", k[2]), (v2, "update_postimage", k[2]), (v2, "delete", k[3])])
    assert delta.changes(path, since_version=v1)["_commit_version"].to_pylist() == [v2] * 3
    nothing = delta.changes(path, since_version=v2)
    assert nothing.num_rows == 0 and KEY in nothing.column_names and "_change_type" in nothing.column_names


def test_the_log_is_checkpointed_every_few_commits_and_history_reads_across(tmp_path: Path) -> None:
    """A day's opens replay only the commits since the last checkpoint: one is written every
    CHECKPOINT_INTERVAL commits, without losing the history, reads as of an early version or the feed."""
    import json

    path = tmp_path / "ds"
    current = rows(list(range(20)))
    delta.merge_batch(path, current, NO_KEYS)
    first = current.sort_by(KEY)
    days = 2 * delta.CHECKPOINT_INTERVAL + 1
    for day in range(1, days + 1):
        ups = rows([day % 20], f"第{day}天")
        delta.merge_batch(path, ups, NO_KEYS)
        current = expect(current, ups, NO_KEYS)
    last = json.loads((path / "_delta_log" / "_last_checkpoint").read_text())["version"]
    assert days - delta.CHECKPOINT_INTERVAL < last <= days
    assert sorted(p.name for p in (path / "_delta_log").glob("*.checkpoint.parquet"))[-1].startswith(f"{last:020d}")
    assert [c.version for c in delta.history(path)][-1] == 0 and delta.current_version(path) == days
    assert content(delta.read(path)) == content(current)
    assert content(delta.read(path, as_of=0)) == content(first)
    assert sorted(set(delta.changes(path, since_version=0)["_commit_version"].to_pylist())) == list(range(1, days + 1))


def test_column_metadata_survives_merges_and_can_change(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(5))), NO_KEYS, metadata=META)
    delta.merge_batch(path, rows([1, 9], "改"), keys_of([2]), metadata=META)
    assert delta.column_meta(path) == META
    assert pa.table(delta.read(path)).schema.field("project_name").metadata[b"name_zh"] == "项目名称".encode()
    changed = {**META, "start_date": {"name_zh": "开工日期", "name_en": "start date"}}
    delta.merge_batch(path, rows([1, 9], "改"), NO_KEYS, metadata=changed)
    assert delta.column_meta(path) == changed


def test_write_without_commit_is_invisible_and_vacuumed(tmp_path: Path) -> None:
    """A writer killed after writing its data files (and a temporary commit file) but before the commit
    leaves the last version readable and equal; maintenance removes its files."""
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(20))), NO_KEYS, metadata=META)
    v = delta.merge_batch(path, rows([1], "改"), keys_of([2]), metadata=META)
    before = delta.read(path)
    orphan = path / f"part-00000-{uuid.uuid4()}-c000.zstd.parquet"
    pq.write_table(rows(list(range(1000, 1100))), orphan)
    (path / "_delta_log" / f"_commit_{uuid.uuid4()}.json.tmp").write_text('{"add": {"path": "part-')
    assert delta.current_version(path) == v
    assert content(delta.read(path)) == content(before)
    done = delta.maintain(path, retention_hours=0)
    assert done.files_vacuumed >= 1
    assert not orphan.exists()
    assert content(delta.read(path)) == content(before)


def test_publish_killed_mid_write_leaves_a_whole_version(tmp_path: Path) -> None:
    """SIGKILL a process merging batch after batch, wherever it is: the table reads as exactly the state
    after its current version's batches, and the next publish goes on from there."""
    path = tmp_path / "ds"
    n = 20_000
    child = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_delta import batch, rows
        from quancheng.publish import delta
        delta.merge_batch({str(path)!r}, rows(list(range({n}))), batch(0)[1][:0])
        i = 1
        while True:
            delta.merge_batch({str(path)!r}, *batch(i))
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], env={**os.environ}, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(list((path / "_delta_log").glob("*.json"))) < 3:  # wait for two merges, then kill anywhere
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            assert time.monotonic() < deadline, "the child did not commit two merges"
            time.sleep(0.05)
        time.sleep(0.1 * (os.getpid() % 7))  # land the kill somewhere in the next merge
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    v = delta.current_version(path)
    assert v is not None and v >= 2
    want = rows(list(range(n))).sort_by(KEY)
    for i in range(1, v + 1):
        want = expect(want, *batch(i))
    assert content(delta.read(path)) == content(want)
    assert delta.merge_batch(path, *batch(v + 1)) == v + 1
    assert content(delta.read(path)) == content(expect(want, *batch(v + 1)))


def batch(i: int) -> tuple[pa.Table, pa.Array]:
    """The i-th batch of the kill test: 2,000 rows updated or inserted and 10 keys deleted."""
    base = (i * 1_000) % 18_000
    return rows(list(range(base, base + 2_000)), f"批{i}"), keys_of(list(range(base + 2_000, base + 2_010)))


def test_maintain_keeps_the_current_version_readable(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    current = rows(list(range(10)))
    delta.merge_batch(path, current, NO_KEYS, metadata=META)
    for i in range(4):  # inserts only: each adds a file and rewrites none
        ups = rows([20 + 2 * i, 21 + 2 * i], f"v{i}")
        delta.merge_batch(path, ups, NO_KEYS, metadata=META)
        current = expect(current, ups, NO_KEYS)
    ups, dels = rows([1, 22], "改"), keys_of([9])  # and a merge that rewrites files, leaving tombstones
    delta.merge_batch(path, ups, dels, metadata=META)
    current = expect(current, ups, dels)
    files_before = len(list(path.glob("*.parquet")))
    done = delta.maintain(path, retention_hours=0)
    assert done.files_compacted > 1 and done.files_written >= 1
    assert done.files_vacuumed >= 1
    assert len(list(path.glob("*.parquet"))) < files_before
    assert content(delta.read(path)) == content(current)
    assert delta.column_meta(path) == META
    # a rerun after maintenance still changes nothing
    assert delta.merge_batch(path, ups, dels, metadata=META) == delta.current_version(path)


def test_duckdb_and_polars_read_the_table(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    path = tmp_path / "ds"
    delta.merge_batch(path, rows(list(range(10))), NO_KEYS, metadata=META)
    delta.merge_batch(path, rows([1], "改"), keys_of([2]), metadata=META)
    want = content(delta.read(path))
    con = duckdb.connect()
    files = ", ".join(f"'{f}'" for f in delta.current_files(path))
    got = con.sql(f"SELECT * FROM read_parquet([{files}])").to_arrow_table()
    assert content(got) == want
    try:  # DuckDB's own Delta reader, where its extension can be installed (it is downloaded, not packaged)
        con.execute("INSTALL delta")
        con.execute("LOAD delta")
    except duckdb.Error:
        pass
    else:
        assert content(con.sql(f"SELECT * FROM delta_scan('{path}')").to_arrow_table()) == want
    assert content(pl.read_delta(str(path)).to_arrow()) == want
