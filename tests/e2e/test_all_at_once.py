"""Every sync DAG of the demo at the same moment through the real scheduler: Airflow's LocalExecutor on
a SQLite metadata database (what ``airflow standalone`` runs), with the embedded SQLite shared store.

The slice catalog's world is seeded small, the scheduler, DAG processor and API server are started as in
``quancheng demo cluster --executor local``, every sync DAG is triggered at once with parallelism to run
them side by side, and sharing and consolidation follow on the Assets. Then: every DAG run succeeded, the
syncs really overlapped (from the task instances' start and end times), no task needed a second try (a
``database is locked`` retried away would hide here), and every source row is published or quarantined.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from paths import SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.publish.store import SharedStore

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("all_at_once")]
SCALE, SEED = 60, 11


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def catalog() -> Iterator[Catalog]:
    with pytest.MonkeyPatch.context() as env:  # module-scoped: the function-scoped monkeypatch cannot serve
        env.setenv("QUANCHENG_CATALOG", str(SLICE))
        yield load_catalog(SLICE)


@pytest.fixture(scope="module")
def all_at_once(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Any]]:
    """(home, the running deployment, what the syncs did) after every sync DAG ran at once."""
    from quancheng.demo.cluster import ClusterSpec, running_cluster
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, airflow_env, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    home = tmp_path_factory.mktemp("all_at_once")
    seed_world(catalog, home / "world", scale=SCALE, seed=SEED)
    world = load_world(home / "world").to_dict()
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
    spec = ClusterSpec(home, executor="local", parallelism=16, port=_free_port())
    with served_world(home / "world", world) as uris, \
            running_cluster(spec, airflow_env(home, world, uris), REPO) as c:
        run = sync_everything(c, [s.system_id for s in catalog.systems], end, timeout=600)
        yield home, c, run


def test_runs_on_the_local_executor_with_sqlite(all_at_once) -> None:  # type: ignore[no-untyped-def]
    _, c, _ = all_at_once
    assert c.env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert c.spec.metadata_url.startswith("sqlite:///")
    assert not [n for n in c.procs if n.startswith("worker")]  # the scheduler runs the tasks itself


def test_every_dag_run_succeeds(all_at_once, catalog) -> None:  # type: ignore[no-untyped-def]
    _, c, run = all_at_once
    assert run.states == {f"sync__{s.system_id}": "success" for s in catalog.systems}
    assert run.failed == []
    assert all(run.downstream.values())  # sharing and consolidation ran on the syncs' Asset events
    # also the scheduled runs that unpausing started and every Asset-triggered run
    runs = c.query("SELECT dag_id, run_id, state FROM dag_run")
    assert runs and [r for r in runs if r["state"] != "success"] == []


def test_the_syncs_overlapped(all_at_once, catalog) -> None:  # type: ignore[no-untyped-def]
    _, _, run = all_at_once
    overlap = run.overlap()
    assert overlap["runs"] == len(catalog.systems), overlap  # at one moment every sync DAG had a run going
    assert overlap["tasks"] >= 2, overlap  # and their tasks ran side by side, not one after another


def test_no_task_needed_a_retry(all_at_once) -> None:  # type: ignore[no-untyped-def]
    home, _, run = all_at_once
    assert run.tasks
    assert [t for t in run.tasks if t["try_number"] != 1 or t["state"] != "success"] == []
    # neither a task nor the scheduler, DAG processor or API server (all on SQLite) met a locked database
    locked = [p for p in (home / "cluster" / "logs").rglob("*.log")
              if "database is locked" in p.read_text(errors="replace")]
    assert locked == []


def test_every_source_row_is_published_or_quarantined(all_at_once, catalog) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa
    from quancheng.demo.world import load_world
    from quancheng.runs import runs_table

    home, _, _ = all_at_once
    store = SharedStore(home)
    t = runs_table()
    with store.engine.connect() as conn:
        records = [dict(r) for r in conn.execute(sa.select(t).order_by(t.c.id)).mappings()]
    assert records and all(r["status"] == "success" for r in records)
    assert all(r["extracted"] == r["published"] + r["quarantined"] for r in records), records
    # Unpausing a sync DAG also starts the scheduled run of its latest interval (a quiet day), which may run
    # before the full refresh and read a file drop's newest export first: so count against the seeded world
    # (no deletes yet), not against one run.
    seeded: dict[str, int] = {}
    for form in load_world(home / "world").forms.values():
        seeded[form["system_id"]] = seeded.get(form["system_id"], 0) + int(form["rows"])
    for system in catalog.systems:
        published = 0
        for form in catalog.forms_of(system.system_id):
            table = store.read(f"{system.system_id}.{form.form_id}")
            assert table is not None
            published += table.num_rows
        q = store.read(f"quarantine.{system.system_id}")
        quarantined = q.num_rows if q is not None else 0
        assert published > 0
        assert published + quarantined == seeded[system.system_id], system.system_id
