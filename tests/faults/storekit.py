"""Helpers for the shared-store fault tests: a real SQLite source for the slice's investment filings, a CSV drop
for its construction permits, the ``quancheng`` CLI run in this process, and what a home has published."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from memory_source import ndrc_rows
from paths import SLICE
from quancheng.publish.store import SharedStore, sql_name
from quancheng.sources.files import write_drop
from scratch_pg import postgres_database

NDRC = "ndrc_investment"
FILING = "ndrc_investment.ndrc_filing"
HCB = "hcb_construction_permit"
PERMIT = "hcb_construction_permit.hcb_permit"
_NATIVE = {"ZTZ": "NUMERIC", "ZYDMJ": "NUMERIC", "GXSJ": "DATETIME"}


def filings(first: int, n: int, updated: str) -> pa.Table:
    """``n`` valid investment filings numbered from ``first``, updated at ``updated``."""
    rows = ndrc_rows(first + n).to_pylist()[first:]
    return pa.Table.from_pylist([{**r, "GXSJ": updated} for r in rows])


def put_filings(db: Path, table: pa.Table) -> None:
    """Append ``table`` to TZ_XMBA of the SQLite source at ``db`` (created on first use)."""
    cols = table.column_names
    with sqlite3.connect(db) as con:
        decl = ", ".join(f"{c} {_NATIVE.get(c, 'TEXT')}" for c in cols)
        con.execute(f"CREATE TABLE IF NOT EXISTS TZ_XMBA ({decl})")
        con.executemany(f"INSERT INTO TZ_XMBA VALUES ({', '.join('?' * len(cols))})",
                        [tuple(r.values()) for r in table.to_pylist()])


def permits(n: int) -> pa.Table:
    base = {"项目代码": "2019-370102-47-01-000001", "工程名称": "济南项目", "建设单位": "山东某某建设有限公司",
            "建设单位统一社会信用代码": "913701007874076393", "合同价格": "1200", "建筑面积": "1000",
            "地上地下面积": "800/200", "发证日期": "2020-01-02", "结构类型": "A"}
    rows = [{"施工许可证编号": f"3701022020010201{i:02d}", **base} for i in range(n)]
    return pa.Table.from_pylist(rows)


def drop_permits(drop: Path, n: int, stamp: str) -> None:
    write_drop(drop / "sgxk", permits(n), "csv", stamp)


@dataclass
class Cli:
    """``quancheng ...`` run in this process against the slice catalog: exit code, stdout, stderr."""

    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        from quancheng.cli import main

        self.capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


def slice_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shared_db: str | None = None) -> Cli:
    """The CLI on the slice catalog and ``shared_db`` (default: the home's own SQLite shared database); the
    environment is the test's, so ``SharedStore(home)`` and child processes see the same database."""
    monkeypatch.setenv("QUANCHENG_CATALOG", str(SLICE))
    if shared_db:
        monkeypatch.setenv("QUANCHENG_SHARED_DB", shared_db)
    else:
        monkeypatch.delenv("QUANCHENG_SHARED_DB", raising=False)
    return Cli(capsys)


SHARED_DBS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def shared_db(kind: str) -> Iterator[str | None]:
    """None for the default SQLite shared database, else a fresh PostgreSQL database's URL (dropped after)."""
    if kind == "sqlite":
        yield None
        return
    with postgres_database("qc_faults_") as url:
        yield url


def sql_rows(store: SharedStore, dataset_id: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(f'SELECT * FROM "{sql_name(dataset_id)}" ORDER BY 1'))]


def registry(store: SharedStore) -> dict[str, dict[str, Any]]:
    return {d["dataset_id"]: d for d in store.datasets()}


def current_file(store: SharedStore, dataset_id: str) -> Path:
    """A data file of the dataset's current Delta version."""
    from urllib.parse import unquote

    from quancheng.publish import delta

    return Path(unquote(delta.current_files(store.dataset_path(dataset_id))[0].removeprefix("file://")))
