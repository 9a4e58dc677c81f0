"""Where the tests find things: the repository, the two catalogs, and whether this is a CI run."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLICE = ROOT / "tests" / "fixtures" / "slice_catalog"  # the hand-written 3-system catalog
FULL = ROOT / "include" / "catalog"  # the project's catalog: all 35 systems
IN_CI = os.environ.get("CI", "").lower() == "true"  # under CI, missing services and browsers fail, not skip
