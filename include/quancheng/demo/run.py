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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quancheng.errors import QuanchengError

if TYPE_CHECKING:
    from quancheng.demo.world import World

REPO = Path(__file__).resolve().parents[3]


@dataclass
class DemoResult:
    """What a demo run did: per-DAG states, timings and where things are."""

    home: Path
    states: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    data_docs: Path | None = None

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
             dag_ids: list[str] | None = None,
             on_event: Callable[[dict[str, Any]], None] | None = None) -> DemoResult:
    """Run sync DAGs in one Airflow process; call ``on_event`` for each progress event."""
    result = DemoResult(Path(env["QUANCHENG_HOME"]))
    cmd = [sys.executable, str(REPO / "tools" / "run_dags.py"), "--log", str(log), "--interval-end", interval_end]
    if full_refresh:
        cmd.append("--full-refresh")
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
             on_seed: Callable[[str, int, int], None] | None = None) -> DemoResult:
    """Seed (unless already seeded) and run every system's DAG for the world's interval."""
    from quancheng.catalog import load_catalog
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world

    home = home.resolve()
    world_dir = home / "world"
    if reseed or not (world_dir / "world.json").exists():
        seed_world(load_catalog(), world_dir, scale=scale, engines=engines,  # type: ignore[arg-type]
                   seed=seed, progress=on_seed)
    world = _world_dict(load_world(world_dir))
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"]))
    t0 = time.perf_counter()
    with served_world(world_dir, world) as uris:
        env = airflow_env(home, world, uris)
        result = run_dags(env, end.isoformat(), log=home / "airflow" / "demo.log", full_refresh=True,
                          dag_ids=dag_ids, on_event=on_event)
    if (home / "quality" / "validations").exists():  # GX imported once for every system's results
        from quancheng.validate.gx import build_data_docs

        result.data_docs = build_data_docs(home / "quality")
    result.seconds["total"] = round(time.perf_counter() - t0, 2)
    return result


def _ceil_to_day(t: datetime) -> datetime:
    """The first midnight (Asia/Shanghai) at or after ``t``: every schedule has an interval ending there."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    local = t.astimezone(ZoneInfo("Asia/Shanghai")) if t.tzinfo else t.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == local else midnight + timedelta(days=1)


def _world_dict(world: World) -> dict[str, Any]:
    return world.to_dict()
