"""The normalization engine: a form's raw Arrow batch -> canonical columns and issues, column-parallel.

Engine choice (measured in ``benchmarks/normalize_validate.py``, see ``benchmarks/results/normalize.md``):
polars expressions over Arrow memory, with numpy for the identifier checks and pyarrow for dictionary
encoding and NFKC. Groups of the plan (one per source column) run in a small thread pool: polars,
numpy and pyarrow release the GIL in their kernels, so the two cores of a worker are both used.

Guarantees: the output has exactly the input's rows in order (``_row`` and the other provenance
columns first, unchanged), then one column per element of the form typed by
:func:`~quancheng.normalize.types.arrow_type`; every value that could not be used is null and has an
``error`` issue, every fix a ``note`` issue (codes in :mod:`quancheng.normalize.issues`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, SourceForm
from quancheng.errors import SourceError
from quancheng.normalize import ISSUE_SCHEMA, NormalizedBatch
from quancheng.normalize.base import Outcome, reject
from quancheng.normalize.convert import Sources, run_group
from quancheng.normalize.issues import severity_expr
from quancheng.normalize.plan import FormPlan, Group, plan_for
from quancheng.normalize.quantity import suspect_scale
from quancheng.normalize.types import ROW, arrow_type
from quancheng.registry import TRANSFORMS

WORKERS = max(1, min(4, os.cpu_count() or 1))  # one per core: polars, numpy and pyarrow release the GIL


def polars_dtype(element: Element) -> pl.DataType:
    """The polars type the engine builds a column of ``element`` in (Arrow-cast at the end)."""
    match element.data_type:
        case "string":
            return pl.String()
        case "integer":
            return pl.Int64()
        case "decimal":
            at = arrow_type(element)
            return pl.Decimal(38, at.scale)  # type: ignore[attr-defined]
        case "date":
            return pl.Date()
        case "datetime":
            return pl.Datetime("us")
        case "boolean":
            return pl.Boolean()
    raise AssertionError(element.data_type)


def _check_columns(raw: pa.Table, plan: FormPlan) -> None:
    missing = sorted({c for g in plan.groups for c in g.columns} - set(raw.column_names))
    if missing:
        f = plan.form
        raise SourceError(f.system_id, f.table, f"the batch of form {f.form_id!r} lacks mapped column(s) "
                          f"{missing}; present: {[c for c in raw.column_names if not c.startswith('_')]}",
                          column=missing[0])


def normalize_form(raw: pa.Table, form: SourceForm, catalog: Catalog, *,
                   reference: Callable[[str], float | None] | None = None) -> NormalizedBatch:
    """Canonical table for ``raw`` (rows kept in order) and its issues.

    ``reference(key)``: the median of an element's amounts published so far (see
    :func:`~quancheng.normalize.quantity.suspect_scale`), for batches too small to have their own; called
    only for those, so a lazy lookup costs nothing on a large batch.
    """
    plan = plan_for(catalog, form)
    _check_columns(raw, plan)
    n = raw.num_rows
    if ROW not in raw.column_names:
        raw = raw.append_column(ROW, pa.array(np.arange(n, dtype=np.int64)))
    src = Sources(raw)

    def run(g: Group) -> list[Outcome]:
        return run_group(g, src, plan.units)

    if WORKERS > 1 and len(plan.groups) > 1 and n >= 10_000:
        # the heaviest groups first, so the workers finish together
        # (each transform's ``cost``, measured by benchmarks/normalize_validate.py)
        order = sorted(range(len(plan.groups)), key=lambda i: -TRANSFORMS.get(plan.groups[i].transform).cost)
        with ThreadPoolExecutor(WORKERS) as pool:
            done = dict(zip(order, pool.map(run, [plan.groups[i] for i in order]), strict=True))
        results = [done[i] for i in range(len(plan.groups))]
    else:
        results = [run(g) for g in plan.groups]

    values: dict[str, pl.Series] = {}
    ready: dict[str, pa.Array] = {}  # columns already in Arrow (untouched text): not copied out of polars
    issues: list[pl.DataFrame] = []
    rows = pl.Series(raw[ROW]).cast(pl.Int64)
    for g, outs in zip(plan.groups, results, strict=True):
        for t, o in zip(g.targets, outs, strict=True):
            el = t.element
            v = o.values if o.values.dtype == polars_dtype(el) else o.values.cast(polars_dtype(el), strict=False)
            codes = o.codes
            if el.data_type == "decimal" and TRANSFORMS.get(g.transform).scale_check:
                yardstick = None if reference is None else partial(reference, el.key)
                v, codes = reject(v, codes, suspect_scale(v, reference=yardstick), "unit.suspect_scale")
            if el.key in values:  # a second mapping of the same element fills what the first left empty
                v = pl.select(pl.coalesce(values[el.key], v)).to_series()
                ready.pop(el.key, None)
            elif o.arrow is not None and el.data_type == "string":
                ready[el.key] = o.arrow
            values[el.key] = v
            if codes.null_count() < len(codes):
                idx = codes.is_not_null().arg_true()
                value = src.text_at(g.columns[0], idx) if len(g.columns) == 1 else pl.select(pl.concat_str(
                    [src.text_at(c, idx) for c in g.columns], separator="|", ignore_nulls=True)).to_series()
                issues.append(pl.DataFrame({
                    ROW: rows.gather(idx), "element_id": pl.repeat(el.element_id, len(idx), eager=True),
                    "column": pl.repeat("|".join(g.columns), len(idx), eager=True),
                    "value": value, "code": codes.gather(idx)}))
    return NormalizedBatch(_table(raw, plan, values, ready, n), _issues(issues))


def _table(raw: pa.Table, plan: FormPlan, values: dict[str, pl.Series], ready: dict[str, pa.Array],
           n: int) -> pa.Table:
    prov = [c for c in raw.column_names if c.startswith("_")]
    out = raw.select(prov)
    frame = pl.DataFrame([values[e.key].alias(e.key) for e in plan.elements if e.key in values and e.key not in ready])
    arrow = frame.to_arrow() if frame.width else pa.table({})
    for e in plan.elements:
        if e.key in ready:
            col: pa.Array | pa.ChunkedArray = ready[e.key].cast(arrow_type(e))
        elif e.key in values:
            col = arrow[e.key].cast(arrow_type(e))
        else:
            col = pa.nulls(n, arrow_type(e))
        out = out.append_column(pa.field(e.key, arrow_type(e)), col)
    return out


def _issues(frames: list[pl.DataFrame]) -> pa.Table:
    if not frames:
        return ISSUE_SCHEMA.empty_table()
    df = pl.concat(frames).with_columns(severity=severity_expr(pl.col("code"))).sort(ROW, maintain_order=True)
    return df.to_arrow().cast(ISSUE_SCHEMA)
