"""``validate_form``: every compiled rule in one vectorized pass, then the split into valid and quarantine.

A row is quarantined when normalization gave one of its values an ``error`` issue or when a rule of
:mod:`quancheng.validate.compile` fails on it; every other row is valid. The failure masks come from
one polars ``select`` over the canonical table (the expressions run in parallel); JSON is built only
for the quarantined rows. extracted = valid + quarantined is checked, never assumed.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.normalize import NormalizedBatch
from quancheng.normalize.types import ROW
from quancheng.validate import ValidationResult
from quancheng.validate.compile import Rule, rules_for
from quancheng.validate.quarantine import filter_rows, quarantine_table


def positions(table: pa.Table, rows: pl.Series) -> np.ndarray:
    """Positions in ``table`` of the given ``_row`` values (identity when ``_row`` is 0..n-1)."""
    own = pl.Series(table[ROW]).cast(pl.Int64)
    n = len(own)
    if n and np.array_equal(own.to_numpy(), np.arange(n)):
        return rows.cast(pl.Int64).to_numpy()
    lookup = pl.DataFrame({ROW: own, "pos": np.arange(n, dtype=np.int64)})
    return pl.DataFrame({ROW: rows.cast(pl.Int64)}).join(lookup, on=ROW, how="left",
                                                          maintain_order="left")["pos"].to_numpy()


def failures(table: pa.Table, rules: tuple[Rule, ...]) -> list[np.ndarray]:
    """Per rule, the positions of the rows it fails, from one polars pass.

    The masks stay in polars: only the rows failing some rule are taken out to numpy, not one
    million-row mask per rule.
    """
    if not rules or table.num_rows == 0:
        return [np.zeros(0, np.int64) for _ in rules]
    keys = sorted({e.key for r in rules for e in r.elements})
    frame = pl.from_arrow(table.select(keys))
    assert isinstance(frame, pl.DataFrame)
    names = [f"r{i}" for i in range(len(rules))]
    out = frame.select([r.fails.alias(name) for name, r in zip(names, rules, strict=True)])
    rows = out.select(pl.any_horizontal(pl.all())).to_series().arg_true()
    hit = out[rows] if len(rows) else out.clear()
    pos = rows.to_numpy().astype(np.int64)
    return [pos[hit[name].to_numpy()] for name in names]


def validate_form(norm: NormalizedBatch, raw: pa.Table, form: SourceForm, catalog: Catalog) -> ValidationResult:
    """Split ``norm.table`` into valid rows and quarantined rows with reasons."""
    table = norm.table
    n = table.num_rows
    if raw.num_rows != n:
        raise AssertionError(f"form {form.form_id}: raw has {raw.num_rows} rows, normalized {n}")
    rules = rules_for(catalog, form)
    fails = failures(table, rules)

    issues = pl.from_arrow(norm.issues)
    assert isinstance(issues, pl.DataFrame)
    errors = issues.filter(pl.col("severity") == "error")
    err_pos = positions(table, errors[ROW]) if len(errors) else np.zeros(0, np.int64)
    for i, r in enumerate(rules):  # a value normalization could not read is reported once, by its error
        if r.kind == "required" and len(errors) and len(fails[i]):
            hit = err_pos[(errors["element_id"] == r.elements[0].element_id).to_numpy()]
            fails[i] = np.setdiff1d(fails[i], hit)

    bad = np.zeros(n, bool)
    bad[err_pos] = True
    for p in fails:
        bad[p] = True
    valid = filter_rows(table, ~bad)
    quarantine = quarantine_table(raw, rules, fails, errors, err_pos, bad)
    if valid.num_rows + quarantine.num_rows != n:
        raise AssertionError(f"form {form.form_id}: {n} rows in, {valid.num_rows} valid + "
                             f"{quarantine.num_rows} quarantined out")
    return ValidationResult(valid, quarantine)


def counts(result: ValidationResult) -> dict[str, int]:
    """Rows per outcome, for run records."""
    return {"valid": result.valid.num_rows, "quarantined": result.quarantine.num_rows}


__all__ = ["counts", "failures", "positions", "validate_form"]
