"""End to end on the slice catalog: the lead's pipeline publishes three systems from memory sources, then
sharing and consolidation run over the shared store. Expected figures come from the published datasets.
Includes the analysts' worked example (DuckDB over Parquet, and the same SQL over SQLite)."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from issue6_builders import SLICE, uscc
from memory_source import MemorySource
from quancheng import pipeline
from quancheng.catalog import load_catalog
from quancheng.catalog.stats import compute
from quancheng.consolidate.keys import project_key
from quancheng.consolidate.run import (
    publish_enterprise_master,
    publish_materials,
    publish_stage_forms,
    share_system_datasets,
)
from quancheng.publish.store import SharedStore
from quancheng.sharing.scan import clear_id_numbers
from quancheng.sharing.tokenize import KEY_ENV
from quancheng.sources import Window
from quancheng.sources.base import SOURCE_KINDS

T1 = datetime(2026, 3, 2, tzinfo=UTC)
TODAY = date.today()
DISTRICTS = ["370102", "370103", "370112", "370102", "370104", "370102"]

# the worked example of the analysts' README (paths relative to the demo folder's parent)
DUCKDB_EXAMPLE = """
SELECT s1.construction_site_division AS district_code,
       coalesce(d.name_zh, '未知') AS district,
       count(*) AS projects
FROM read_parquet('{areas}/shared_open/stage.s3_construction/data.parquet') AS s3
LEFT JOIN read_parquet('{areas}/shared_open/stage.s1_project_land/data.parquet') AS s1 USING (project_code)
LEFT JOIN read_csv('{catalog}/codes/gb2260.csv', all_varchar = true) AS d ON d.code = s1.construction_site_division
WHERE s3.permit_issue_date >= date_trunc('month', current_date)
GROUP BY ALL
ORDER BY projects DESC, district_code
"""
SQL_EXAMPLE = """
SELECT s1.construction_site_division AS district_code, count(*) AS projects
FROM shared_open.stage__s3_construction AS s3
LEFT JOIN shared_open.stage__s1_project_land AS s1 ON s1.project_code = s3.project_code
WHERE s3.permit_issue_date >= date('now', 'start of month')
GROUP BY s1.construction_site_division
ORDER BY projects DESC, district_code
"""


def _sources() -> dict[str, pa.Table]:
    units = [uscc(f"MA3C4X{i}B") for i in range(6)]
    ndrc = [{"XMDM": f"2019-370102-47-01-00010{i}", "XMMC": f"济南项目{i}", "JSXZ": "新建", "JSDD": DISTRICTS[i],
             "ZTZ": "1200.5", "ZYDMJ": "15", "NKGSJ": "2019-11-21", "XMDWMC": f"济南恒{i}建设有限公司",
             "XMDWZJHM": units[i], "GXSJ": "2026-03-01 08:00:00", "BZ": ""} for i in range(6)]
    issued = [TODAY, TODAY, TODAY - timedelta(days=400), TODAY, TODAY]
    hcb = [{"施工许可证编号": f"37010220200102{i:02d}01", "项目代码": f"2019-370102-47-01-00010{i}",
            "工程名称": f"济南项目{i}", "建设单位": f"济南恒{i}建设有限公司", "建设单位统一社会信用代码": units[i],
            "合同价格": "1200", "建筑面积": "1000", "地上地下面积": "800/200", "发证日期": issued[i].isoformat(),
            "结构类型": "A"} for i in range(5)]
    hcb[1]["工程名称"] = "济南项目一期"  # differs from the authority's name: a conflict
    hcb[2]["项目代码"] = unicodedata.normalize("NFKC", hcb[2]["项目代码"]).replace("-", "")  # same project, no hyphens
    hcb[3]["建设单位统一社会信用代码"] = ""  # required in 施工许可: quarantined, so not in the stage form
    hcb[4]["项目代码"] = "2019-370102-47-01-000199"  # reached 施工许可 with no filing on record
    amr = [{"uscc": units[i], "ent_name": f"济南恒{i}建设有限公司", "legal_rep": f"张{i}", "reg_capital": "100",
            "est_date": "2010-01-01", "division_code": "370102", "updated_at": "2026-03-01 08:00:00"} for i in range(6)]
    cols = {"sgxk": [f.column for f in load_catalog(SLICE).fields_of("hcb_permit")]}
    return {"TZ_XMBA": pa.Table.from_pylist(ndrc), "sgxk": pa.Table.from_pylist(hcb).select(cols["sgxk"]),
            "enterprise": pa.Table.from_pylist(amr)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    catalog = load_catalog(SLICE)
    for sid in list(catalog.system):
        catalog.system[sid] = catalog.system[sid].model_copy(update={"kind": "memory"})
    mp.setitem(SOURCE_KINDS, "memory", MemorySource)
    mp.delenv(KEY_ENV, raising=False)
    MemorySource.tables = _sources()
    home = tmp_path_factory.mktemp("world")
    for sid in catalog.system:
        pipeline.run_system(sid, Window(None, T1), catalog=catalog, home=home, uri="memory://")
    store = SharedStore(home)
    outputs = {**share_system_datasets(store, catalog), **publish_stage_forms(store, catalog),
               **publish_enterprise_master(store, catalog), **publish_materials(store, catalog)}
    yield catalog, store, home, outputs
    mp.undo()


def _codes(store: SharedStore, ds: str) -> set[str]:
    t = store.read(ds)
    return set(project_key(t["project_code"]).drop_null().to_pylist()) if t is not None else set()


def test_stage_forms_hold_every_project_that_reached_the_stage(world) -> None:  # type: ignore[no-untyped-def]
    _, store, _, _ = world
    assert set(store.read("stage.s1_project_land")["project_code"].to_pylist()) == _codes(
        store, "ndrc_investment.ndrc_filing")
    assert set(store.read("stage.s3_construction")["project_code"].to_pylist()) == _codes(
        store, "hcb_construction_permit.hcb_permit")
    assert store.read("stage.s2_engineering").num_rows == 0  # no system of that stage in the slice


def test_conflicts_show_the_losing_names(world) -> None:  # type: ignore[no-untyped-def]
    _, store, _, _ = world
    ndrc = {k: n for k, n in zip(project_key(store.read("ndrc_investment.ndrc_filing")["project_code"]).to_pylist(),
                                 store.read("ndrc_investment.ndrc_filing")["project_name"].to_pylist(), strict=True)}
    hcb = store.read("hcb_construction_permit.hcb_permit")
    differing = {k for k, n in zip(project_key(hcb["project_code"]).to_pylist(), hcb["project_name"].to_pylist(),
                                   strict=True) if k in ndrc and ndrc[k] != n}
    conflicts = [r for r in store.read("conflicts.stage_forms").to_pylist() if r["element_key"] == "project_name"]
    assert {r["project_code"] for r in conflicts} == differing and differing
    assert all(r["winner_system"] == "ndrc_investment" and r["rule"] == "authority_system" for r in conflicts)


def test_master_has_one_row_per_credit_code(world) -> None:  # type: ignore[no-untyped-def]
    _, store, _, _ = world
    codes: set[str] = set()
    for ds, col in (("amr_enterprise.amr_enterprise_reg", "enterprise_uscc"),
                    ("ndrc_investment.ndrc_filing", "construction_unit_uscc"),
                    ("hcb_construction_permit.hcb_permit", "construction_unit_uscc")):
        codes |= set(store.read(ds)[col].drop_null().to_pylist())
    master = store.read("master.enterprise")
    assert sorted(master["enterprise_uscc"].to_pylist()) == sorted(codes)
    amr_rows = store.read("amr_enterprise.amr_enterprise_reg").to_pylist()
    amr = {r["enterprise_uscc"]: r["enterprise_name"] for r in amr_rows}
    assert all(r["enterprise_name"] == amr[r["enterprise_uscc"]] for r in master.to_pylist()
               if r["enterprise_uscc"] in amr)


def test_materials_dataset_matches_the_reform_figure(world) -> None:  # type: ignore[no-untyped-def]
    catalog, _, _, outputs = world
    assert outputs["materials.by_stage"]["summary"]["after"] == compute(catalog)["materials_after"]


def test_rerun_changes_no_content_hash(world) -> None:  # type: ignore[no-untyped-def]
    catalog, store, _, first = world
    again = {**share_system_datasets(store, catalog), **publish_stage_forms(store, catalog),
             **publish_enterprise_master(store, catalog), **publish_materials(store, catalog)}
    hashes = {k: v["content_hash"] for k, v in first.items() if "content_hash" in v}
    assert {k: v["content_hash"] for k, v in again.items() if "content_hash" in v} == hashes
    assert not any(v.get("changed") for v in again.values())


def test_no_clear_id_numbers_in_open_tables(world) -> None:  # type: ignore[no-untyped-def]
    catalog, _, home, _ = world
    paths = list((home / "shared" / "areas" / "shared_open").glob("*/data.parquet"))
    assert len(paths) >= 10
    for p in paths:
        assert clear_id_numbers(pq.read_table(p), catalog) == [], p


def _expected_by_district(store: SharedStore) -> Counter[str | None]:
    s1 = store.read("stage.s1_project_land").to_pylist()
    district = {r["project_code"]: r["construction_site_division"] for r in s1}
    month = TODAY.replace(day=1)
    return Counter(district.get(r["project_code"]) for r in store.read("stage.s3_construction").to_pylist()
                   if r["permit_issue_date"] and r["permit_issue_date"] >= month)


def test_worked_example_duckdb_over_parquet(world) -> None:  # type: ignore[no-untyped-def]
    _, store, home, _ = world
    sql = DUCKDB_EXAMPLE.format(areas=home / "shared" / "areas", catalog=SLICE)
    rows = duckdb.sql(sql).fetchall()
    assert Counter({code: n for code, _, n in rows}) == _expected_by_district(store)
    names = {c: n for c, n, _ in rows}
    assert names["370102"] == "历下区"


def test_worked_example_sql_over_sqlite(world) -> None:  # type: ignore[no-untyped-def]
    _, store, home, _ = world
    with sqlite3.connect(":memory:") as db:
        db.execute(f"ATTACH DATABASE '{Path(home) / 'shared' / 'areas' / 'shared_open.db'}' AS shared_open")
        rows = db.execute(SQL_EXAMPLE).fetchall()
    assert Counter(dict(rows)) == _expected_by_district(store)
