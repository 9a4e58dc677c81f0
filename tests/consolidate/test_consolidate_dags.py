"""The consolidation DAGs: scheduled on every system dataset's Asset, one task each, outlets declared.
Running them through Airflow (``dag.test()`` after the syncs) is tests/e2e/test_demo_through_airflow.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from quancheng.catalog.light import load_systems_and_forms

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]
DAGS = Path(__file__).resolve().parents[2] / "dags"
CONSOLIDATE = {"share__system_datasets", "consolidate__stage_forms", "consolidate__enterprise_master",
               "consolidate__materials", "consolidate__cases"}


@pytest.fixture(scope="module")
def bag(tmp_path_factory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("airflow_home")
    env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    from airflow.dag_processing.dagbag import DagBag

    yield DagBag(dag_folder=str(DAGS / "exchange_consolidate.py"))
    mp.undo()


def test_dags_parse_with_policies(bag) -> None:  # type: ignore[no-untyped-def]
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= CONSOLIDATE
    for dag_id in CONSOLIDATE:
        dag = bag.dags[dag_id]
        assert dag.doc_md and "quancheng" in dag.tags
        assert len(dag.tasks) == 1
        assert all(t.owner == "data-exchange" and t.retries >= 2 for t in dag.tasks)


def _asset_names(condition) -> set[str]:  # type: ignore[no-untyped-def]
    if hasattr(condition, "objects"):
        return {n for o in condition.objects for n in _asset_names(o)}
    return {condition.name}


def test_scheduled_on_any_system_dataset(bag) -> None:  # type: ignore[no-untyped-def]
    expected = {f"{s.system_id}.{f.form_id}" for s, forms in load_systems_and_forms() for f in forms}
    for dag_id in CONSOLIDATE:
        condition = bag.dags[dag_id].timetable.asset_condition
        assert type(condition).__name__ == "AssetAny", dag_id  # any one update triggers, not all of them
        assert _asset_names(condition) == expected, dag_id


def test_outlets_name_the_published_datasets(bag) -> None:  # type: ignore[no-untyped-def]
    outlets = {o.name for o in bag.dags["consolidate__stage_forms"].tasks[0].outlets}
    assert {"stage.s3_construction", "stage.s3_construction.provenance", "conflicts.stage_forms"} <= outlets
    assert {o.name for o in bag.dags["consolidate__materials"].tasks[0].outlets} == {"materials.by_stage"}
    assert {o.name for o in bag.dags["consolidate__cases"].tasks[0].outlets} == {"cases.approval"}
