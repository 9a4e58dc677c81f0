"""Area copies on the default (embedded) store: Parquet + one SQLite file per area, metadata, no-op reruns,
and no clear ID number in any open table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from issue6_builders import ric, system_table, uscc
from quancheng.publish.store import SharedStore
from quancheng.sharing.areas import AreaStore, area_versions
from quancheng.sharing.publish import share_system_dataset
from quancheng.sharing.scan import clear_id_numbers, is_id_number


@pytest.fixture
def shared(catalog, tokenizer, home):  # type: ignore[no-untyped-def]
    store = SharedStore(home)
    areas = AreaStore(store, catalog)
    rows = [{"enterprise_uscc": uscc(f"MA3C4X{i}A"), "enterprise_name": f"济南公司{i}", "legal_representative": "张三",
             "legal_rep_id_no": ric(i), "enterprise_phone": "13800138000", "_source_key": uscc(f"MA3C4X{i}A")}
            for i in range(4)]
    table = system_table(catalog, "amr_enterprise_reg", rows)
    out = share_system_dataset(store, catalog, catalog.form["amr_enterprise_reg"], table, batch_id="b1",
                               areas=areas, tokenizer=tokenizer)
    return store, areas, table, out


def test_every_area_gets_parquet_and_sql(shared, home: Path) -> None:  # type: ignore[no-untyped-def]
    _, areas, table, out = shared
    ds = "amr_enterprise.amr_enterprise_reg"
    assert set(out) == {f"{s}/{ds}" for s in ("shared_open", "dept_housing_and_urban_rural_development_bureau",
                                              "dept_development_and_reform_commission", "src_amr_enterprise")}
    for key, pub in out.items():
        schema = key.split("/")[0]
        parquet = pq.read_table(home / "shared" / "areas" / schema / ds / "data.parquet")
        assert parquet.num_rows == pub["rows"] == table.num_rows
        with sqlite3.connect(home / "shared" / "areas" / f"{schema}.db") as db:
            assert db.execute("select count(*) from amr_enterprise__amr_enterprise_reg").fetchone()[0] == pub["rows"]
    assert {r["schema_name"] for r in areas.listing()} == {k.split("/")[0] for k in out}


def test_names_and_definitions_travel_with_the_columns(shared, home: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    schema = pq.read_schema(home / "shared" / "areas" / "shared_open" / "amr_enterprise.amr_enterprise_reg" /
                            "data.parquet")
    el = catalog.element_by_key["enterprise_name"]
    meta = schema.field("enterprise_name").metadata
    assert meta[b"name_zh"].decode() == el.name_zh and meta[b"name_en"].decode() == el.name_en
    assert "已令牌化" in schema.field("enterprise_phone").metadata[b"definition"].decode()
    assert schema.metadata[b"quancheng.name_zh"].decode() == catalog.form["amr_enterprise_reg"].name_zh
    with sqlite3.connect(home / "shared" / "areas" / "shared_open.db") as db:
        rows = dict(db.execute("select column_name, name_zh from _columns").fetchall())
    assert rows["enterprise_name"] == el.name_zh and rows["_source_system"] == "来源系统"


def test_republishing_the_same_content_is_a_no_op(shared, catalog, tokenizer) -> None:  # type: ignore[no-untyped-def]
    store, areas, table, first = shared
    again = share_system_dataset(store, catalog, catalog.form["amr_enterprise_reg"], table, batch_id="b2",
                                 areas=areas, tokenizer=tokenizer)
    assert {k: v["content_hash"] for k, v in again.items()} == {k: v["content_hash"] for k, v in first.items()}
    assert not any(v["changed"] for v in again.values())


def test_no_clear_id_number_in_any_open_table(shared, home: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    areas = home / "shared" / "areas"
    opened = list((areas / "shared_open").glob("*/data.parquet"))
    assert opened
    for path in opened:
        assert clear_id_numbers(pq.read_table(path), catalog) == [], path
    private = pq.read_table(areas / "src_amr_enterprise" / "amr_enterprise.amr_enterprise_reg" / "data.parquet")
    assert len(clear_id_numbers(private, catalog)) == private.num_rows  # the scanner finds them where they are


@pytest.mark.parametrize(("value", "is_id"), [
    (ric(1), True), (ric(1)[:-1] + ("0" if ric(1)[-1] != "0" else "1"), False),
    ("11010519491231002X", True), ("11010519491231002x", True),
    ("99010219800101001X", False), ("37010219801301001X", False), (uscc("MA3C4X5Y"), False),
])
def test_id_number_recognition(value: str, is_id: bool) -> None:
    assert is_id_number(value) is is_id


def test_a_publish_that_fails_half_way_is_completed_by_the_next(shared, home: Path, catalog, tokenizer,
                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store, areas, table, _ = shared
    db = home / "shared" / "areas" / "shared_open.db"
    with sqlite3.connect(db) as c:
        before = c.execute("select count(*) from amr_enterprise__amr_enterprise_reg").fetchone()[0]
    bigger = system_table(catalog, "amr_enterprise_reg", [*table.to_pylist(), {"enterprise_name": "新公司",
                                                                             "_source_key": "new"}])

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(AreaStore, "_swap_sqlite", boom)
    with pytest.raises(OSError, match="disk full"):
        share_system_dataset(store, catalog, catalog.form["amr_enterprise_reg"], bigger, batch_id="b2",
                             areas=areas, tokenizer=tokenizer)
    with sqlite3.connect(db) as c:  # the last good version is still whole
        assert c.execute("select count(*) from amr_enterprise__amr_enterprise_reg").fetchone()[0] == before
    monkeypatch.undo()
    done = share_system_dataset(store, catalog, catalog.form["amr_enterprise_reg"], bigger, batch_id="b2",
                                areas=areas, tokenizer=tokenizer)
    assert all(v["changed"] and v["rows"] == bigger.num_rows for v in done.values())
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from amr_enterprise__amr_enterprise_reg").fetchone()[0] == bigger.num_rows


@pytest.mark.parametrize("as_parts", [False, True], ids=["table", "batch of parts"])
def test_a_department_copy_that_came_to_equal_the_open_one_is_not_left_stale(
        catalog, tokenizer, home: Path, as_parts: bool) -> None:  # type: ignore[no-untyped-def]
    """A long table's department copy exists while it differs from the open one. When it comes to equal it,
    the department must not go on reading the rows it had (here a legal representative since removed)."""
    import pyarrow as pa
    from quancheng.publish.delta import Batch
    from quancheng.sharing.publish import share_long

    store = SharedStore(home)
    areas = AreaStore(store, catalog)
    ds, dept = "stage.s1_project_land.provenance", "dept_housing_and_urban_rural_development_bureau"

    def share(elements: dict[str, str], batch_id: str) -> dict[str, dict[str, object]]:
        table = pa.table({"project_code": ["2019-370102-47-01-000001"] * len(elements),
                          "element_key": list(elements), "system_id": ["amr_enterprise"] * len(elements),
                          "source_table": ["enterprise"] * len(elements), "source_key": ["k1"] * len(elements),
                          "value": list(elements.values())})
        rows = Batch.of(table) if as_parts else table
        return share_long(areas, ds, rows, kind="stage_form", batch_id=batch_id, tokenizer=tokenizer,
                          sort_by=["project_code", "element_key"], value_cols=("value",))

    def copy(schema: str) -> list[dict[str, object]]:
        rows = pq.read_table(home / "shared" / "areas" / schema / ds / "data.parquet").to_pylist()
        return sorted(({k: v for k, v in r.items() if not k.startswith("_")} for r in rows),
                      key=lambda r: str(r["element_key"]))

    first = share({"enterprise_name": "甲公司", "legal_representative": "张三"}, "b1")
    assert f"{dept}/{ds}" in first and "张三" in {r["value"] for r in copy(dept)}  # the department's own copy
    assert "张三" not in {r["value"] for r in copy("shared_open")}
    share({"enterprise_name": "甲公司"}, "b2")  # the representative is gone: the copy now equals the open one
    assert copy(dept) == copy("shared_open") == [
        {"project_code": "2019-370102-47-01-000001", "element_key": "enterprise_name", "system_id": "amr_enterprise",
         "source_table": "enterprise", "source_key": "k1", "value": "甲公司"}]
    with sqlite3.connect(home / "shared" / "areas" / f"{dept}.db") as db:
        assert db.execute(f"select count(*) from {ds.replace('.', '__')}").fetchone()[0] == 1


def test_a_department_whose_grant_is_withdrawn_loses_its_copy(shared, tokenizer, home: Path,
                                                              tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The commission's grant leaves the catalog: its copy is taken out of its area (table, link, record),
    not left readable as it was; the other copies stay as they are, and sharing again changes nothing."""
    from issue6_builders import without_grant

    store, _, table, first = shared
    ds, ndrc = "amr_enterprise.amr_enterprise_reg", "dept_development_and_reform_commission"
    assert f"{ndrc}/{ds}" in first
    revoked = without_grant(tmp_path, "Development and Reform Commission")

    def share(batch_id: str) -> dict[str, dict[str, object]]:
        return share_system_dataset(store, revoked, revoked.form["amr_enterprise_reg"], table, batch_id=batch_id,
                                    areas=AreaStore(store, revoked), tokenizer=tokenizer)

    second = share("b2")
    assert second[f"{ndrc}/{ds}"] == {"rows": 0, "content_hash": None, "changed": True, "withdrawn": True}
    assert {k for k, v in second.items() if v["changed"]} == {f"{ndrc}/{ds}"}
    assert {r["schema_name"] for r in AreaStore(store, revoked).listing()} == {
        k.split("/")[0] for k in first} - {ndrc}
    assert not (home / "shared" / "areas" / ndrc / ds).exists()
    assert not (home / "shared" / "areas" / ndrc / ".versions" / ds).exists()
    assert area_versions(store.engine, ndrc, ds) == [] and area_versions(store.engine, "shared_open", ds)
    with sqlite3.connect(home / "shared" / "areas" / f"{ndrc}.db") as db:
        assert not db.execute("select name from sqlite_master where name = 'amr_enterprise__amr_enterprise_reg'"
                              ).fetchall()
        assert not db.execute("select * from _columns where table_name = 'amr_enterprise__amr_enterprise_reg'"
                              ).fetchall()
    assert not any(v["changed"] for v in share("b3").values())


def test_a_withdrawal_killed_half_way_is_done_by_the_next_sharing(shared, tokenizer, home: Path, tmp_path: Path,
                                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Killed after the table and the files went, before the records: the record still names the copy, so the
    next sharing withdraws it again and ends with nothing of it left."""
    from issue6_builders import without_grant
    from quancheng.sharing import areas as areas_module

    store, _, table, _ = shared
    ds, ndrc = "amr_enterprise.amr_enterprise_reg", "dept_development_and_reform_commission"
    revoked = without_grant(tmp_path, "Development and Reform Commission")
    real_rmtree = areas_module.shutil.rmtree

    def killed(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_rmtree(path, *args, **kwargs)
        raise KeyboardInterrupt("killed")

    def share(batch_id: str) -> dict[str, dict[str, object]]:
        return share_system_dataset(store, revoked, revoked.form["amr_enterprise_reg"], table, batch_id=batch_id,
                                    areas=AreaStore(store, revoked), tokenizer=tokenizer)

    monkeypatch.setattr(areas_module.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        share("b2")
    monkeypatch.setattr(areas_module.shutil, "rmtree", real_rmtree)
    assert ndrc in {r["schema_name"] for r in AreaStore(store, revoked).listing()}  # the record outlived the kill
    assert share("b3")[f"{ndrc}/{ds}"]["withdrawn"]
    assert ndrc not in {r["schema_name"] for r in AreaStore(store, revoked).listing()}
    assert area_versions(store.engine, ndrc, ds) == [] and not (home / "shared" / "areas" / ndrc / ds).exists()
