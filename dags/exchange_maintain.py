"""``exchange__maintain``: nightly upkeep of the shared Delta tables (compaction and vacuum).

One task, one call into ``quancheng.publish.maintenance``: each dataset compacted and its files older than
the retention (Airflow Variable ``qc_retention_hours``, default a week) vacuumed, a system's datasets under
the system's lock. It runs in the ``quancheng_consolidate`` pool, so it never overlaps a consolidation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Variable, dag, task
from quancheng.airflow_settings import CONSOLIDATE_POOL
from quancheng_airflow.storage import use_storage_connection

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")


@dag(dag_id="exchange__maintain", schedule="0 3 * * *", start_date=START, catchup=False, max_active_runs=1,
     tags=["quancheng", "maintenance"], doc_md=__doc__,
     default_args={"owner": "data-exchange", "retries": 2, "retry_delay": timedelta(minutes=10),
                   "pre_execute": use_storage_connection})
def exchange__maintain() -> None:
    @task(pool=CONSOLIDATE_POOL)
    def maintain() -> dict[str, Any]:
        from quancheng.publish.maintenance import RETENTION_HOURS, maintain_step

        return maintain_step(retention_hours=int(Variable.get("qc_retention_hours", default=RETENTION_HOURS)))

    maintain()


exchange__maintain()
