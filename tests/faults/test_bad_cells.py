"""Fault injection: bad cells in a real SQLite source end quarantined with a machine-readable reason (or
repaired by a declared rule), never published broken and never failing the whole system.

The source is the slice catalog's ``amr_enterprise`` served from a SQLite file (its URI decides the engine),
with one row per kind of bad cell. What is checked is what a reader of the shared data meets: Parquet read
back through ``to_pylist``/``to_pandas``, the SQL copy agreeing with it, and the quarantine's reasons naming
the rule, the column and the raw value. A PostgreSQL shared database takes the same batch (a NUL byte used
to crash it). Then a published row is updated into an invalid state: the old version stays published and
says it is superseded (or is withdrawn, by the system's catalog choice).
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from paths import SLICE
from quancheng import parts, pipeline
from quancheng.catalog import Catalog, load_catalog
from quancheng.ids.make import uscc
from quancheng.publish.store import SharedStore
from quancheng.publish.superseded import SUPERSEDED
from quancheng.sources import Window
from scratch_pg import postgres_database

DS, QDS = "amr_enterprise.amr_enterprise_reg", "quarantine.amr_enterprise"
DAY1, DAY2, DAY3 = (datetime(2026, 3, d, tzinfo=UTC) for d in (2, 3, 4))
CODES = [uscc(random.Random(i)) for i in range(10)]
GOOD = ("'企业甲'", "100.5", "'2019-01-01'")
# source key -> (what is wrong, SQL of ent_name, reg_capital, est_date; rule, column, raw value in the reason)
BAD = {
    CODES[1]: ("invalid UTF-8", "CAST(X'FFFEC328626164' AS TEXT)", "1", "'2019-01-01'",
               "text.invalid_utf8", "ent_name", "\ufffd\ufffd\ufffd(bad"),
    CODES[2]: ("NUL byte", "'abc' || char(0) || 'def'", "1", "'2019-01-01'", "text.nul_byte", "ent_name", "abc\0def"),
    CODES[3]: ("REAL 1e20", "'企业乙'", "1e20", "'2019-01-01'", "quantity.too_large", "reg_capital", "1e+20"),
    CODES[4]: ("+inf", "'企业丙'", "9e999", "'2019-01-01'", "quantity.not_finite", "reg_capital", "inf"),
    CODES[5]: ("-inf", "'企业丁'", "-9e999", "'2019-01-01'", "quantity.not_finite", "reg_capital", "-inf"),
    CODES[6]: ("year 0", "'企业戊'", "1", "'0000-01-01'", "date.out_of_range", "est_date", "0000-01-01"),
    # SQLite keeps text in a REAL column, and CAST('不详' AS REAL) is 0.0
    CODES[8]: ("text in a REAL column", "'企业辛'", "'不详'", "'2019-01-01'", "quantity.unparseable", "reg_capital",
               "不详"),
}
ZERO_DATE = CODES[7]  # '0000-00-00': the declared placeholder rule makes it null (note placeholder.null)


def _insert(db: Path, key: str, name: str, capital: str, est: str, updated: str) -> None:
    with sqlite3.connect(db) as c:
        c.execute(f"INSERT OR REPLACE INTO enterprise VALUES ('{key}', {name}, '张三', {capital}, {est}, '370102', "
                  f"'{updated}')")


def _source(tmp: Path) -> Path:
    db = tmp / "amr.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, ent_name TEXT, legal_rep TEXT, reg_capital REAL, "
                  "est_date TEXT, division_code TEXT, updated_at TEXT)")
    _insert(db, CODES[0], *GOOD, "2026-03-01 10:00:00")
    for key, (_, name, capital, est, *_) in BAD.items():
        _insert(db, key, name, capital, est, "2026-03-01 10:00:00")
    _insert(db, ZERO_DATE, "'企业己'", "1", "'0000-00-00'", "2026-03-01 10:00:00")
    return db


def _run(catalog: Catalog, db: Path, home: Path, start: datetime | None, end: datetime) -> dict:  # type: ignore[type-arg]
    return pipeline.run_system("amr_enterprise", Window(start, end), catalog=catalog, home=home, uri=f"sqlite:///{db}")


def _reasons(store: SharedStore) -> dict[str, list[dict[str, str]]]:
    q = store.read(QDS)
    assert q is not None
    return {k: json.loads(r) for k, r in zip(q["_source_key"].to_pylist(), q["reasons"].to_pylist(), strict=True)}


def test_bad_cells_are_quarantined_with_their_reason(slice_catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = _source(tmp_path)
    ref = _run(slice_catalog, db, tmp_path / "home", None, DAY1)  # extraction survives every bad cell
    counts = ref["forms"]["amr_enterprise_reg"]
    assert counts["extracted"] == len(BAD) + 2 == counts["valid"] + counts["quarantined"]
    store = SharedStore(tmp_path / "home")
    reasons = _reasons(store)
    assert set(reasons) == set(BAD)
    for key, (what, *_, rule, column, value) in BAD.items():
        assert {"rule": rule, "element": reasons[key][0]["element"], "column": column, "value": value} \
            in reasons[key], what
    # what readers meet: every published cell readable, the SQL copy equal to the Parquet one
    published = store.read(DS)
    assert published is not None
    rows = published.to_pylist()
    published.to_pandas()
    assert {r["_source_key"] for r in rows} == {CODES[0], ZERO_DATE}
    assert {r["_source_key"]: r["establishment_date"] for r in rows}[ZERO_DATE] is None
    with store.engine.connect() as c:
        sql = {k: v for k, v in c.execute(sa.text(
            'SELECT _source_key, enterprise_name FROM "amr_enterprise__amr_enterprise_reg"'))}
    assert sql == {r["_source_key"]: r["enterprise_name"] for r in rows}
    issues = [i for p in sorted((Path(ref["dir"]) / "issues" / "amr_enterprise_reg").glob("part-*.arrow"))
              for i in parts.read(p).to_pylist()]
    assert {"column": "est_date", "value": "0000-00-00", "code": "placeholder.null", "severity": "note"}.items() \
        <= next(i for i in issues if i["column"] == "est_date" and i["value"] == "0000-00-00").items()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database("qc_badcells_") as url:
        yield url


@pytest.mark.postgres
def test_bad_cells_publish_into_postgresql(slice_catalog, tmp_path, pg_url) -> None:  # type: ignore[no-untyped-def]
    db = _source(tmp_path)
    with sqlite3.connect(db) as c:  # a NUL byte in the key itself: the quarantine's key column must load too
        c.execute("INSERT INTO enterprise VALUES ('9137' || char(0) || 'X', '企业庚', '张三', 1, '2019-01-01', "
                  "'370102', '2026-03-01 10:00:00')")
    home = tmp_path / "home"
    ref = pipeline.extract("amr_enterprise", Window(None, DAY1), catalog=slice_catalog, home=home,
                           uri=f"sqlite:///{db}")
    ref = pipeline.validate(pipeline.normalize(ref, catalog=slice_catalog), catalog=slice_catalog)
    store = SharedStore(home, sql_url=pg_url)
    pipeline.publish(ref, catalog=slice_catalog, store=store)
    with store.engine.connect() as c:
        keys = {k for (k,) in c.execute(sa.text('SELECT _source_key FROM "amr_enterprise__amr_enterprise_reg"'))}
        quarantined = {k for (k,) in c.execute(sa.text('SELECT _source_key FROM "quarantine__amr_enterprise"'))}
    assert keys == {CODES[0], ZERO_DATE}
    assert quarantined == set(BAD) | {"9137\\x00X"}


def _catalog_with(tmp: Path, invalid_update: str) -> Catalog:
    folder = tmp / "catalog"
    shutil.copytree(SLICE, folder)
    systems = folder / "systems.csv"
    with systems.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with systems.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows({**r, "invalid_update": invalid_update} for r in rows)
    catalog = load_catalog(folder)
    assert catalog.system["amr_enterprise"].invalid_update == invalid_update
    return catalog


@pytest.mark.parametrize("policy", ["flag", "withdraw"])
def test_a_row_updated_into_an_invalid_state(tmp_path, policy) -> None:  # type: ignore[no-untyped-def]
    catalog = _catalog_with(tmp_path, policy)
    db = _source(tmp_path)
    home = tmp_path / "home"
    _run(catalog, db, home, None, DAY1)
    store = SharedStore(home)
    assert store.read(DS)[SUPERSEDED].to_pylist() == [False, False]

    _insert(db, CODES[0], "'企业甲'", "9e999", "'2019-01-01'", "2026-03-02 10:00:00")  # the update goes bad
    _run(catalog, db, home, DAY1, DAY2)
    published = {r["_source_key"]: r for r in store.read(DS).to_pylist()}
    assert CODES[0] in _reasons(store)  # the new version waits in quarantine
    if policy == "flag":  # the old version stays, and says it is superseded
        assert published[CODES[0]][SUPERSEDED] is True
        assert str(published[CODES[0]]["registered_capital"]) == "1005000.00"  # 100.5 万元
    else:
        assert CODES[0] not in published
    assert published[ZERO_DATE][SUPERSEDED] is False
    with store.engine.connect() as c:
        flagged = {k for (k,) in c.execute(sa.text(
            f'SELECT _source_key FROM "amr_enterprise__amr_enterprise_reg" WHERE {SUPERSEDED}'))}
    assert flagged == ({CODES[0]} if policy == "flag" else set())

    _insert(db, CODES[0], "'企业甲'", "200", "'2019-01-01'", "2026-03-03 10:00:00")  # and is corrected
    _run(catalog, db, home, DAY2, DAY3)
    published = {r["_source_key"]: r for r in store.read(DS).to_pylist()}
    assert published[CODES[0]][SUPERSEDED] is False
    assert str(published[CODES[0]]["registered_capital"]) == "2000000.00"
    assert CODES[0] not in _reasons(store)
