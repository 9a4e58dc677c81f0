"""OpenLineage for the sync tasks: each task's input and output datasets, from the catalog.

Registered with ``AIRFLOW__OPENLINEAGE__EXTRACTORS=quancheng_airflow.lineage.SyncTaskExtractor``; it emits
nothing unless OpenLineage itself is on (a transport configured, e.g. ``{"type": "console"}``). For a task of a
``sync__<system>`` DAG it adds the datasets :func:`quancheng.ops.lineage.task_lineage` names (source tables,
staging, shared Parquet and SQL tables with their columns); other Python tasks keep the provider's usual
source-code facet.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors.base import OperatorLineage
from airflow.providers.openlineage.extractors.python import PythonExtractor


def _source_uri(conn_id: str) -> str | None:
    """The system's connection URI (for namespaces only: credentials are never used in names)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from quancheng.sources.base import canonical_uri

    try:
        return canonical_uri(BaseHook.get_connection(conn_id).get_uri())
    except AirflowNotFoundException:
        return None


def to_openlineage(datasets: list[Any]) -> list[Any]:
    """``quancheng.ops.lineage.LineageDataset`` -> OpenLineage datasets with a schema facet when known."""
    from openlineage.client.event_v2 import Dataset
    from openlineage.client.facet_v2 import schema_dataset

    out = []
    for d in datasets:
        facets = {}
        if d.columns:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(fields=[
                schema_dataset.SchemaDatasetFacetFields(name=c.name, type=c.type, description=c.description)
                for c in d.columns])
        out.append(Dataset(namespace=d.namespace, name=d.name, facets=facets))
    return out


class SyncTaskExtractor(PythonExtractor):
    """Python tasks; for ``sync__*`` DAGs with the datasets each step reads and writes."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["_PythonDecoratedOperator", "PythonOperator"]

    def _execute_extraction(self) -> OperatorLineage | None:
        base = super()._execute_extraction() or OperatorLineage()
        dag_id = self.operator.dag_id
        if not dag_id.startswith("sync__"):
            return base
        from quancheng.catalog import load_catalog
        from quancheng.ops.lineage import task_lineage
        from quancheng.pipeline import default_home
        from quancheng.publish.store import SharedStore

        catalog = load_catalog()
        system_id = dag_id.removeprefix("sync__")
        system = catalog.system.get(system_id)
        if system is None:
            return base
        store = SharedStore(default_home())
        uri = _source_uri(system.conn_id) if self.operator.task_id == "extract" else None
        inputs, outputs = task_lineage(self.operator.task_id, system_id, catalog, uri=uri,
                                       parquet_root=store.location, sql_url=store.sql_url)
        return OperatorLineage(inputs=to_openlineage(inputs), outputs=to_openlineage(outputs),
                               run_facets=base.run_facets, job_facets=base.job_facets)
