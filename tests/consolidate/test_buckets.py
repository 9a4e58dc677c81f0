"""Stage forms built in buckets of projects equal the build in one piece: the same rows, the same published
datasets and area copies (content hashes), whatever the bucket size."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from issue6_builders import publish_system, uscc
from quancheng.consolidate.buckets import bucket_bounds, build_in_buckets, stage_columns
from quancheng.consolidate.run import batch_id_for, publish_stage_forms
from quancheng.consolidate.stage_forms import build_stage_forms
from quancheng.publish import store as store_module
from quancheng.publish.delta import Batch
from quancheng.publish.store import SharedStore, content_hash, content_hash_parts
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.tokenize import Tokenizer

P = [f"2019-370102-47-01-00030{i}" for i in range(8)]
UNITS = [uscc(f"MA3C4X{i}D") for i in range(8)]


def _world(home: Path, catalog, sql_url: str | None = None) -> SharedStore:  # type: ignore[no-untyped-def]
    """Two systems over eight projects: codes written differently, conflicts, a row without a code."""
    store = SharedStore(home, sql_url=sql_url)
    publish_system(store, catalog, "ndrc_filing", [
        {"project_code": P[i] if i % 2 else P[i].replace("-", ""), "project_name": f"项目{i}",
         "construction_unit_uscc": UNITS[i], "construction_unit_name": f"济南恒{i}建设有限公司",
         "construction_site_division": "370102", "total_investment": Decimal(f"{1000 + i}.50"),
         "source_updated_at": datetime(2026, 3, 1, 8, i), "_source_key": P[i]} for i in range(8)]
        + [{"project_name": "没有代码", "_source_key": "none"}])
    publish_system(store, catalog, "hcb_permit", [
        {"project_code": P[i], "project_name": f"项目{i}期" if i % 3 == 0 else f"项目{i}",
         "construction_unit_uscc": UNITS[i], "construction_permit_no": f"3701022020010{i}0101",
         "contract_price": Decimal("600.00"), "_source_key": f"permit-{i}"} for i in range(1, 7)]
        + [{"project_code": P[2], "project_name": "项目二另", "_source_key": "permit-2b"}])
    return store


@pytest.mark.parametrize("bucket_rows", [1, 3, 7])
def test_buckets_equal_one_build(tmp_path, slice_catalog, bucket_rows: int) -> None:  # type: ignore[no-untyped-def]
    store = _world(tmp_path / "home", slice_catalog)
    datasets = {d["dataset_id"]: store.read(d["dataset_id"]) for d in store.datasets() if d["kind"] == "system"}
    whole = build_stage_forms(datasets, slice_catalog, batch_id="t")
    (tmp_path / "spill").mkdir()
    built = build_in_buckets(store, slice_catalog, batch_id="t", folder=tmp_path / "spill", bucket_rows=bucket_rows)
    assert built.buckets > 1
    for ds, table in [*whole.forms.items(), *whole.provenance.items(), ("conflicts.stage_forms", whole.conflicts)]:
        assert built.batch(ds).to_table().equals(table), ds
    assert built.feeding_systems == whole.feeding_systems
    assert {k: v for k, v in built.unmatched.items() if v} == {k: v for k, v in whole.unmatched.items() if v} \
        == {"ndrc_investment.ndrc_filing": 1}


def test_published_in_buckets_equals_published_whole(tmp_path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    outs, stores = [], []
    for name, rows in (("one", 10**9), ("many", 2)):
        store = _world(tmp_path / name, slice_catalog)
        areas = AreaStore(store, slice_catalog)
        outs.append(publish_stage_forms(store, slice_catalog, areas=areas, tokenizer=Tokenizer(b"k" * 32),
                                        bucket_rows=rows))
        stores.append(store)
    assert outs[0] == outs[1]
    assert any(k.startswith("shared_open/") for k in outs[0]) and outs[0]["_unmatched"]
    for ds in (k for k in outs[0] if "/" not in k and not k.startswith("_")):
        a, b = (s.read(ds) for s in stores)
        assert a is not None and b is not None and a.equals(b), ds
    assert not list((stores[1].root / ".spill").iterdir())  # the spill folders are gone


def test_a_rerun_publishes_nothing(tmp_path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    store = _world(tmp_path / "home", slice_catalog)
    first = publish_stage_forms(store, slice_catalog, tokenizer=Tokenizer(b"k" * 32), bucket_rows=2)
    again = publish_stage_forms(store, slice_catalog, tokenizer=Tokenizer(b"k" * 32), bucket_rows=3)
    assert any(v["changed"] for k, v in first.items() if not k.startswith("_"))
    assert not any(v["changed"] for k, v in again.items() if not k.startswith("_"))
    hashes = {d["dataset_id"]: d["content_hash"] for d in store.datasets() if d["kind"] == "system"}
    assert {d["last_batch"] for d in store.datasets() if d["dataset_id"].startswith("stage.")} \
        == {batch_id_for("stage_forms", hashes)}


def test_only_the_used_columns_are_read(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    cols = ["_source_system", "_source_key", "_superseded_by_quarantine", "project_code", "project_name",
            "legal_rep_id_no", "source_updated_at", "_extracted_at"]
    assert stage_columns(slice_catalog, cols) == ["_source_system", "_source_key", "project_code", "project_name",
                                                  "source_updated_at", "_extracted_at"]


@pytest.mark.parametrize(("keys", "rows", "bounds"), [
    ([], 10, []),
    (["a"], 10, ["a"]),
    (["a", "b", "c", "d"], 2, ["b", "d"]),
    (["d", "c", "b", "a"], 2, ["b", "d"]),
    (["a", "a", "a", "b"], 2, ["a", "b"]),  # a project is never split: "a" holds three rows
    (["a", "b", "c", "d", "e"], 100, ["e"]),
    (["a", "b", "c"], 1, ["a", "b", "c"]),
])
def test_bucket_bounds(keys: list[str], rows: int, bounds: list[str]) -> None:
    assert bucket_bounds(pl.Series("key", keys, pl.String), rows).to_list() == bounds


def test_content_hash_does_not_depend_on_the_parts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    t = pa.table({"a": np.arange(3500), "b": [str(i) if i % 3 else None for i in range(3500)]})

    def split(sizes: list[int]) -> Batch:
        cuts = np.cumsum([0, *sizes, 3500 - sum(sizes)])
        return Batch(t.schema, lambda: iter([t.slice(a, b - a) for a, b in itertools.pairwise(cuts)]),
                     t.num_rows)

    assert content_hash_parts(Batch.of(t)) == content_hash(t)  # small: the whole table's digest
    monkeypatch.setattr(store_module, "HASH_SLICE_ROWS", 1000)
    digests = {content_hash_parts(split(s)) for s in ([], [10, 2000, 7], [999, 1, 1], [3499])}
    assert len(digests) == 1 and digests != {content_hash(t)}


@pytest.mark.parametrize("how", ["slice", "filter", "take", "parquet", "parts"])
def test_content_hash_depends_on_the_rows_only_not_on_their_buffers(how: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same rows hash alike however Arrow holds them: a slice (buffers shared, string offsets not from
    0), a filter's output (an all-valid validity buffer), a take, a Parquet read, concatenated parts. An area
    copy merged from a day's rows is built one way and the whole sharing another (found on the demo world)."""
    import pyarrow.parquet as pq

    t = pa.table({"k": pa.array(["甲", "乙", "丙", "丁", "戊"]), "n": pa.array([1, None, 3, 4, 5]),
                  "b": pa.array([True, False, None, True, False]), "d": pa.array([Decimal("1.10")] * 5),
                  "s": pa.array([None, "x", None, "y", "z"])})
    want = content_hash(pa.table({c: pa.array(t[c].to_pylist()[1:4], t[c].type) for c in t.column_names}))
    rows = {"slice": lambda: t.slice(1, 3), "filter": lambda: t.filter(pa.array([False, True, True, True, False])),
            "take": lambda: t.take([1, 2, 3]),
            "parquet": lambda: (pq.write_table(t.slice(1, 3), tmp_path / "p.parquet"),
                                pq.read_table(tmp_path / "p.parquet"))[1],
            "parts": lambda: pa.concat_tables([t.slice(1, 1), t.slice(2, 2)])}[how]()
    assert content_hash(rows) == want
    assert content_hash_parts(Batch.of(rows)) == want


def _sorted(table: pa.Table) -> pa.Table:
    keys = [c for c in ("project_code", "element_id", "system_id", "source_key") if c in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys])


def _touch_two_projects(store, catalog) -> None:  # type: ignore[no-untyped-def]
    """A sync's day touching projects 4 and 6: one filing renamed (a conflict appears), one permit deleted."""
    from issue6_builders import system_table

    renamed = system_table(catalog, "ndrc_filing", [
        {"project_code": P[4], "project_name": "项目四（改）", "construction_unit_uscc": UNITS[4],
         "construction_unit_name": "济南恒4建设有限公司", "construction_site_division": "370102",
         "total_investment": Decimal("1004.50"), "source_updated_at": datetime(2026, 3, 2, 8), "_source_key": P[4]}])
    store.merge("ndrc_investment.ndrc_filing", renamed, pa.array([], pa.string()), kind="system", batch_id="b2")
    store.merge("hcb_construction_permit.hcb_permit", renamed.schema.empty_table().select(["_source_key"]),
                pa.array(["permit-6"]), kind="system", batch_id="b2")


def test_a_day_recomputes_only_the_touched_projects(tmp_path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    from quancheng.consolidate.incremental import read_state

    store = _world(tmp_path / "home", slice_catalog)
    tok = Tokenizer(b"k" * 32)
    publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    outputs = [d["dataset_id"] for d in store.datasets() if d["kind"] in ("stage_form", "conflicts")]
    before = {ds: store.read(ds) for ds in outputs}
    _touch_two_projects(store, slice_catalog)
    day = publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    after = {ds: store.read(ds) for ds in outputs}
    touched = {P[4], P[6]}
    for ds in outputs:
        a, b = (_sorted(t) for t in (before[ds], after[ds]))
        key = "project_code"
        untouched = [pc_not_in(t, key, touched) for t in (a, b)]
        assert untouched[0].equals(untouched[1]), ds  # every other project's rows unchanged, batch id included
    assert day["stage.s1_project_land"]["changed"] and day["conflicts.stage_forms"]["changed"]
    assert not day["stage.s4_acceptance"]["changed"]
    # and the result is what a full rebuild gives (but the batch id of the rows not recomputed)
    state = read_state(store, "stage_forms")
    full = publish_stage_forms(store, slice_catalog, tokenizer=tok, incremental=False)
    assert read_state(store, "stage_forms") == state
    for ds in outputs:
        a, b = (_sorted(store.read(ds) if t is None else t) for t in (after[ds], None))
        drop = [c for c in ("_batch_id",) if c in a.column_names]
        assert a.drop_columns(drop).equals(b.drop_columns(drop)), ds
    for ds in ("shared_open/stage.s1_project_land.provenance", "shared_open/conflicts.stage_forms"):
        assert day[ds]["content_hash"] == full[ds]["content_hash"], ds


def pc_not_in(table: pa.Table, column: str, values: set[str]) -> pa.Table:
    import pyarrow.compute as pc

    return table.filter(pc.invert(pc.is_in(table[column], value_set=pa.array(sorted(values)))))


def test_nothing_synced_nothing_recomputed(tmp_path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    from quancheng.consolidate.buckets import keyed_inputs
    from quancheng.consolidate.incremental import plan

    store = _world(tmp_path / "home", slice_catalog)
    assert plan(store, slice_catalog, "stage_forms", keyed_inputs(store, slice_catalog)).full
    publish_stage_forms(store, slice_catalog, tokenizer=Tokenizer(b"k" * 32))
    todo = plan(store, slice_catalog, "stage_forms", keyed_inputs(store, slice_catalog))
    assert not todo.full and len(todo.touched) == 0


def test_system_datasets_shared_part_by_part_as_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The streamed sharing of every system dataset leaves exactly what sharing each whole table leaves:
    sharing them whole afterwards changes no area copy (departments, private areas, tokens included)."""
    from issue6_builders import build_grants_world, extended_catalog
    from quancheng.catalog import load_catalog
    from quancheng.catalog.light import dataset_id
    from quancheng.consolidate.run import share_system_datasets
    from quancheng.sharing.publish import share_system_dataset

    extended_catalog(tmp_path)
    catalog = load_catalog(tmp_path / "catalog")
    store = SharedStore(tmp_path / "home")
    areas = build_grants_world(store, catalog, key="k" * 32)
    tok = Tokenizer(("k" * 32).encode())
    streamed = share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    assert len({k.split("/")[0] for k in streamed}) >= 3  # open, a department, private areas
    whole = {}
    for d in store.datasets():
        if d["kind"] == "system":
            form = catalog.form[d["dataset_id"].split(".", 1)[1]]
            assert dataset_id(form) == d["dataset_id"]
            whole |= share_system_dataset(store, catalog, form, store.read(d["dataset_id"]),
                                          batch_id=f"share__{d['content_hash']}", areas=areas, tokenizer=tok)
    assert whole == streamed
    assert not any(v["changed"] for v in whole.values())


def test_a_day_killed_before_its_area_copies_is_caught_up_by_the_next_run(tmp_path, slice_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A run killed after replacing the touched projects in the internal datasets but before merging them
    into the area copies: the next run finds those rows already replaced, and still brings every copy to
    what a full rebuild gives."""
    from quancheng.consolidate import run

    store = _world(tmp_path / "home", slice_catalog)
    tok = Tokenizer(b"k" * 32)
    publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    before = _area_copies(store)
    _touch_two_projects(store, slice_catalog)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(run, "merge_touched", killed)
    with pytest.raises(KeyboardInterrupt):
        publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    monkeypatch.undo()
    assert {k: v[2] for k, v in _area_copies(store).items()} == {k: v[2] for k, v in before.items()}  # lagging
    caught_up = publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    assert any(v["changed"] for k, v in caught_up.items() if "/" in k)
    after = _area_copies(store)
    publish_stage_forms(store, slice_catalog, tokenizer=tok, incremental=False)
    for name, (rows, _, _) in _area_copies(store).items():
        drop = [c for c in ("_batch_id",) if c in rows.column_names]
        assert _sorted(after[name][0].drop_columns(drop)).equals(_sorted(rows.drop_columns(drop))), name


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres_sharing")
def test_a_day_merges_the_area_tables_in_place_on_postgres(tmp_path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 on PostgreSQL: a day's touched projects are merged into each area's table in place (the same
    table, so its grants stay: the open role still reads it) and the table holds its copy's rows."""
    import uuid

    import psycopg
    import pyarrow.parquet as pq
    from quancheng.sharing import postgres
    from scratch_pg import postgres_database

    prefix = f"qm{uuid.uuid4().hex[:6]}_"
    with postgres_database("qc_merge_", drop_roles=prefix) as url:
        store = _world(tmp_path / "home", slice_catalog, sql_url=url)
        areas = AreaStore(store, slice_catalog, role_prefix=prefix)
        tok = Tokenizer(b"k" * 32)
        publish_stage_forms(store, slice_catalog, tokenizer=tok, areas=areas, bucket_rows=3)
        open_copies = {r["dataset_id"]: r for r in areas.listing() if r["schema_name"] == "shared_open"}
        with psycopg.connect(postgres.pg_uri(url), autocommit=True) as c:
            oids = {ds: c.execute("SELECT %s::regclass::oid", [r["sql_table"]]).fetchone()
                    for ds, r in open_copies.items()}
        _touch_two_projects(store, slice_catalog)
        day = publish_stage_forms(store, slice_catalog, tokenizer=tok, areas=areas, bucket_rows=3)
        merged = [ds for ds in open_copies if day[f"shared_open/{ds}"]["changed"]]
        assert merged
        with psycopg.connect(postgres.pg_uri(url), autocommit=True) as c:
            indexed = {t for (t,) in c.execute("SELECT tablename FROM pg_indexes WHERE schemaname = 'shared_open' "
                                               "AND indexdef LIKE '%(project_code)'")}
            assert {r["sql_table"].split(".", 1)[1] for r in open_copies.values()} <= indexed  # what merges delete by
            c.execute(f"SET ROLE {postgres.ident(postgres.open_role(prefix))}")
            for ds, r in open_copies.items():
                assert c.execute("SELECT %s::regclass::oid", [r["sql_table"]]).fetchone() == oids[ds], ds
                now = next(x for x in areas.listing() if x["schema_name"] == "shared_open" and x["dataset_id"] == ds)
                rows = pq.read_table(Path(str(now["parquet_path"])) / "data.parquet")
                sql = c.execute(f"SELECT project_code FROM {r['sql_table']} ORDER BY 1").fetchall()
                assert [v for (v,) in sql] == sorted(rows.column("project_code").to_pylist()), ds


def test_sharing_reads_only_the_system_datasets_that_changed(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the share step runs on every system dataset's update; a dataset shared from the same content
    under the same rules and key is not read again. Another content, another key or other rules share it
    again."""
    from issue6_builders import build_grants_world, extended_catalog, publish_system
    from quancheng.catalog import load_catalog
    from quancheng.consolidate import run, share

    extended_catalog(tmp_path)
    catalog = load_catalog(tmp_path / "catalog")
    store = SharedStore(tmp_path / "home")
    areas = build_grants_world(store, catalog, key="k" * 32)
    tok = Tokenizer(("k" * 32).encode())
    first = run.share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    read: list[str] = []
    real = share.sorted_rows
    monkeypatch.setattr(share, "sorted_rows", lambda s, ds, *a: read.append(ds) or real(s, ds, *a))
    again = run.share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    assert read == []
    assert again == {k: {**v, "changed": False} for k, v in first.items()}
    # a day's sync renames one enterprise: its row alone is read and merged into each copy of its dataset,
    # which then equal what sharing the whole dataset gives
    from issue6_builders import system_table
    from quancheng.sharing.publish import share_system_dataset

    form = catalog.form["amr_enterprise_reg"]
    ds = f"{form.system_id}.{form.form_id}"
    renamed = store.read(ds).slice(1, 1).to_pylist()[0]
    renamed["enterprise_name"] = "济南恒1建设集团有限公司"
    store.merge(ds, system_table(catalog, form.form_id, [{k: v for k, v in renamed.items() if not k.startswith("_")
                                                          or k == "_source_key"}]),
                pa.array([], pa.string()), kind="system", batch_id="b2")
    merged = run.share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    assert read == []
    assert {k for k, v in merged.items() if v["changed"]} == {k for k in first if k.endswith("/" + ds)}
    batch = next(r["last_batch"] for r in areas.listing() if r["dataset_id"] == ds)
    whole = share_system_dataset(store, catalog, form, store.read(ds), batch_id=batch, areas=areas, tokenizer=tok)
    assert not any(v["changed"] for v in whole.values()) and {k: v["content_hash"] for k, v in whole.items()} == {
        k: v["content_hash"] for k, v in merged.items() if k.endswith("/" + ds)}
    # a dataset published whole again (every row replaced): that one alone is read and shared whole
    publish_system(store, catalog, "qual_cert", [
        {"enterprise_org_code": "MA3C4X0C-X", "enterprise_name": "新建设有限责任公司",
         "enterprise_phone": "13800138009", "_source_key": "ZS-9"}])
    day = run.share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    assert len(read) == 1 and read[0].endswith(".qual_cert"), read
    assert {k for k, v in day.items() if v["changed"]} and all("qual_cert" in k for k, v in day.items() if v["changed"])
    # another tokenization key: every dataset again, and their tokens change
    read.clear()
    rekeyed = run.share_system_datasets(store, catalog, areas=areas, tokenizer=Tokenizer(b"j" * 32))
    assert len(read) == len({k.split("/", 1)[1] for k in first})
    assert any(v["changed"] for v in rekeyed.values())


SHARE_CHILD = """
import sys
from pathlib import Path
from quancheng.catalog import load_catalog
from quancheng.consolidate import run
from quancheng.publish.store import SharedStore
from quancheng.sharing.tokenize import Tokenizer
home, catalog = Path(sys.argv[1]), load_catalog(Path(sys.argv[2]))
run.share_system_datasets(SharedStore(home), catalog, tokenizer=Tokenizer(b"k" * 32))
"""


def test_two_share_runs_at_once_merge_a_day_as_one_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two share steps started together on a day's change (as two Airflow tasks would be: two processes) both
    succeed, and each copy then holds every row once and equals sharing the whole dataset."""
    import os
    import sqlite3
    import subprocess
    import sys

    from issue6_builders import build_grants_world, extended_catalog, system_table
    from paths import ROOT
    from quancheng.catalog import load_catalog
    from quancheng.consolidate import run
    from quancheng.consolidate.buckets import sorted_rows, spill_folder
    from quancheng.publish.store import KEY
    from quancheng.sharing.publish import share_system_dataset

    extended_catalog(tmp_path)
    catalog = load_catalog(tmp_path / "catalog")
    store = SharedStore(tmp_path / "home")
    areas = build_grants_world(store, catalog, key="k" * 32)
    tok = Tokenizer(b"k" * 32)
    run.share_system_datasets(store, catalog, areas=areas, tokenizer=tok)
    form = catalog.form["amr_enterprise_reg"]
    ds = f"{form.system_id}.{form.form_id}"
    row = store.read(ds).slice(1, 1).to_pylist()[0]
    row["enterprise_name"] = "济南恒1建设集团有限公司"
    store.merge(ds, system_table(catalog, form.form_id, [{k: v for k, v in row.items() if not k.startswith("_")
                                                          or k == KEY}]), pa.array([], pa.string()),
                kind="system", batch_id="b2")
    procs = [subprocess.Popen([sys.executable, "-c", SHARE_CHILD, str(tmp_path / "home"), str(tmp_path / "catalog")],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "include")},
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()[-2000:] if p.stderr else "") for p in procs]
    assert [rc for rc, _ in results] == [0, 0], results
    with spill_folder(store, "check_") as folder:
        whole = share_system_dataset(store, catalog, form, sorted_rows(store, ds, [KEY], folder), batch_id="whole",
                                     areas=areas, tokenizer=tok)
    assert not [k for k, v in whole.items() if v["changed"]]
    for r in areas.listing():
        if r["dataset_id"] == ds:
            with sqlite3.connect(store.root / "areas" / f"{r['schema_name']}.db") as c:
                table = r["sql_table"].split(".", 1)[1]
                assert c.execute(f'SELECT count(*), count(DISTINCT "{KEY}") FROM "{table}"').fetchone() == (
                    r["rows"], r["rows"]), r["schema_name"]


def _area_copies(store: SharedStore) -> dict[str, tuple[pa.Table, pa.Table, str]]:
    """Every area copy of the stage forms: its current Parquet rows, its SQL table's rows, its content hash."""
    import sqlite3
    from contextlib import closing

    import pyarrow.parquet as pq
    from quancheng.publish.store import sql_name

    out: dict[str, tuple[pa.Table, pa.Table, str]] = {}
    for r in AreaStore(store, None).listing():  # type: ignore[arg-type]
        schema, ds = str(r["schema_name"]), str(r["dataset_id"])
        if not (ds.startswith("stage.") or ds == "conflicts.stage_forms"):
            continue
        rows = pq.read_table(Path(str(r["parquet_path"])) / "data.parquet")
        # closed at once: an open handle of this SQLite beside the ADBC driver's breaks the file's locks
        with closing(sqlite3.connect(store.root / "areas" / f"{schema}.db")) as db:
            cur = db.execute(f'SELECT * FROM "{sql_name(ds)}"')
            names = [d[0] for d in cur.description]
            sql = pa.Table.from_pylist([dict(zip(names, v, strict=True)) for v in cur.fetchall()])
        out[f"{schema}/{ds}"] = (rows, sql, str(r["content_hash"]))
    return out


def test_a_day_changes_only_the_touched_projects_in_every_area_copy(tmp_path, slice_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: after a day touching two projects every area copy differs from the day before in those
    projects' rows only, equals what a full rebuild leaves (but the rows' batch ids), its SQL table holds its
    rows, its previous version is still readable as of then; a rerun with nothing touched writes nothing.
    The day merges the touched projects into the copies: no output is read back whole to be shared again."""
    import pyarrow.parquet as pq
    from quancheng.consolidate import run
    from quancheng.sharing.areas import area_versions

    store = _world(tmp_path / "home", slice_catalog)
    tok = Tokenizer(b"k" * 32)
    publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    before = _area_copies(store)
    _touch_two_projects(store, slice_catalog)
    whole: list[str] = []
    real = run.sorted_rows
    monkeypatch.setattr(run, "sorted_rows", lambda s, ds, *a: whole.append(ds) or real(s, ds, *a))
    day = publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    assert whole == []
    monkeypatch.undo()
    after = _area_copies(store)
    assert set(after) == set(before)
    touched = {P[4], P[6]}
    changed = [k for k in after if after[k][2] != before[k][2]]
    assert changed and all(day[k]["changed"] for k in changed)
    assert not any(day[k]["changed"] for k in after if k not in changed)
    for name, (rows, sql, digest) in after.items():
        old = before[name][0]
        assert _sorted(pc_not_in(rows, "project_code", touched)).equals(
            _sorted(pc_not_in(old, "project_code", touched))), name  # the other projects' rows as they were
        assert rows.num_rows == sql.num_rows, name
        if rows.num_rows:  # (an empty SQL table reads back without columns)
            assert sorted(sql.column("project_code").to_pylist()) == sorted(rows.column("project_code").to_pylist())
        if name in changed:  # the version before is kept and still readable as of then
            schema, ds = name.split("/", 1)
            versions = area_versions(store.engine, schema, ds)
            assert [v.content_hash for v in versions[:2]] == [digest, before[name][2]], name
            kept = store.root / "areas" / schema / ".versions" / ds / before[name][2] / "data.parquet"
            assert pq.read_table(kept).equals(old), name
    # a rerun with nothing touched writes nothing
    counts = {k: len(area_versions(store.engine, *k.split("/", 1))) for k in after}
    again = publish_stage_forms(store, slice_catalog, tokenizer=tok, bucket_rows=3)
    assert not any(v["changed"] for v in again.values() if isinstance(v, dict) and "changed" in v)
    assert {k: len(area_versions(store.engine, *k.split("/", 1))) for k in after} == counts
    # and a full rebuild leaves the same area copies (the batch ids of the rows not recomputed aside)
    publish_stage_forms(store, slice_catalog, tokenizer=tok, incremental=False)
    full = _area_copies(store)
    for name, (rows, _, _) in after.items():
        drop = [c for c in ("_batch_id",) if c in rows.column_names]
        assert _sorted(rows.drop_columns(drop)).equals(_sorted(full[name][0].drop_columns(drop))), name
        if not drop:
            assert after[name][2] == full[name][2], name
