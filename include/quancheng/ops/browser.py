"""The analysts' catalog browser: find a data element by any name it goes by, and see where it flows.

Search rules (``search``), applied to a query and to every name after trimming, NFKC and case folding
(so ``ＸＭＤＭ``, ``xmdm`` and ``XMDM`` are one query):
- the element's Chinese name, English name, canonical key, id and synonyms, and the Chinese labels and
  native column names of the source fields mapped to it, are its names
- rank 0: a name equals the query; rank 1: a name starts with it; rank 2: a name contains it;
  source-field names count one rank lower than the element's own names
- each hit says which name matched, so "项目统一代码" explains why 投资项目代码 came up

An element's detail (``element_detail``) lists the systems that feed it (form, native column, label,
transform) and the shared datasets that carry it: the system datasets of the forms mapping it, marked
published or not, plus any published consolidated dataset whose schema has the element's column.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from quancheng.catalog import Catalog
from quancheng.catalog.docs import SHARE_ZH as SHARE_LABELS
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import Element

PI_LABELS = {"none": "非个人信息", "personal": "个人信息", "sensitive": "敏感个人信息"}
MatchField = Literal["name_zh", "name_en", "key", "element_id", "synonym", "field_label", "field_column"]
OWN_FIELDS: tuple[MatchField, ...] = ("name_zh", "name_en", "key", "element_id", "synonym")


def fold(text: str) -> str:
    """The matching form of a name: trimmed, NFKC (full-width to half-width), case-folded, spaces unified."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Hit:
    """One element found by a search, and why."""

    element_id: str
    key: str
    name_zh: str
    name_en: str
    share_type: str
    rank: int
    matched_field: MatchField
    matched_name: str


def _names(catalog: Catalog) -> dict[str, list[tuple[MatchField, str]]]:
    """element id -> every (kind of name, name) it can be found by."""
    out: dict[str, list[tuple[MatchField, str]]] = {}
    for e in catalog.elements:
        names: list[tuple[MatchField, str]] = [("name_zh", e.name_zh), ("name_en", e.name_en), ("key", e.key),
                                                ("element_id", e.element_id)]
        names += [("synonym", s) for s in e.synonyms]
        out[e.element_id] = names
    labels = {(f.form_id, f.column): f.label_zh for f in catalog.fields}
    for m in catalog.mappings:
        if m.element_id in out:
            out[m.element_id] += [("field_column", m.column),
                                  ("field_label", labels.get((m.form_id, m.column), ""))]
    return out


def search(catalog: Catalog, query: str, limit: int = 50) -> list[Hit]:
    """Elements matching ``query``, best first (see the module docstring for the rules)."""
    q = fold(query)
    if not q:
        return []
    hits: list[Hit] = []
    for eid, names in _names(catalog).items():
        best: tuple[int, MatchField, str] | None = None
        for kind, name in names:
            f = fold(name)
            if not f or q not in f:
                continue
            rank = 0 if f == q else 1 if f.startswith(q) else 2
            rank += 0 if kind in OWN_FIELDS else 1
            if best is None or rank < best[0]:
                best = (rank, kind, name)
        if best is not None:
            e = catalog.element[eid]
            hits.append(Hit(eid, e.key, e.name_zh, e.name_en, e.share_type, best[0], best[1], best[2]))
    hits.sort(key=lambda h: (h.rank, h.element_id))
    return hits[:limit]


@dataclass(frozen=True)
class Feed:
    """A source field that feeds an element."""

    system_id: str
    system_name_zh: str
    department_zh: str
    form_id: str
    form_name_zh: str
    table: str
    column: str
    label_zh: str
    transform: str


@dataclass(frozen=True)
class Carrier:
    """A shared dataset that carries an element."""

    dataset_id: str
    kind: str
    published: bool
    rows: int | None
    column: str


@dataclass(frozen=True)
class ElementDetail:
    """Everything an analyst needs to trust one element."""

    element: dict[str, Any]
    share_label: str
    pi_label: str
    granted_to: tuple[str, ...]  # departments granted a conditional element
    stages: tuple[str, ...]  # stage names where it is required
    feeds: tuple[Feed, ...]
    datasets: tuple[Carrier, ...]

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.system_id for f in self.feeds))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "systems": list(self.systems)}


def schema_columns(parquet_path: str | Path, storage_options: Mapping[str, str] | None = None) -> set[str]:
    """The column names of a published dataset (its Delta table's schema: the log only), at a local path or
    an ``s3://`` URI reached with ``storage_options`` (:attr:`quancheng.publish.store.SharedStore.storage_options`)."""
    from quancheng.publish import delta

    options = dict(storage_options) if storage_options else None
    if not delta.exists(parquet_path, storage_options=options):
        return set()
    return set(delta.schema(parquet_path, storage_options=options).names)


def element_detail(catalog: Catalog, element_id: str, registry: Iterable[Mapping[str, Any]] = (),
                   columns_of: Any = schema_columns) -> ElementDetail | None:
    """The detail of one element (None when the id is unknown); ``registry`` is the dataset registry."""
    e: Element | None = catalog.element.get(element_id)
    if e is None:
        return None
    reg = {str(r["dataset_id"]): r for r in registry}
    labels = {(f.form_id, f.column): f.label_zh for f in catalog.fields}
    feeds: list[Feed] = []
    carriers: dict[str, Carrier] = {}
    for m in catalog.mappings:
        if m.element_id != element_id or m.form_id not in catalog.form:
            continue
        form = catalog.form[m.form_id]
        system = catalog.system.get(form.system_id)
        if system is None:
            continue
        feeds.append(Feed(system.system_id, system.name_zh, system.department_zh, form.form_id, form.name_zh,
                          form.table, m.column, labels.get((m.form_id, m.column), ""), m.transform))
        ds = dataset_id(form)
        entry = reg.get(ds)
        carriers.setdefault(ds, Carrier(ds, "system", entry is not None, int(entry["rows"]) if entry else None, e.key))
    for ds, entry in reg.items():
        if ds in carriers or entry["kind"] in ("system", "quarantine"):
            continue
        if e.key in columns_of(entry["parquet_path"]):
            carriers[ds] = Carrier(ds, str(entry["kind"]), True, int(entry["rows"]), e.key)
    granted = tuple(sorted({g.department_en for g in catalog.grants
                            if e.share_type == "conditional" and (not g.elements or element_id in g.elements)
                            and g.system_id in {f.system_id for f in feeds}}))
    stages = tuple(catalog.stage[s].name_zh if s in catalog.stage else s for s in e.required_in)
    return ElementDetail(e.model_dump(), SHARE_LABELS.get(e.share_type, e.share_type),
                         PI_LABELS.get(e.pi_class, e.pi_class), granted, stages, tuple(feeds),
                         tuple(sorted(carriers.values(), key=lambda c: (c.kind != "system", c.dataset_id))))
