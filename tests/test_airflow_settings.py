"""``airflow_settings.yaml``: it parses in the Astro CLI format, declares the pools the DAG files name,
holds nothing secret, and a malformed file fails with a message naming the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from quancheng.airflow_settings import (
    CONSOLIDATE_POOL,
    EXTRACT_POOL,
    LOCK_WAIT_VARIABLE,
    PUBLISH_POOL,
    SETTINGS_FILE,
    load_settings,
)
from quancheng.errors import QuanchengError


def test_repository_file_parses_with_pools_and_variables() -> None:
    raw = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))
    assert set(raw) == {"airflow"} and set(raw["airflow"]) == {"connections", "pools", "variables"}
    settings = load_settings()
    pools = {p.name: p for p in settings.pools}
    assert {PUBLISH_POOL, EXTRACT_POOL, CONSOLIDATE_POOL} <= set(pools)
    assert all(p.slots >= 1 and p.description for p in pools.values())
    assert float(settings.variables[LOCK_WAIT_VARIABLE]) >= 0
    for c in settings.connections:  # nothing secret in the repository
        assert not c.get("conn_password") and "@" not in str(c.get("conn_uri", ""))


def test_connection_uris_fill_in_the_demo_home(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("airflow:\n  connections:\n    - conn_id: qc_x\n      conn_type: sqlite\n"
                 "      conn_uri: 'sqlite:///{home}/world/x.db'\n  pools: []\n  variables: []\n")
    assert load_settings(f).connection_uris(Path("/demo")) == {"qc_x": "sqlite:////demo/world/x.db"}


@pytest.mark.parametrize(("text", "expected"), [
    ("pools: []\n", "no top-level `airflow:` mapping"),
    ("airflow:\n  pools:\n    - pool_name: p\n", "airflow.pools[0] has no pool_slot"),
    ("airflow:\n  pools: {p: 1}\n", "airflow.pools must be a list"),
    ("airflow:\n  pools:\n    - {pool_name: p, pool_slot: 1}\n    - {pool_name: p, pool_slot: 2}\n",
     "pool declared twice: p"),
    ("airflow:\n  variables:\n    - variable_name: v\n", "airflow.variables[0] has no variable_value"),
    ("airflow: [\n", "cannot read the Airflow settings"),
])
def test_malformed_file_names_file_and_entry(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "airflow_settings.yaml"
    f.write_text(text)
    with pytest.raises(QuanchengError, match=r"airflow_settings\.yaml: ") as err:
        load_settings(f)
    assert expected in str(err.value)
