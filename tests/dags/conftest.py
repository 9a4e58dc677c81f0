"""Airflow for the DAG tests: a private AIRFLOW_HOME on SQLite and no connections (no secrets present)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    }
    for k in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
        del os.environ[k]
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def dagbag(airflow_env: dict[str, str]):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=airflow_env["AIRFLOW__CORE__DAGS_FOLDER"])
