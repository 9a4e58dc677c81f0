"""Onboarding a departmental system is editing catalog files: check passes, stats counts it, its DAG appears.

The new system (地震局's seismic safety evaluation system, one form) is written into a copy of the shipped
catalog row by row, the way a data steward would in a pull request: no Python changes anywhere.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from catalog_files import CatalogFiles
from click.testing import CliRunner
from paths import FULL
from quancheng.catalog import load_catalog
from quancheng.catalog.check import check
from quancheng.cli import cli

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

SYSTEM = "eqb_seismic"
FORM = "eqb_seismic_review"
NEW_ELEMENT = {
    "key": "seismic_safety_report_no", "name_zh": "地震安全性评价报告审定编号",
    "name_en": "Seismic safety evaluation approval number",
    "definition": "地震工作主管部门审定建设工程地震安全性评价报告时赋予审定意见书的编号",
    "object_class": "地震安全性评价", "property": "审定编号", "representation_term": "编号",
    "data_type": "string", "format": "an..50", "max_length": "50", "version": "V1.0", "status": "standard",
    "pi_class": "none", "share_type": "unconditional", "authority_system": SYSTEM,
}


def _add_system(files: CatalogFiles) -> str:
    """Rows for one system with one form: four fields fed into existing elements, one new element."""
    cat = load_catalog(files.root)
    by_key = cat.element_by_key
    element_id = f"DE{max(int(e.element_id[2:]) for e in cat.elements) + 1:05d}"
    files.append("systems.csv", {
        "system_id": SYSTEM, "name_zh": "建设工程地震安全性评价审定系统", "name_en": "Seismic safety evaluation system",
        "department_zh": "地震局", "department_en": "Earthquake Bureau",
        "holds": "地震安全性评价报告审定编号、抗震设防要求",
        "stages": "s1_project_land", "kind": "sqlite", "conn_id": f"qc_{SYSTEM}", "extract_mode": "snapshot"})
    files.append("forms.csv", {
        "form_id": FORM, "system_id": SYSTEM, "name_zh": "建设工程地震安全性评价报告审定申请表",
        "name_en": "Seismic safety evaluation review", "table": "DZ_AQXPJ", "stage_id": "s1_project_land",
        "form_kind": "application", "primary_key": "SQBH"})
    columns = [("SQBH", "申请编号", None, ""), ("XMDM", "项目代码", "project_code", "identifier"),
               ("XMMC", "项目名称", "project_name", "text"),
               ("JSDWMC", "建设单位名称", "construction_unit_name", "text"),
               ("JSDWTYDM", "建设单位统一社会信用代码", "construction_unit_uscc", "identifier"),
               ("SDBH", "审定编号", NEW_ELEMENT["key"], "text")]
    for column, label, key, transform in columns:
        files.append("fields.csv", {"form_id": FORM, "column": column, "label_zh": label, "native_type": "text",
                                    "excluded_reason": "" if key else "系统受理流水号，不属于申报数据"})
        if key:
            target = element_id if key == NEW_ELEMENT["key"] else by_key[key].element_id
            files.append("mappings.csv", {"form_id": FORM, "column": column, "element_id": target,
                                          "transform": transform, "part": "0"})
    files.append("elements.csv", {"element_id": element_id, **NEW_ELEMENT})
    return element_id


def test_a_system_added_by_editing_catalog_files_is_checked_counted_and_gets_its_dag(
        tmp_path: Path, airflow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(FULL, root)
    _add_system(CatalogFiles(root))
    assert [p.render() for p in check(load_catalog(root))] == []

    runner = CliRunner()
    shipped = json.loads(runner.invoke(cli, ["catalog", "stats", "--json", "--catalog", str(FULL)]).output)
    out = runner.invoke(cli, ["catalog", "stats", "--json", "--catalog", str(root)])
    assert out.exit_code == 0, out.output
    grown = json.loads(out.output)
    assert grown["systems"] == shipped["systems"] + 1
    assert (grown["source_forms"], grown["source_fields"], grown["elements"]) == (
        shipped["source_forms"] + 1, shipped["source_fields"] + 6, shipped["elements"] + 1)
    assert grown["seed_figures"]["systems"]["difference"] == shipped["seed_figures"]["systems"]["difference"] + 1

    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("QUANCHENG_CATALOG", str(root))
    bag = DagBag(dag_folder=airflow_env["AIRFLOW__CORE__DAGS_FOLDER"])  # a fresh parse, like the scheduler
    assert bag.import_errors == {}
    syncs = {d for d in bag.dag_ids if d.startswith("sync__")}
    assert f"sync__{SYSTEM}" in syncs
    assert len(syncs) == grown["systems"]
    outlets = {o.name for o in bag.dags[f"sync__{SYSTEM}"].get_task("publish").outlets}
    assert outlets == {f"{SYSTEM}.{FORM}", f"quarantine.{SYSTEM}"}
