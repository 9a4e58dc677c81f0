"""The shared SQL tables are merged in place, day after day (issue 12): only the batch's keys are deleted and
inserted, in one transaction, so the table stays the same object and grants, views and comments on it
survive; its content always equals the Parquet dataset's.

The slice catalog's investment system on a real SQLite source, published into the embedded SQLite store and
into a throwaway PostgreSQL database with a read-only role of this test's own.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from quancheng import pipeline
from quancheng.catalog import Catalog
from quancheng.errors import QuanchengError
from quancheng.publish.store import SharedStore, sql_name
from quancheng.sources import Window
from scratch_pg import postgres_database
from storekit import FILING, NDRC, filings, put_filings

TABLE = sql_name(FILING)
DAY1, DAY2, DAY3 = (datetime(2026, 3, d, 16, tzinfo=UTC) for d in (1, 2, 3))  # midnights in Beijing


COLUMNS = ("_source_key", "_batch_id", "project_name")  # text in both copies: the key, its version, a value


def _sql_rows(store: SharedStore) -> list[tuple[Any, ...]]:
    with store.engine.connect() as c:
        return sorted(tuple(r) for r in c.execute(sa.text(f'SELECT {", ".join(COLUMNS)} FROM "{TABLE}"')))


def _parquet_rows(store: SharedStore) -> list[tuple[Any, ...]]:
    t = store.read(FILING)
    assert t is not None
    return sorted(zip(*(t[c].to_pylist() for c in COLUMNS), strict=True))


def _days(catalog: Catalog, home: Path, db: Path, url: str | None, after_day: Any = None) -> list[SharedStore]:
    """Day 1: ten filings. Day 2: two updated, two new, one deleted. Day 3: one more update. The pipeline's
    store takes ``url`` from QUANCHENG_SHARED_DB (the test sets it)."""
    put_filings(db, filings(0, 10, "2026-03-01 10:00:00"))
    store = SharedStore(home, sql_url=url)

    def run(start: datetime | None, end: datetime) -> None:
        pipeline.run_system(NDRC, Window(start, end), catalog=catalog, home=home, uri=f"sqlite:///{db}")
        assert _sql_rows(store) == _parquet_rows(store)  # the SQL copy is the dataset, every day
        if after_day:
            after_day(store)

    run(None, DAY1)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE TZ_XMBA SET XMMC = XMMC || '（二期）', GXSJ = '2026-03-02 09:00:00' "
                  "WHERE XMDM IN ('2019-370102-47-01-000001', '2019-370102-47-01-000002')")
        c.execute("DELETE FROM TZ_XMBA WHERE XMDM = '2019-370102-47-01-000003'")
    put_filings(db, filings(10, 2, "2026-03-02 11:00:00"))
    run(DAY1, DAY2)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE TZ_XMBA SET ZTZ = '900', GXSJ = '2026-03-03 09:00:00' "
                  "WHERE XMDM = '2019-370102-47-01-000004'")
    run(DAY2, DAY3)
    return [store]


def test_sqlite_table_is_merged_and_its_view_survives(slice_catalog: Catalog, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANCHENG_SHARED_DB", raising=False)
    seen: list[int] = []

    def view_rows(store: SharedStore) -> None:
        with store.engine.begin() as c:
            c.execute(sa.text(f'CREATE VIEW IF NOT EXISTS filing_names AS SELECT project_name FROM "{TABLE}"'))
            seen.append(len(c.execute(sa.text("SELECT * FROM filing_names")).all()))

    [store] = _days(slice_catalog, tmp_path / "home", tmp_path / "ndrc.db", None, view_rows)
    assert seen == [10, 11, 11]  # 10; +2 new -1 deleted; an update only
    t = store.read(FILING)
    assert t is not None and "济南项目1（二期）" in t["project_name"].to_pylist()


@pytest.mark.postgres
def test_postgres_grants_views_and_comments_survive(slice_catalog: Catalog, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    role = f"qcsm_reader_{uuid.uuid4().hex[:6]}"
    reads: list[int] = []
    with postgres_database("qc_sqlmerge_", drop_roles=role) as url:
        monkeypatch.setenv("QUANCHENG_SHARED_DB", url)
        plain = url.replace("postgresql+psycopg://", "postgresql://")

        def as_reader(store: SharedStore) -> None:
            with psycopg.connect(plain, autocommit=True) as c:
                if not reads:  # after the first publish, as a DBA would
                    c.execute(f'CREATE ROLE "{role}"')
                    c.execute(f'GRANT SELECT ON "{TABLE}" TO "{role}"')
                    c.execute(f'CREATE VIEW filing_names AS SELECT project_name FROM "{TABLE}"')
                    c.execute(f'GRANT SELECT ON filing_names TO "{role}"')
                    c.execute(f"COMMENT ON TABLE \"{TABLE}\" IS '企业投资项目备案'")
                c.execute(f'SET ROLE "{role}"')
                n = c.execute(f'SELECT COUNT(*) FROM "{TABLE}"').fetchone()
                v = c.execute("SELECT COUNT(*) FROM filing_names").fetchone()
                assert n is not None and v is not None and n == v
                reads.append(int(n[0]))
                c.execute("RESET ROLE")
                comment = c.execute(f"SELECT obj_description('\"{TABLE}\"'::regclass)").fetchone()
                assert comment == ("企业投资项目备案",)

        _days(slice_catalog, tmp_path / "home", tmp_path / "ndrc.db", url, as_reader)
    assert reads == [10, 11, 11]


@pytest.mark.postgres
def test_rows_the_table_refuses_change_nothing(slice_catalog: Catalog, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A constraint someone added refuses the day's rows: the publish fails with the reason, the table and
    its grants stay as they were, and the Parquet dataset stays on its last version."""
    import psycopg

    home, db = tmp_path / "home", tmp_path / "ndrc.db"
    with postgres_database("qc_sqlmerge_") as url:
        monkeypatch.setenv("QUANCHENG_SHARED_DB", url)
        put_filings(db, filings(0, 4, "2026-03-01 10:00:00"))
        pipeline.run_system(NDRC, Window(None, DAY1), catalog=slice_catalog, home=home, uri=f"sqlite:///{db}")
        store = SharedStore(home, sql_url=url)
        before_sql, before_parquet = _sql_rows(store), _parquet_rows(store)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
            c.execute(f"ALTER TABLE \"{TABLE}\" ADD CONSTRAINT no_phase_two CHECK (project_name NOT LIKE '%二期%')")
        with sqlite3.connect(db) as c:
            c.execute("UPDATE TZ_XMBA SET XMMC = XMMC || '二期', GXSJ = '2026-03-02 09:00:00'")
        with pytest.raises(QuanchengError, match="refused the new rows"):
            pipeline.run_system(NDRC, Window(DAY1, DAY2), catalog=slice_catalog, home=home, uri=f"sqlite:///{db}")
        assert _sql_rows(store) == before_sql and _parquet_rows(store) == before_parquet
