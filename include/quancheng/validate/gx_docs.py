"""The parts of GX reporting that import ``great_expectations`` (6-40 s): Data Docs and real GX runs.

Only :mod:`quancheng.validate.gx` imports this module, inside functions, so nothing the pipeline loads
eagerly pays for GX. See that module for when these run.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl


def _result_from_json(doc: dict[str, Any], run_name: str, run_time: datetime) -> Any:
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    results = [ExpectationValidationResult(
        success=r["success"],
        expectation_config=ExpectationConfiguration(type=r["expectation_config"]["type"],
                                                    kwargs=r["expectation_config"]["kwargs"],
                                                    meta=r["expectation_config"].get("meta", {})),
        result=r["result"], meta=r.get("meta", {}), exception_info=r.get("exception_info"))
        for r in doc["results"]]
    meta = {**doc.get("meta", {}), "run_id": RunIdentifier(run_name=run_name, run_time=run_time),
            "batch_spec": {}, "active_batch_definition": {}}
    return ExpectationSuiteValidationResult(success=doc["success"], results=results, suite_name=doc["suite_name"],
                                            statistics=doc["statistics"], meta=meta, batch_id=doc["suite_name"])


def render_site(out: Path) -> Path:
    """Store every ``validations/<dataset>/<run>.json`` in a file context and build its Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = gx.get_context(mode="file", project_root_dir=str(out))
    for path in sorted((out / "validations").glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        run_name = doc.get("meta", {}).get("run_name") or path.stem
        run_time = datetime.fromisoformat(doc["meta"]["run_time"]) if "run_time" in doc.get("meta", {}) \
            else datetime.fromtimestamp(path.stat().st_mtime)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=doc["suite_name"]),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time), batch_identifier=doc["suite_name"])
        context.validation_results_store.set(key, _result_from_json(doc, run_name, run_time))
    context.build_data_docs()
    return out / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def run_real(frame: pl.DataFrame, suite: dict[str, Any]) -> dict[str, Any]:
    """Run ``suite`` with the real GX engine over ``frame`` (as pandas); the result as JSON."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas("quancheng")
    asset = source.add_dataframe_asset(suite["name"])
    batch_def = asset.add_batch_definition_whole_dataframe("batch")
    gx_suite = context.suites.add(gx.ExpectationSuite(name=suite["name"]))
    by_type = {cls.__name__: cls for cls in vars(gxe).values() if isinstance(cls, type)}
    for e in suite["expectations"]:
        cls = by_type["".join(p.title() for p in e["type"].split("_"))]
        gx_suite.add_expectation(cls(**e["kwargs"], meta=e["meta"]))
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame.to_pandas(use_pyarrow_extension_array=False)})
    result = batch.validate(gx_suite, result_format="SUMMARY")
    out: dict[str, Any] = result.to_json_dict()  # type: ignore[no-untyped-call]
    return out
