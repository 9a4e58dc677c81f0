"""Concurrent syncs in real processes (``quancheng run``) over a small seeded world, one home:
- three systems publishing at the same moment into the embedded SQLite store all succeed;
- the same system started twice: the second stops at once naming the first, whose staging stays intact
  and whose publish succeeds;
- two extracts of one batch (Airflow's steps are separate processes) get separate attempt folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from paths import SLICE
from quancheng import parts
from quancheng.catalog import Catalog
from quancheng.demo.seed import seed_world
from quancheng.demo.world import World
from quancheng.publish.store import SharedStore

SYSTEMS = ["ndrc_investment", "hcb_construction_permit", "amr_enterprise"]


@pytest.fixture(scope="module")
def world(slice_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> World:
    return seed_world(slice_catalog, tmp_path_factory.mktemp("world"), scale=200, seed=11)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(QUANCHENG_CATALOG=str(SLICE), PYTHONPATH=os.pathsep.join(sys.path))
    e.pop("QUANCHENG_SHARED_DB", None)
    return e


def cli_args(world: World, system_id: str, home: Path) -> list[str]:
    return ["run", system_id, "--dir", str(home), "--uri", world.uri(system_id), "--end", world.interval["end"][:19]]


def paused_run(world: World, system_id: str, home: Path, signals: Path, *, before: str) -> subprocess.Popen[str]:
    """``quancheng run`` in a child that stops before ``pipeline.<before>`` (the run's lock held): it
    touches ``<signals>/<system>.ready`` and goes on once ``<signals>/go`` exists (or, for ``go-all``, once
    every ``*.ready`` of ``SYSTEMS`` exists)."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from quancheng import pipeline
        from quancheng.cli import main

        signals = Path({str(signals)!r})
        real = pipeline.{before}

        def paused(*args, **kwargs):
            (signals / "{system_id}.ready").touch()
            while not ((signals / "go").exists() or
                       all((signals / f"{{s}}.ready").exists() for s in {SYSTEMS!r}) and (signals / "go-all").exists()):
                time.sleep(0.05)
            return real(*args, **kwargs)

        pipeline.{before} = paused
        main({cli_args(world, system_id, home)!r})
    """)
    return subprocess.Popen([sys.executable, "-c", code], env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)


def test_three_systems_publish_at_the_same_moment(world: World, tmp_path: Path) -> None:
    home, signals = tmp_path / "home", tmp_path / "signals"
    signals.mkdir()
    (signals / "go-all").touch()  # each child publishes once all three are ready to publish
    procs = {s: paused_run(world, s, home, signals, before="_publish") for s in SYSTEMS}
    results = {s: (p.wait(timeout=600), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
               for s, p in procs.items()}
    failed = {s: err[-4000:] for s, (rc, _, err) in results.items() if rc != 0}
    assert not failed, failed
    published = SharedStore(home).datasets()
    systems = {d["dataset_id"].split(".")[0] for d in published if d["kind"] == "system"}
    assert systems == set(SYSTEMS)
    for s in SYSTEMS:
        assert json.loads(results[s][1])["published"]


def test_same_system_twice_second_stops_naming_the_first(world: World, tmp_path: Path) -> None:
    home, signals = tmp_path / "home", tmp_path / "signals"
    signals.mkdir()
    first = paused_run(world, "ndrc_investment", home, signals, before="normalize")
    wait_for(signals / "ndrc_investment.ready", first)  # extracted, lock held
    staged = {p: p.stat().st_mtime_ns for p in (home / "staging").rglob("part-*.arrow")}
    assert staged

    second = subprocess.run([sys.executable, "-m", "quancheng.cli", *cli_args(world, "ndrc_investment", home)],
                            env=env(), capture_output=True, text=True, timeout=600)
    assert second.returncode == 2, second.stderr
    msg = second.stderr.strip()
    assert len(msg.splitlines()) == 1 and "Traceback" not in msg
    assert "'ndrc_investment' is already being synced" in msg and f"pid {first.pid}" in msg
    assert "ndrc_investment__origin__" in msg and "(run)" in msg
    # the second run left the first's staging alone
    assert {p: p.stat().st_mtime_ns for p in staged} == staged

    (signals / "go").touch()
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    ref = json.loads(out)
    for p in staged:
        assert parts.read(p) is not None  # every file the first wrote is still whole
    attempts = list((home / "staging" / "ndrc_investment").glob("*/*"))
    assert len(attempts) == 1 and (attempts[0] / ".published").exists()
    rows = {d["dataset_id"]: d["rows"] for d in SharedStore(home).datasets()}
    assert rows["ndrc_investment.ndrc_filing"] == ref["valid"] > 0


def test_two_extracts_of_one_batch_use_separate_attempts(world: World, tmp_path: Path,
                                                         slice_catalog: Catalog) -> None:
    from datetime import datetime

    from quancheng import pipeline
    from quancheng.sources import Window

    home = tmp_path / "home"
    window = Window(None, datetime.fromisoformat(world.interval["end"]))
    uri = world.uri("ndrc_investment")
    a = pipeline.extract("ndrc_investment", window, catalog=slice_catalog, home=home, uri=uri)
    b = pipeline.extract("ndrc_investment", window, catalog=slice_catalog, home=home, uri=uri)
    assert a["batch_id"] == b["batch_id"] and a["dir"] != b["dir"]
    assert Path(a["dir"], "raw").is_dir()  # b did not remove a's attempt, which is not published yet
    for ref in (a, b):
        ref = pipeline.validate(pipeline.normalize(ref, catalog=slice_catalog), catalog=slice_catalog)
        pipeline.publish(ref, catalog=slice_catalog)
    c = pipeline.extract("ndrc_investment", window, catalog=slice_catalog, home=home, uri=uri)
    assert [p.name for p in Path(c["dir"]).parent.iterdir()] == [Path(c["dir"]).name]  # published ones pruned
