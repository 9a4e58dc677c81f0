"""``quancheng sharing``: plan prints the SQL, apply refuses a non-PostgreSQL URL, scan finds a leak."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from issue6_builders import SLICE, ric
from quancheng.sharing.commands import sharing


def test_plan_prints_the_statements(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    from quancheng.sharing.postgres import plan_access

    result = CliRunner().invoke(sharing, ["plan", "--catalog", str(SLICE), "--prefix", "x_"])
    assert result.exit_code == 0
    assert result.output.count(";\n") == len(plan_access(slice_catalog, "x_"))
    assert 'CREATE SCHEMA IF NOT EXISTS "shared_open"' in result.output


def test_apply_needs_postgresql() -> None:
    result = CliRunner().invoke(sharing, ["apply", "--url", "sqlite:///x.db"])
    assert result.exit_code != 0 and "PostgreSQL" in str(result.exception)


def test_scan_reports_a_clear_id_in_an_open_table(home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUANCHENG_CATALOG", str(SLICE))
    clean = home / "shared" / "areas" / "shared_open" / "a.b"
    clean.mkdir(parents=True)
    pq.write_table(pa.table({"note": ["无"]}), clean / "data.parquet")
    assert CliRunner().invoke(sharing, ["scan", "--home", str(home)]).exit_code == 0
    leak = home / "shared" / "areas" / "shared_open" / "c.d"
    leak.mkdir(parents=True)
    pq.write_table(pa.table({"note": [f"身份证 {ric(7)} 号"]}), leak / "data.parquet")
    result = CliRunner().invoke(sharing, ["scan", "--home", str(home)])
    assert result.exit_code == 1 and "shared_open/c.d: note" in result.output
