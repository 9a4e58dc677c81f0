"""Policy over the whole DagBag: it parses with no secrets, and every DAG has owner, tags and retries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from quancheng.catalog.light import load_systems_and_forms

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]
DAGS = Path(__file__).resolve().parents[2] / "dags"
HEAVY = {"pandas", "pyarrow", "polars", "great_expectations", "duckdb", "sqlalchemy"}


def test_no_import_errors(dagbag):  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}


def test_one_dag_per_catalog_system(dagbag):  # type: ignore[no-untyped-def]
    expected = {f"sync__{s.system_id}" for s, _ in load_systems_and_forms()}
    assert expected <= set(dagbag.dag_ids)
    assert {d for d in dagbag.dag_ids if d.startswith("sync__")} == expected


def test_every_dag_has_owner_tags_retries_docs(dagbag):  # type: ignore[no-untyped-def]
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id} has no owner"
            assert t.retries >= 2, f"{dag_id}.{t.task_id} retries {t.retries} < 2"


def test_sync_dag_shape(dagbag):  # type: ignore[no-untyped-def]
    for system, forms in load_systems_and_forms():
        dag = dagbag.dags[f"sync__{system.system_id}"]
        assert [t.task_id for t in dag.topological_sort()] == ["extract", "normalize", "validate", "publish"]
        for t in dag.tasks:  # a source that hangs without failing cannot hold a task forever
            assert t.execution_timeout is not None and t.execution_timeout.total_seconds() <= 4 * 3600, t.task_id
        publish = dag.get_task("publish")
        names = {o.name for o in publish.outlets}
        assert names == {f"{system.system_id}.{f.form_id}" for f in forms} | {f"quarantine.{system.system_id}"}


def test_dag_files_import_nothing_heavy_at_top_level() -> None:
    for path in DAGS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # top level only: imports inside tasks are the point
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in HEAVY, f"{path.name} imports {n} at parse time"


def test_every_pool_a_dag_uses_is_declared_in_airflow_settings(dagbag):  # type: ignore[no-untyped-def]
    from quancheng.airflow_settings import EXTRACT_POOL, PUBLISH_POOL, load_settings

    declared = {p.name for p in load_settings().pools}
    used = {t.pool for dag in dagbag.dags.values() for t in dag.tasks} - {"default_pool"}
    assert used and used <= declared, f"pools used but not declared: {sorted(used - declared)}"
    for dag_id, dag in dagbag.dags.items():
        if dag_id.startswith("sync__"):
            assert dag.get_task("extract").pool == EXTRACT_POOL
            assert dag.get_task("publish").pool == PUBLISH_POOL
