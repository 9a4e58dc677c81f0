"""The consolidation tasks as plain functions of primitives: what each Airflow task calls, and nothing more.

Each takes the catalog (loaded once per process while unchanged) and opens the shared store itself, so a
task body is one line. ``key`` is the tokenization key when the DAG has it from the Airflow connection
``qc_tokenization_key``; without it :mod:`quancheng.sharing.tokenize` looks in the environment, and in
embedded mode uses the demo key. Each returns ``{dataset: {rows, content_hash, changed}}`` for the Asset
events (area copies keyed ``<schema>/<dataset>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quancheng.catalog import current_catalog
from quancheng.consolidate import run
from quancheng.publish.store import SharedStore

Outputs = dict[str, dict[str, Any]]


def _store(home: str | None) -> SharedStore:
    from quancheng.pipeline import default_home

    return SharedStore(Path(home) if home else default_home())


def share_step(home: str | None = None, key: str | None = None) -> Outputs:
    """Share every current system dataset by the catalog's rules (open, granted departments, own area)."""
    return run.share_system_datasets(_store(home), current_catalog(), key=key)


def stage_forms_step(home: str | None = None, key: str | None = None) -> Outputs:
    """The four stage forms, their provenance and the conflicts dataset."""
    return run.publish_stage_forms(_store(home), current_catalog(), key=key)


def enterprise_master_step(home: str | None = None, key: str | None = None) -> Outputs:
    """The enterprise master, its name history, links and review list."""
    return run.publish_enterprise_master(_store(home), current_catalog(), key=key)


def materials_step(home: str | None = None) -> Outputs:
    """The application materials per stage form."""
    return run.publish_materials(_store(home), current_catalog())


def cases_step(home: str | None = None, key: str | None = None) -> Outputs:
    """The case record of every approval item (受理, 审批决定 …) over the forms that record one."""
    return run.publish_cases(_store(home), current_catalog(), key=key)
