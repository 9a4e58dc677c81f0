"""``/v1/datasets`` and ``/v1/datasets/{id}``: the catalog of shared resources as one department sees it.

Each dataset carries its Chinese and English names (:func:`quancheng.sharing.metadata.dataset_meta`), its
sharing type, the version and freshness of the copy the caller reads, its key columns, and every column
of the exchange's complete copy with the caller's access to it: ``clear``, ``token`` (personal
information replaced by keyed-hash tokens) or ``hidden`` (with the reason). The dataset's sharing type:
不予共享 when no open or department area holds it; 有条件共享 when some column is an element shared on
conditions; else 无条件共享.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quancheng.serve.access import SHARE_TYPE_ZH, withheld_reason
from quancheng.serve.cache import Copy
from quancheng.serve.clients import Client
from quancheng.serve.problems import ApiError
from quancheng.serve.service import Service
from quancheng.sharing.metadata import column_meta, dataset_meta


def feeding(service: Service, dataset_id: str, element_key: str) -> set[str]:
    """The systems whose values a column carries: the dataset's own system, else every system mapping it."""
    head = dataset_id.split(".", 1)[0]
    if head in service.catalog.system:
        return {head}
    return service.holders(element_key)


def sharing_type(service: Service, dataset_id: str) -> str:
    if not service.shared_anywhere(dataset_id):
        return "none"
    schema = service.full_schema(dataset_id)
    names = schema.names if schema is not None else []
    elements = [service.catalog.element_by_key[c] for c in names if c in service.catalog.element_by_key]
    return "conditional" if any(e.share_type == "conditional" for e in elements) else "unconditional"


def names(service: Service, dataset_id: str) -> dict[str, str]:
    meta = dataset_meta(service.catalog, dataset_id)
    return {"name_zh": meta.get("name_zh", dataset_id), "name_en": meta.get("name_en", dataset_id),
            "definition": meta.get("definition", "")}


def listing(service: Service, client: Client) -> list[dict[str, Any]]:
    """Every published dataset, with whether (and which copy) the caller may read."""
    datasets, area_rows = service.registry()
    ids = sorted(set(datasets) | {ds for _, ds in area_rows})
    out = []
    for ds in ids:
        st = sharing_type(service, ds)
        item: dict[str, Any] = {"id": ds, **names(service, ds), "kind": datasets[ds].kind if ds in datasets else "",
                                "sharing_type": st, "sharing_type_zh": SHARE_TYPE_ZH[st], "readable": False,
                                "version": None, "rows": None, "updated_at": None}
        try:
            schema, version = service.locate(client, ds)  # listing reads no data, only where it is
        except ApiError:
            out.append(item)
            continue
        row = area_rows.get((schema, ds), {})
        updated = row.get("updated_at")
        item.update(readable=True, version=version, rows=row.get("rows"),
                    updated_at=(updated if updated.tzinfo else updated.replace(tzinfo=UTC)).isoformat()
                    if isinstance(updated, datetime) else None)
        out.append(item)
    return out


def detail(service: Service, client: Client, dataset_id: str) -> tuple[dict[str, Any], Copy]:
    """One dataset: names, sharing type, version, freshness, keys and every column with its access."""
    copy = service.copy_for(client, dataset_id)
    st = sharing_type(service, dataset_id)
    fresh = service.freshness(copy)
    full = service.full_schema(dataset_id)
    all_columns = full.names if full is not None else copy.columns
    tokenized = copy.tokenized()
    meta = column_meta(service.catalog, all_columns, tokenized)
    types = dict(copy.types)
    if full is not None:
        types = {**{f.name: str(f.type) for f in full}, **types}
    columns = []
    for c in all_columns:
        el = service.catalog.element_by_key.get(c)
        m = meta.get(c, {})
        col: dict[str, Any] = {"name": c, "name_zh": m.get("name_zh", ""), "name_en": m.get("name_en", ""),
                               "type": types.get(c, ""), "element_id": el.element_id if el else None,
                               "share_type": el.share_type if el else None,
                               "access": "token" if c in tokenized else "clear"}
        if c not in copy.columns:
            col["access"] = "hidden"
            col["reason"] = (withheld_reason(service.catalog, client.department_en, el, feeding(service, dataset_id, c))
                             if el is not None else "not in the copy this department may read")
        columns.append(col)
    age = _age_hours(fresh["updated_at"])
    body = {"id": dataset_id, **names(service, dataset_id), "sharing_type": st, "sharing_type_zh": SHARE_TYPE_ZH[st],
            "area": copy.schema, "version": copy.version, "rows": copy.table.num_rows,
            "freshness": {"updated_at": fresh["updated_at"], "age_hours": age, "last_batch": fresh["last_batch"]},
            "keys": [c for c in copy.columns if c in service.key_kinds and c not in tokenized],
            "columns": columns}
    return body, copy


def _age_hours(updated_at: str | None) -> float | None:
    if not updated_at:
        return None
    t = datetime.fromisoformat(updated_at)
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return round((datetime.now(UTC) - t).total_seconds() / 3600, 3)
