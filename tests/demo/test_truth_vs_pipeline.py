"""The demo world's ground truth against the pipeline: every system of the full catalog, seeded small and synced.

The seed writes a manifest of the dirt it injected (system, table, source key, column, pattern, and whether
normalization must fix it or validation must quarantine it). A clean row that gets quarantined, a dirty
row that slips through, or a row that is neither published nor quarantined is a bug in the demo generator
or in normalize/validate; these tests name the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from quancheng import pipeline
from quancheng.catalog import Catalog
from quancheng.demo.run import _ceil_to_day, _world_dict, served_world
from quancheng.demo.seed import seed_world
from quancheng.demo.world import load_world
from quancheng.publish.store import SharedStore
from quancheng.sources import Window

SCALE = 100

Key = tuple[str, str]  # (_source_table, _source_key)


@dataclass
class Synced:
    catalog: Catalog
    totals: dict[str, dict[str, int]]  # system_id -> extracted/valid/quarantined/deleted
    published_rows: dict[str, int]  # system_id -> rows in its published datasets
    quarantined: dict[Key, list[dict[str, str]]]  # quarantined row -> its reasons
    quarantined_rows: dict[str, int]  # system_id -> rows in its quarantine dataset
    manifest: list[dict[str, str]]
    seeded: dict[str, int]  # system_id -> rows the seed wrote into its sources
    home: Path


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, full_catalog: Catalog) -> Iterator[Synced]:
    catalog = full_catalog
    tmp = tmp_path_factory.mktemp("truth")
    seed_world(catalog, tmp / "world", scale=SCALE, seed=7)
    world = _world_dict(load_world(tmp / "world"))
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"]))
    home = tmp / "home"
    totals: dict[str, dict[str, int]] = {}
    with served_world(tmp / "world", world) as uris:
        for s in catalog.systems:
            uri = uris.get(s.system_id, world["systems"][s.system_id]["uri"])
            ref = pipeline.run_system(s.system_id, Window(None, end), catalog=catalog, home=home, uri=uri)
            totals[s.system_id] = pipeline.totals(ref)
    store = SharedStore(home)
    published: dict[str, int] = {}
    quarantined: dict[Key, list[dict[str, str]]] = {}
    q_rows: dict[str, int] = {}
    for s in catalog.systems:
        tables = [store.read(f"{s.system_id}.{f.form_id}", columns=["_source_key"])
                  for f in catalog.forms if f.system_id == s.system_id]
        published[s.system_id] = sum(t.num_rows for t in tables if t is not None)
        q = store.read(f"quarantine.{s.system_id}")
        rows = q.to_pylist() if q is not None else []
        q_rows[s.system_id] = len(rows)
        for r in rows:
            quarantined[(str(r["_source_table"]), str(r["_source_key"]))] = json.loads(r["reasons"])
    manifest = [{k: str(v) for k, v in r.items()}
                for r in pq.read_table(tmp / "world" / "manifest.parquet").to_pylist()]
    seeded: dict[str, int] = {}
    for f in world["forms"].values():
        seeded[f["system_id"]] = seeded.get(f["system_id"], 0) + int(f["rows"])
    yield Synced(catalog, totals, published, quarantined, q_rows, manifest, seeded, home)


def test_no_row_is_lost(synced: Synced) -> None:
    bad = {sid: {**t, "published_rows": synced.published_rows[sid], "quarantine_rows": synced.quarantined_rows[sid]}
           for sid, t in synced.totals.items()
           if t["extracted"] != t["valid"] + t["quarantined"]
           or synced.published_rows[sid] != t["valid"] or synced.quarantined_rows[sid] != t["quarantined"]}
    assert not bad, f"rows lost or counted twice: {bad}"
    assert all(t["extracted"] > 0 for t in synced.totals.values()), synced.totals


def test_every_seeded_row_is_extracted(synced: Synced) -> None:
    """The window ends where the seeded interval does, in the systems' own clock (Beijing time): read as UTC,
    rows stamped in the interval's last eight hours were left out while every run said success."""
    short = {sid: (synced.totals[sid]["extracted"], n) for sid, n in synced.seeded.items()
             if synced.totals[sid]["extracted"] != n}
    assert not short, f"(extracted, seeded) per system: {short}"


def test_quarantine_rate_within_threshold(synced: Synced) -> None:
    t = synced.totals
    over = {s.system_id: f"{t[s.system_id]['quarantined']}/{t[s.system_id]['extracted']} > {s.quarantine_threshold:.0%}"
            for s in synced.catalog.systems
            if t[s.system_id]["quarantined"] > s.quarantine_threshold * t[s.system_id]["extracted"]}
    assert not over, f"systems over their quarantine threshold: {over}"


def _mentions(reasons: list[dict[str, str]], column: str) -> bool:
    return any(column in str(r.get("column", "")).split("|") for r in reasons)


def _expected(synced: Synced) -> list[dict[str, str]]:
    return [m for m in synced.manifest if m["expected"] == "quarantined"]


def test_injected_dirt_is_quarantined_with_its_column(synced: Synced) -> None:
    expected = _expected(synced)
    assert expected, "the seed injected no dirt that must be quarantined: the check would be empty"
    missed = [m for m in expected if (m["table"], m["source_key"]) not in synced.quarantined]
    assert not missed, "dirty rows not quarantined:\n" + "\n".join(map(str, missed))
    wrong = [(m, synced.quarantined[(m["table"], m["source_key"])]) for m in expected
             if not _mentions(synced.quarantined[(m["table"], m["source_key"])], m["column"])]
    assert not wrong, "quarantined without a reason naming the dirty column:\n" + "\n".join(map(str, wrong))
    assert {"wan_yuan_mix", "mistyped_identifier", "placeholder"} <= {m["pattern"] for m in expected}


def test_only_dirty_rows_are_quarantined(synced: Synced) -> None:
    dirty = {(m["table"], m["source_key"]) for m in synced.manifest if m["expected"] == "quarantined"}
    fixed = {(m["table"], m["source_key"]): m["pattern"] for m in synced.manifest if m["expected"] == "fixed"}
    unexplained = {k: (fixed.get(k, "clean"), v) for k, v in synced.quarantined.items() if k not in dirty}
    assert not unexplained, "clean or fixable rows quarantined (table, key) -> (pattern, reasons):\n" + \
        "\n".join(f"{k}: {v}" for k, v in unexplained.items())


def test_manifest_names_real_rows(synced: Synced) -> None:
    systems = {s.system_id for s in synced.catalog.systems}
    tables = {f.table for f in synced.catalog.forms}
    odd = [m for m in synced.manifest if m["system_id"] not in systems or m["table"] not in tables]
    assert not odd, odd


def test_no_natural_persons_id_number_reaches_the_open_area(synced: Synced, tmp_path_factory: pytest.TempPathFactory,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed puts natural persons' ID numbers into every column that can hold one (every ``ric`` element and
    some rows of every mixed ``license_no`` 证件号码); shared by the rules, the open area holds none in clear."""
    from click.testing import CliRunner
    from quancheng.consolidate.run import share_system_datasets
    from quancheng.publish.store import SharedStore
    from quancheng.sharing.commands import sharing
    from quancheng.sharing.scan import is_id_number

    catalog = synced.catalog
    home = synced.home
    share_system_datasets(SharedStore(home), catalog)
    can_hold = {e.key for e in catalog.elements if e.identifier_kind in ("ric", "license_no")}
    seen: dict[str, int] = {}
    for path in (home / "shared" / "areas").glob("src_*/*/data.parquet"):  # a system's own area: clear values
        table = pq.read_table(path)
        for col in can_hold & set(table.column_names):
            seen[col] = seen.get(col, 0) + sum(1 for v in table.column(col).to_pylist() if v and is_id_number(v))
    mixed = {e.key for e in catalog.elements if e.identifier_kind == "license_no"} & set(seen)
    assert mixed and all(seen[c] > 0 for c in mixed), seen  # the mixed columns do hold persons' numbers
    assert sum(seen.values()) > 100
    monkeypatch.setenv("QUANCHENG_CATALOG", str(catalog.root))
    result = CliRunner().invoke(sharing, ["scan", "--home", str(home)])
    assert result.exit_code == 0, result.output
