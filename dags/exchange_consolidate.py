"""Consolidation and sharing DAGs, scheduled on the systems' shared datasets (Airflow Assets).

- ``share__system_datasets``: every system dataset's copies for the open schema, the granted departments
  and the system's own area (tokenized personal information): nothing is read for a dataset shared from
  its current content; a day's changed rows are merged into the copies (``quancheng.consolidate.share``).
- ``consolidate__stage_forms``: the four stage forms (one row per project per stage), their per-value
  provenance and the conflicts dataset.
- ``consolidate__enterprise_master``: one row per legal entity, its name history, links and review list.
- ``consolidate__materials``: the application materials per stage form, waived or still asked for.
- ``consolidate__cases``: the case record of every approval item (受理, 审批决定 …), one row per case.

Each runs when any system dataset is updated; each task is one call into ``quancheng.consolidate.steps``
and emits one Asset event per dataset it published, with rows and content hash. Parse time is reading
the catalog's systems, forms and stages: no pandas, pyarrow or polars here. Every task runs in the
``quancheng_consolidate`` pool (``airflow_settings.yaml``): each reads the whole store, one at a time.
"""

from __future__ import annotations

import functools
import operator
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, task
from quancheng.airflow_settings import CONSOLIDATE_POOL
from quancheng.catalog.light import dataset_id, load_systems_and_forms
from quancheng.catalog.loader import catalog_dir, read_rows
from quancheng.catalog.models import Stage
from quancheng_airflow.storage import use_storage_connection

OWNER = "data-exchange"
START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
KEY_CONN_ID = "qc_tokenization_key"
DEFAULT_ARGS = {"owner": OWNER, "retries": 2, "retry_delay": timedelta(seconds=30),
                "retry_exponential_backoff": 2.0, "max_retry_delay": timedelta(minutes=10),
                "pre_execute": use_storage_connection}


def asset_for(dataset_id: str) -> Asset:
    """The same Asset identity as ``dags/exchange_sync.py`` gives a shared dataset."""
    return Asset(name=dataset_id, uri=f"quancheng://shared/{dataset_id}", group="quancheng")


def tokenization_key() -> str | None:
    """The key from the Airflow connection, or None (the core then looks in the environment)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(KEY_CONN_ID).password or None
    except AirflowNotFoundException:
        return None


def emit(outlet_events: Any, outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for ds, out in outputs.items():
        if "content_hash" in out and "/" not in ds:  # area copies travel in the extra of their dataset
            areas = {k: v["content_hash"] for k, v in outputs.items() if k.endswith("/" + ds)}
            outlet_events[asset_for(ds)].extra = {**out, "areas": areas}
    return outputs


_systems = load_systems_and_forms()
_stages = [s.stage_id for s in read_rows(catalog_dir() / "stages.csv", Stage, "stages.csv", [])]
SYSTEM_ASSETS = [asset_for(dataset_id(f)) for _, forms in _systems for f in forms]
ANY_SYSTEM_DATASET = functools.reduce(operator.or_, SYSTEM_ASSETS) if SYSTEM_ASSETS else None
STAGE_DATASETS = [f"stage.{s}" for s in _stages] + [f"stage.{s}.provenance" for s in _stages] + \
    ["conflicts.stage_forms"]
MASTER_DATASETS = ["master.enterprise", "master.enterprise_names", "master.enterprise_links",
                   "master.enterprise_review"]


def _doc(title: str, datasets: list[str]) -> str:
    return (f"### {title}\n\nRuns when any system dataset is updated. Publishes: "
            + ", ".join(f"`{d}`" for d in datasets) + ".\n\n" + (__doc__ or ""))


@dag(dag_id="share__system_datasets", schedule=ANY_SYSTEM_DATASET, start_date=START, catchup=False,
     max_active_runs=1, tags=["quancheng", "sharing"], default_args=DEFAULT_ARGS,
     doc_md=_doc("Share system datasets by the catalog's rules", ["shared_open/*", "dept_*/*", "src_*/*"]))
def share__system_datasets() -> None:
    @task(pool=CONSOLIDATE_POOL)
    def share() -> dict[str, Any]:
        from quancheng.consolidate.steps import share_step

        return share_step(key=tokenization_key())

    share()


@dag(dag_id="consolidate__stage_forms", schedule=ANY_SYSTEM_DATASET, start_date=START, catchup=False,
     max_active_runs=1, tags=["quancheng", "consolidate"], default_args=DEFAULT_ARGS,
     doc_md=_doc("Stage forms", STAGE_DATASETS))
def consolidate__stage_forms() -> None:
    @task(pool=CONSOLIDATE_POOL, outlets=[asset_for(d) for d in STAGE_DATASETS])
    def stage_forms(outlet_events: Any = None) -> dict[str, Any]:
        from quancheng.consolidate.steps import stage_forms_step

        return emit(outlet_events, stage_forms_step(key=tokenization_key()))

    stage_forms()


@dag(dag_id="consolidate__enterprise_master", schedule=ANY_SYSTEM_DATASET, start_date=START, catchup=False,
     max_active_runs=1, tags=["quancheng", "consolidate"], default_args=DEFAULT_ARGS,
     doc_md=_doc("Enterprise master", MASTER_DATASETS))
def consolidate__enterprise_master() -> None:
    @task(pool=CONSOLIDATE_POOL, outlets=[asset_for(d) for d in MASTER_DATASETS])
    def enterprise_master(outlet_events: Any = None) -> dict[str, Any]:
        from quancheng.consolidate.steps import enterprise_master_step

        return emit(outlet_events, enterprise_master_step(key=tokenization_key()))

    enterprise_master()


@dag(dag_id="consolidate__materials", schedule=ANY_SYSTEM_DATASET, start_date=START, catchup=False,
     max_active_runs=1, tags=["quancheng", "consolidate"], default_args=DEFAULT_ARGS,
     doc_md=_doc("Application materials per stage form", ["materials.by_stage"]))
def consolidate__materials() -> None:
    @task(pool=CONSOLIDATE_POOL, outlets=[asset_for("materials.by_stage")])
    def materials(outlet_events: Any = None) -> dict[str, Any]:
        from quancheng.consolidate.steps import materials_step

        return emit(outlet_events, materials_step())

    materials()


@dag(dag_id="consolidate__cases", schedule=ANY_SYSTEM_DATASET, start_date=START, catchup=False,
     max_active_runs=1, tags=["quancheng", "consolidate"], default_args=DEFAULT_ARGS,
     doc_md=_doc("Approval cases", ["cases.approval"]))
def consolidate__cases() -> None:
    @task(pool=CONSOLIDATE_POOL, outlets=[asset_for("cases.approval")])
    def cases(outlet_events: Any = None) -> dict[str, Any]:
        from quancheng.consolidate.steps import cases_step

        return emit(outlet_events, cases_step(key=tokenization_key()))

    cases()


share__system_datasets()
consolidate__stage_forms()
consolidate__enterprise_master()
consolidate__materials()
consolidate__cases()
