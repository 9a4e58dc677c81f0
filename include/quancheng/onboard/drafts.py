"""Introspected tables as catalog rows, written into the catalog's CSV files the way a steward would.

Rows are appended (or replaced, for a system onboarded again) with the files' own quoting and line endings,
so a diff of the catalog shows exactly the new system. Connection URIs never go into the catalog (they hold
passwords): the system row names a ``conn_id`` whose URI comes from Airflow or ``AIRFLOW_CONN_<CONN_ID>``.
Sample values never go into the catalog either (they may be personal data): they are kept beside the
pipeline's home, in ``<home>/onboarding/<system_id>.json``, for ``onboard suggest``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from quancheng.errors import QuanchengError
from quancheng.onboard.introspect import TableDraft
from quancheng.onboard.text import has_han, initials, split_label

_NOT_ID = re.compile(r"[^a-z0-9]+")
_KEYISH = re.compile(r"(^id$|_id$|^bh$|bh$|编号$|流水号$|^code$|^no$)", re.IGNORECASE)


def onboarding_file(system_id: str, home: Path | None = None) -> Path:
    """Where introspection keeps a system's tables with their samples (outside the catalog)."""
    from quancheng.safepath import default_home

    return (home or default_home()) / "onboarding" / f"{system_id}.json"


def save_introspection(path: Path, system_id: str, kind: str, tables: list[TableDraft]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"system_id": system_id, "kind": kind, "tables": [t.as_json() for t in tables]},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_introspection(path: Path) -> tuple[str, list[TableDraft]]:
    if not path.is_file():
        raise QuanchengError(f"no introspection at {path} (fix: run quancheng onboard introspect first, with the "
                             "same QUANCHENG_HOME)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["kind"], [TableDraft.from_json(t) for t in data["tables"]]


def form_id_for(system_id: str, table: str) -> str:
    """``sys`` + ``TZ_XMBA`` -> ``sys_tz_xmba``; a Chinese table name goes by its pinyin initials."""
    name = initials(table) if has_han(table) else table.lower()
    slug = _NOT_ID.sub("_", name).strip("_") or "table"
    return f"{system_id}_{slug}"[:63].rstrip("_")


def guess_key(t: TableDraft) -> tuple[str, ...]:
    """The reflected primary key, else the first key-like column whose samples are all present and distinct."""
    if t.primary_key:
        return t.primary_key
    for c in t.columns:
        values = [s for s in c.samples if s]
        if values and len(values) == len(c.samples) and len(set(values)) == len(values) and (
                _KEYISH.search(c.name) or _KEYISH.search(c.label)):
            return (c.name,)
    for c in t.columns:
        values = [s for s in c.samples if s]
        if values and len(values) == len(c.samples) and len(set(values)) == len(values):
            return (c.name,)
    return (t.columns[0].name,) if t.columns else ()


class CatalogFiles:
    """Append, replace and edit rows of a catalog folder's CSV files, keeping their exact format."""

    def __init__(self, root: Path):
        self.root = root

    def read(self, name: str) -> tuple[list[str], list[dict[str, str]]]:
        path = self.root / name
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            return list(reader.fieldnames or []), rows

    def write(self, name: str, header: list[str], rows: Iterable[dict[str, str]]) -> None:
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=header, lineterminator="\n", extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})
        path = self.root / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(out.getvalue(), encoding="utf-8")
        os.replace(tmp, path)

    def edit(self, name: str, fn: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
        header, rows = self.read(name)
        self.write(name, header, fn(rows))


def write_drafts(files: CatalogFiles, system_id: str, kind: str, tables: list[TableDraft], *,
                 units: frozenset[str], stage_id: str, options: dict[str, Any], replace: bool) -> list[str]:
    """Write the system, its forms and their fields; returns the form ids. An existing system needs ``replace``."""
    _, systems = files.read("systems.csv")
    if any(r["system_id"] == system_id for r in systems):
        if not replace:
            raise QuanchengError(f"system {system_id!r} is already in {files.root / 'systems.csv'} (fix: another "
                                 "--system-id, or --replace to draft it again: its forms, fields and mappings go)")
        remove_system(files, system_id)
    form_ids = [form_id_for(system_id, t.table) for t in tables]
    dup = {f for f in form_ids if form_ids.count(f) > 1}
    if dup:
        raise QuanchengError(f"tables {[t.table for t, f in zip(tables, form_ids, strict=True) if f in dup]} "
                             f"would share the form id {sorted(dup)[0]!r}; introspect them separately")
    incremental = any(t.updated_column for t in tables)
    files.edit("systems.csv", lambda rows: [*rows, {
        "system_id": system_id, "name_zh": options.get("name_zh") or system_id,
        "name_en": options.get("name_en") or system_id,
        "department_zh": options.get("department_zh") or "待定", "department_en": options.get("department_en") or "TBD",
        "holds": "", "stages": stage_id, "kind": kind, "conn_id": options.get("conn_id") or f"qc_{system_id}",
        "schedule": "@daily", "extract_mode": "incremental" if incremental else "snapshot",
        "freshness_hours": "36", "quarantine_threshold": "0.1", "reference_id": "", "invalid_update": "flag",
        "delete_detection": "reconcile", "max_delete_share": "0.5", "queue": "default", "timezone": "Asia/Shanghai"}])
    files.edit("forms.csv", lambda rows: [*rows, *({
        "form_id": fid, "system_id": system_id, "name_zh": t.label, "name_en": t.table, "table": t.table,
        "stage_id": stage_id, "form_kind": "application", "primary_key": "|".join(guess_key(t)),
        "updated_column": t.updated_column,
        "deleted_column": "", "deleted_values": ""} for fid, t in zip(form_ids, tables, strict=True))])
    files.edit("fields.csv", lambda rows: [*rows, *({
        "form_id": fid, "column": c.name, "label_zh": c.label, "native_type": c.native_type,
        "unit": split_label(c.label, units)[1], "code_list": "", "packed_sep": "", "excluded_reason": ""}
        for fid, t in zip(form_ids, tables, strict=True) for c in t.columns)])
    return form_ids


def remove_system(files: CatalogFiles, system_id: str) -> None:
    """Take a system's rows (system, forms, fields, mappings) out of the catalog."""
    _, forms = files.read("forms.csv")
    mine = {f["form_id"] for f in forms if f["system_id"] == system_id}
    files.edit("systems.csv", lambda rows: [r for r in rows if r["system_id"] != system_id])
    files.edit("forms.csv", lambda rows: [r for r in rows if r["form_id"] not in mine])
    files.edit("fields.csv", lambda rows: [r for r in rows if r["form_id"] not in mine])
    files.edit("mappings.csv", lambda rows: [r for r in rows if r["form_id"] not in mine])
