"""Issue 17, item 2: a truncated whole-table file drop never rolls published data back or deletes it.

A small demo world's CSV system (snapshot mode: every export is compared with the last one consumed) is
synced, advanced a day and synced again; a second day's export is then damaged the ways the probe found:
cut to two thirds with its ``.done`` marker left alone, cut with the marker rewritten to the new size but
the old row count, the newest export taken away after it was consumed (an older one would be read), and
a consistent but mostly empty export (the mass-delete guard). Each run must fail with one line naming
system, table and file, and leave every published dataset, the quarantine and the snapshot state as they
were; the guard gives way only when told to (per run, or by the system's ``max_delete_share``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from paths import SLICE
from quancheng import pipeline
from quancheng.catalog import Catalog
from quancheng.demo.advance import advance_world
from quancheng.demo.seed import seed_world
from quancheng.errors import MassDeleteRefused, SourceError
from quancheng.publish.store import SharedStore
from quancheng.sources import Window
from quancheng.sources.files import complete_exports, marker_of

SYSTEM = "hcb_construction_permit"
TABLE = "sgxk"
FORM = "hcb_permit"


@dataclass
class Drop:
    catalog: Catalog
    home: Path
    uri: str
    folder: Path
    newest: Path  # the second day's export, not consumed yet
    window: Window  # the second day

    def run(self, **kw: Any) -> dict[str, Any]:
        return pipeline.run_system(SYSTEM, self.window, catalog=self.catalog, home=self.home, uri=self.uri, **kw)


def _window(change: dict[str, Any]) -> Window:
    return Window(datetime.fromisoformat(change["start"]), datetime.fromisoformat(change["end"]))


@pytest.fixture
def drop(slice_catalog: Catalog, tmp_path: Path) -> Drop:
    world = seed_world(slice_catalog, tmp_path / "world", scale=150, seed=7)
    uri = world.uri(SYSTEM)
    home = tmp_path / "home"
    pipeline.run_system(SYSTEM, Window(None, datetime.fromisoformat(world.interval["end"])), catalog=slice_catalog,
                        home=home, uri=uri)
    first = advance_world(Path(world.dir), seed=1)
    pipeline.run_system(SYSTEM, _window(first), catalog=slice_catalog, home=home, uri=uri)
    second = advance_world(Path(world.dir), seed=2)
    folder = Path(uri.removeprefix("file://")) / TABLE
    newest = complete_exports(folder, "csv")[0][0]
    assert second["systems"][SYSTEM]["deletes"] > 0
    return Drop(slice_catalog, home, uri, folder, newest, _window(second))


def published(home: Path) -> dict[str, Any]:
    """Everything a failed run must leave alone: the registry, the Parquet data, the snapshot state."""
    store = SharedStore(home)
    registry = {d["dataset_id"]: (d["rows"], d["content_hash"], d["last_batch"]) for d in store.datasets()}
    data = {ds: store.read(ds).to_pylist() for ds in registry}  # type: ignore[union-attr]
    state = (home / "state" / SYSTEM / "snapshots" / f"{FORM}.parquet").read_bytes()
    return {"registry": registry, "data": data, "state": state}


def cut(path: Path, share: float) -> int:
    """Cut ``path`` after the last whole line within ``share`` of its bytes; return the data rows kept."""
    data = path.read_bytes()
    keep = data[: data.rindex(b"\n", 0, int(len(data) * share)) + 1]
    path.write_bytes(keep)
    return keep.count(b"\n") - 1  # the header line


def marker(path: Path, **changes: int) -> dict[str, Any]:
    meta = json.loads(marker_of(path).read_text(encoding="utf-8"))
    meta.update(changes)
    marker_of(path).write_text(json.dumps(meta), encoding="utf-8")
    return dict(meta)


def names_system_table_file(message: str, file: str) -> bool:
    return f"system {SYSTEM!r}" in message and f"table {TABLE!r}" in message and file in message \
        and "\n" not in message


def test_export_cut_after_its_marker_is_refused(drop: Drop) -> None:
    before = published(drop.home)
    cut(drop.newest, 2 / 3)  # the marker still declares the full size
    with pytest.raises(SourceError) as err:
        drop.run()
    assert names_system_table_file(str(err.value), drop.newest.name)
    assert "marker declares" in str(err.value)
    assert published(drop.home) == before


def test_marker_rows_are_checked(drop: Drop) -> None:
    before = published(drop.home)
    declared = marker(drop.newest)["rows"]
    kept = cut(drop.newest, 2 / 3)
    marker(drop.newest, bytes=drop.newest.stat().st_size)  # size now agrees, the row count does not
    with pytest.raises(SourceError) as err:
        drop.run()
    message = str(err.value)
    assert names_system_table_file(message, drop.newest.name)
    assert f"holds {kept} rows" in message and f"declares {declared}" in message
    assert published(drop.home) == before


def test_an_older_export_than_the_last_consumed_is_refused(drop: Drop) -> None:
    """The newest export is consumed; then it goes away (or loses its marker) and only older ones remain."""
    drop.run()
    before = published(drop.home)
    marker_of(drop.newest).unlink()  # the reader would now fall back to the export of the day before
    with pytest.raises(SourceError) as err:
        drop.run()
    older = complete_exports(drop.folder, "csv")[0][0].name
    assert names_system_table_file(str(err.value), older) and drop.newest.name in str(err.value)
    assert "roll" in str(err.value)
    assert published(drop.home) == before


def test_mass_delete_is_refused_unless_allowed(drop: Drop) -> None:
    """A consistent export (marker rewritten to match) that lost two thirds of the table."""
    before = published(drop.home)
    kept = cut(drop.newest, 1 / 3)
    marker(drop.newest, bytes=drop.newest.stat().st_size, rows=kept)
    with pytest.raises(MassDeleteRefused) as err:
        drop.run()
    assert names_system_table_file(str(err.value), drop.newest.name)
    assert "--allow-mass-delete" in str(err.value) and "max_delete_share 50%" in str(err.value)
    assert published(drop.home) == before

    ref = drop.run(allow_mass_delete=True)  # the department really withdrew them: told so, the run publishes
    assert pipeline.totals(ref)["deleted"] > 0
    store = SharedStore(drop.home)
    assert store.read(f"{SYSTEM}.{FORM}").num_rows + store.read(f"quarantine.{SYSTEM}").num_rows == kept  # type: ignore[union-attr]


def test_max_delete_share_comes_from_the_catalog(drop: Drop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two thirds kept is a third deleted: under the system's 20% it is refused, under the default 50% not."""
    before = published(drop.home)
    kept = cut(drop.newest, 2 / 3)
    marker(drop.newest, bytes=drop.newest.stat().st_size, rows=kept)
    default = drop.catalog.system[SYSTEM]
    monkeypatch.setitem(drop.catalog.system, SYSTEM, default.model_copy(update={"max_delete_share": 0.2}))
    with pytest.raises(MassDeleteRefused, match="max_delete_share 20%"):
        drop.run()
    assert published(drop.home) == before
    monkeypatch.setitem(drop.catalog.system, SYSTEM, default)
    assert pipeline.totals(drop.run())["deleted"] > 0


def test_cli_says_one_line_and_allows_when_told(drop: Drop, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from quancheng.cli import main

    monkeypatch.setenv("QUANCHENG_CATALOG", str(SLICE))
    kept = cut(drop.newest, 1 / 3)
    marker(drop.newest, bytes=drop.newest.stat().st_size, rows=kept)
    args = ["run", SYSTEM, "--dir", str(drop.home), "--uri", drop.uri,
            "--start", f"{drop.window.start:%Y-%m-%dT%H:%M:%S}", "--end", f"{drop.window.end:%Y-%m-%dT%H:%M:%S}"]
    before = published(drop.home)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "Traceback" not in err and names_system_table_file(err, drop.newest.name)
    assert published(drop.home) == before
    main([*args, "--allow-mass-delete"])  # returns: exit code 0
    assert json.loads(capsys.readouterr().out)["deleted"] > 0
