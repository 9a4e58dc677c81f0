"""Rules compiled from the registry (placeholder: normalization errors only; replaced by the real one)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.normalize import NormalizedBatch
from quancheng.normalize.types import ROW
from quancheng.validate import ValidationResult


def validate_form(norm: NormalizedBatch, raw: pa.Table, form: SourceForm, catalog: Catalog) -> ValidationResult:
    """Split ``norm.table`` into valid rows and quarantined rows with reasons."""
    errors = norm.issues.filter(pc.equal(norm.issues["severity"], "error"))
    reasons: dict[int, list[dict[str, object]]] = {}
    for r in errors.to_pylist():
        reasons.setdefault(int(r[ROW]), []).append(
            {"rule": r["code"], "element": r["element_id"], "column": r["column"], "value": r["value"]})
    bad = pa.array(sorted(reasons), pa.int64())
    is_bad = pc.is_in(norm.table[ROW], value_set=bad)
    valid = norm.table.filter(pc.invert(is_bad))
    q_raw = raw.filter(pc.is_in(raw[ROW], value_set=bad))
    prov = [c for c in q_raw.column_names if c.startswith("_")]
    native = [c for c in q_raw.column_names if not c.startswith("_")]
    rows = q_raw.select(native).to_pylist()
    quarantine = q_raw.select(prov).append_column(
        "reasons", pa.array([json.dumps(reasons[int(i)], ensure_ascii=False) for i in q_raw[ROW].to_pylist()],
                            pa.string())
    ).append_column("raw", pa.array([json.dumps(r, ensure_ascii=False, default=str) for r in rows], pa.string()))
    return ValidationResult(valid, quarantine)
