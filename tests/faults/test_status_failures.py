"""Fault injection: failures and half-done publishes ops could not see (issue 17, item 7).

- ``quancheng run`` records its failure, so ``quancheng status`` stops saying ok;
- the record carries the batch that ran (``origin__...`` for a full refresh, from the CLI and from the DAG's
  failure callback alike) and the whole first line of the cause, passwords redacted;
- a publish killed after 1 of its N datasets were swapped shows the system as ``incomplete``, naming the
  dataset ahead and the ones behind, until the rerun completes it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from paths import ROOT, SLICE
from quancheng import pipeline
from quancheng.catalog import load_catalog
from quancheng.ops.health import first_line
from quancheng.publish.store import SharedStore
from quancheng.runs import failure_text
from quancheng.sources import Window
from storekit import FILING, NDRC, SHARED_DBS, Cli, filings, put_filings, registry, shared_db, slice_cli, sql_rows

AMR = "amr_enterprise"
PASSWORD = "Tr0ub4dor-pw"
QUARANTINE = f"quarantine.{NDRC}"


def status_of(quancheng: Any, home: Path, system_id: str) -> dict[str, Any]:
    code, out, err = quancheng("status", "--dir", str(home), "--json")
    assert code == 0, err
    return next(s for s in json.loads(out)["systems"] if s["system_id"] == system_id)


def dead_postgres_db() -> str:
    """A URI of the real PostgreSQL server naming a database that does not exist, with a password in it."""
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/qc_missing_{uuid.uuid4().hex[:12]}"


@pytest.mark.postgres
@pytest.mark.parametrize("window", [["--start", "2026-03-01", "--end", "2026-03-02"], ["--end", "2026-03-02"]],
                         ids=["window", "full refresh"])
def test_cli_failure_shows_in_status_with_its_batch_and_whole_cause(tmp_path: Path, capsys, monkeypatch,
                                                                    window: list[str]) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    home = tmp_path / "home"
    code, _, err = quancheng("run", AMR, *window, "--dir", str(home), "--uri", dead_postgres_db())
    assert code == 2 and "does not exist" in err and PASSWORD not in err

    start = datetime(2026, 3, 1, tzinfo=UTC) if "--start" in window else None
    ran = pipeline.batch_id_for(AMR, Window(start, datetime(2026, 3, 2, tzinfo=UTC)))
    assert ("__origin__" in ran) is (start is None)
    amr = status_of(quancheng, home, AMR)
    assert amr["state"] == "failed"
    assert amr["last_run"]["batch_id"] == amr["failed_batch"] == ran
    cause = first_line(err.removeprefix("error: "))
    assert "port 5432 failed: FATAL" in cause and "does not exist" in cause  # the cause, not cut before it
    assert cause in amr["reason"] and ran in amr["reason"]
    assert PASSWORD not in json.dumps(amr)

    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = quancheng("status", "--dir", str(home))  # the table, as ops read it
    assert cause in out and ran in out and PASSWORD not in out


@pytest.mark.airflow
def test_dag_failure_callback_records_the_batch_that_ran(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The DAG's on_failure callback, given the context Airflow gives it: a full refresh failed, and the record
    names the ``origin__`` batch extract used, with the whole first line of the cause."""
    quancheng = slice_cli(capsys, monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("QUANCHENG_HOME", str(home))
    spec = importlib.util.spec_from_file_location("exchange_sync_under_test", ROOT / "dags" / "exchange_sync.py")
    assert spec and spec.loader
    dags = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dags)
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    cause = ("system 'amr_enterprise', table 'enterprise': postgresql source unavailable: (psycopg.OperationalError) "
             "connection failed: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
             f"authentication failed for user \"etl\" (dsn password={PASSWORD})\nBackground on this error at: …")
    dags._on_failure({"dag": SimpleNamespace(dag_id=f"sync__{AMR}"), "data_interval_start": start,
                      "data_interval_end": end, "exception": RuntimeError(cause), "params": {"full_refresh": True}})

    from quancheng.steps import batch_of

    ran = batch_of(AMR, start, end, full_refresh=True)
    assert ran == pipeline.batch_id_for(AMR, Window(None, end))  # what extract_step read
    amr = status_of(quancheng, home, AMR)
    assert amr["state"] == "failed" and amr["failed_batch"] == ran
    assert "password authentication failed for user \"etl\"" in amr["reason"]  # past the old 160-character cut
    assert PASSWORD not in json.dumps(amr) and "Background" not in amr["reason"]


def test_failure_text_keeps_the_first_line_whole_and_no_password() -> None:
    line = "x" * 300 + f" postgresql://etl:{PASSWORD}@db/x failed: FATAL: too many connections password='{PASSWORD}'"
    text = failure_text(f"\n  {line}\ntrace line\n" + "y" * 10_000)
    first = text.splitlines()[0]
    assert first.startswith("x" * 300) and first.endswith("FATAL: too many connections password=***")
    assert PASSWORD not in text and len(text) < 5000


KILL_AFTER_FIRST = textwrap.dedent("""
    import json, os, signal, sys
    from pathlib import Path
    from quancheng import pipeline
    from quancheng.catalog import load_catalog
    from quancheng.publish.store import SharedStore

    real, swapped = SharedStore.merge, []
    def publish_then_die(self, dataset_id, *a, **k):
        if swapped:  # the first dataset is at the new version; the process dies before the next
            os.kill(os.getpid(), signal.SIGKILL)
        swapped.append(dataset_id)
        return real(self, dataset_id, *a, **k)
    SharedStore.merge = publish_then_die
    pipeline.publish(json.loads(Path(sys.argv[1]).read_text()), catalog=load_catalog(sys.argv[2]))
""")


@pytest.mark.parametrize("db", SHARED_DBS)
def test_killed_publish_is_incomplete_until_the_rerun_completes_it(tmp_path: Path, capsys, monkeypatch,
                                                                    db: str) -> None:  # type: ignore[no-untyped-def]
    with shared_db(db) as url:
        killed_publish_is_incomplete(slice_cli(capsys, monkeypatch, url), tmp_path)


def killed_publish_is_incomplete(quancheng: Cli, tmp_path: Path) -> None:
    home, db = tmp_path / "home", tmp_path / "ndrc.db"
    uri = f"sqlite:///{db}"
    put_filings(db, filings(0, 20, "2026-03-01 08:00:00"))
    code, _, err = quancheng("run", NDRC, "--start", "2026-03-01", "--end", "2026-03-02", "--dir", str(home),
                             "--uri", uri)
    assert code == 0, err
    assert status_of(quancheng, home, NDRC)["state"] == "ok"
    before = registry(SharedStore(home))

    put_filings(db, filings(20, 5, "2026-03-02 08:00:00"))
    window = Window(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    catalog = load_catalog(SLICE)
    ref = pipeline.validate(pipeline.normalize(pipeline.extract(NDRC, window, catalog=catalog, home=home, uri=uri),
                                               catalog=catalog), catalog=catalog)
    (tmp_path / "ref.json").write_text(json.dumps(ref))
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST, str(tmp_path / "ref.json"), str(SLICE)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]

    store = SharedStore(home)
    assert store.read(FILING).num_rows == 25  # the first dataset is ahead ...
    assert registry(store)[QUARANTINE] == before[QUARANTINE]  # ... the quarantine is not
    ndrc = status_of(quancheng, home, NDRC)
    assert ndrc["state"] == "incomplete"
    assert ndrc["publishing"]["batch_id"] == ref["batch_id"]
    assert ndrc["publishing"]["ahead"] == [FILING] and ndrc["publishing"]["pending"] == [QUARANTINE]
    assert f"at the new version: {FILING}" in ndrc["reason"] and QUARANTINE in ndrc["reason"]
    code, _, _ = quancheng("status", "--dir", str(home), "--check")
    assert code == 1  # monitoring scripts see it too

    code, _, err = quancheng("run", NDRC, "--start", "2026-03-02", "--end", "2026-03-03", "--dir", str(home),
                             "--uri", uri)
    assert code == 0, err
    ndrc = status_of(quancheng, home, NDRC)
    assert ndrc["state"] == "ok" and ndrc["publishing"] is None and ndrc["last_run"]["batch_id"] == ref["batch_id"]
    done = SharedStore(home)
    for ds, entry in registry(done).items():  # Parquet, SQL and registry agree on every dataset
        assert done.current_digest(ds) == entry["content_hash"]
        assert done.read(ds).num_rows == len(sql_rows(done, ds)) == entry["rows"]
        assert entry["last_batch"] == ref["batch_id"]
    assert done.read(FILING).num_rows == 25


def test_incomplete_ranks_below_failed_and_alerts() -> None:
    """A publish killed by a failing task is both: the state says failed, the reason names both, and each
    issue alerts once (keyed by the batch)."""
    from quancheng.ops.alerts import alerts_for
    from quancheng.ops.health import assess_system
    from quancheng.publish.intent import Publishing

    now = datetime(2026, 3, 3, tzinfo=UTC)
    system = load_catalog(SLICE).system[NDRC]
    run = {"system_id": NDRC, "window_start": None, "window_end": now.isoformat(), "extracted": 0, "published": 0,
           "quarantined": 0, "deleted": 0, "reasons": "{}", "content_hashes": "{}", "gx": None, "started_at": now,
           "finished_at": now, "seconds": 1.0}
    runs = [{**run, "batch_id": "b2", "status": "failed", "error": "disk full"},
            {**run, "batch_id": "b1", "status": "success", "error": None}]
    half = Publishing(NDRC, "b2", now, (FILING,), (QUARANTINE,))
    h = assess_system(system, runs, now, half)
    assert h.state == "failed" and [i.kind for i in h.issues] == ["failed", "incomplete"]
    assert FILING in h.reason and "disk full" in h.reason
    assert [(a.kind, a.key) for a in alerts_for([h])] == [("failed", "b2"), ("incomplete", "b2")]
    ok = assess_system(system, runs[1:], now, half)
    assert ok.state == "incomplete" and ok.publishing == half.to_json()
