"""Just the systems and their forms, for DAG parsing: two small CSV files, no other catalog work."""

from __future__ import annotations

import os
from pathlib import Path

from quancheng.catalog.loader import SAFE_ID, SAFE_ID_FIX, catalog_dir, read_rows
from quancheng.catalog.models import SourceForm, System
from quancheng.errors import CatalogError, CatalogProblem


def dataset_id(form: SourceForm) -> str:
    """The shared dataset a form publishes to (``<system_id>.<form_id>``)."""
    return f"{form.system_id}.{form.form_id}"


def quarantine_dataset_id(system_id: str) -> str:
    """The dataset holding a system's quarantined rows."""
    return f"quarantine.{system_id}"


def load_systems_and_forms(path: str | os.PathLike[str] | None = None) -> list[tuple[System, list[SourceForm]]]:
    """Every system with its forms, in catalog order; raises CatalogError on a bad row."""
    root: Path = catalog_dir(path)
    problems: list[CatalogProblem] = []
    systems = read_rows(root / "systems.csv", System, "systems.csv", problems)
    forms = read_rows(root / "forms.csv", SourceForm, "forms.csv", problems)
    # the ids become DAG ids and asset names: an unsafe one is named here, at its line, rather than by
    # Airflow's own error about a DAG id (``quancheng catalog check`` reports it the same way)
    problems += [CatalogProblem(file, line, f"{what} {value!r} is not a safe identifier", SAFE_ID_FIX)
                 for file, line, what, value in [*(("systems.csv", s.line, "system_id", s.system_id) for s in systems),
                                                 *(("forms.csv", f.line, "form_id", f.form_id) for f in forms)]
                 if not SAFE_ID.match(value)]
    if problems:
        raise CatalogError(problems)
    by_system: dict[str, list[SourceForm]] = {}
    for f in forms:
        by_system.setdefault(f.system_id, []).append(f)
    return [(s, by_system.get(s.system_id, [])) for s in systems]
