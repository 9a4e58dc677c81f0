"""``/v1/prefill/{stage_id}/{project_code}``: the one form of a stage, filled from what the exchange knows.

Read from the caller's copies (so tokens and withheld elements follow the same rules as everywhere):
- ``stage.<stage_id>``: the project's row; every element column becomes an element with its value;
- ``stage.<stage_id>.provenance``: for each element, the system, table and record the value came from,
  its extraction time (``as_of``) and the rule that chose it among the systems that held it;
- ``conflicts.stage_forms``: the values other systems gave for the project's elements, with the winner;
- ``materials.by_stage``: the stage's application materials, each ``waived`` (with the rule, the shared
  datasets it relies on and the project's values of the elements the document carries) or ``required``;
- elements of the stage the caller's department may not see are listed under ``withheld``, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from quancheng.consolidate.materials import MATERIALS_DATASET
from quancheng.consolidate.stage_forms import CONFLICTS_DATASET, provenance_dataset_id, stage_dataset_id
from quancheng.serve.access import SHARE_TYPE_ZH, withheld_reason
from quancheng.serve.cache import Copy, dumps
from quancheng.serve.clients import Client
from quancheng.serve.problems import ApiError, checked_id
from quancheng.serve.service import Service

PROJECT = "project_code"
PROVENANCE_COLUMNS = ["element_key", "system_id", "source_table", "source_key", "extracted_at", "rule", "systems",
                      "distinct_values"]


def prefill_answer(service: Service, client: Client, stage_id: str, project_code: str) -> bytes:
    """The prefill as encoded JSON, from the answers cache when no input copy has changed since."""
    stage = service.catalog.stage.get(stage_id)
    if stage is None:
        known = ", ".join(s.stage_id for s in service.catalog.stages)
        raise ApiError(404, "not_found", f"no stage {stage_id[:64]!r}; stages: {known}", parameter="stage_id")
    project = checked_id(project_code, "project_code", "project_code")
    versions = []
    for ds in inputs(service, stage_id):
        try:
            c = service.copy_for(client, ds)
            versions.append((c.schema, c.version))
        except ApiError:
            versions.append(("", ""))
    key = ("prefill", client.department_en, stage_id, project, tuple(versions))
    held = service.answers.get(key)
    if isinstance(held, bytes):
        return held
    answer = dumps(prefill(service, client, stage_id, project))
    service.answers.put(key, answer)
    return answer


def inputs(service: Service, stage_id: str) -> list[str]:
    """The datasets a prefill of ``stage_id`` reads."""
    return [*(stage_dataset_id(s.stage_id) for s in service.catalog.stages), provenance_dataset_id(stage_id),
            CONFLICTS_DATASET, MATERIALS_DATASET]


def prefill(service: Service, client: Client, stage_id: str, project_code: str) -> dict[str, Any]:
    """The prefill of ``project_code`` (any spelling of a valid code) in ``stage_id``, as the client may see it."""
    catalog = service.catalog
    stage = catalog.stage.get(stage_id)
    if stage is None:
        raise ApiError(404, "not_found", f"no stage {stage_id[:64]!r}", parameter="stage_id")
    project = checked_id(project_code, "project_code", "project_code")
    form = service.copy_for(client, stage_dataset_id(stage_id))
    found = form.find(PROJECT, project)
    if not found:
        raise ApiError(404, "not_found", f"project {project} has no record in stage {stage_id} ({stage.name_zh}) yet",
                       project_code=project, stage_id=stage_id)
    row = found[0]
    extracted_at, source_systems, missing = form.cells(row, ["_extracted_at", "_source_systems", "_missing_required"])
    provenance = service.copy_for(client, provenance_dataset_id(stage_id))
    prov = provenance.columns_of(provenance.find(PROJECT, project), PROVENANCE_COLUMNS)
    at = {k: j for j, k in enumerate(prov["element_key"])}
    systems, tables, keys, times, rules = (prov[c] for c in PROVENANCE_COLUMNS[1:6])
    counts, distinct = prov["systems"], prov["distinct_values"]
    static = _stage_static(service, client, stage_id, form)
    names = service.system_names
    elements = []
    filled = 0
    for (element_id, key, name_zh, name_en, required, access), value in zip(
            static.elements, static.values(row), strict=True):
        filled += value is not None
        j = at.get(key)
        if j is None:
            elements.append({"element_id": element_id, "key": key, "name_zh": name_zh, "name_en": name_en,
                             "required": required, "access": access, "value": value, "source_system": None,
                             "source_system_name_zh": None, "source_table": None, "source_key": None,
                             "as_of": None, "rule": None, "systems": 0, "distinct_values": 0})
        else:
            elements.append({"element_id": element_id, "key": key, "name_zh": name_zh, "name_en": name_en,
                             "required": required, "access": access, "value": value, "source_system": systems[j],
                             "source_system_name_zh": names.get(systems[j]), "source_table": tables[j],
                             "source_key": keys[j], "as_of": times[j], "rule": rules[j], "systems": counts[j],
                             "distinct_values": distinct[j]})
    conflicts = service.copy_for(client, CONFLICTS_DATASET)
    disagree = [{k: r[k] for k in ("element_id", "element_key", "element_name_zh", "system_id", "source_table",
                                   "source_key", "value", "winner_system", "winner_value", "rule", "same_system")}
                for r in conflicts.rows(conflicts.find(PROJECT, project)) if r["element_key"] in static.keys]
    materials_copy = service.copy_for(client, MATERIALS_DATASET)
    materials = _materials(service, client, stage_id, project, materials_copy)
    return {
        "stage": {"id": stage_id, "name_zh": stage.name_zh, "name_en": stage.name_en},
        "project_code": project,
        "as_of": extracted_at,
        "source_systems": [s for s in (source_systems or "").split("|") if s],
        "missing_required": [s for s in (missing or "").split("|") if s],
        "elements": elements,
        "conflicts": disagree,
        "withheld": static.withheld,
        "materials": materials,
        "summary": {"elements": len(elements), "filled": filled,
                    "conflicts": len(disagree), "materials": len(materials),
                    "waived": sum(1 for m in materials if m["waived"]),
                    "required": sum(1 for m in materials if not m["waived"])},
        "datasets": {c.dataset_id: {"area": c.schema, "version": c.version}
                     for c in (form, provenance, conflicts, materials_copy)},
    }


@dataclass(frozen=True)
class _Static:
    """What a stage's prefill says the same way for every project: element names and access, and what is
    withheld from the department and why (computed once per department and version of the stage form)."""

    elements: list[tuple[str, str, str, str, bool, str]]  # element id, key, names, required, access
    columns: list[str]  # the form's columns of those elements, in the same order
    values: Callable[[int], Sequence[Any]]  # a row's cells of those columns
    keys: frozenset[str]
    withheld: list[dict[str, Any]]


def _stage_static(service: Service, client: Client, stage_id: str, form: Copy) -> _Static:
    key = ("stage_static", client.department_en, stage_id, form.schema, form.version)
    held = service.derived.get(key)
    if isinstance(held, _Static):
        return held
    catalog = service.catalog
    tokenized = form.tokenized()
    elements = []
    for col in form.columns:
        el = catalog.element_by_key.get(col)
        if el is not None:
            elements.append((el.element_id, col, el.name_zh, el.name_en, stage_id in el.required_in,
                             "token" if col in tokenized else "clear"))
    full = service.full_schema(stage_dataset_id(stage_id))
    withheld = []
    for col in full.names if full is not None else []:
        el = catalog.element_by_key.get(col)
        if el is not None and col not in form.column_set:
            withheld.append({"key": col, "name_zh": el.name_zh, "name_en": el.name_en, "share_type": el.share_type,
                             "share_type_zh": SHARE_TYPE_ZH[el.share_type],
                             "reason": withheld_reason(catalog, client.department_en, el, service.holders(col))})
    columns = [e[1] for e in elements]
    static = _Static(elements, columns, form.getter(columns), frozenset(columns), withheld)
    service.derived.put(key, static)
    return static


def _project_values(service: Service, client: Client, project: str, wanted: frozenset[str]
                    ) -> dict[str, tuple[Any, str]]:
    """The project's values of the ``wanted`` elements in every stage form the caller reads (first stage first)."""
    out: dict[str, tuple[Any, str]] = {}
    for st in service.catalog.stages:
        ds = stage_dataset_id(st.stage_id)
        try:
            copy = service.copy_for(client, ds)
        except ApiError:
            continue
        found = copy.find(PROJECT, project)
        if not found:
            continue
        cols, values = _held(service, copy, wanted)
        for k, v in zip(cols, values(found[0]), strict=True):
            if v is not None and k not in out:
                out[k] = (v, ds)
    return out


def _held(service: Service, copy: Copy, wanted: frozenset[str]) -> tuple[list[str], Callable[[int], Sequence[Any]]]:
    """The ``wanted`` columns ``copy`` holds and their getter (once per version of the copy)."""
    key = ("held", copy.schema, copy.dataset_id, copy.version, wanted)
    found = service.derived.get(key)
    if found is None:
        cols = sorted(k for k in wanted if k in copy.column_set)
        found = (cols, copy.getter(cols))
        service.derived.put(key, found)
    return found  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Materials:
    """A stage's materials as every project shares them (per version of the materials copy): each material's
    fields, the elements its document carries (id, key, name), and all those elements' keys."""

    materials: list[tuple[dict[str, Any], list[tuple[str, str, str]]]]
    wanted: frozenset[str]


def _materials(service: Service, client: Client, stage_id: str, project: str, copy: Copy) -> list[dict[str, Any]]:
    key = ("materials", stage_id, copy.schema, copy.version)
    skeleton = service.derived.get(key)
    if not isinstance(skeleton, _Materials):
        materials = []
        for m in copy.rows(copy.find("stage_id", stage_id)):
            carried = [service.catalog.element[e] for e in (m["elements"] or "").split("|")
                       if e in service.catalog.element]
            materials.append(({
                "material_key": m["material_key"], "name_zh": m["name_zh"], "kind": m["kind"],
                "status": "waived" if m["waived"] else "required", "waived": bool(m["waived"]), "rule": m["reason"],
                "issuer_system": m["issuer_system"] or None, "issuer_name_zh": m["issuer_name_zh"] or None,
                "asked_by_forms": [f for f in (m["asked_by_forms"] or "").split("|") if f],
                "asked_times": m["asked_times"],
                "shared_datasets": [d for d in (m["shared_datasets"] or "").split("|") if d],
                "datasets_published": m["datasets_published"]},
                [(el.element_id, el.key, el.name_zh) for el in carried]))
        skeleton = _Materials(materials, frozenset(k for _, data in materials for _, k, _ in data))
        service.derived.put(key, skeleton)
    values = _project_values(service, client, project, skeleton.wanted)
    none = (None, None)
    out = []
    for fields, data in skeleton.materials:
        items = []
        for element_id, k, name_zh in data:
            value, dataset = values.get(k, none)
            items.append({"element_id": element_id, "key": k, "name_zh": name_zh, "value": value,
                          "dataset": dataset})
        out.append({**fields, "data": items})
    return out
