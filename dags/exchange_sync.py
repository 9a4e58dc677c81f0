"""One sync DAG per departmental system in the catalog: ``sync__<system_id>``.

extract -> normalize -> validate -> publish, each task one call into ``quancheng.steps``; tasks pass
storage paths and counts (never frames), and ``publish`` emits one Asset event per shared dataset
with the batch's row counts and content hash. Parse time is reading the catalog's systems and forms,
nothing more: no pandas, pyarrow or Great Expectations import here.

Extracts run in the ``quancheng_extract`` pool and publishes in ``quancheng_publish`` (declared in
``airflow_settings.yaml``); both steps hold the system's lock, waiting up to the Variable
``quancheng_lock_wait_seconds`` for another run of the system (see ``quancheng.locks``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable
from quancheng.airflow_settings import EXTRACT_POOL, LOCK_WAIT_VARIABLE, PUBLISH_POOL
from quancheng.catalog.light import dataset_id, load_systems_and_forms, quarantine_dataset_id
from quancheng_airflow.storage import use_storage_connection

OWNER = "data-exchange"
START = pendulum.datetime(2019, 1, 1, tz="Asia/Shanghai")  # before any data; catchup is off
TASK_TIMEOUT = timedelta(hours=2)  # longer than the largest system's extract (benchmarks/results/extract.md)


def asset_for(dataset_id: str) -> Asset:
    return Asset(name=dataset_id, uri=f"quancheng://shared/{dataset_id}", group="quancheng")


def _lock_wait() -> float:
    """Seconds a step waits for its system's lock (read at run time, never at parse time)."""
    from airflow.sdk import Variable

    return float(Variable.get(LOCK_WAIT_VARIABLE, default="0"))


def _on_failure(context: dict[str, Any]) -> None:
    from quancheng.steps import record_failure

    dag_id = context["dag"].dag_id
    params = context.get("params") or {}
    # the same params extract_step got, so the record names the batch that ran (origin__... for a full refresh)
    record_failure(dag_id.removeprefix("sync__"), params.get("since") or context.get("data_interval_start"),
                   context["data_interval_end"], str(context.get("exception")),
                   full_refresh=bool(params.get("full_refresh")), rebuild=bool(params.get("rebuild")))


def build_sync_dag(system: Any, forms: list[Any]) -> Any:
    """The DAG of one system, from its catalog entry."""
    datasets = [dataset_id(f) for f in forms] + [quarantine_dataset_id(system.system_id)]
    outlets = [asset_for(d) for d in datasets]
    conn_id = system.conn_id
    sid = system.system_id

    @dag(
        dag_id=f"sync__{sid}",
        schedule=CronDataIntervalTimetable(system.schedule if system.schedule != "@daily" else "0 0 * * *",
                                           timezone="Asia/Shanghai"),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["quancheng", "sync", system.kind, system.department_en],
        # a task that outlives its deadline (a source that hangs without failing) is failed and retried
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(seconds=30),
                      "execution_timeout": TASK_TIMEOUT,
                      "retry_exponential_backoff": 2.0, "max_retry_delay": timedelta(minutes=10),
                      "on_failure_callback": _on_failure, "queue": system.queue,
                      "pre_execute": use_storage_connection},
        # since: read from this ISO time instead of the interval's start (catching up a longer gap in one run)
        params={"full_refresh": False, "rebuild": False, "allow_mass_delete": False, "since": ""},
        doc_md=(f"### {system.name_zh} ({system.name_en})\n\n"
                f"Department: {system.department_zh} / {system.department_en}. Kind: `{system.kind}`, "
                f"connection `{conn_id}`, mode `{system.extract_mode}`.\n\n"
                f"Publishes: {', '.join(f'`{d}`' for d in datasets)}."),
    )
    def sync() -> None:
        @task(pool=EXTRACT_POOL)
        def extract(data_interval_start: Any = None, data_interval_end: Any = None,
                    params: dict[str, Any] | None = None) -> dict[str, Any]:
            from airflow.sdk import Connection
            from quancheng.steps import extract_step

            uri = Connection.get(conn_id).get_uri()
            return extract_step(sid, data_interval_start, data_interval_end, uri=uri,
                                since=(params or {}).get("since") or None,
                                full_refresh=bool((params or {}).get("full_refresh")),
                                rebuild=bool((params or {}).get("rebuild")),
                                allow_mass_delete=bool((params or {}).get("allow_mass_delete")), lock_wait=_lock_wait())

        @task
        def normalize(ref: dict[str, Any]) -> dict[str, Any]:
            from quancheng.steps import normalize_step

            return normalize_step(ref)

        @task
        def validate(ref: dict[str, Any]) -> dict[str, Any]:
            from quancheng.steps import validate_step

            return validate_step(ref)

        @task(outlets=outlets, pool=PUBLISH_POOL)
        def publish(ref: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
            from quancheng.steps import publish_step

            ref = publish_step(ref, lock_wait=_lock_wait())
            for ds, out in ref["published"].items():
                outlet_events[asset_for(ds)].extra = {**out, "batch_id": ref["batch_id"]}
            return ref

        publish(validate(normalize(extract())))

    return sync()


for _system, _forms in load_systems_and_forms():
    globals()[f"sync__{_system.system_id}"] = build_sync_dag(_system, _forms)
