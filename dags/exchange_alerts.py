"""``ops__freshness``: every hour, check each system's freshness, last run and quarantine rate; notify once.

One task reads the run records (``quancheng.ops``), turns the failed, stale and over-threshold systems into
alerts, drops those already sent, and delivers the rest through the ``quancheng_alerts`` connection (SMTP or
webhook; logged when the connection is absent). A delivery error fails the task, so it retries and nothing
is marked sent that did not go out. Parse time is this file only: no catalog, pandas or pyarrow here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable
from quancheng_airflow.storage import use_storage_connection

OWNER = "data-exchange"
ALERTS_CONN_ID = "quancheng_alerts"


def _notify_failure(context: dict[str, Any]) -> None:
    """This DAG's own failure goes through the same notifier (plugins/ is on sys.path in Airflow)."""
    from quancheng_airflow.notifiers import ExchangeNotifier

    ExchangeNotifier(conn_id=ALERTS_CONN_ID)(context)


@dag(
    dag_id="ops__freshness",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai"),  # before any demo interval: dag.test runs it
    catchup=False,
    max_active_runs=1,
    tags=["quancheng", "ops", "alerts"],
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2),
                  "retry_exponential_backoff": 2.0, "on_failure_callback": _notify_failure,
                  "pre_execute": use_storage_connection},
    doc_md=__doc__,
)
def ops__freshness() -> None:
    @task
    def check_and_notify() -> dict[str, Any]:
        from datetime import UTC, datetime

        from quancheng.catalog import load_catalog
        from quancheng.ops.alerts import alerts_for
        from quancheng.ops.overview import build_overview
        from quancheng.pipeline import default_home
        from quancheng_airflow.notifiers import ExchangeNotifier

        overview = build_overview(default_home(), load_catalog(), datetime.now(UTC))
        notifier = ExchangeNotifier(conn_id=ALERTS_CONN_ID, alerts=alerts_for(overview.systems))
        notifier.notify({})
        return {"counts": overview.counts, "channel": notifier.channel,
                "alerts": [a.to_json() for a in notifier.sent]}

    check_and_notify()


ops__freshness()
