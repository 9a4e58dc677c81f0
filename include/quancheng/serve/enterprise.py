"""``/v1/enterprises/{uscc}``: one enterprise from the master, with its name history and where it was seen.

From the caller's copies of ``master.enterprise`` (the record), ``master.enterprise_names`` (every name
seen, current first, then by last seen) and ``master.enterprise_links`` (which system records were matched
to it, by which rule), summed per dataset and role. The credit code is checked first (422 naming the
failed check, e.g. ``uscc.checksum``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from quancheng.consolidate.enterprise import LINKS_DATASET, MASTER_DATASET, NAMES_DATASET
from quancheng.serve.clients import Client
from quancheng.serve.problems import ApiError, checked_id
from quancheng.serve.service import Service

ENTITY = "entity_id"


def enterprise(service: Service, client: Client, uscc: str) -> dict[str, Any]:
    code = checked_id(uscc, "uscc", "uscc")
    master = service.copy_for(client, MASTER_DATASET)
    found = master.find("enterprise_uscc", code)
    if not found:
        raise ApiError(404, "not_found", f"no enterprise with credit code {code} in the enterprise master", uscc=code)
    record = master.rows(found[:1])[0]
    entity = record[ENTITY]
    names_copy = service.copy_for(client, NAMES_DATASET)
    names = names_copy.rows(names_copy.find(ENTITY, entity))
    names = [n for n in names if n["is_current"]] + sorted((n for n in names if not n["is_current"]),
                                                           key=lambda n: n["last_seen"] or "", reverse=True)
    links_copy = service.copy_for(client, LINKS_DATASET)
    links = links_copy.rows(links_copy.find(ENTITY, entity))
    per = Counter((r["dataset_id"], r["system_id"], r["role"], r["match_rule"]) for r in links)
    sources = []
    for (ds, system_id, role, rule), n in sorted(per.items()):
        sy = service.catalog.system.get(system_id)
        sources.append({"dataset_id": ds, "system_id": system_id, "system_name_zh": sy.name_zh if sy else None,
                        "department_zh": sy.department_zh if sy else None, "role": role, "match_rule": rule,
                        "records": n})
    return {"uscc": code, "entity_id": entity, "record": {k: v for k, v in record.items() if k != ENTITY},
            "names": [{k: n[k] for k in ("name", "is_current", "from_former_name", "first_seen", "last_seen",
                                         "systems", "mentions")} for n in names],
            "sources": sources,
            "datasets": {c.dataset_id: {"area": c.schema, "version": c.version}
                         for c in (master, names_copy, links_copy)}}
