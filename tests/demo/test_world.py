"""The demo world: deterministic, coherent across systems, valid identifiers, dirt with ground truth."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from demo_helpers import check_schema, live_columns, read_form, source_for
from paths import FULL as PROJECT_CATALOG
from paths import SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.demo import idgen
from quancheng.demo.dirt import PATTERN_BY_NAME
from quancheng.demo.seed import seed_world
from quancheng.demo.world import World, load_world
from quancheng.sources.base import Window
from quancheng.sources.types import source_keys


def test_world_json_has_the_agreed_keys(world: World) -> None:
    data = json.loads((Path(world.dir) / "world.json").read_text(encoding="utf-8"))
    for key in ("engines", "scale", "seed", "systems", "interval", "manifest"):
        assert key in data
    for info in data["systems"].values():
        assert {"kind", "conn_id", "uri"} <= set(info)
    assert datetime.fromisoformat(data["interval"]["start"]) < datetime.fromisoformat(data["interval"]["end"])
    assert load_world(Path(world.dir)).to_dict() == data


def test_same_seed_same_data(slice_catalog: Catalog, world: World, tmp_path: Path) -> None:
    again = seed_world(slice_catalog, tmp_path / "again", scale=world.scale, seed=world.seed)
    for form in slice_catalog.forms:
        assert read_form(again, slice_catalog, form).equals(read_form(world, slice_catalog, form))
    manifest = "manifest.parquet"
    assert pq.read_table(Path(again.dir) / manifest).equals(pq.read_table(Path(world.dir) / manifest))


def test_updated_timestamps_fall_in_the_interval(slice_catalog: Catalog, world: World) -> None:
    start, end = (datetime.fromisoformat(world.interval[k]) for k in ("start", "end"))
    for form in slice_catalog.forms:
        if not form.updated_column:
            continue
        table = read_form(world, slice_catalog, form)
        inside = source_for(world, slice_catalog, form).read(form, Window(start, end), 10_000)
        assert sum(b.num_rows for b in inside) == table.num_rows


def _dirty_keys(world: World, form_table: str) -> set[str]:
    m = pq.read_table(Path(world.dir) / "manifest.parquet").to_pylist()
    return {r["source_key"] for r in m if r["table"] == form_table}


def _identifier_columns(catalog: Catalog, form_id: str, kind: str) -> list[str]:
    return [m.column for m in catalog.mappings_of(form_id)
            if catalog.element[m.element_id].identifier_kind == kind]


@pytest.mark.parametrize("kind", ["uscc", "project_code"])
def test_clean_identifiers_are_valid(slice_catalog: Catalog, world: World, kind: str) -> None:
    import re

    project = re.compile(r"^(20\d{2}-\d{6}-\d{2}-\d{2}-\d{6}|\d{4}-\d{6}-\d{2}-\d{2}-\d{5}[0-9A-Z])$")
    checked = 0
    for form in slice_catalog.forms:
        table = read_form(world, slice_catalog, form)
        keys = source_keys(table, form.primary_key).to_pylist()
        dirty = _dirty_keys(world, form.table)
        for col in _identifier_columns(slice_catalog, form.form_id, kind):
            for key, value in zip(keys, table[col].to_pylist(), strict=True):
                if key in dirty or value is None:
                    continue
                checked += 1
                if kind == "uscc":
                    assert idgen.uscc_check(value[:17]) == value[17], (form.table, col, value)
                    assert idgen.org_check(value[8:16]) == value[16], (form.table, col, value)
                else:
                    assert project.match(value), (form.table, col, value)
    assert checked > 0


def test_pools_cover_the_special_cases(slice_catalog: Catalog) -> None:
    from quancheng.demo.seed import build_values

    v = build_values(slice_catalog, 7, 300)
    assert any(u[0] in "NYA" for u in v.enterprises.uscc)  # letter-prefixed authorities
    for u in v.enterprises.uscc:  # credit codes carry both check characters
        assert idgen.uscc_check(u[:17]) == u[17] and idgen.org_check(u[8:16]) == u[16], u
    assert any(r for r in v.enterprises.reg_no) and all(r is None or len(r) == 15 for r in v.enterprises.reg_no)
    assert any(u[2:6] == "3712" for u in v.enterprises.uscc)  # Laiwu companies keep their old division
    assert any(c[5:11] in ("371202", "371203") for c in v.projects.code)  # pre-2019 Laiwu projects
    assert any(c[5:11] == "370181" for c in v.projects.code)  # pre-2016 Zhangqiu projects
    assert any(len(c) == 24 and c[2] != "-" and c[4] == "-" and c[0:2] == "20" and int(c[:4]) < 2021
               for c in v.projects.code)  # old generation
    assert any((c[4] == "-" and not c.startswith("20")) or c[-1].isalpha() for c in v.projects.code)  # new generation
    for ric, ric15 in zip(v.persons.ric, v.persons.ric15, strict=True):
        assert idgen.ric_check(ric[:17]) == ric[17]
        assert idgen.upgrade_ric15(ric15) == ric


def test_one_project_appears_in_many_systems(slice_catalog: Catalog, world: World) -> None:
    codes: Counter[str] = Counter()
    for form in slice_catalog.forms:
        for col in _identifier_columns(slice_catalog, form.form_id, "project_code"):
            codes.update(set(read_form(world, slice_catalog, form)[col].drop_null().to_pylist()))
    assert sum(1 for n in codes.values() if n >= 2) > 0.5 * len(codes) * 0.5


def test_manifest_is_ground_truth(slice_catalog: Catalog, world: World) -> None:
    manifest = pq.read_table(Path(world.dir) / "manifest.parquet").to_pylist()
    assert manifest, "the default rate dirties some rows"
    by_form = {f.table: f for f in slice_catalog.forms}
    tables = {f.table: read_form(world, slice_catalog, f) for f in slice_catalog.forms}
    for row in manifest:
        form = by_form[row["table"]]
        table = tables[row["table"]]
        keys = source_keys(table, form.primary_key).to_pylist()
        assert row["source_key"] in keys
        assert row["column"] in table.column_names and row["column"] not in form.primary_key
        assert row["expected"] == PATTERN_BY_NAME[row["pattern"]].expected
    per_form = Counter(r["table"] for r in manifest)
    for name, count in per_form.items():
        assert count <= round(0.03 * tables[name].num_rows) + 1


def test_native_schemas_match_the_catalog(world: World, slice_catalog: Catalog) -> None:
    for form in slice_catalog.forms:
        assert live_columns(world, slice_catalog, form) == [f.column for f in slice_catalog.fields_of(form.form_id)]


def test_project_catalog_native_schemas_match_engines(tmp_path: Path) -> None:
    """The catalog in include/catalog (full or slice) seeds, and every form's live columns are fields.csv,
    in types the catalog's native types fit (the sources' own drift check passes)."""
    catalog = load_catalog(PROJECT_CATALOG)
    world = seed_world(catalog, tmp_path / "w", scale=20, seed=3)
    assert set(world.systems) == {s.system_id for s in catalog.systems}
    for form in catalog.forms:
        assert live_columns(world, catalog, form) == [f.column for f in catalog.fields_of(form.form_id)]
        assert check_schema(world, catalog, form) == []


@pytest.mark.postgres
@pytest.mark.mariadb
def test_services_mode_puts_database_systems_on_the_servers(tmp_path: Path) -> None:
    from quancheng.demo.engines import drop_database

    catalog = load_catalog(PROJECT_CATALOG)
    prefix = f"qct{abs(hash(tmp_path)) % 10**6}_"
    world = seed_world(catalog, tmp_path / "w", scale=20, seed=3, engines="services", db_prefix=prefix)
    try:
        for s in catalog.systems:
            assert world.systems[s.system_id]["kind"] == (s.kind if s.kind in ("postgresql", "mariadb", "csv",
                                                                              "excel", "http") else "sqlite")
        for form in catalog.forms:
            assert live_columns(world, catalog, form) == [f.column for f in catalog.fields_of(form.form_id)]
            assert read_form(world, catalog, form).num_rows == world.forms[form.form_id]["rows"]  # checks types too
    finally:
        for s in catalog.systems:
            if s.kind in ("postgresql", "mariadb"):
                drop_database(s.kind, f"{prefix}{s.system_id}")  # type: ignore[arg-type]


@pytest.mark.postgres
def test_seeding_services_again_drops_only_what_this_folder_created(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The slice catalog's PostgreSQL system on the real server, under a prefix of this test's own."""
    import uuid

    from quancheng.cli import main
    from quancheng.demo.engines import database_exists, drop_database, recreate_database
    from quancheng.errors import QuanchengError

    monkeypatch.setenv("QUANCHENG_CATALOG", str(SLICE))
    catalog = load_catalog(SLICE)
    prefix = f"qcerr{uuid.uuid4().hex[:6]}_"
    pg = [f"{prefix}{s.system_id}" for s in catalog.systems if s.kind == "postgresql"]
    assert pg
    home = tmp_path / "demo"

    def seed(*extra: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            main(["demo", "seed", "--dir", str(home), "--scale", "5", "--engines", "services",
                  "--db-prefix", prefix, *extra])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, capsys.readouterr().err

    try:
        recreate_database("postgresql", pg[0])  # somebody else's database that happens to have the name
        code, err = seed()
        assert code == 2 and pg[0] in err and "not created by a seed" in err and "nothing was dropped" in err
        drop_database("postgresql", pg[0])

        assert seed() == (0, "")  # a fresh seed creates and records its databases
        recorded = json.loads((home / "world" / "world.json").read_text())["databases"]
        assert {d["name"] for d in recorded} == set(pg) and all(database_exists("postgresql", d) for d in pg)

        code, err = seed()  # again, not on a terminal and without --yes: refused, nothing dropped
        assert code == 2 and "--yes" in err and pg[0] in err
        with pytest.raises(QuanchengError, match="--yes"):
            seed_world(catalog, home / "world", scale=5, engines="services", db_prefix=prefix)
        code, err = seed("--yes")
        assert code == 0 and f"postgresql {pg[0]}" in err  # it says what it drops
    finally:
        for db in pg:
            drop_database("postgresql", db)
