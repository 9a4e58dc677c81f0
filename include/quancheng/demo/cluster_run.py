"""Every system's sync triggered at once on a running demo deployment, and what ran: states, workers, overlap.

Used by ``quancheng demo cluster`` (either executor), its tests and ``benchmarks/cluster.py``; the
deployment itself (components, REST calls, the metadata database) is :mod:`quancheng.demo.cluster`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quancheng.demo.cluster import Cluster

SYNC_PREFIX = "sync__"
DOWNSTREAM = ("share__system_datasets", "consolidate__stage_forms", "consolidate__enterprise_master",
              "consolidate__materials", "consolidate__cases")


@dataclass
class ClusterRun:
    """What a cluster demo run did: each triggered DAG's state, the downstream runs, who ran what."""

    states: dict[str, str]
    downstream: dict[str, list[str]]
    tasks: list[dict[str, Any]]
    seconds: float

    @property
    def failed(self) -> list[str]:
        bad = [d for d, s in self.states.items() if s != "success"]
        return bad + [d for d, s in self.downstream.items() if not s or any(x != "success" for x in s)]

    def overlap(self, prefix: str = SYNC_PREFIX) -> dict[str, int]:
        """How much ran at once, from the task instances' start and end times: the most DAG runs of DAGs named
        ``prefix...`` in progress at one moment (a run spans its first task's start to its last task's end),
        and the most of their task instances running at one moment."""
        runs: dict[tuple[str, str], list[datetime]] = {}
        tasks: list[tuple[datetime, datetime]] = []
        for t in self.tasks:
            if not str(t["dag_id"]).startswith(prefix) or not t["start_date"] or not t["end_date"]:
                continue
            span = (_when(t["start_date"]), _when(t["end_date"]))
            tasks.append(span)
            first, last = runs.setdefault((t["dag_id"], t["run_id"]), [span[0], span[1]])
            runs[(t["dag_id"], t["run_id"])] = [min(first, span[0]), max(last, span[1])]
        return {"runs": _peak([(a, b) for a, b in runs.values()]), "tasks": _peak(tasks)}

    def workers(self) -> dict[str, int]:
        """Task instances run per worker (by the hostname Airflow recorded)."""
        out: dict[str, int] = {}
        for t in self.tasks:
            if t["hostname"]:
                out[t["hostname"]] = out.get(t["hostname"], 0) + 1
        return out


def sync_everything(cluster: Cluster, system_ids: list[str], interval_end: str, *, timeout: float,
                    on_event: Any = None) -> ClusterRun:
    """Trigger every system's sync for the interval ending at ``interval_end`` (a full refresh, as the demo's
    first run is), let the Assets trigger sharing and consolidation, and wait until all of it is done."""
    t0 = time.monotonic()
    syncs = [f"{SYNC_PREFIX}{s}" for s in system_ids]
    cluster.wait_dags(syncs + list(DOWNSTREAM))
    # the downstream DAGs unpaused with (or before) the syncs, so the syncs' Asset events start them
    runs = cluster.trigger_all(syncs, interval_end, {"full_refresh": True}, unpause=DOWNSTREAM)
    if on_event:
        on_event({"event": "triggered", "dags": syncs})
    states = cluster.wait_runs(runs, timeout)
    downstream = cluster.wait_downstream(DOWNSTREAM, timeout - (time.monotonic() - t0))
    return ClusterRun(states, downstream, cluster.task_hosts(), round(time.monotonic() - t0, 1))


def _when(value: Any) -> datetime:
    """A timestamp from the metadata database (SQLite gives text), as an aware UTC datetime."""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _peak(spans: list[tuple[datetime, datetime]]) -> int:
    """The most spans open at one moment (one that ends as another starts does not overlap it)."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda e: (e[0], e[1]))
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak
