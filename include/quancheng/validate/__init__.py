"""Validation: decide row by row what is valid; quarantine the rest with machine-readable reasons.

``validate_form`` runs every rule compiled from the registry in one vectorized pass. Each source
row ends in exactly one of ``valid`` or ``quarantine`` (extracted = valid + quarantined).

Quarantine columns: the provenance columns, ``_row``, ``reasons`` (JSON list of
``{"rule", "element", "column", "value"}``) and ``raw`` (JSON object of the source row).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

QUARANTINE_EXTRA = pa.schema([("reasons", pa.string()), ("raw", pa.string())])


@dataclass(frozen=True)
class ValidationResult:
    """The rows that passed, and the rows quarantined with their reasons."""

    valid: pa.Table
    quarantine: pa.Table


from quancheng.validate.rules import validate_form  # noqa: E402

__all__ = ["QUARANTINE_EXTRA", "ValidationResult", "validate_form"]
