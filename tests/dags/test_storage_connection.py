"""The connection ``quancheng_storage`` points a task at the bucket (issue 13: storage from an Airflow
connection, never from the repository); without it a task keeps the environment's storage."""

from __future__ import annotations

import json
import os

import pytest
from quancheng.errors import QuanchengError
from quancheng.objectstore import Storage


@pytest.fixture
def clean_env(airflow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    from quancheng_airflow.storage import AWS_NAMES

    # every name the hook may set is recorded first (set, then removed), so the test's end restores it
    for name in {*AWS_NAMES, "QUANCHENG_STORAGE_URL", "AIRFLOW_CONN_QUANCHENG_STORAGE",
                 *(n for n in os.environ if n.startswith("AWS_"))}:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def test_the_connection_sets_the_task_s_storage(clean_env: pytest.MonkeyPatch) -> None:
    from quancheng_airflow.storage import use_storage_connection

    clean_env.setenv("AWS_SESSION_TOKEN", "left-from-the-worker")  # not the connection's: must not survive
    clean_env.setenv("AIRFLOW_CONN_QUANCHENG_STORAGE", json.dumps({
        "conn_type": "aws", "login": "AKID", "password": "s3cret",
        "extra": {"base_url": "s3://quancheng-shared/exchange", "endpoint_url": "http://127.0.0.1:8333",
                  "region_name": "cn-north-1"}}))
    assert use_storage_connection() == "s3://quancheng-shared/exchange"
    assert "AWS_SESSION_TOKEN" not in os.environ
    storage = Storage.from_env("/nowhere")
    assert storage.base == "s3://quancheng-shared/exchange"
    assert storage.storage_options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:8333"
    assert storage.storage_options["AWS_ALLOW_HTTP"] == "true"
    assert storage.storage_options["AWS_REGION"] == "cn-north-1"
    assert (storage.storage_options["AWS_ACCESS_KEY_ID"], storage.storage_options["AWS_SECRET_ACCESS_KEY"]) == (
        "AKID", "s3cret")
    assert "s3cret" not in repr(storage)


def test_no_connection_keeps_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    from quancheng_airflow.storage import use_storage_connection

    clean_env.setenv("QUANCHENG_STORAGE_URL", "/srv/exchange")
    assert use_storage_connection() is None
    assert os.environ["QUANCHENG_STORAGE_URL"] == "/srv/exchange"


def test_a_connection_without_a_base_url_fails_the_task_naming_it(clean_env: pytest.MonkeyPatch) -> None:
    from quancheng_airflow.storage import use_storage_connection

    clean_env.setenv("AIRFLOW_CONN_QUANCHENG_STORAGE", json.dumps({"conn_type": "aws", "extra": {}}))
    with pytest.raises(QuanchengError, match="'quancheng_storage' has no base_url"):
        use_storage_connection()
    assert "QUANCHENG_STORAGE_URL" not in os.environ


def test_every_dag_s_tasks_take_the_connection_before_they_run(dagbag) -> None:  # type: ignore[no-untyped-def]
    from quancheng_airflow.storage import use_storage_connection

    assert dagbag.dags
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task._pre_execute_hook is use_storage_connection, (dag.dag_id, task.task_id)
