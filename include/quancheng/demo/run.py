"""The demo, end to end: seed the departmental systems, run every sync DAG through Airflow, report.

Airflow runs in a child process (``tools/run_dags.py``) with a fresh ``AIRFLOW_HOME`` on SQLite under
the demo folder (the runner loads the pools and variables of ``airflow_settings.yaml`` into it; the
source connections come from the seeded world, see :func:`airflow_env`); this module never imports
Airflow. The child's JSON events become a progress bar here, and the summary is read back from the
run records and the dataset registry.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quancheng.errors import QuanchengError

if TYPE_CHECKING:
    from quancheng.demo.world import World

REPO = Path(__file__).resolve().parents[3]
# Airflow's metadata connections when it runs on SQLite (``[database] sql_alchemy_connect_args`` names this):
# the scheduler, DAG processor and API server all write to one file, and when every DAG starts at once a
# writer can wait longer than sqlite3's default 5 s for the lock ("database is locked", seen as a 500 from
# the API server). Each waits up to a minute instead.
SQLITE_CONNECT_ARGS: dict[str, Any] = {"timeout": 60}
SQLITE_CONNECT_ARGS_OPTION = "quancheng.demo.run.SQLITE_CONNECT_ARGS"


@dataclass
class DemoResult:
    """What a demo run did: per-DAG states, timings and where things are."""

    home: Path
    states: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    data_docs: Path | None = None
    days: list[dict[str, Any]] = field(default_factory=list)  # one row per interval run: changes and counts

    @property
    def failed(self) -> list[str]:
        return [d for d, s in self.states.items() if s != "success"]


def airflow_env(home: Path, world: dict[str, Any], uris: dict[str, str]) -> dict[str, str]:
    """The environment Airflow and the tasks need: a private AIRFLOW_HOME and the connections."""
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": SQLITE_CONNECT_ARGS_OPTION,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": SQLITE_CONNECT_ARGS_OPTION,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "airflow" / "logs"),
        "QUANCHENG_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
    })
    for system_id, info in world["systems"].items():
        env["AIRFLOW_CONN_" + info["conn_id"].upper()] = uris.get(system_id, info["uri"])
    (home / "airflow").mkdir(parents=True, exist_ok=True)
    return env


@contextlib.contextmanager
def served_world(world_dir: Path, world: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Start the local JSON API if any system is served over HTTP; yield the URIs to use."""
    http = [s for s, i in world["systems"].items() if i["kind"] == "http"]
    if not http:
        yield {}
        return
    from quancheng.demo.api import serve

    with serve(world_dir) as base:
        yield {s: f"{base.rstrip('/')}/{s}" for s in http}


def run_dags(env: dict[str, str], interval_end: str, *, log: Path, full_refresh: bool,
             dag_ids: list[str] | None = None, since: str | None = None,
             on_event: Callable[[dict[str, Any]], None] | None = None) -> DemoResult:
    """Run sync DAGs in one Airflow process; call ``on_event`` for each progress event. ``since``: every sync
    reads from there to ``interval_end`` (a demo day, whatever each system's schedule)."""
    result = DemoResult(Path(env["QUANCHENG_HOME"]))
    cmd = [sys.executable, str(REPO / "tools" / "run_dags.py"), "--log", str(log), "--interval-end", interval_end]
    if full_refresh:
        cmd.append("--full-refresh")
    if since:
        cmd += ["--since", since]
    cmd += dag_ids or []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            result.events.append(event)
            if event.get("event") == "end":
                result.states[event["dag_id"]] = event["state"]
                result.seconds[event["dag_id"]] = event["seconds"]
            if event.get("event") == "import_errors":
                raise QuanchengError("the DAG folder has import errors:\n" +
                                     "\n".join(f"{k}: {v}" for k, v in event["errors"].items()))
            if on_event:
                on_event(event)
    if proc.returncode not in (0, 1):
        raise QuanchengError(f"Airflow runner exited with {proc.returncode}; see {log}")
    return result


def run_demo(home: Path, *, scale: int = 200, engines: str = "embedded", seed: int = 7, reseed: bool = False,
             dag_ids: list[str] | None = None, on_event: Callable[[dict[str, Any]], None] | None = None,
             on_seed: Callable[[str, int, int], None] | None = None, days: int = 0,
             fraction: float = 0.05, db_prefix: str = "qc_", replace_databases: bool = False) -> DemoResult:
    """Seed (unless already seeded), then run every system's DAG for each interval not yet run: the seeded
    interval (a full refresh), then each day ``demo advance`` added since. ``days``: then apply that many
    more days of changes (``fraction`` of the rows each), running each day's interval after it. With nothing
    new to run, the last interval is run again (a rerun, which must change nothing)."""
    from quancheng.catalog import load_catalog
    from quancheng.demo.advance import advance_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    home = home.resolve()
    world_dir = home / "world"
    if reseed or not (world_dir / "world.json").exists():
        seed_world(load_catalog(), world_dir, scale=scale, engines=engines,  # type: ignore[arg-type]
                   seed=seed, progress=on_seed, db_prefix=db_prefix, replace_databases=replace_databases)
        _state_file(home).unlink(missing_ok=True)
    result = DemoResult(home)
    t0 = time.perf_counter()
    done = _ran(home)
    pending = [i for i in _intervals(_world_dict(load_world(world_dir))) if i["label"] not in done]
    for _ in range(days + 1):
        for interval in pending or [_intervals(_world_dict(load_world(world_dir)))[-1]]:
            _run_interval(home, interval, result, dag_ids=dag_ids, on_event=on_event)
        if _ == days:
            break
        change = advance_world(world_dir, seed=seed + 1 + len(load_world(world_dir).changes), fraction=fraction)
        if on_event:
            on_event({"event": "advanced", **{k: change[k] for k in ("start", "end", "inserts", "updates",
                                                                      "deletes")}})
        pending = [_intervals(_world_dict(load_world(world_dir)))[-1]]
    if (home / "quality" / "validations").exists():  # GX imported once for every system's results
        from quancheng.validate.gx import build_data_docs

        result.data_docs = build_data_docs(home / "quality")
    result.seconds["total"] = round(time.perf_counter() - t0, 2)
    return result


def _intervals(world: dict[str, Any]) -> list[dict[str, Any]]:
    """The seeded interval, then one per day of changes, with what each changed."""
    out = [{"label": "seeded", "since": None, "end": world["interval"]["end"], "full_refresh": True,
            "inserts": None, "updates": None, "deletes": None}]
    for n, c in enumerate(world.get("changes", []), 1):
        out.append({"label": f"day {n}", "since": c["start"], "end": c["end"], "full_refresh": False,
                    **{k: c.get(k) for k in ("inserts", "updates", "deletes")}})
    return out


def _state_file(home: Path) -> Path:
    return home / "airflow" / "demo_intervals.json"


def _ran(home: Path) -> list[str]:
    path = _state_file(home)
    return list(json.loads(path.read_text())["ran"]) if path.exists() else []


def _run_interval(home: Path, interval: dict[str, Any], result: DemoResult, *, dag_ids: list[str] | None,
                  on_event: Callable[[dict[str, Any]], None] | None) -> None:
    """Run every DAG for one interval, fold its states into ``result`` and record the interval as run."""
    from quancheng.demo.world import load_world

    world = _world_dict(load_world(home / "world"))
    end = _ceil_to_day(datetime.fromisoformat(interval["end"]))
    since = _local(datetime.fromisoformat(interval["since"])).isoformat() if interval["since"] else None
    started = datetime.now(UTC)
    if on_event:
        on_event({"event": "interval", "label": interval["label"], "end": end.isoformat()})
    with served_world(home / "world", world) as uris:
        env = airflow_env(home, world, uris)
        run = run_dags(env, end.isoformat(), log=home / "airflow" / "demo.log",
                       full_refresh=interval["full_refresh"], dag_ids=dag_ids, since=since, on_event=on_event)
    for dag_id, state in run.states.items():  # a DAG that failed on any interval stays failed
        if result.states.get(dag_id, "success") == "success":
            result.states[dag_id] = state
    result.seconds.update(run.seconds)
    result.events += run.events
    result.days.append({**interval, "end": end.isoformat(), "failed": len(run.failed), **_counted(home, started)})
    ran = _ran(home)
    if interval["label"] not in ran:
        _state_file(home).parent.mkdir(parents=True, exist_ok=True)
        _state_file(home).write_text(json.dumps({"ran": [*ran, interval["label"]]}))


def _counted(home: Path, since: datetime) -> dict[str, int]:
    """What the syncs that finished after ``since`` extracted, published, quarantined and deleted."""
    import sqlalchemy as sa
    from quancheng.publish.store import SharedStore
    from quancheng.runs import runs_table

    t = runs_table()
    store = SharedStore(home)
    with store.engine.connect() as c:
        if not sa.inspect(c).has_table(t.name):
            return {}
        rows = c.execute(sa.select(t).where(t.c.finished_at >= since)).mappings().all()
    return {k: sum(int(r[k] or 0) for r in rows) for k in ("extracted", "published", "quarantined", "deleted")}


def _local(t: datetime) -> datetime:
    """A demo world's time (naive: Beijing time, as the departments record it) made aware."""
    from zoneinfo import ZoneInfo

    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def _ceil_to_day(t: datetime) -> datetime:
    """The first midnight (Asia/Shanghai) at or after ``t``: every schedule has an interval ending there."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    local = t.astimezone(ZoneInfo("Asia/Shanghai")) if t.tzinfo else t.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == local else midnight + timedelta(days=1)


def _world_dict(world: World) -> dict[str, Any]:
    return world.to_dict()
