"""The one picture of the exchange: every system's and every shared dataset's health, read once.

``build_overview`` is what ``quancheng status``, the Exchange view and the freshness DAG all call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from quancheng.catalog import Catalog
from quancheng.ops.health import DatasetHealth, SystemHealth, assess_dataset, assess_system, counts_by_state
from quancheng.ops.records import QUARANTINE_PREFIX, open_store, quarantine_by_table, read_datasets, read_runs
from quancheng.publish.intent import unfinished


@dataclass(frozen=True)
class Overview:
    """Health of all systems (catalog order) and datasets (registry order) at ``now``."""

    home: Path
    now: datetime
    systems: tuple[SystemHealth, ...]
    datasets: tuple[DatasetHealth, ...]
    unknown_systems: tuple[str, ...]  # systems with run records that the catalog no longer lists

    @property
    def counts(self) -> dict[str, int]:
        return counts_by_state(self.systems)

    def system(self, system_id: str) -> SystemHealth:
        return next(s for s in self.systems if s.system_id == system_id)

    def to_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "home": str(self.home), "counts": self.counts,
                "systems": [s.to_json() for s in self.systems], "datasets": [d.to_json() for d in self.datasets],
                "unknown_systems": list(self.unknown_systems)}


def feeders_of(dataset_id: str, kind: str, catalog: Catalog) -> list[str]:
    """The systems whose data ends up in a dataset.

    A system dataset is ``<system>.<form>``, a quarantine one ``quarantine.<system>``; a consolidated dataset
    (stage form, master, ...) is fed by the systems whose forms belong to the stage its id names, else by
    every system (the enterprise master matches parties from all of them).
    """
    if dataset_id.startswith(QUARANTINE_PREFIX):
        sid = dataset_id.removeprefix(QUARANTINE_PREFIX)
        return [sid] if sid in catalog.system else []
    head = dataset_id.split(".", 1)[0]
    if kind == "system" or head in catalog.system:
        return [head] if head in catalog.system else []
    stages = [s.stage_id for s in catalog.stages if s.stage_id in dataset_id]
    if stages:
        return sorted({f.system_id for f in catalog.forms if f.stage_id in stages})
    return [s.system_id for s in catalog.systems]


def build_overview(home: Path, catalog: Catalog, now: datetime, *, trend_runs: int = 30) -> Overview:
    """Read the run records and the registry of ``home`` and judge every system and dataset."""
    store = open_store(home)
    runs = read_runs(store, per_system=trend_runs)
    publishing = unfinished(store)
    systems = tuple(assess_system(s, runs.get(s.system_id, []), now, publishing.get(s.system_id))
                    for s in catalog.systems)
    by_id = {s.system_id: s for s in systems}
    datasets: list[DatasetHealth] = []
    quarantine_cache: dict[str, Any] = {}
    for entry in read_datasets(store):
        ds, kind = str(entry["dataset_id"]), str(entry["kind"])
        feeders = [by_id[s] for s in feeders_of(ds, kind, catalog) if s in by_id]
        held = None
        form_id = ds.split(".", 1)[1] if "." in ds else ""
        if kind == "system" and form_id in catalog.form:
            form = catalog.form[form_id]
            if form.system_id not in quarantine_cache:
                quarantine_cache[form.system_id] = quarantine_by_table(store, form.system_id)
            held = int(quarantine_cache[form.system_id].get(form.table, 0))
        datasets.append(assess_dataset(entry, systems=feeders, quarantined_rows=held, now=now))
    unknown = tuple(sorted(set(runs) - set(by_id)))
    return Overview(Path(home).resolve(), now, systems, tuple(datasets), unknown)
