"""``quancheng status`` and the overview behind it, on a home synced by the real pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from opsdata import SECRET, make_run, write_runs
from paths import SLICE
from quancheng import pipeline
from quancheng.cli import cli
from quancheng.ops.overview import build_overview
from quancheng.publish.store import SharedStore


@pytest.fixture
def catalog_env(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUANCHENG_CATALOG", str(SLICE))


def test_overview_tells_ok_failed_and_never_apart(synced_home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    home, ref = synced_home
    ov = build_overview(home, slice_catalog, datetime.now(UTC))
    states = {h.system_id: h.state for h in ov.systems}
    tot = pipeline.totals(ref)
    rate = tot["quarantined"] / tot["extracted"]
    threshold = slice_catalog.system["ndrc_investment"].quarantine_threshold
    assert states == {"ndrc_investment": "quarantine" if rate > threshold else "ok",
                      "hcb_construction_permit": "failed", "amr_enterprise": "never"}
    ndrc = ov.system("ndrc_investment")
    assert ndrc.quarantine_rate == pytest.approx(rate)
    assert ndrc.last_run is not None and ndrc.last_run["published"] == tot["valid"]
    assert sum(ndrc.reasons.values()) >= tot["quarantined"]
    failed = ov.system("hcb_construction_permit")
    assert "source is down" in failed.reason and SECRET not in failed.reason and SECRET not in (failed.error or "")


def test_dataset_health_counts_quarantine_per_source_table(synced_home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    home, _ = synced_home
    ov = build_overview(home, slice_catalog, datetime.now(UTC))
    by_id = {d.dataset_id: d for d in ov.datasets}
    store = SharedStore(home)
    assert set(by_id) == {r["dataset_id"] for r in store.datasets()}
    filing = by_id["ndrc_investment.ndrc_filing"]
    held = store.read("quarantine.ndrc_investment").num_rows
    assert filing.rows == store.read("ndrc_investment.ndrc_filing").num_rows
    assert filing.quarantined_rows == held
    assert filing.quarantine_rate == pytest.approx(held / (held + filing.rows))
    assert filing.systems == ("ndrc_investment",) and filing.state == "ok"
    assert by_id["quarantine.ndrc_investment"].kind == "quarantine"


def test_status_json(synced_home, catalog_env) -> None:  # type: ignore[no-untyped-def]
    home, _ = synced_home
    out = CliRunner().invoke(cli, ["status", "--dir", str(home), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    systems = {s["system_id"]: s for s in data["systems"]}
    assert systems["hcb_construction_permit"]["state"] == "failed"
    assert systems["hcb_construction_permit"]["reason"].startswith("failed: system 'hcb_construction_permit'")
    assert systems["amr_enterprise"]["state"] == "never"
    assert data["counts"]["failed"] == 1 and sum(data["counts"].values()) == len(systems)
    assert SECRET not in out.output


def test_status_table_shows_state_and_reason(synced_home, catalog_env) -> None:  # type: ignore[no-untyped-def]
    home, _ = synced_home
    out = CliRunner(env={"COLUMNS": "220"}).invoke(cli, ["status", "--dir", str(home)])
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if "hcb_construction_permit" in ln)
    assert "failed" in line and "source is down" in out.output
    assert "1 failed" in out.output


def test_status_table_fits_an_80_column_terminal(synced_home, catalog_env) -> None:  # type: ignore[no-untyped-def]
    """Narrow terminals keep the essential columns in one line per system; reasons follow the table."""
    home, _ = synced_home
    out = CliRunner(env={"COLUMNS": "80"}).invoke(cli, ["status", "--dir", str(home)])
    assert out.exit_code == 0, out.output
    assert max(len(ln) for ln in out.output.splitlines()) <= 80
    row = next(ln for ln in out.output.splitlines() if ln.startswith("│ hcb_construction_permit"))
    assert "failed" in row
    reason = out.output.split("\nhcb_construction_permit: ", 1)[1]  # wrapped to the terminal
    assert "source is down" in " ".join(reason.split())


def test_status_check_exits_1_only_when_something_alerts(home, catalog_env, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    write_runs(home, [make_run(s.system_id, finished=now - timedelta(hours=1)) for s in slice_catalog.systems])
    assert CliRunner().invoke(cli, ["status", "--dir", str(home), "--check"]).exit_code == 0
    write_runs(home, [make_run("amr_enterprise", status="failed", finished=now, error="boom")])
    assert CliRunner().invoke(cli, ["status", "--dir", str(home), "--check"]).exit_code == 1


def test_status_on_a_missing_home_says_so(tmp_path, catalog_env) -> None:  # type: ignore[no-untyped-def]
    out = CliRunner().invoke(cli, ["status", "--dir", str(tmp_path / "nope")])
    assert out.exit_code != 0 and "no exchange home" in str(out.exception or out.output)
