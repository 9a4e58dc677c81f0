"""Application materials per stage form: which are still asked for, which are waived and why.

The rule (数据共享 免提交), the same as the catalog's reform figures:
- the materials the source forms ask for (``materials.csv``, one row per asking form: the *before*
  count) are grouped by (stage of the asking form, ``material_key``): after consolidation each stage
  form asks for a document once;
- a group is **waived** when every material in it is of kind ``issued``, names an ``issuer_system``,
  and every element it carries is mapped from a form of the issuer system and has a sharing type
  other than ``none``: the data then reaches the approver from the issuer's shared datasets, named in
  ``shared_datasets``. The decision is :func:`quancheng.catalog.stats.waived_groups` itself, so this
  dataset and ``quancheng catalog stats`` can never disagree;
- otherwise it is still asked for, with the first reason that applies.

The number of groups not waived is the *after* count (`quancheng catalog stats` shows it beside the seed).
``datasets_published``/``shared_rows`` say whether the issuer's datasets are live in the shared store.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.models import Material
from quancheng.catalog.stats import material_groups, waived_groups

MATERIALS_DATASET = "materials.by_stage"

SCHEMA = pa.schema([
    ("stage_id", pa.string()), ("stage_name_zh", pa.string()), ("material_key", pa.string()),
    ("name_zh", pa.string()), ("kind", pa.string()), ("issuer_system", pa.string()),
    ("issuer_name_zh", pa.string()), ("asked_by_forms", pa.string()), ("asked_times", pa.int64()),
    ("elements", pa.string()), ("waived", pa.bool_()), ("reason", pa.string()), ("shared_datasets", pa.string()),
    ("datasets_published", pa.bool_()), ("shared_rows", pa.int64()),
])


def _explain(group: list[Material], catalog: Catalog, waived: bool) -> tuple[str, list[str]]:
    """Why a group is (not) waived, and the issuer's datasets that carry its elements."""
    issuer = group[0].issuer_system
    carried_by: dict[str, set[str]] = {}
    for form in catalog.forms_of(issuer) if issuer else []:
        for held in catalog.elements_of(form.form_id):
            carried_by.setdefault(held.element_id, set()).add(f"{issuer}.{form.form_id}")
    datasets = sorted({d for m in group for e in m.elements for d in carried_by.get(e, set())})
    if waived:
        return f"data shared by {issuer}", datasets
    for m in group:
        if m.kind != "issued":
            return f"not issued in the process (kind {m.kind})", datasets
        if not m.issuer_system:
            return "no issuing system", datasets
        for e in m.elements:
            el = catalog.element.get(e)
            if el is None:
                return f"element {e} is not in the registry", datasets
            if not carried_by.get(e):
                return f"element {e} ({el.name_zh}) is not held by {m.issuer_system}", datasets
            if el.share_type == "none":
                return f"element {e} ({el.name_zh}) is not shared (不予共享)", datasets
    return "not waived", datasets


def materials_by_stage(catalog: Catalog, published: Mapping[str, int] | None = None) -> pa.Table:
    """The materials dataset; ``published`` maps live dataset ids to their row counts, if known."""
    groups = material_groups(catalog)
    decided = waived_groups(catalog)
    rows = []
    for (stage_id, key), group in sorted(groups.items()):
        waived = decided[(stage_id, key)]
        reason, datasets = _explain(group, catalog, waived)
        issuer = group[0].issuer_system
        live = None if published is None else all(d in published for d in datasets) and bool(datasets)
        stage_row = catalog.stage.get(stage_id)
        system = catalog.system.get(issuer)
        rows.append({
            "stage_id": stage_id, "stage_name_zh": stage_row.name_zh if stage_row else "",
            "material_key": key, "name_zh": group[0].name_zh, "kind": "|".join(sorted({m.kind for m in group})),
            "issuer_system": issuer, "issuer_name_zh": system.name_zh if system else "",
            "asked_by_forms": "|".join(sorted({m.form_id for m in group})), "asked_times": len(group),
            "elements": "|".join(sorted({e for m in group for e in m.elements})), "waived": waived, "reason": reason,
            "shared_datasets": "|".join(datasets), "datasets_published": live,
            "shared_rows": None if published is None else sum(published.get(d, 0) for d in datasets),
        })
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def summary(table: pa.Table) -> dict[str, int]:
    """before (materials asked by source forms), groups (asked once per stage form), waived, after."""
    waived = sum(1 for w in table["waived"].to_pylist() if w)
    return {"before": sum(table["asked_times"].to_pylist()), "groups": table.num_rows, "waived": waived,
            "after": table.num_rows - waived}
