"""A dry run of a newly onboarded system: the whole pipeline into a throwaway home, then what it would
publish and what it would quarantine, grouped by rule and column with one example value each.

The throwaway home has its own embedded shared database (``$QUANCHENG_SHARED_DB`` is ignored), so nothing a
dry run does reaches the real exchange; the folder is removed afterwards unless ``keep`` is given.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from quancheng.catalog.loader import Catalog
from quancheng.sources.base import Window


@dataclass
class DryRun:
    extracted: int
    valid: int
    quarantined: int
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule, column) -> rows
    examples: dict[tuple[str, str], str] = field(default_factory=dict)  # (rule, column) -> a value


@contextmanager
def _embedded_store() -> Iterator[None]:
    saved = os.environ.pop("QUANCHENG_SHARED_DB", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["QUANCHENG_SHARED_DB"] = saved


def dry_run(catalog: Catalog, system_id: str, window: Window, *, uri: str | None = None,
            keep: Path | None = None) -> DryRun:
    """Run the system's sync over ``window`` into a scratch home and summarize the outcome."""
    from quancheng import pipeline
    from quancheng.publish.store import SharedStore

    home = keep or Path(tempfile.mkdtemp(prefix=f"qc_dry_{system_id}_"))
    try:
        with _embedded_store():
            ref = pipeline.run_system(system_id, window, catalog=catalog, home=home, uri=uri)
            t = pipeline.totals(ref)
            out = DryRun(int(t["extracted"]), int(t["valid"]), int(t["quarantined"]))
            table = SharedStore(home).read(f"quarantine.{system_id}")
        for cell in (table.column("reasons").to_pylist() if table is not None else []):
            for r in json.loads(cell or "[]"):
                key = (str(r.get("rule", "?")), str(r.get("column") or r.get("element") or ""))
                out.reasons[key] += 1
                out.examples.setdefault(key, str(r.get("value", ""))[:40])
        return out
    finally:
        if keep is None:
            shutil.rmtree(home, ignore_errors=True)
