"""On the demo world of the full catalog (35 systems, seeded small), checked against the seed's own ground
truth: the stage forms hold exactly the projects that reached each stage (as far as the sources show them),
the master holds the pool's enterprises and invents none, conflicts follow the rule, and the materials
dataset gives the reform figure. The syncs run in-process (the Airflow path is tested elsewhere)."""

from __future__ import annotations

from datetime import datetime

import pytest
from quancheng import pipeline
from quancheng.catalog.stats import compute
from quancheng.consolidate.cases import CASES_DATASET, case_elements, case_forms
from quancheng.consolidate.keys import project_key
from quancheng.consolidate.run import (
    publish_cases,
    publish_enterprise_master,
    publish_materials,
    publish_stage_forms,
    share_system_datasets,
)
from quancheng.consolidate.stage_forms import keyed_forms
from quancheng.publish.store import SharedStore
from quancheng.sharing.scan import clear_id_numbers
from quancheng.sources import Window

pytestmark = pytest.mark.xdist_group("demo_world")
SEED, SCALE = 11, 12


@pytest.fixture(scope="module")
def world(tmp_path_factory, full_catalog):  # type: ignore[no-untyped-def]
    from quancheng.demo.run import _ceil_to_day, served_world
    from quancheng.demo.seed import build_values, seed_world

    catalog = full_catalog
    home = tmp_path_factory.mktemp("demo_world")
    seeded = seed_world(catalog, home / "world", scale=SCALE, seed=SEED)
    values = build_values(catalog, SEED, SCALE)  # the same pools the seed drew from: the ground truth
    end = _ceil_to_day(datetime.fromisoformat(seeded.interval["end"]))
    with served_world(home / "world", seeded.to_dict()) as uris:
        for sid, info in seeded.systems.items():
            pipeline.run_system(sid, Window(None, end), catalog=catalog, home=home, uri=uris.get(sid, info["uri"]))
    store = SharedStore(home)
    outputs = {**share_system_datasets(store, catalog), **publish_stage_forms(store, catalog),
               **publish_enterprise_master(store, catalog), **publish_materials(store, catalog),
               **publish_cases(store, catalog)}
    return catalog, values, store, home, outputs


def test_stage_forms_hold_the_projects_that_reached_each_stage(world) -> None:  # type: ignore[no-untyped-def]
    catalog, values, store, _, _ = world
    reached = dict(zip(values.projects.code, (int(r) for r in values.projects.reached), strict=True))
    keyed = keyed_forms(catalog)
    for stage in catalog.stages:
        rows = store.read(f"stage.{stage.stage_id}")["project_code"].to_pylist()
        assert rows, stage.stage_id
        assert all(reached.get(c, 0) >= stage.order for c in rows), stage.stage_id  # no project that did not
        shown: set[str] = set()
        for f in keyed:
            t = store.read(f"{f.system_id}.{f.form_id}") if f.stage_id == stage.stage_id else None
            if t is not None:
                shown |= set(project_key(t["project_code"]).drop_null().to_pylist())
        assert set(rows) == shown  # and every project a source of the stage shows


def test_master_holds_the_pool_enterprises_and_invents_none(world) -> None:  # type: ignore[no-untyped-def]
    _, values, store, _, _ = world
    master = store.read("master.enterprise")
    codes = [c for c in master["enterprise_uscc"].to_pylist() if c]
    assert codes and set(codes) <= set(values.enterprises.uscc)
    assert len(codes) == len(set(codes))
    amr = store.read("amr_enterprise.amr_enterprise_reg")
    assert amr is not None
    assert set(amr["enterprise_uscc"].drop_null().to_pylist()) <= set(codes)


def test_conflicts_follow_the_rule(world) -> None:  # type: ignore[no-untyped-def]
    catalog, _, store, _, _ = world
    conflicts = store.read("conflicts.stage_forms").to_pylist()
    assert conflicts
    for r in conflicts:
        auth = catalog.element_by_key[r["element_key"]].authority_system
        assert (r["rule"] == "authority_system") == (r["winner_system"] == auth)
        assert r["value"] != r["winner_value"]


def test_materials_and_no_clear_ids(world) -> None:  # type: ignore[no-untyped-def]
    catalog, _, _, home, outputs = world
    assert outputs["materials.by_stage"]["summary"]["after"] == compute(catalog)["materials_after"]
    opened = list((home / "shared" / "areas" / "shared_open").glob("*/data.parquet"))
    assert len(opened) > len(catalog.forms)
    import pyarrow.parquet as pq

    for p in opened:
        assert clear_id_numbers(pq.read_table(p), catalog) == [], p


def test_the_case_record_holds_every_case_of_every_item_once(world) -> None:  # type: ignore[no-untyped-def]
    catalog, _, store, _, outputs = world
    cases = store.read(CASES_DATASET)
    keys = [e.key for e in case_elements(catalog)]
    assert {"case_accepted_date", "case_decision_date", "case_no"} <= set(keys)
    expected = 0
    by_ds = {}
    for form in case_forms(catalog):
        t = store.read(f"{form.system_id}.{form.form_id}")
        if t is None:
            continue
        expected += t.num_rows
        by_ds[f"{form.system_id}.{form.form_id}"] = (form, {r["_source_key"]: r for r in t.to_pylist()})
    assert cases.num_rows == expected > 0  # one row per source row of every case form: none lost, none added
    rows = cases.to_pylist()
    seen = {(r["dataset_id"], r["_source_key"]) for r in rows}
    assert len(seen) == len(rows)
    for r in rows[:: max(1, len(rows) // 400)]:  # each sampled case equals its form's row, with the form's item
        form, t = by_ds[r["dataset_id"]]
        item = catalog.item_of_form.get(form.form_id)
        assert r["item_id"] == (item.item_id if item else None)
        src = t[r["_source_key"]]
        assert {k: r[k] for k in keys if k in src} == {k: src[k] for k in keys if k in src}
    one_window = [r for r in rows if r["item_id"] is None]
    assert {r["_source_system"] for r in one_window} == {"asb_one_window"}  # the one-window rows name their own item
    assert sum(bool(r["service_item_code"]) for r in one_window) > 0.9 * len(one_window)
    # the case record is not on the stage forms: each item has its own dates, they are no project fact
    for stage in catalog.stages:
        assert not set(keys) & set(store.read(f"stage.{stage.stage_id}").column_names)
    again = publish_cases(store, catalog)
    assert again[CASES_DATASET]["content_hash"] == outputs[CASES_DATASET]["content_hash"]
    assert not again[CASES_DATASET]["changed"]


def test_a_day_merged_into_the_area_copies_equals_sharing_them_whole(world) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 on the full catalog's world: a day (a row deleted, a value cleared) merged into the area copies
    of every system dataset leaves each copy exactly as sharing the whole dataset does: same content hash."""
    import pyarrow as pa
    from quancheng.catalog.light import dataset_id
    from quancheng.consolidate.buckets import sorted_rows, spill_folder
    from quancheng.publish.store import KEY
    from quancheng.sharing.areas import AreaStore
    from quancheng.sharing.publish import share_system_dataset, tokenizer_for

    catalog, _, store, _, _ = world
    originals = {}
    for form in catalog.forms:
        ds = dataset_id(form)
        table = store.read(ds)
        if table is None or table.num_rows < 3:
            continue
        originals[ds] = table
        text = next((f.name for f in table.schema if pa.types.is_string(f.type) and not f.name.startswith("_")), None)
        changed = table.slice(1, 1)
        if text is not None:
            changed = changed.set_column(changed.schema.get_field_index(text), text, pa.nulls(1, pa.string()))
        store.merge(ds, changed, table[KEY].slice(0, 1).combine_chunks(), kind="system", batch_id="merge_day")
    try:
        merged = share_system_datasets(store, catalog)
        assert any(v["changed"] for v in merged.values())
        areas, tok = AreaStore(store, catalog), tokenizer_for(store)
        with spill_folder(store, "check_") as folder:
            for form in catalog.forms:
                ds = dataset_id(form)
                if ds in originals:
                    whole = share_system_dataset(store, catalog, form, sorted_rows(store, ds, [KEY], folder),
                                                 batch_id="whole", areas=areas, tokenizer=tok)
                    assert not [k for k, v in whole.items() if v["changed"]], ds
                    assert originals[ds][KEY][0].as_py() not in store.read(ds)[KEY].to_pylist()  # the day's delete
    finally:
        for ds, table in originals.items():
            store.publish(ds, table, kind="system", batch_id="restored", sort_by=[KEY])
        share_system_datasets(store, catalog)


def test_a_rerun_or_another_system_s_day_reads_nothing_for_the_master_and_the_case_record(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the enterprise master and the case record are made from their own inputs only (forms naming
    an entity; forms recording a case); while those are unchanged, a run reads nothing and changes nothing."""
    import pyarrow.compute as pc
    from quancheng.consolidate.mentions import entity_roles
    from quancheng.publish.store import KEY

    catalog, _, store, _, _ = world
    first = {**publish_enterprise_master(store, catalog), **publish_cases(store, catalog)}
    read: list[str] = []
    monkeypatch.setattr(store, "read", lambda ds, **kw: read.append(ds))
    monkeypatch.setattr(store, "scan", lambda ds, **kw: read.append(ds) or iter(()))
    assert {**publish_enterprise_master(store, catalog), **publish_cases(store, catalog)} == {
        k: {**v, "changed": False} for k, v in first.items()}
    assert read == []
    monkeypatch.undo()
    # a day of a system that names no entity and records no case
    cases, roles = {f.form_id for f in case_forms(catalog)}, entity_roles(catalog)
    other = next(f for f in catalog.forms if f.form_id not in cases and not roles.get(f.form_id)
                 and store.schema(f"{f.system_id}.{f.form_id}") is not None)
    ds = f"{other.system_id}.{other.form_id}"
    original = store.read(ds)
    try:
        store.publish(ds, original.filter(pc.not_equal(original[KEY], original[KEY][0])), kind="system",
                      batch_id="other_day", sort_by=[KEY])
        monkeypatch.setattr(store, "read", lambda ds, **kw: read.append(ds))
        monkeypatch.setattr(store, "scan", lambda ds, **kw: read.append(ds) or iter(()))
        publish_enterprise_master(store, catalog)
        publish_cases(store, catalog)
        assert read == []
    finally:
        monkeypatch.undo()
        store.publish(ds, original, kind="system", batch_id="restored", sort_by=[KEY])


def test_the_case_record_follows_the_next_day_and_a_quiet_one(world) -> None:  # type: ignore[no-untyped-def]
    """The next day a case is withdrawn and another decided later: the case record follows; a quiet rerun
    changes nothing. (Runs last: it puts the form's dataset back as it was.)"""
    import pyarrow as pa
    import pyarrow.compute as pc
    from quancheng.publish.store import KEY

    catalog, _, store, _, _ = world
    form = next(f for f in case_forms(catalog) if f.form_id in catalog.item_of_form
                and any(e.key == "case_decision_date" for e in catalog.elements_of(f.form_id)))
    ds = f"{form.system_id}.{form.form_id}"
    original = store.read(ds)
    gone, later = original[KEY][0].as_py(), original[KEY][1].as_py()
    day2 = original.filter(pc.not_equal(original[KEY], gone))
    decided = day2["case_decision_date"]
    moved = pc.if_else(pc.equal(day2[KEY], later), pa.scalar(datetime(2026, 1, 5).date()), decided)
    day2 = day2.set_column(day2.schema.get_field_index("case_decision_date"), "case_decision_date", moved)
    try:
        store.publish(ds, day2, kind="system", batch_id="next_day", sort_by=[KEY])
        out = publish_cases(store, catalog)
        assert out[CASES_DATASET]["changed"]
        rows = [r for r in store.read(CASES_DATASET).to_pylist() if r["dataset_id"] == ds]
        assert {r[KEY] for r in rows} == set(day2[KEY].to_pylist())  # the withdrawn case is gone
        assert next(r for r in rows if r[KEY] == later)["case_decision_date"] == datetime(2026, 1, 5).date()
        assert not publish_cases(store, catalog)[CASES_DATASET]["changed"]  # a quiet day
    finally:
        store.publish(ds, original, kind="system", batch_id="restored", sort_by=[KEY])
        publish_cases(store, catalog)
