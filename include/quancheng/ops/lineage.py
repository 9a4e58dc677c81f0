"""The input and output datasets of every sync task, named after the OpenLineage naming conventions.

extract:   the system's source tables, files or endpoints  -> staging ``raw``
normalize: staging ``raw``                                  -> staging ``normalized``
validate:  staging ``normalized``                           -> staging ``valid`` and ``quarantine``
publish:   staging ``valid`` and ``quarantine``             -> shared datasets (Parquet files and SQL tables)

Names are stable across runs (staging datasets leave the batch id out) so a lineage graph does not grow
a node per batch. Source namespaces follow the connection URI (``postgres://host:port``, ``mysql://host:port``,
``sqlite://<path>``, ``file://<host>``, ``https://host:port``) without user or password; a system whose
connection is not known gets ``quancheng-source://<conn_id>``. Published datasets carry their canonical
columns with Chinese and English names, from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm, System

TaskName = Literal["extract", "normalize", "validate", "publish"]
STAGING_NS = "quancheng-staging"


@dataclass(frozen=True)
class LineageColumn:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class LineageDataset:
    """An OpenLineage dataset: namespace, name and (for published datasets) its columns."""

    namespace: str
    name: str
    columns: tuple[LineageColumn, ...] = field(default=())


def source_namespace(system: System, uri: str | None) -> tuple[str, str]:
    """(namespace, name prefix) of a system's data, from its connection URI; never the credentials."""
    if not uri:
        return f"quancheng-source://{system.conn_id}", ""
    u = urlsplit(uri)
    scheme = u.scheme.split("+", 1)[0]
    host = u.hostname or "localhost"
    if scheme in ("postgres", "postgresql"):
        return f"postgres://{host}:{u.port or 5432}", (u.path.strip("/") or "postgres") + ".public."
    if scheme in ("mysql", "mariadb"):
        return f"mysql://{host}:{u.port or 3306}", (u.path.strip("/") + "." if u.path.strip("/") else "")
    if scheme == "sqlite":
        return f"sqlite:///{unquote(u.path).lstrip('/')}", ""
    if scheme == "file":
        return f"file://{u.hostname or ''}", unquote(u.path).rstrip("/") + "/"
    if scheme in ("http", "https"):
        port = f":{u.port}" if u.port else ""
        return f"{scheme}://{host}{port}", u.path.strip("/") + "/" if u.path.strip("/") else ""
    return f"{scheme}://{host}", ""


def _staging(system_id: str, stage: str, form: SourceForm) -> LineageDataset:
    return LineageDataset(STAGING_NS, f"{system_id}.{stage}.{form.form_id}")


def _shared_columns(catalog: Catalog, form: SourceForm) -> tuple[LineageColumn, ...]:
    return tuple(LineageColumn(e.key, e.data_type, f"{e.name_zh} / {e.name_en}: {e.definition}")
                 for e in catalog.elements_of(form.form_id))


def shared_outputs(dataset_id: str, columns: tuple[LineageColumn, ...], *, parquet_root: str,
                   sql_url: str) -> list[LineageDataset]:
    """A shared dataset as OpenLineage sees it: the Delta table (a local folder, namespace ``file://``, or
    under ``s3://bucket/prefix``, namespace ``s3://bucket``) and the SQL table."""
    table = dataset_id.replace(".", "__").replace("-", "_")
    u = urlsplit(sql_url)
    scheme = u.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        sql = LineageDataset(f"sqlite:///{unquote(u.path).lstrip('/')}", table, columns)
    else:
        ns = "postgres" if scheme.startswith("postgres") else scheme
        port = u.port or {"postgres": 5432, "mysql": 3306}.get(ns, 0)
        sql = LineageDataset(f"{ns}://{u.hostname or 'localhost'}:{port}",
                             f"{u.path.strip('/') or 'postgres'}.public.{table}", columns)
    if parquet_root.startswith("s3://"):
        bucket, _, prefix = parquet_root.removeprefix("s3://").partition("/")
        name = f"{prefix.strip('/')}/{dataset_id}" if prefix.strip("/") else dataset_id
        return [LineageDataset(f"s3://{bucket}", name, columns), sql]
    return [LineageDataset("file://", f"{parquet_root.rstrip('/')}/{dataset_id}", columns), sql]


def task_lineage(task: str, system_id: str, catalog: Catalog, *, uri: str | None, parquet_root: str,
                 sql_url: str) -> tuple[list[LineageDataset], list[LineageDataset]]:
    """(inputs, outputs) of one task of ``sync__<system_id>``; empty for a task this module does not know."""
    system = catalog.system.get(system_id)
    if system is None:
        return [], []
    forms = catalog.forms_of(system_id)
    if task == "extract":
        ns, prefix = source_namespace(system, uri)
        return ([LineageDataset(ns, prefix + f.table) for f in forms],
                [_staging(system_id, "raw", f) for f in forms])
    if task == "normalize":
        return [_staging(system_id, "raw", f) for f in forms], [_staging(system_id, "normalized", f) for f in forms]
    if task == "validate":
        return ([_staging(system_id, "normalized", f) for f in forms],
                [_staging(system_id, s, f) for f in forms for s in ("valid", "quarantine")])
    if task == "publish":
        outs: list[LineageDataset] = []
        for f in forms:
            outs += shared_outputs(f"{system_id}.{f.form_id}", _shared_columns(catalog, f),
                                   parquet_root=parquet_root, sql_url=sql_url)
        outs += shared_outputs(f"quarantine.{system_id}", (), parquet_root=parquet_root, sql_url=sql_url)
        return [_staging(system_id, s, f) for f in forms for s in ("valid", "quarantine")], outs
    return [], []
