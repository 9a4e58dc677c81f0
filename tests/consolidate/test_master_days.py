"""Issue 12: the enterprise master after a day matches again only the entities the changed rows reach, and
leaves exactly what matching every mention leaves (but the batch id of the master rows not recomputed):
datasets, state and area copies. Days of random inserts, updates and deletes over identifiers and names
chosen to merge, split, clash and vary entities."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from issue6_builders import bad_check, extended_catalog, org_code, reg_no, system_table, uscc
from quancheng.consolidate import master_days, run
from quancheng.consolidate.enterprise import (
    LINKS_DATASET,
    LINKS_ORDER,
    MASTER_DATASET,
    NAMES_DATASET,
    REVIEW_DATASET,
    build_enterprise_master,
)
from quancheng.publish import delta
from quancheng.publish.store import SharedStore, sql_name
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.tokenize import Tokenizer

U = [uscc("MA3C4X5Y"), uscc("12345678"), uscc("MA9WWWW1"), uscc("MA7ABCD2"), uscc("MA5BCDE3"),
     uscc("87654321", region="370200")] + [uscc(f"MA6XYW{i:02d}") for i in range(12)]
ORGS = [org_code("MA3C4X5Y"), org_code("87654321"), org_code("55554444"), org_code("12345678")]
REGS = [reg_no(7), reg_no(8), reg_no(9)]
NAMES = ["济南恒达建设有限公司", "恒达建设有限责任公司", "恒达建设集团有限公司", "山东泉城置业有限公司",
         "济南泉城置业有限公司", "老字号商行", "老字号商行有限公司", "某某公司", "另一公司", "新名置业有限公司"] + [
    f"{w}{k}有限公司" for w in ("济南华", "山东鲁", "泉城") for k in ("安建设", "信置业", "通物流", "丰商贸")]
FORMS = {  # form -> (dataset, {column: pool})
    "amr_enterprise_reg": ("amr_enterprise.amr_enterprise_reg",
                           {"enterprise_uscc": [*U, bad_check(U[3])], "enterprise_name": NAMES}),
    "ndrc_filing": ("ndrc_investment.ndrc_filing",
                    {"construction_unit_uscc": [*U, None], "construction_unit_name": [*NAMES, None]}),
    "hcb_permit": ("hcb_construction_permit.hcb_permit", {"construction_unit_name": NAMES}),
    "qual_cert": ("hrss_qualification.qual_cert",
                  {"enterprise_org_code": [*ORGS, None], "enterprise_reg_no": [*REGS, None],
                   "enterprise_name": NAMES}),
}
TOK = Tokenizer(b"k" * 32)
STATE_ORDER = ["entity_id", "dataset_id", "source_key", "role"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):  # type: ignore[no-untyped-def]
    return extended_catalog(tmp_path_factory.mktemp("cat"))


def _row(rng: random.Random, form: str, n: int) -> dict[str, Any]:
    cols = FORMS[form][1]
    row: dict[str, Any] = {c: rng.choice(pool) for c, pool in cols.items()}
    row["_source_key"] = f"{form}-{n}"
    row["source_updated_at"] = datetime(2026, 1, 1 + n % 28, 9, n % 60)
    if form in ("ndrc_filing", "hcb_permit"):
        row["project_code"] = f"2019-370102-47-01-{n:06d}"
    return row


class World:
    """Rows per form, kept as the sources would, and merged into the store day by day."""

    def __init__(self, store: SharedStore, catalog: Any, seed: int, rows: int = 12):
        self.store, self.catalog, self.rng, self.next = store, catalog, random.Random(seed), 0
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        for form, (ds, _) in FORMS.items():
            self.rows[form] = {r["_source_key"]: r for r in (self._new(form) for _ in range(rows))}
            store.publish(ds, system_table(catalog, form, list(self.rows[form].values())), kind="system",
                          batch_id="b0")

    def _new(self, form: str) -> dict[str, Any]:
        self.next += 1
        return _row(self.rng, form, self.next)

    def day(self, changes: int, batch: str) -> None:
        """``changes`` random inserts, updates and deletes, merged into each form's dataset."""
        upserts: dict[str, dict[str, dict[str, Any]]] = {f: {} for f in FORMS}
        deleted: dict[str, set[str]] = {f: set() for f in FORMS}
        for _ in range(changes):
            form = self.rng.choice(list(FORMS))
            held = self.rows[form]
            what = self.rng.choice(["insert", "update", "update", "delete"])
            if what == "insert" or not held:
                row = self._new(form)
            elif what == "update":
                row = dict(held[self.rng.choice(sorted(held))])
                column = self.rng.choice(list(FORMS[form][1]))
                row[column] = self.rng.choice(FORMS[form][1][column])
            else:
                key = self.rng.choice(sorted(held))
                del held[key]
                upserts[form].pop(key, None)
                deleted[form].add(key)
                continue
            held[row["_source_key"]] = row
            upserts[form][row["_source_key"]] = row
            deleted[form].discard(row["_source_key"])
        for form, (ds, _) in FORMS.items():
            if upserts[form] or deleted[form]:
                self.store.merge(ds, system_table(self.catalog, form, list(upserts[form].values()), batch_id=batch),
                                 pa.array(sorted(deleted[form]), pa.string()), kind="system", batch_id=batch)


def _sorted(t: pa.Table, keys: list[str]) -> pa.Table:
    return t.sort_by([(k, "ascending") for k in keys]).replace_schema_metadata(None)


def _plain(t: pa.Table) -> pa.Table:
    return pa.table({c: t[c].to_pylist() for c in t.column_names})


def _equal_to_whole_matching(store: SharedStore, catalog: Any) -> None:
    """Every output and the state equal matching every current mention at once (but master batch ids)."""
    datasets = {ds: t for ds, _ in FORMS.values() if (t := store.read(ds)) is not None}
    whole = build_enterprise_master(datasets, catalog, batch_id="whole")
    for ds, want, keys in ((MASTER_DATASET, whole.master, ["entity_id"]),
                           (NAMES_DATASET, whole.names, ["entity_id", "name"]),
                           (LINKS_DATASET, whole.links, LINKS_ORDER), (REVIEW_DATASET, whole.review, ["review_id"]),
                           (master_days.STATE_TABLE, master_days.state_rows(whole), STATE_ORDER)):
        got = delta.read(master_days.state_uri(store)) if ds == master_days.STATE_TABLE else store.read(ds)
        assert got is not None
        drop = [c for c in ("_batch_id",) if c in want.column_names]
        got, want = (_plain(_sorted(t.drop_columns(drop), keys)) for t in (got, want))
        assert got.equals(want), (ds, got.to_pylist(), want.to_pylist())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_days_match_again_only_what_changed_and_equal_a_whole_matching(tmp_path, catalog, seed: int,
                                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = SharedStore(tmp_path / "home")
    world = World(store, catalog, seed)
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    _equal_to_whole_matching(store, catalog)
    whole: list[str] = []
    real = run._master_whole
    monkeypatch.setattr(run, "_master_whole", lambda *a: whole.append("whole") or real(*a))
    days: list[int] = []
    real_day = master_days.build_day

    def day(*a: Any, **kw: Any) -> master_days.Day:
        out = real_day(*a, **kw)
        days.append(len(out.before))
        return out

    monkeypatch.setattr(master_days, "build_day", day)
    for n in range(5):
        world.day(world.rng.randint(1, 4), f"d{n}")
        if n % 2:  # two syncs' commits before the master runs: a row's image is that of its last commit
            world.day(world.rng.randint(2, 4), f"d{n}b")
        run.publish_enterprise_master(store, catalog, tokenizer=TOK)
        _equal_to_whole_matching(store, catalog)
    assert whole == [] and len(days) == 5
    total = len({r["entity_id"] for r in store.read(MASTER_DATASET, columns=["entity_id"]).to_pylist()})  # type: ignore[union-attr]
    assert min(days) < total  # some day matched a part of the entities only


def _copies(store: SharedStore) -> dict[str, pa.Table]:
    """The master's area copies: their current Parquet rows, checked against their SQL tables' row counts."""
    out: dict[str, pa.Table] = {}
    for r in AreaStore(store, None).listing():  # type: ignore[arg-type]
        schema, ds = str(r["schema_name"]), str(r["dataset_id"])
        if not ds.startswith("master."):
            continue
        rows = pq.read_table(Path(str(r["parquet_path"])) / "data.parquet")
        with closing(sqlite3.connect(store.root / "areas" / f"{schema}.db")) as db:
            assert db.execute(f'SELECT count(*) FROM "{sql_name(ds)}"').fetchone() == (rows.num_rows,), (schema, ds)
        out[f"{schema}/{ds}"] = rows
    return out


def test_a_day_merges_the_area_copies_as_sharing_them_whole_does(tmp_path, catalog) -> None:  # type: ignore[no-untyped-def]
    store = SharedStore(tmp_path / "home")
    world = World(store, catalog, 7)
    first = run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    assert not any(master_days.STATE_TABLE in k for k in first)  # internal: never published nor shared
    assert master_days.STATE_TABLE not in {d["dataset_id"] for d in store.datasets()}
    world.day(3, "d1")
    day = run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    assert any(v["changed"] for v in day.values())
    after = _copies(store)
    again = run.publish_enterprise_master(store, catalog, tokenizer=TOK)  # a rerun changes nothing
    assert not any(v["changed"] for v in again.values())
    run.publish_enterprise_master(store, catalog, tokenizer=TOK, incremental=False)
    full = _copies(store)
    assert set(after) == set(full) and len(full) >= 4
    for name, rows in after.items():
        drop = [c for c in ("_batch_id",) if c in rows.column_names]
        keys = [c for c in ("entity_id", "name", "review_id", "dataset_id", "source_key", "role")
                if c in rows.column_names]
        assert _sorted(rows.drop_columns(drop), keys).equals(_sorted(full[name].drop_columns(drop), keys)), name


def test_another_matching_rule_or_a_new_input_builds_whole(tmp_path, catalog) -> None:  # type: ignore[no-untyped-def]
    store = SharedStore(tmp_path / "home")
    World(store, catalog, 5)
    inputs = master_days.inputs_of(store, catalog)
    assert master_days.plan(store, catalog, inputs).reason == "no earlier build"
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    quiet = master_days.plan(store, catalog, inputs)
    assert not quiet.whole and quiet.touched == {}
    fewer = {ds: v for ds, v in inputs.items() if not ds.startswith("hcb")}
    assert master_days.plan(store, catalog, fewer).reason == "the input datasets changed"
    from quancheng.consolidate.incremental import write_state

    write_state(store, master_days.STEP, catalog, inputs, rules="other")
    assert master_days.plan(store, catalog, inputs).reason == "the matching rules changed"


def test_name_variants_across_entities_a_day_does_not_match(tmp_path, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A name-only entity renamed away from, then back to, a variant of an identified entity's name: the pair
    leaves and re-enters review, and the identified entity's ``in_review`` follows, though a day matches the
    renamed entity alone (the identified one is outside its component)."""
    store = SharedStore(tmp_path / "home")
    amr, hcb = FORMS["amr_enterprise_reg"][0], FORMS["hcb_permit"][0]
    store.publish(amr, system_table(catalog, "amr_enterprise_reg", [
        {"enterprise_uscc": U[0], "enterprise_name": "济南恒达建设有限公司", "_source_key": "a"},
        {"enterprise_uscc": U[1], "enterprise_name": "山东鲁信置业有限公司", "_source_key": "b"}]),
        kind="system", batch_id="b0")
    store.publish(hcb, system_table(catalog, "hcb_permit", [
        {"project_code": "2019-370102-47-01-000001", "construction_unit_name": "恒达建设有限责任公司",
         "_source_key": "p1"}]), kind="system", batch_id="b0")
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)

    def in_review() -> dict[str, bool]:
        t = store.read(MASTER_DATASET, columns=["entity_id", "in_review"])
        assert t is not None
        return dict(zip(t["entity_id"].to_pylist(), t["in_review"].to_pylist(), strict=True))

    def rename(name: str, batch: str) -> None:
        store.merge(hcb, system_table(catalog, "hcb_permit", [
            {"project_code": "2019-370102-47-01-000001", "construction_unit_name": name, "_source_key": "p1"}]),
            pa.array([], pa.string()), kind="system", batch_id=batch)

    identified = f"uscc:{U[0]}"
    assert in_review()[identified]
    components: list[set[str]] = []
    real = master_days.build_day
    monkeypatch.setattr(master_days, "build_day", lambda *a, **kw: components.append((d := real(*a, **kw)).before) or d)
    rename("泉城丰商贸有限公司", "d1")
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    assert not in_review()[identified]
    _equal_to_whole_matching(store, catalog)
    rename("恒达建设有限责任公司", "d2")
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    assert in_review()[identified]
    _equal_to_whole_matching(store, catalog)
    assert len(components) == 2 and not any(identified in c for c in components)


def test_an_organisation_code_given_beside_another_credit_code_follows_its_entity(tmp_path, full_catalog) -> None:  # type: ignore[no-untyped-def]
    """An entity's review row names the entity holding the organisation code it was given beside its credit
    code; when that entity is renamed, a day (matching the renamed one's component) renames it there too."""
    store = SharedStore(tmp_path / "home")
    amr = "amr_enterprise.amr_enterprise_reg"
    given = org_code("55554444")

    def publish(name: str, batch: str) -> None:
        rows = [{"enterprise_uscc": U[0], "enterprise_org_code": given, "enterprise_name": "济南恒达建设有限公司",
                 "_source_key": "x"}, {"enterprise_org_code": given, "enterprise_name": name, "_source_key": "y"}]
        table = system_table(full_catalog, "amr_enterprise_reg", rows, batch_id=batch)
        if store.version(amr) is None:
            store.publish(amr, table, kind="system", batch_id=batch)
        else:
            store.merge(amr, table.slice(1), pa.array([], pa.string()), kind="system", batch_id=batch)
        run.publish_enterprise_master(store, full_catalog, tokenizer=TOK)

    def named(review: pa.Table | None = None) -> list[tuple[str, dict[str, str]]]:
        t = review if review is not None else store.read(REVIEW_DATASET)
        assert t is not None
        return [(r["reason"], {r["entity_id_a"]: r["name_a"], r["entity_id_b"]: r["name_b"]}) for r in t.to_pylist()]

    publish("另一公司", "b0")
    other = f"org:{given}"
    assert named() == [("org_code_mismatch", {other: "另一公司", f"uscc:{U[0]}": "济南恒达建设有限公司"})]
    publish("第三公司", "d1")
    assert named() == [("org_code_mismatch", {other: "第三公司", f"uscc:{U[0]}": "济南恒达建设有限公司"})]
    datasets = {amr: store.read(amr)}
    assert named(build_enterprise_master(datasets, full_catalog, batch_id="whole").review) == named()  # type: ignore[arg-type]


def test_a_day_reaching_most_mentions_is_built_whole(tmp_path, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One changed row whose name many other rows bear: its component is larger than the share allowed, so
    the day is built whole (and gives what a whole build gives)."""
    from collections import Counter

    store = SharedStore(tmp_path / "home")
    world = World(store, catalog, 11)
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    named = Counter(r.get("construction_unit_name") or r.get("enterprise_name")
                    for rows in world.rows.values() for r in rows.values())
    common, n = named.most_common(1)[0]
    assert n >= 3
    monkeypatch.setattr(master_days, "MIN_ROWS", 0)
    monkeypatch.setattr(master_days, "MAX_TOUCHED_SHARE", 1.5 / master_days.held_mentions(store))
    calls: list[str] = []
    real, real_day = run._master_whole, master_days.build_day
    monkeypatch.setattr(run, "_master_whole", lambda *a: calls.append("whole") or real(*a))
    monkeypatch.setattr(master_days, "build_day", lambda *a, **kw: calls.append("day") or real_day(*a, **kw))
    row = {**world.rows["hcb_permit"][sorted(world.rows["hcb_permit"])[0]], "construction_unit_name": common}
    store.merge(FORMS["hcb_permit"][0], system_table(catalog, "hcb_permit", [row], batch_id="d1"),
                pa.array([], pa.string()), kind="system", batch_id="d1")
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    assert calls == ["day", "whole"]
    _equal_to_whole_matching(store, catalog)


def test_a_day_killed_half_way_is_followed_by_a_whole_build(tmp_path, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Killed after replacing the master's rows but before the names, links and state: the next run does
    not trust the state (its record is gone) and builds whole, which leaves what matching every mention does."""
    store = SharedStore(tmp_path / "home")
    world = World(store, catalog, 13)
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    world.day(4, "d1")
    real = SharedStore.replace_keys

    def killed(self: SharedStore, dataset_id: str, *a: Any, **kw: Any) -> Any:
        if dataset_id != MASTER_DATASET:
            raise KeyboardInterrupt("killed")
        return real(self, dataset_id, *a, **kw)

    monkeypatch.setattr(SharedStore, "replace_keys", killed)
    with pytest.raises(KeyboardInterrupt):
        run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    monkeypatch.undo()
    inputs = master_days.inputs_of(store, catalog)
    assert master_days.plan(store, catalog, inputs).reason == "no earlier build"
    world.day(2, "d2")
    run.publish_enterprise_master(store, catalog, tokenizer=TOK)
    _equal_to_whole_matching(store, catalog)
    assert master_days.up_to_date(store, catalog, master_days.inputs_of(store, catalog))
