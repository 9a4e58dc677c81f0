"""Reading what the pipeline left behind: run records, the dataset registry, and quarantine counts.

Read-only: a store whose run table does not exist yet simply has no runs (nothing synced so far); any
other database error propagates, so an outage is never shown as "all quiet".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import sqlalchemy as sa

from quancheng.errors import QuanchengError
from quancheng.publish.store import REGISTRY_TABLE, SharedStore
from quancheng.runs import RUNS_TABLE, runs_table

QUARANTINE_PREFIX = "quarantine."


def open_store(home: Path) -> SharedStore:
    """The shared store of a home folder that must already exist (``status`` never creates one)."""
    home = Path(home).resolve()
    if not home.is_dir():
        raise QuanchengError(f"no exchange home at {home}: run a sync or `quancheng demo run --dir {home}` first, "
                             f"or pass --dir")
    return SharedStore(home)


def _has_table(store: SharedStore, name: str) -> bool:
    return sa.inspect(store.engine).has_table(name)


def read_runs(store: SharedStore, per_system: int = 30) -> dict[str, list[dict[str, Any]]]:
    """The newest ``per_system`` run records of every system, newest first."""
    if not _has_table(store, RUNS_TABLE):
        return {}
    t = runs_table()
    rn = sa.func.row_number().over(partition_by=t.c.system_id, order_by=t.c.id.desc()).label("rn")
    ranked = sa.select(t, rn).subquery()
    q = sa.select(ranked).where(ranked.c.rn <= per_system).order_by(ranked.c.system_id, ranked.c.id.desc())
    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as c:
        for row in c.execute(q).mappings():
            rec = dict(row)
            rec.pop("rn", None)
            out.setdefault(rec["system_id"], []).append(rec)
    return out


def read_datasets(store: SharedStore) -> list[dict[str, Any]]:
    """The dataset registry (empty before the first publish)."""
    if not _has_table(store, REGISTRY_TABLE):
        return []
    return store.datasets()


def quarantine_by_table(store: SharedStore, system_id: str) -> Counter[str]:
    """Rows held in a system's quarantine now, per source table (reads one column)."""
    table = store.read(QUARANTINE_PREFIX + system_id, columns=["_source_table"], ordered=False)
    if table is None:
        return Counter()
    col = table["_source_table"]
    counts = pc.value_counts(col).to_pylist()
    return Counter({str(c["values"]): int(c["counts"]) for c in counts})
