"""The consolidation DAGs: scheduled on every system dataset's Asset, one task each, outlets declared,
and one run through Airflow itself (``dag.test()``) on a tiny shared store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from quancheng.catalog.light import load_systems_and_forms

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]
DAGS = Path(__file__).resolve().parents[2] / "dags"
CONSOLIDATE = {"share__system_datasets", "consolidate__stage_forms", "consolidate__enterprise_master",
               "consolidate__materials"}


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
    assert os.environ.get("AIRFLOW__CORE__LOAD_EXAMPLES") == "False"


RUNNER = """
import json, os, sys
import pendulum
from airflow.dag_processing.dagbag import DagBag
from airflow.utils.db import upgradedb
upgradedb()
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
for dag_id in sys.argv[1:]:
    dr = bag.dags[dag_id].test(logical_date=pendulum.datetime(2026, 3, 2, tz="Asia/Shanghai"))
    print(json.dumps({"dag_id": dag_id, "state": str(getattr(dr.state, "value", dr.state))}), file=sys.__stderr__)
"""


def test_the_dags_run_through_airflow(tmp_path: Path, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    """``dag.test()`` of each DAG, all in one Airflow process, over a tiny shared store."""
    import json
    import subprocess
    import sys

    from issue6_builders import SLICE, publish_system, uscc
    from quancheng.publish.store import SharedStore

    home = tmp_path / "home"
    store = SharedStore(home)
    publish_system(store, slice_catalog, "ndrc_filing", [
        {"project_code": f"2019-370102-47-01-00030{i}", "project_name": f"项目{i}",
         "construction_unit_uscc": uscc(f"MA3C4X{i}D"), "construction_unit_name": f"济南恒{i}建设有限公司",
         "_source_key": str(i)} for i in range(3)])
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
           "QUANCHENG_HOME": str(home), "QUANCHENG_CATALOG": str(SLICE)}
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW_CONN_") and k != "QC_TOKENIZATION_KEY"}
    proc = subprocess.run([sys.executable, "-c", RUNNER, *sorted(CONSOLIDATE)], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    states = {}
    for line in proc.stderr.splitlines():
        if line.startswith('{"dag_id"'):
            e = json.loads(line)
            states[e["dag_id"]] = e["state"]
    assert states == dict.fromkeys(CONSOLIDATE, "success"), proc.stderr[-4000:]
    published = {d["dataset_id"] for d in SharedStore(home).datasets()}
    assert {"stage.s1_project_land", "master.enterprise", "materials.by_stage", "conflicts.stage_forms"} <= published
    assert (home / "shared" / "areas" / "shared_open" / "stage.s1_project_land" / "data.parquet").exists()
    assert (home / "shared" / "areas" / "shared_open" / "ndrc_investment.ndrc_filing" / "data.parquet").exists()
