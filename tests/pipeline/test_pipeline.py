"""The four steps on the slice catalog, with an in-memory source: counts reconcile, reruns are idempotent,
deletes carry through, and a failed publish leaves the last good version readable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from memory_source import MemorySource, ndrc_rows, use_memory
from quancheng import pipeline
from quancheng.publish.store import SharedStore
from quancheng.sources import Window

T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def memory_ndrc(slice_catalog, monkeypatch):  # type: ignore[no-untyped-def]
    use_memory(monkeypatch, slice_catalog, "ndrc_investment")
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(20, bad=3)}
    return slice_catalog


def run(catalog, home: Path) -> dict:  # type: ignore[no-untyped-def]
    return pipeline.run_system("ndrc_investment", Window(T0, T1), catalog=catalog, home=home, uri="memory://")


def test_counts_reconcile_and_nothing_is_lost(memory_ndrc, home):  # type: ignore[no-untyped-def]
    ref = run(memory_ndrc, home)
    tot = pipeline.totals(ref)
    assert tot["extracted"] == MemorySource.tables["TZ_XMBA"].num_rows
    assert tot["valid"] + tot["quarantined"] == tot["extracted"]
    assert tot["quarantined"] >= 3
    store = SharedStore(home)
    published = store.read("ndrc_investment.ndrc_filing")
    quarantine = store.read("quarantine.ndrc_investment")
    assert published is not None and quarantine is not None
    keys = set(published["_source_key"].to_pylist()) | set(quarantine["_source_key"].to_pylist())
    assert keys == set(MemorySource.tables["TZ_XMBA"]["XMDM"].to_pylist())
    reasons = [json.loads(r) for r in quarantine["reasons"].to_pylist()]
    bad_values = {reason["value"] for rs in reasons for reason in rs if reason["column"] == "ZTZ"}
    assert "不详" in bad_values
    gx = ref["gx"]["forms"]["ndrc_filing"]
    assert gx["statistics"]["evaluated_expectations"] > 0
    assert not ref["gx"]["success"]  # the batch has values no expectation accepts
    assert Path(gx["results_path"]).exists()


def test_rerun_same_interval_is_idempotent(memory_ndrc, home):  # type: ignore[no-untyped-def]
    first = run(memory_ndrc, home)
    second = run(memory_ndrc, home)
    assert first["batch_id"] == second["batch_id"]
    assert {k: v["content_hash"] for k, v in first["published"].items()} == \
        {k: v["content_hash"] for k, v in second["published"].items()}
    assert not any(v["changed"] for v in second["published"].values())
    store = SharedStore(home)
    import sqlalchemy as sa

    with store.engine.connect() as c:
        n = c.execute(sa.text('select count(*), count(distinct _source_key) from "ndrc_investment__ndrc_filing"')).one()
    assert n[0] == n[1] == store.read("ndrc_investment.ndrc_filing").num_rows


def test_corrected_row_leaves_quarantine(memory_ndrc, home):  # type: ignore[no-untyped-def]
    run(memory_ndrc, home)
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(20, bad=0)}
    pipeline.run_system("ndrc_investment", Window(T0, T1 + (T1 - T0)), catalog=memory_ndrc, home=home,
                        uri="memory://")
    store = SharedStore(home)
    assert store.read("ndrc_investment.ndrc_filing").num_rows == 20
    assert store.read("quarantine.ndrc_investment").num_rows == 0


def test_failed_publish_keeps_last_good_version(memory_ndrc, home, monkeypatch):  # type: ignore[no-untyped-def]
    run(memory_ndrc, home)
    store = SharedStore(home)
    before = store.read("ndrc_investment.ndrc_filing")
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(25)}

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(SharedStore, "_swap_sql", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.run_system("ndrc_investment", Window(T0, T1 + (T1 - T0)), catalog=memory_ndrc, home=home,
                            uri="memory://")
    after = SharedStore(home).read("ndrc_investment.ndrc_filing")
    assert after.equals(before)
    monkeypatch.undo()


def test_snapshot_deletes_carry_through(slice_catalog, home, monkeypatch):  # type: ignore[no-untyped-def]
    use_memory(monkeypatch, slice_catalog, "hcb_construction_permit")
    cols = [f.column for f in slice_catalog.fields_of("hcb_permit")]

    def permits(n: int) -> pa.Table:
        base = {"施工许可证编号": "", "项目代码": "2019-370102-47-01-000001", "工程名称": "济南项目",
                "建设单位": "山东某某建设有限公司", "建设单位统一社会信用代码": "913701007874076393",
                "合同价格": "1200", "建筑面积": "1000", "地上地下面积": "800/200", "发证日期": "2020-01-02",
                "结构类型": "A"}
        rows = [{**base, "施工许可证编号": f"3701022020010201{i:02d}"} for i in range(n)]
        return pa.Table.from_pylist(rows).select(cols)

    MemorySource.tables = {"sgxk": permits(10)}
    pipeline.run_system("hcb_construction_permit", Window(None, T1), catalog=slice_catalog, home=home, uri="m://")
    MemorySource.tables = {"sgxk": permits(7)}
    ref = pipeline.run_system("hcb_construction_permit", Window(None, T1 + (T1 - T0)), catalog=slice_catalog,
                              home=home, uri="m://")
    assert pipeline.totals(ref)["deleted"] == 3
    assert pipeline.totals(ref)["extracted"] == 0
    published = SharedStore(home).read("hcb_construction_permit.hcb_permit")
    assert published.num_rows + SharedStore(home).read("quarantine.hcb_construction_permit").num_rows == 7
    snap = home / "state" / "hcb_construction_permit" / "snapshots" / "hcb_permit.parquet"
    assert pq.read_table(snap).num_rows == 7


def test_small_batch_is_held_against_the_published_amounts(memory_ndrc, home):  # type: ignore[no-untyped-def]
    """A daily run of three rows has no median of its own: 元 typed into 万元 is caught against what was
    published before (总投资 around 1200.5 万元), and only that row is quarantined."""
    run(memory_ndrc, home)
    later = ndrc_rows(3).to_pylist()
    for i, r in enumerate(later):
        r.update(XMDM=f"2019-370102-47-01-9{i:05d}", GXSJ="2026-03-02 08:00:00")
    later[1]["ZTZ"] = "12005000"  # 1200.5 万元, typed in 元
    # the earlier rows stay in the source (delete reconciliation would withdraw them otherwise)
    MemorySource.tables = {"TZ_XMBA": pa.concat_tables([MemorySource.tables["TZ_XMBA"],
                                                        pa.Table.from_pylist(later)])}
    ref = pipeline.run_system("ndrc_investment", Window(T1, T1 + (T1 - T0)), catalog=memory_ndrc, home=home,
                              uri="memory://")
    assert pipeline.totals(ref)["extracted"] == 3 and pipeline.totals(ref)["quarantined"] == 1
    quarantine = SharedStore(home).read("quarantine.ndrc_investment")
    held = {k: json.loads(r) for k, r in zip(quarantine["_source_key"].to_pylist(),
                                             quarantine["reasons"].to_pylist(), strict=True)}
    assert [(x["rule"], x["column"], x["value"]) for x in held["2019-370102-47-01-900001"]] == \
        [("unit.suspect_scale", "ZTZ", "12005000")]


def test_a_run_record_names_the_host_that_ran_it(memory_ndrc, home, monkeypatch):  # type: ignore[no-untyped-def]
    import json
    import socket

    from quancheng.runs import latest_runs

    run(memory_ndrc, home)
    assert json.loads(latest_runs(SharedStore(home))[0]["workers"]) == {"run": socket.gethostname()}
    monkeypatch.setenv("QUANCHENG_WORKER", "worker7")  # what a Celery worker of the cluster sets
    run(memory_ndrc, home)
    assert json.loads(latest_runs(SharedStore(home))[0]["workers"]) == {"run": "worker7"}
