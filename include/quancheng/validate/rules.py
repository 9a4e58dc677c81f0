"""``validate_form``: every compiled rule in one vectorized pass, then the split into valid and quarantine.

A row is quarantined when normalization gave one of its values an ``error`` issue or when a rule of
:mod:`quancheng.validate.compile` fails on it; every other row is valid. The simple rules run as Arrow
kernels over the canonical table as it is, the others in one polars ``select`` (expressions in
parallel); JSON is built only for the quarantined rows. extracted = valid + quarantined is checked,
never assumed.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

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
    """Per rule, the positions of the rows it fails.

    Simple rules (required, length, code list, bounds) run as Arrow kernels on the table as it is; the
    rest (formats, cross-field rules) in one polars pass over only the columns they need. Only the
    positions of failing rows leave the kernels, never a million-row mask per rule.
    """
    out: list[np.ndarray] = [np.zeros(0, np.int64)] * len(rules)
    if not rules or table.num_rows == 0:
        return out
    rest = []
    for i, r in enumerate(rules):
        if r.arrow is not None and (key := r.elements[0].key) in table.column_names:
            out[i] = pc.indices_nonzero(r.arrow(table[key])).to_numpy().astype(np.int64)
        else:
            rest.append(i)
    if rest:
        keys = sorted({e.key for i in rest for e in rules[i].elements})
        frame = pl.from_arrow(table.select(keys))
        assert isinstance(frame, pl.DataFrame)
        masks = frame.select([rules[i].fails.alias(f"r{i}") for i in rest])
        for i in rest:
            out[i] = masks[f"r{i}"].arg_true().to_numpy().astype(np.int64)
    return out


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


__all__ = ["failures", "positions", "validate_form"]
