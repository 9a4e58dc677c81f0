"""Normalization: a form's native batch -> canonical columns named by element key.

``normalize_form`` applies every mapping of the form to whole columns and returns the canonical
table plus an issues table (one row per value that could not be used, or was changed in a way
worth recording). It never drops a row: the output has exactly the input's rows, in order.

Issues columns: ``_row`` (int64), ``element_id``, ``column``, ``value`` (raw, as text),
``code`` (machine-readable reason, e.g. ``date.unparseable``), ``severity`` (``error`` makes the
row fail validation; ``note`` only records a fix such as ``placeholder.null`` or ``unit.converted``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

ISSUE_SCHEMA = pa.schema([
    ("_row", pa.int64()),
    ("element_id", pa.string()),
    ("column", pa.string()),
    ("value", pa.string()),
    ("code", pa.string()),
    ("severity", pa.string()),
])


@dataclass(frozen=True)
class NormalizedBatch:
    """Canonical columns (provenance ``_*`` columns first) and the issues met on the way."""

    table: pa.Table
    issues: pa.Table


from quancheng.normalize.apply import normalize_form  # noqa: E402

__all__ = ["ISSUE_SCHEMA", "NormalizedBatch", "normalize_form"]
