"""Fault injection: a published dataset whose current version is lost (issue 17, item 1).

Before the fix, the next run took the missing version for "never published" and replaced the dataset's
history with its own batch (44 rows became 14). Now the run is refused, naming the dataset and the fix, and
nothing changes in Parquet, SQL, the registry or the snapshot state; ``--rebuild`` is the way back.
Real sources: a SQLite database (incremental) and a CSV file drop (whole-table snapshots), run through the CLI.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.publish.store import MissingVersion, SharedStore
from storekit import (
    FILING,
    HCB,
    NDRC,
    PERMIT,
    SHARED_DBS,
    Cli,
    current_file,
    drop_permits,
    filings,
    put_filings,
    registry,
    shared_db,
    slice_cli,
    sql_rows,
)

LOSSES = ["dataset folder", "transaction log", "data file"]


def lose(store: SharedStore, dataset_id: str, how: str) -> None:
    """Lose the current version the way a bad cleanup or a careless copy would."""
    if how == "dataset folder":
        shutil.rmtree(store.dataset_path(dataset_id))
    elif how == "transaction log":
        shutil.rmtree(store.dataset_path(dataset_id) / "_delta_log")
    else:
        current_file(store, dataset_id).unlink()


def published_state(store: SharedStore, home: Path) -> tuple[object, ...]:
    """Everything a refused run must leave as it was: registry, SQL rows, files under shared/ and state/."""
    files = sorted(str(p.relative_to(home)) for p in home.rglob("*") if "staging" not in p.parts
                   and "quality" not in p.parts and p.is_file())
    return registry(store), sql_rows(store, FILING), sql_rows(store, "quarantine.ndrc_investment"), files


@pytest.mark.parametrize("db", SHARED_DBS)
@pytest.mark.parametrize("how", LOSSES)
def test_lost_version_is_refused_not_overwritten(tmp_path: Path, capsys, monkeypatch, how: str, db: str) -> None:  # type: ignore[no-untyped-def]
    with shared_db(db) as url:
        lost_version_is_refused(slice_cli(capsys, monkeypatch, url), tmp_path, how)


def lost_version_is_refused(quancheng: Cli, tmp_path: Path, how: str) -> None:
    home, db = tmp_path / "home", tmp_path / "ndrc.db"
    uri = f"sqlite:///{db}"
    put_filings(db, filings(0, 20, "2026-03-01 08:00:00"))
    code, _, err = quancheng("run", NDRC, "--start", "2026-03-01", "--end", "2026-03-02", "--dir", str(home),
                             "--uri", uri)
    assert code == 0, err
    store = SharedStore(home)
    assert store.read(FILING).num_rows == 20

    lose(store, FILING, how)
    before = published_state(store, home)
    put_filings(db, filings(20, 3, "2026-03-02 08:00:00"))
    code, out, err = quancheng("run", NDRC, "--start", "2026-03-02", "--end", "2026-03-03", "--dir", str(home),
                               "--uri", uri)

    assert code == 2 and out == ""
    assert err.count("\n") == 1  # one line, no traceback
    assert FILING in err and "missing" in err and "20 rows" in err
    assert f"quancheng run {NDRC} --rebuild" in err and "restore" in err
    assert published_state(SharedStore(home), home) == before  # not one row of the 3 new ones merged anywhere
    with pytest.raises(MissingVersion, match=FILING):
        SharedStore(home).read(FILING)

    code, _, err = quancheng("run", NDRC, "--end", "2026-03-03", "--dir", str(home), "--uri", uri, "--rebuild")
    assert code == 0, err
    rebuilt = SharedStore(home)
    assert rebuilt.read(FILING).num_rows == 23 == len(sql_rows(rebuilt, FILING)) == registry(rebuilt)[FILING]["rows"]

    put_filings(db, filings(23, 2, "2026-03-03 08:00:00"))
    code, _, err = quancheng("run", NDRC, "--start", "2026-03-03", "--end", "2026-03-04", "--dir", str(home),
                             "--uri", uri)
    assert code == 0, err
    assert SharedStore(home).read(FILING).num_rows == 25  # merged into the rebuilt history, day after day


def test_lost_snapshot_dataset_is_rebuilt_from_the_whole_drop(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A whole-table drop compared with the last snapshot: after a lost version the diff alone (nothing
    changed) would publish an empty dataset; the run is refused and ``--rebuild`` reads the drop whole."""
    quancheng = slice_cli(capsys, monkeypatch)
    home, drop = tmp_path / "home", tmp_path / "drop"
    uri = f"file://{drop}"
    drop_permits(drop, 9, "20260301T000000")
    code, _, err = quancheng("run", HCB, "--end", "2026-03-02", "--dir", str(home), "--uri", uri)
    assert code == 0, err
    store = SharedStore(home)
    rows = store.read(PERMIT).num_rows
    assert rows + store.read(f"quarantine.{HCB}").num_rows == 9
    snapshot = (home / "state" / HCB / "snapshots" / "hcb_permit.parquet").read_bytes()

    lose(store, PERMIT, "dataset folder")
    drop_permits(drop, 9, "20260302T000000")  # the same nine permits, exported again
    code, _, err = quancheng("run", HCB, "--end", "2026-03-03", "--dir", str(home), "--uri", uri)
    assert code == 2 and PERMIT in err and "--rebuild" in err
    assert (home / "state" / HCB / "snapshots" / "hcb_permit.parquet").read_bytes() == snapshot

    code, _, err = quancheng("run", HCB, "--end", "2026-03-03", "--dir", str(home), "--uri", uri, "--rebuild")
    assert code == 0, err
    assert SharedStore(home).read(PERMIT).num_rows == rows == len(sql_rows(SharedStore(home), PERMIT))


def test_never_published_is_still_none_and_a_rebuild_needs_the_whole_source(tmp_path: Path, capsys,
                                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = SharedStore(tmp_path / "home")
    assert store.read(FILING) is None  # nothing in the registry: a first publish, not a loss
    store.publish(FILING, pa.table({"_source_key": ["k1"]}), kind="system", batch_id="b1")
    lose(store, FILING, "dataset folder")
    with pytest.raises(MissingVersion, match="batch b1"):
        store.read(FILING)
    code, _, err = slice_cli(capsys, monkeypatch)("run", NDRC, "--start", "2026-03-01", "--end", "2026-03-02",
                                                  "--dir", str(tmp_path / "home"), "--rebuild",
                                                  "--uri", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 2 and "drop --start" in err
