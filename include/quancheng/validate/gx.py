"""Great Expectations reporting: one suite per dataset generated from the registry, kept off the hot path.

Where and how often GX runs (``import great_expectations`` alone takes 6-40 s on a 2-core worker):

- every batch, in the validate step: :func:`gx_report` evaluates the suite's expectations as polars
  masks over the batch's canonical table (the rules of :mod:`quancheng.validate.compile`, so validation
  and report cannot disagree) and writes the result as a GX 1.x ``ExpectationSuiteValidationResult``
  JSON document under ``<out>/validations/<dataset>/<run>.json``. No GX import: a fraction of a second
  per million rows.
- once per pipeline run (or after the demo): :func:`build_data_docs` imports GX once, loads every stored
  result and builds GX's own static Data Docs site (``<out>/gx/uncommitted/data_docs/local_site``).
  35 systems share one import instead of paying it 35 times. ``gx_report(render=True)`` does both for
  a single batch.
- in the test suite (and on demand): :func:`run_gx` runs the real GX engine on the same suite over a
  sample; a regression test compares its counts with :func:`expectation_results` so the two cannot drift.

Nothing here imports ``great_expectations`` at module level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.safepath import safe_path
from quancheng.validate.compile import Rule, rules_for

GX_VERSION_NOTE = "computed by quancheng (vectorized), GX 1.x result schema"
PARTIAL = 20  # GX's partial_unexpected_list length


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite and the polars mask of its unexpected rows (GX semantics)."""

    type: str
    kwargs: dict[str, Any]
    unexpected: pl.Expr  # True where the row is unexpected; nulls never unexpected except for not_null
    rule_id: str
    element_id: str

    @property
    def column(self) -> str | None:
        c = self.kwargs.get("column")
        return str(c) if c is not None else None


def rule_column(rule: Rule) -> str:
    return f"_rule_{rule.rule_id}"


def suite_for(catalog: Catalog, form: SourceForm) -> list[Expectation]:
    """The expectations of ``form``'s dataset, one per compiled rule (cross rules on a derived column)."""
    return [Expectation(r.gx_type, dict(r.gx_kwargs), r.fails, r.rule_id, r.element_id)
            for r in rules_for(catalog, form)]


def suite_json(catalog: Catalog, form: SourceForm) -> dict[str, Any]:
    """The suite as GX 1.x JSON (what ``ExpectationSuite(**...)`` takes), generated, never hand-edited."""
    return {
        "name": dataset_id(form),
        "expectations": [{"type": e.type, "kwargs": e.kwargs, "meta": {"rule": e.rule_id, "element": e.element_id}}
                         for e in suite_for(catalog, form)],
        "meta": {"generated_from": "quancheng catalog (elements.csv, rules.csv, code lists)",
                 "form_id": form.form_id, "system_id": form.system_id},
    }


def gx_frame(table: pa.Table, catalog: Catalog, form: SourceForm) -> pl.DataFrame:
    """The canonical columns the suite looks at, plus the derived ``_rule_<id>`` columns of cross rules."""
    keys = {e.key for r in rules_for(catalog, form) for e in r.elements}
    frame = pl.from_arrow(table.select([c for c in table.column_names if c in keys]))
    assert isinstance(frame, pl.DataFrame)
    derived = [pl.when(r.applies).then(~r.fails).alias(rule_column(r))
               for r in rules_for(catalog, form) if r.applies is not None]
    return frame.with_columns(derived) if derived else frame


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def expectation_results(table: pa.Table, catalog: Catalog, form: SourceForm, run_name: str) -> dict[str, Any]:
    """The suite evaluated vectorized, as a GX ``ExpectationSuiteValidationResult`` JSON document."""
    exps = suite_for(catalog, form)
    frame = gx_frame(table, catalog, form)
    n = frame.height
    # every count in one pass; the rows themselves are looked at only for failed expectations
    sums = frame.select([e.unexpected.sum().alias(f"e{i}") for i, e in enumerate(exps)]).row(0) if exps else ()
    nulls = frame.null_count().row(0, named=True)
    results: list[dict[str, Any]] = []
    for i, e in enumerate(exps):
        col = e.column
        unexpected = int(sums[i] or 0)
        idx: list[int] = []
        partial: list[Any] = []
        if unexpected and col in frame.columns:
            rows = frame.lazy().with_row_index("_i").filter(e.unexpected).select("_i", col).head(PARTIAL).collect()
            idx, partial = rows["_i"].to_list(), [_jsonable(v) for v in rows[col].to_list()]
        missing = None if e.type == "expect_column_values_to_not_be_null" else (int(nulls[col]) if col in nulls else n)
        res = _result(n, unexpected, missing, partial, idx)
        results.append({
            "success": unexpected == 0,
            "expectation_config": {"type": e.type, "kwargs": {**e.kwargs, "batch_id": run_name},
                                   "meta": {"rule": e.rule_id, "element": e.element_id}},
            "result": res, "meta": {},
            "exception_info": {"raised_exception": False, "exception_traceback": None, "exception_message": None}})
    ok = sum(1 for r in results if r["success"])
    return {
        "success": ok == len(results), "results": results, "suite_name": dataset_id(form), "suite_parameters": {},
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": ok,
                       "unsuccessful_expectations": len(results) - ok,
                       "success_percent": 100.0 * ok / len(results) if results else 100.0},
        "meta": {"great_expectations_version": GX_VERSION_NOTE, "run_name": run_name, "rows": n,
                 "run_time": datetime.now(UTC).isoformat(), "form_id": form.form_id},
    }


def _result(n: int, unexpected: int, missing: int | None, partial: list[Any], idx: list[int]) -> dict[str, Any]:
    """One expectation's ``result`` in GX's shape; ``missing`` None for a not-null expectation (GX reports no
    missing counts for it)."""
    res: dict[str, Any] = {"element_count": n, "unexpected_count": unexpected}
    if missing is None:
        res["unexpected_percent"] = 100.0 * unexpected / n if n else None
    else:
        nonmissing = n - missing
        res.update({
            "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else None,
            "missing_count": missing, "missing_percent": 100.0 * missing / n if n else None,
            "unexpected_percent_total": 100.0 * unexpected / n if n else None,
            "unexpected_percent_nonmissing": 100.0 * unexpected / nonmissing if nonmissing else None})
    counts: dict[Any, int] = {}
    for v in partial:
        counts[v] = counts.get(v, 0) + 1
    res.update({"partial_unexpected_list": partial, "partial_unexpected_index_list": idx,
                "partial_unexpected_counts": [{"value": v, "count": c} for v, c in counts.items()]})
    return res


def combine_results(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result for a batch validated part by part (:func:`expectation_results` of each part, in order):
    counts added, percentages recomputed, the partial lists taken in order up to ``PARTIAL``, with indexes in
    the whole batch."""
    if len(docs) == 1:
        return docs[0]
    first = docs[0]
    sizes = [int(d["meta"]["rows"]) for d in docs]
    n = sum(sizes)
    results = []
    for i, r0 in enumerate(first["results"]):
        parts = [d["results"][i]["result"] for d in docs]
        unexpected = sum(int(p["unexpected_count"]) for p in parts)
        partial: list[Any] = []
        idx: list[int] = []
        for offset, p in zip([sum(sizes[:k]) for k in range(len(sizes))], parts, strict=True):
            room = PARTIAL - len(partial)
            partial += p["partial_unexpected_list"][:room]
            idx += [offset + j for j in p["partial_unexpected_index_list"][:room]]
        missing = sum(int(p["missing_count"]) for p in parts) if "missing_count" in r0["result"] else None
        results.append({**r0, "success": unexpected == 0, "result": _result(n, unexpected, missing, partial, idx)})
    ok = sum(1 for r in results if r["success"])
    return {**first, "success": ok == len(results), "results": results,
            "statistics": {"evaluated_expectations": len(results), "successful_expectations": ok,
                           "unsuccessful_expectations": len(results) - ok,
                           "success_percent": 100.0 * ok / len(results) if results else 100.0},
            "meta": {**first["meta"], "rows": n}}


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", name)


def gx_report(dataset: str, table: pa.Table, catalog: Catalog, form: SourceForm, out_dir: str | Path, *,
              run_name: str | None = None, render: bool = False) -> dict[str, Any]:
    """Write this batch's validation result (GX JSON) and, with ``render``, rebuild the Data Docs now.

    Returns ``success``, ``statistics``, ``results_path`` and ``data_docs_path`` (the site's index page;
    it exists once :func:`build_data_docs` has run for ``out_dir``).
    """
    run = run_name or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    safe_path(Path(out_dir), "validations", _safe(dataset), what="dataset id")  # refused before any work
    return write_report(dataset, expectation_results(table, catalog, form, run), catalog, form, out_dir,
                        run_name=run, render=render)


def write_report(dataset: str, doc: dict[str, Any], catalog: Catalog, form: SourceForm, out_dir: str | Path, *,
                 run_name: str, render: bool = False) -> dict[str, Any]:
    """:func:`gx_report` for a result already evaluated (e.g. :func:`combine_results` of a batch's parts)."""
    out = Path(out_dir)
    path = safe_path(out, "validations", _safe(dataset), f"{_safe(run_name)}.json", what="dataset id")
    doc["suite_name"] = dataset
    path.parent.mkdir(parents=True, exist_ok=True)
    (out / "suites").mkdir(parents=True, exist_ok=True)
    suite = suite_json(catalog, form)
    suite["name"] = dataset
    suite_path = safe_path(out, "suites", f"{_safe(dataset)}.json", what="dataset id")
    suite_path.write_text(json.dumps(suite, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    path.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    docs = build_data_docs(out) if render else data_docs_index(out)
    return {"success": doc["success"], "statistics": doc["statistics"], "results_path": str(path),
            "data_docs_path": str(docs)}


def data_docs_index(out_dir: str | Path) -> Path:
    return Path(out_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def build_data_docs(out_dir: str | Path) -> Path:
    """GX's static Data Docs site for every result stored under ``out_dir`` (imports GX: run it once)."""
    from quancheng.validate.gx_docs import render_site

    return render_site(Path(out_dir))


def run_gx(table: pa.Table, catalog: Catalog, form: SourceForm) -> dict[str, Any]:
    """The same suite run by the real GX engine (pandas) on ``table``; result JSON (imports GX)."""
    from quancheng.validate.gx_docs import run_real

    return run_real(gx_frame(table, catalog, form), suite_json(catalog, form))
