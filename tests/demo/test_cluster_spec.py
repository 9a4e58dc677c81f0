"""The demo deployment's settings for each executor, and the overlap it reports, without starting Airflow."""

from __future__ import annotations

from pathlib import Path

from cli_runner import quancheng
from quancheng.demo.cluster import ClusterSpec, cluster_env
from quancheng.demo.cluster_run import ClusterRun, _peak


def test_local_executor_runs_on_sqlite_without_a_broker(tmp_path: Path) -> None:
    spec = ClusterSpec(tmp_path, executor="local", parallelism=12, port=9999)
    env = cluster_env({"PATH": "/bin"}, spec)
    assert spec.metadata_url == f"sqlite:///{tmp_path.resolve() / 'cluster' / 'airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "12"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == spec.metadata_url
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:9999/execution/"
    assert not [k for k in env if k.startswith("AIRFLOW__CELERY")]
    # every Airflow component waits its turn for the SQLite file instead of failing at sqlite3's 5 s
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] == "quancheng.demo.run.SQLITE_CONNECT_ARGS"
    from quancheng.demo.run import SQLITE_CONNECT_ARGS

    assert SQLITE_CONNECT_ARGS["timeout"] >= 30


def test_celery_executor_keeps_its_services(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUANCHENG_CLUSTER_DB", "postgresql+psycopg://postgres@db:5432/af")
    spec = ClusterSpec(tmp_path, workers=3)
    env = cluster_env({"AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "quancheng.demo.run.SQLITE_CONNECT_ARGS"},
                      spec)
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in env  # psycopg would reject "timeout"
    assert spec.executor == "celery" and spec.metadata_url == "postgresql+psycopg://postgres@db:5432/af"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg://postgres@db:5432/af"
    assert "AIRFLOW__CORE__PARALLELISM" not in env


def test_an_explicit_metadata_url_wins(tmp_path: Path) -> None:
    assert ClusterSpec(tmp_path, executor="local", metadata_url="sqlite:////x.db").metadata_url == "sqlite:////x.db"


def test_peak_counts_spans_open_at_one_moment() -> None:
    from datetime import UTC, datetime

    def t(s: int) -> datetime:
        return datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC)

    assert _peak([]) == 0
    assert _peak([(t(0), t(5))]) == 1
    assert _peak([(t(0), t(5)), (t(5), t(9))]) == 1  # one ends as the next starts: one after another
    assert _peak([(t(0), t(5)), (t(4), t(9)), (t(1), t(2))]) == 2
    assert _peak([(t(0), t(9)), (t(1), t(8)), (t(2), t(7))]) == 3


def test_overlap_spans_a_run_from_its_first_task_to_its_last() -> None:
    def ti(dag: str, task: str, start: str, end: str) -> dict[str, object]:
        return {"dag_id": dag, "run_id": "r", "task_id": task, "try_number": 1, "state": "success",
                "hostname": "h", "queue": "default", "start_date": f"2026-01-01 00:00:{start}",
                "end_date": f"2026-01-01 00:00:{end}"}

    run = ClusterRun({}, {}, [ti("sync__a", "extract", "00", "02"), ti("sync__a", "publish", "08", "09"),
                              ti("sync__b", "extract", "03", "04"), ti("share__x", "go", "00", "09")], 1.0)
    # sync__a runs 00-09 and sync__b 03-04: both runs at once, but never two sync tasks; share__ not counted
    assert run.overlap() == {"runs": 2, "tasks": 1}


def test_demo_cluster_offers_the_local_executor() -> None:
    code, out = quancheng("demo", "cluster", "--help")
    assert code == 0
    assert "--executor [celery|local]" in out and "--parallelism" in out
