"""Chinese identifiers: check, normalise and classify them, one value at a time or a column at a time.

:mod:`quancheng.ids.scalar` holds the rules (one docstring lists them all) and the per-value checks
behind ``quancheng ids check``; :mod:`quancheng.ids.vector` holds the column versions the
normalizer uses on the hot path. Tests hold the two to the same verdict on every value.
"""

from quancheng.ids.scalar import KINDS, IdResult, Kind, check, classify, compact, embedded_org_code
from quancheng.ids.vector import ColumnCheck, check_column

__all__ = ["KINDS", "ColumnCheck", "IdResult", "Kind", "check", "check_column", "classify", "compact",
           "embedded_org_code"]
