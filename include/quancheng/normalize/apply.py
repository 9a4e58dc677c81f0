"""Apply a form's mappings to a raw batch (placeholder engine: casts only; replaced by the real one)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.normalize import ISSUE_SCHEMA, NormalizedBatch
from quancheng.normalize.types import ROW, arrow_type


def normalize_form(raw: pa.Table, form: SourceForm, catalog: Catalog) -> NormalizedBatch:
    """Canonical table for ``raw`` (rows kept in order) and its issues."""
    cols: dict[str, pa.Array] = {c: raw[c] for c in raw.column_names if c.startswith("_")}
    issues: list[dict[str, object]] = []
    for m in catalog.mappings_of(form.form_id):
        el = catalog.element[m.element_id]
        if el.key in cols:
            continue
        src = raw[m.column]
        try:
            cols[el.key] = pc.cast(src, arrow_type(el))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cols[el.key] = pa.nulls(len(raw), arrow_type(el))
            for i, v in enumerate(src.to_pylist()):
                if v is not None:
                    issues.append({ROW: raw[ROW][i].as_py(), "element_id": el.element_id, "column": m.column,
                                   "value": str(v), "code": "cast.failed", "severity": "error"})
    return NormalizedBatch(pa.table(cols), pa.Table.from_pylist(issues, schema=ISSUE_SCHEMA))
