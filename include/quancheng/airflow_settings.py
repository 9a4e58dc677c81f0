"""``airflow_settings.yaml`` (Astro CLI format): the pools, variables and connections Airflow needs.

The file at the top of the repository declares, for the demo and for ``make standalone``:
- **pools** (``pool_name``, ``pool_slot``, ``pool_description``) that the DAGs put their tasks in: the
  names are the constants below, which the DAG files import, so a DAG cannot name an undeclared pool;
- **variables** (``variable_name``, ``variable_value``), read by tasks at run time, never at parse time;
- **connections** (``conn_id``, ``conn_type``, ``conn_host`` ..., or ``conn_uri``; ``conn_extra``), none
  secret. The demo's source connections ``qc_<system>`` are *not* listed: which engine, database and API
  port each system has is decided when the world is seeded, so the demo generates them from
  ``world.json`` as ``AIRFLOW_CONN_*`` variables (see :func:`quancheng.demo.run.airflow_env`). A
  ``conn_uri`` may use ``{home}`` for the demo folder.

This module only parses and checks the file (no Airflow import); ``tools/load_settings.py`` writes it
into an Airflow metadata database the way ``astro dev object import`` would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quancheng.errors import QuanchengError

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "airflow_settings.yaml"

PUBLISH_POOL = "quancheng_publish"  # sync publishes: the writers of the shared store
EXTRACT_POOL = "quancheng_extract"  # sync extracts: reads from departmental systems
CONSOLIDATE_POOL = "quancheng_consolidate"  # sharing and consolidation: whole-store readers and writers
LOCK_WAIT_VARIABLE = "quancheng_lock_wait_seconds"  # how long a sync step waits for its system's lock


@dataclass(frozen=True)
class Pool:
    name: str
    slots: int
    description: str


@dataclass(frozen=True)
class AirflowSettings:
    pools: list[Pool] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    connections: list[dict[str, Any]] = field(default_factory=list)

    def connection_uris(self, home: Path) -> dict[str, str]:
        """``conn_id -> URI`` of the declared connections that give ``conn_uri`` (``{home}`` filled in)."""
        return {c["conn_id"]: str(c["conn_uri"]).replace("{home}", str(home))
                for c in self.connections if c.get("conn_uri")}


def load_settings(path: Path = SETTINGS_FILE) -> AirflowSettings:
    """Parse and check the settings file; errors name the file, the entry and the fix."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise QuanchengError(f"{path}: cannot read the Airflow settings: {exc}") from exc
    section = data.get("airflow") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise QuanchengError(f"{path}: no top-level `airflow:` mapping (fix: use the Astro CLI format "
                             "`airflow: {connections: [...], pools: [...], variables: [...]}`)")

    def entries(key: str, required: tuple[str, ...]) -> list[dict[str, Any]]:
        items = section.get(key) or []
        if not isinstance(items, list):
            raise QuanchengError(f"{path}: airflow.{key} must be a list")
        for i, item in enumerate(items):
            missing = [k for k in required if not isinstance(item, dict) or item.get(k) in (None, "")]
            if missing:
                raise QuanchengError(f"{path}: airflow.{key}[{i}] has no {', '.join(missing)}")
        return items

    pools = [Pool(str(p["pool_name"]), int(p["pool_slot"]), str(p.get("pool_description") or ""))
             for p in entries("pools", ("pool_name", "pool_slot"))]
    variables = {str(v["variable_name"]): str(v["variable_value"])
                 for v in entries("variables", ("variable_name", "variable_value"))}
    connections = entries("connections", ("conn_id", "conn_type"))
    for kind, names in (("pool", [p.name for p in pools]), ("connection", [c["conn_id"] for c in connections])):
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise QuanchengError(f"{path}: {kind} declared twice: {', '.join(dupes)}")
    return AirflowSettings(pools, variables, connections)
