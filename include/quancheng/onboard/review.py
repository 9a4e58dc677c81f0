"""The steward's review file: the assistant's proposals to accept or correct, then written into the catalog.

``onboard suggest`` writes one row per field (``<catalog>/onboarding/<system_id>.review.csv``): the proposed
``element_id`` (empty when it proposes a new element or an exclusion), its name to read, the transform and
unit, the score, the alternatives with their scores and the evidence. The steward edits only these columns:

- ``element_id``: keep it, or put the right one (the alternatives list the next best);
- ``new_key`` and ``new_name_zh``: for a field that is a new data element (``element_id`` empty);
- ``excluded_reason``: for a field that is not data to share (系统流水号, 内部备注);
- ``transform`` and ``unit`` when the proposal is wrong.

``onboard accept`` turns every row into a mapping, a new element (status ``candidate``) or an exclusion, and
the corrections (an element other than the one proposed) into synonyms of that element, so the next system
with the same label or column maps on its own. A row with none of the three is an error naming its line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from quancheng.catalog.loader import Catalog
from quancheng.errors import QuanchengError
from quancheng.onboard.drafts import CatalogFiles
from quancheng.onboard.suggest import Suggestion
from quancheng.onboard.text import column_key, has_han, split_label

COLUMNS = ["form_id", "column", "label_zh", "element_id", "element_name", "transform", "unit", "score",
           "new_key", "new_name_zh", "excluded_reason", "suggested", "alternatives", "evidence"]


def review_file(catalog_root: Path, system_id: str) -> Path:
    return catalog_root / "onboarding" / f"{system_id}.review.csv"


def write_review(path: Path, catalog: Catalog, rows: list[tuple[str, Suggestion]]) -> None:
    """One review row per (form id, suggestion)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for form_id, s in rows:
            top = s.candidates[0].element_id if s.candidates and not s.new_element else ""
            w.writerow({
                "form_id": form_id, "column": s.column, "label_zh": s.label, "element_id": top,
                "element_name": catalog.element[top].name_zh if top else "",
                "transform": s.transform, "unit": s.unit,
                "score": f"{s.candidates[0].score:.2f}" if s.candidates else "",
                "new_key": "", "new_name_zh": split_label(s.label)[0] if s.new_element and not s.not_data else "",
                "excluded_reason": s.not_data if s.new_element else "", "suggested": top,
                "alternatives": "; ".join(f"{c.element_id} {catalog.element[c.element_id].name_zh} {c.score:.2f}"
                                          for c in s.candidates),
                "evidence": "; ".join(s.candidates[0].evidence) if s.candidates else ""})


@dataclass
class Accepted:
    mappings: int = 0
    new_elements: int = 0
    excluded: int = 0
    synonyms: int = 0


def accept(catalog: Catalog, system_id: str, path: Path) -> Accepted:
    """Write the reviewed rows into the catalog's files (mappings, fields, elements); idempotent."""
    if not path.is_file():
        raise QuanchengError(f"no review file {path} (fix: quancheng onboard suggest --system-id {system_id})")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    forms = {f.form_id for f in catalog.forms_of(system_id)}
    fields = {(f.form_id, f.column): f for fid in forms for f in catalog.fields_of(fid)}
    next_id = max((int(e.element_id[2:]) for e in catalog.elements if e.element_id[2:].isdigit()), default=0) + 1
    keys = {e.key for e in catalog.elements}
    mappings: list[dict[str, str]] = []
    field_edits: dict[tuple[str, str], dict[str, str]] = {}
    new_elements: list[dict[str, str]] = []
    synonyms: dict[str, list[str]] = {}
    out = Accepted()
    for line, r in enumerate(rows, start=2):
        where = f"{path.name}:{line}"
        key = (r["form_id"], r["column"])
        if key not in fields:
            raise QuanchengError(f"{where}: {r['form_id']}.{r['column']} is not a field of {system_id} "
                                 "(fix: introspect again or remove the row)")
        eid, reason = r["element_id"].strip(), r["excluded_reason"].strip()
        new_key, new_name = r["new_key"].strip(), r["new_name_zh"].strip()
        if eid:
            if eid not in catalog.element:
                raise QuanchengError(f"{where}: unknown element {eid!r} for {r['column']} (fix: an element_id "
                                     "from elements.csv, or leave it empty and fill new_key/new_name_zh)")
        elif reason:
            field_edits[key] = {"excluded_reason": reason}
            out.excluded += 1
            continue
        elif new_key and new_name:
            if new_key in keys:
                raise QuanchengError(f"{where}: new_key {new_key!r} is already an element's key (fix: use that "
                                     f"element's id {catalog.element_by_key[new_key].element_id} as element_id)")
            eid = f"DE{next_id:05d}"
            next_id += 1
            keys.add(new_key)
            new_elements.append(_new_element(eid, new_key, new_name, fields[key].native_type, system_id))
            out.new_elements += 1
        else:
            raise QuanchengError(f"{where}: {r['column']} ({r['label_zh']}) has no decision (fix: an element_id, "
                                 "new_key and new_name_zh for a new element, or an excluded_reason)")
        transform = r["transform"].strip() or "text"
        el = catalog.element.get(eid)
        unit = r["unit"].strip()
        edit = {"unit": unit if transform == "quantity" else fields[key].unit, "excluded_reason": ""}
        if transform == "code" and el is not None and not fields[key].code_list:
            edit["code_list"] = el.code_list
        field_edits[key] = edit
        mappings.append({"form_id": key[0], "column": key[1], "element_id": eid, "transform": transform, "part": "0",
                         "unit": ""})
        out.mappings += 1
        suggested = r["suggested"].strip()
        if el is not None and eid != suggested:  # a correction: teach the next suggestion
            synonyms.setdefault(eid, []).extend(_teach(r["label_zh"], r["column"], el.name_zh))
    files = CatalogFiles(catalog.root)
    files.edit("mappings.csv", lambda rs: [*(m for m in rs if m["form_id"] not in forms), *mappings])

    def edit_fields(rs: list[dict[str, str]]) -> list[dict[str, str]]:
        for f in rs:
            f.update(field_edits.get((f["form_id"], f["column"]), {}))
        return rs

    files.edit("fields.csv", edit_fields)

    def edit_elements(rs: list[dict[str, str]]) -> list[dict[str, str]]:
        for e in rs:
            have = [s for s in e["synonyms"].split("|") if s]
            add = [s for s in synonyms.get(e["element_id"], []) if s not in have]
            if add:
                out.synonyms += len(add)
                e["synonyms"] = "|".join(have + list(dict.fromkeys(add)))
        return [*rs, *new_elements]

    files.edit("elements.csv", edit_elements)
    return out


def _teach(label: str, column: str, name: str) -> list[str]:
    """What a correction adds to the element's synonyms: the label (when it is not the name) and the column."""
    out = []
    core = split_label(label)[0]
    if has_han(label) and core and core != split_label(name)[0]:
        out.append(label.strip())
    if column_key(column) and not has_han(column):
        out.append(column)
    return out


def _new_element(eid: str, key: str, name_zh: str, native: str, system_id: str) -> dict[str, str]:
    data_type = {"text": "string", "integer": "integer", "decimal": "decimal", "date": "date",
                 "datetime": "datetime", "boolean": "boolean"}.get(native, "string")
    return {"element_id": eid, "key": key, "name_zh": name_zh, "name_en": key.replace("_", " ").capitalize(),
            "definition": f"{name_zh}（{system_id} 接入时新增，定义待数据标准审定）", "object_class": name_zh,
            "property": name_zh, "representation_term": "文本" if data_type == "string" else "数值",
            "data_type": data_type, "format": "an..200" if data_type == "string" else "",
            "max_length": "200" if data_type == "string" else "", "version": "V1.0", "status": "candidate",
            "pi_class": "none", "share_type": "conditional", "authority_system": system_id}
