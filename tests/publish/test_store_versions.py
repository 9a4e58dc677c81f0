"""The shared store on Delta Lake (issue 12): a batch is one merge commit, reruns commit nothing, every
version stays readable as of its number or time, the SQL table follows the Delta table (and catches up
when a publish died between the two commits), maintenance keeps the content, and a home of the earlier
Parquet-version layout is taken over."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from quancheng.publish import delta
from quancheng.publish.maintenance import maintain_all
from quancheng.publish.store import KEY, SharedStore, sql_name

DS = "ndrc_investment.ndrc_filing"
NONE = pa.array([], pa.string())


def rows(keys: range | list[int], tag: str = "") -> pa.Table:
    return pa.table({KEY: [f"k{k:06d}" for k in keys], "project_name": [f"项目{k}{tag}" for k in keys],
                     "total_investment": pa.array([k * 10 for k in keys], pa.int64())})


def keys(ks: list[int]) -> pa.Array:
    return pa.array([f"k{k:06d}" for k in ks], pa.string())


def sql_rows(store: SharedStore, dataset_id: str = DS) -> list[tuple[Any, ...]]:
    with store.engine.connect() as c:
        return sorted(tuple(r) for r in c.execute(sa.text(
            f'SELECT "{KEY}", project_name, total_investment FROM "{sql_name(dataset_id)}"')))


def delta_rows(store: SharedStore, dataset_id: str = DS, **kw: Any) -> list[tuple[Any, ...]]:
    t = store.read(dataset_id, **kw)
    assert t is not None
    return sorted(zip(t[KEY].to_pylist(), t["project_name"].to_pylist(), t["total_investment"].to_pylist(),
                      strict=True))


def registry(store: SharedStore) -> dict[str, dict[str, Any]]:
    return {d["dataset_id"]: d for d in store.datasets()}


def test_a_batch_is_one_commit_and_a_rerun_commits_nothing(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    first = store.merge(DS, rows(range(100)), NONE, kind="system", batch_id="b1")
    assert (first.version, first.rows, first.changed) == (0, 100, True)
    day2 = pa.concat_tables([rows([3, 4], "（二期）"), rows([100])])
    second = store.merge(DS, day2, keys([7]), kind="system", batch_id="b2")
    assert (second.version, second.rows, second.changed) == (1, 100, True)
    again = store.merge(DS, day2, keys([7]), kind="system", batch_id="b2")
    assert (again.version, again.rows, again.changed, again.content_hash) == (1, 100, False, second.content_hash)
    quiet = store.merge(DS, rows([]), NONE, kind="system", batch_id="b3")
    assert (quiet.version, quiet.changed) == (1, False)
    ops = [(c.version, c.operation, c.rows_added, c.rows_updated, c.rows_removed, c.batch_id)
           for c in store.history(DS)]
    assert ops == [(1, "MERGE", 1, 2, 1, "b2"), (0, "CREATE TABLE", 100, 0, 0, "b1")]
    assert sql_rows(store) == delta_rows(store)
    assert registry(store)[DS]["version"] == 1 and registry(store)[DS]["rows"] == 100


def no_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any merge into either copy fails the test."""
    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("merged")

    monkeypatch.setattr(delta, "merge_batch", refuse)
    monkeypatch.setattr(SharedStore, "_swap_sql", refuse)


def test_a_rerun_of_the_current_batch_merges_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch that made the current version, again with the same rows and deletes (in another order):
    neither copy is merged, read or rewritten; the version and content stay."""
    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(100)), NONE, kind="system", batch_id="b1")
    day2 = pa.concat_tables([rows([3, 4], "（二期）"), rows([100])])
    second = store.merge(DS, day2, keys([7, 8]), kind="system", batch_id="b2")
    assert store.history(DS)[0].batch_digest  # recorded in the merge's commit
    with monkeypatch.context() as m:
        no_merge(m)
        again = store.merge(DS, day2, keys([8, 7]), kind="system", batch_id="b2")
    assert (again.version, again.rows, again.changed, again.content_hash) == (1, 99, False, second.content_hash)
    assert sql_rows(store) == delta_rows(store) and registry(store)[DS]["version"] == 1


@pytest.mark.parametrize("case", ["other rows", "other deletes", "a later batch", "SQL left behind"])
def test_a_rerun_that_may_change_something_is_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     case: str) -> None:
    """Only the exact batch that made the current version, with both copies at it, skips the merge: a rerun
    of the same interval with a late correction, another delete, after a later batch, or after a publish
    killed between the Delta and the SQL commit is merged, and both copies end equal."""
    from quancheng.publish import store as store_module

    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(10)), NONE, kind="system", batch_id="b1")
    store.merge(DS, rows([1], "改"), keys([9]), kind="system", batch_id="b2")
    batch, gone = rows([1], "改"), keys([9])
    if case == "other rows":
        batch = rows([1], "再改")
    elif case == "other deletes":
        gone = keys([8, 9])
    elif case == "a later batch":
        store.merge(DS, rows([1], "三改"), NONE, kind="system", batch_id="b3")
    else:
        with monkeypatch.context() as m:
            m.setattr(store_module, "_count", lambda *_a: (_ for _ in ()).throw(SystemExit("killed")))
            with pytest.raises(SystemExit):
                store.merge(DS, rows([2], "改"), NONE, kind="system", batch_id="b3")
        batch = rows([2], "改")
    merged: list[str] = []
    real = delta.merge_batch
    monkeypatch.setattr(delta, "merge_batch", lambda *a, **k: merged.append("delta") or real(*a, **k))
    again = store.merge(DS, batch, gone, kind="system", batch_id="b3" if case == "SQL left behind" else "b2")
    assert merged == ["delta"]
    assert sql_rows(store) == delta_rows(store)
    name = {r[0]: r[1] for r in delta_rows(store)}["k000001"]
    assert name == {"other rows": "项目1再改", "a later batch": "项目1改"}.get(case, "项目1改")
    assert again.changed == (case in ("other rows", "other deletes", "a later batch"))


def test_every_version_reads_as_of_its_number_and_time(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(5)), NONE, kind="system", batch_id="b1")
    store.merge(DS, rows([1], "改"), keys([2]), kind="system", batch_id="b2")
    v0 = delta_rows(store, as_of=0)
    assert [r[0] for r in v0] == [f"k{k:06d}" for k in range(5)] and v0[1][1] == "项目1"
    now = delta_rows(store)
    assert [r[0] for r in now] == ["k000000", "k000001", "k000003", "k000004"] and now[1][1] == "项目1改"
    first_commit = min(store.history(DS), key=lambda c: c.version).timestamp
    assert delta_rows(store, as_of=first_commit) == v0


def test_sql_left_behind_by_a_killed_publish_is_caught_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Delta commit lands, the SQL transaction does not (the process dies between them): the registry
    still names the version the SQL table holds, and the next batch brings the SQL table up to date with
    both batches' changes."""
    from quancheng.publish import store as store_module

    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(10)), NONE, kind="system", batch_id="b1")

    def die(*_a: Any) -> int:
        raise SystemExit("killed between the Delta commit and the SQL commit")

    monkeypatch.setattr(store_module, "_count", die)
    with pytest.raises(SystemExit):
        store.merge(DS, rows([1, 2], "改"), keys([9]), kind="system", batch_id="b2")
    monkeypatch.undo()
    assert registry(store)[DS]["version"] == 0 and store.current_digest(DS) == "v1"
    assert len(sql_rows(store)) == 10 and len(delta_rows(store)) == 9  # SQL still at version 0

    store.merge(DS, rows([5], "改"), NONE, kind="system", batch_id="b3")
    assert sql_rows(store) == delta_rows(store)
    assert {r[0]: r[1] for r in sql_rows(store)}["k000002"] == "项目2改"
    assert registry(store)[DS]["version"] == 2


def test_a_failure_before_the_commit_keeps_both_at_the_last_version(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(10)), NONE, kind="system", batch_id="b1")
    before = (delta_rows(store), sql_rows(store))

    def refuse(*_a: Any, **_k: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(delta, "merge_batch", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        store.merge(DS, rows([1], "改"), keys([2]), kind="system", batch_id="b2")
    monkeypatch.undo()
    assert (delta_rows(store), sql_rows(store)) == before
    assert store.current_digest(DS) == "v0" and registry(store)[DS]["last_batch"] == "b1"


def test_a_full_publish_commits_only_a_changed_content(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    a = store.publish("stage_forms.approval", rows(range(20)), kind="stage_form", batch_id="s1")
    b = store.publish("stage_forms.approval", rows(range(20)), kind="stage_form", batch_id="s1")
    assert (a.version, b.version, b.changed) == (0, 0, False)
    c = store.publish("stage_forms.approval", rows(range(15)), kind="stage_form", batch_id="s2")
    assert (c.version, c.rows, c.changed) == (1, 15, True)
    assert len(delta_rows(store, "stage_forms.approval", as_of=0)) == 20
    assert sql_rows(store, "stage_forms.approval") == delta_rows(store, "stage_forms.approval")


def test_maintenance_compacts_and_keeps_content_and_the_sql_pointer(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(50)), NONE, kind="system", batch_id="b1")
    for day in range(1, 6):  # new keys only: each day's merge adds a file and rewrites none
        store.merge(DS, rows([50 + day]), NONE, kind="system", batch_id=f"b{day + 1}")
    content = delta_rows(store)
    files_before = len(delta.current_files(store.dataset_path(DS)))
    assert files_before == 6
    done = maintain_all(store, retention_hours=0)
    assert done[DS].files_compacted == 6 and done[DS].files_written == 1
    assert len(delta.current_files(store.dataset_path(DS))) == 1
    assert delta_rows(store) == content
    assert registry(store)[DS]["version"] == done[DS].version  # the SQL table is current after compaction
    store.merge(DS, rows([7], "next"), NONE, kind="system", batch_id="b9")
    assert sql_rows(store) == delta_rows(store)
    with pytest.raises(Exception):  # noqa: B017 - delta-rs: the files of version 0 are vacuumed
        store.read(DS, as_of=0)


def test_a_home_of_the_parquet_version_layout_is_taken_over(tmp_path: Path) -> None:
    """The earlier release kept ``parquet/<dataset>`` as a link to ``.versions/<dataset>/<hash>/``: the
    first use turns it into a Delta table with that content, and the next batch merges into it."""
    store = SharedStore(tmp_path)
    old = store.parquet_root / ".versions" / DS / "0123456789abcdef"
    old.mkdir(parents=True)
    pq.write_table(rows(range(4)), old / "data.parquet")
    os.symlink(os.path.relpath(old, store.parquet_root), store.parquet_root / DS)
    assert len(delta_rows(store)) == 4
    assert not (store.parquet_root / DS).is_symlink() and not (store.parquet_root / ".versions" / DS).exists()
    store.merge(DS, rows([4]), NONE, kind="system", batch_id="b2")
    assert [r[0] for r in delta_rows(store)] == [f"k{k:06d}" for k in range(5)]


def test_the_datasets_commands_list_history_read_as_of_and_maintain(tmp_path: Path) -> None:
    import json

    from cli_runner import quancheng

    store = SharedStore(tmp_path)
    store.merge(DS, rows(range(3)), NONE, kind="system", batch_id="b1")
    store.merge(DS, rows([1], "改"), keys([0]), kind="system", batch_id="b2")
    code, out = quancheng("datasets", "--dir", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)[0]["version"] == 1 and json.loads(out)[0]["rows"] == 2

    code, out = quancheng("datasets", "history", DS, "--dir", str(tmp_path), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(v["version"], v["operation"], v["batch_id"]) for v in lines] == \
        [(1, "MERGE", "b2"), (0, "CREATE TABLE", "b1")]
    assert (lines[0]["rows_updated"], lines[0]["rows_removed"]) == (1, 1)

    code, out = quancheng("datasets", "read", DS, "--dir", str(tmp_path), "--as-of", "0", "--json")
    assert code == 0 and [json.loads(line)["project_name"] for line in out.splitlines()] == ["项目0", "项目1", "项目2"]
    code, out = quancheng("datasets", "read", DS, "--dir", str(tmp_path), "--json")
    assert [json.loads(line)["project_name"] for line in out.splitlines()] == ["项目1改", "项目2"]
    when = lines[1]["timestamp"]  # the time version 0 was committed: it is what was current then
    code, out = quancheng("datasets", "read", DS, "--dir", str(tmp_path), "--as-of", when, "--limit", "0")
    assert code == 0 and "3 rows" in out

    for bad, exit_code, said in (("9", 1, "has no version 9: the versions in its log are 0 to 1"),
                                 ("yesterday", 2, "neither a version number nor an ISO time"),
                                 ("2000-01-01", 1, "no version of")):
        code, out = quancheng("datasets", "read", DS, "--dir", str(tmp_path), "--as-of", bad)
        assert code == exit_code and said in out and "Traceback" not in out, out
    code, out = quancheng("datasets", "history", "nope.nope", "--dir", str(tmp_path))
    assert code == 1 and "no dataset 'nope.nope'" in out

    code, out = quancheng("datasets", "maintain", "--dir", str(tmp_path), "--retention-hours", "0")
    assert code == 0 and "1 dataset(s) maintained" in out
    assert delta_rows(store) == sorted([("k000001", "项目1改", 10), ("k000002", "项目2", 20)])
