"""``/v1/datasets/{id}/records``: the rows of the caller's copy, looked up by key, one bounded page at a time.

Rules:
- ``key`` is an identifier (project code, USCC, organisation code, permit number ...). With ``column`` it
  is checked as that column's identifier kind; without, its kind is recognised by :func:`quancheng.ids.check`
  and every key column of that kind is searched. A value that fails its check is a 422 naming the check.
- Key columns are the dataset's non-personal identifier columns (and ``project_code``, ``entity_id``,
  ``stage_id``); they are indexed in memory, so a lookup never scans and never reaches SQL: a filter
  value is only ever a dictionary key, whatever it contains.
- ``fields`` picks columns; asking for a column the caller's department may not see is a 403 with the
  reason, asking for one the dataset does not have a 422.
- ``page`` counts from 1; ``page_size`` is at most :data:`MAX_PAGE_SIZE` (more is a 422, not a silent cut).
"""

from __future__ import annotations

from typing import Any

from quancheng.ids import check
from quancheng.serve.access import withheld_reason
from quancheng.serve.cache import Copy
from quancheng.serve.clients import Client
from quancheng.serve.describe import feeding, names
from quancheng.serve.problems import ApiError, checked_id
from quancheng.serve.service import Service

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_KEY_LENGTH = 200


def check_page(page: int, page_size: int) -> None:
    if page_size > MAX_PAGE_SIZE:
        raise ApiError(422, "page_too_large", f"page_size {page_size} is over the limit of {MAX_PAGE_SIZE}; "
                       "ask for further pages instead", parameter="page_size", limit=MAX_PAGE_SIZE)
    if page_size < 1:
        raise ApiError(422, "invalid_parameter", f"page_size must be 1 to {MAX_PAGE_SIZE}, got {page_size}",
                       parameter="page_size")
    if page < 1:
        raise ApiError(422, "invalid_parameter", f"page counts from 1, got {page}", parameter="page")


def visible_columns(service: Service, client: Client, copy: Copy, wanted: list[str], parameter: str) -> None:
    """422 for a column the dataset does not have, 403 (with the reason) for one the caller may not see."""
    full = service.full_schema(copy.dataset_id)
    existing = set(full.names if full is not None else copy.columns) | set(copy.columns)
    for c in wanted:
        if c not in existing:
            raise ApiError(422, "invalid_parameter", f"dataset {copy.dataset_id!r} has no column {_short(c)!r}",
                           parameter=parameter)
        if c not in copy.columns:
            el = service.catalog.element_by_key.get(c)
            reason = (withheld_reason(service.catalog, client.department_en, el, feeding(service, copy.dataset_id, c))
                      if el is not None else f"{c} is not in the copy {client.department_en} may read")
            raise ApiError(403, "forbidden", reason, dataset=copy.dataset_id, column=c)


def key_columns(service: Service, copy: Copy) -> list[str]:
    tokenized = copy.tokenized()
    return [c for c in copy.columns if c in service.key_kinds and c not in tokenized]


def match(service: Service, client: Client, copy: Copy, key: str,
          column: str | None) -> tuple[list[int], dict[str, Any]]:
    """Row numbers whose key column(s) hold ``key``, and the filter as applied (for the answer and the audit)."""
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(422, "invalid_key", f"key is longer than {MAX_KEY_LENGTH} characters", parameter="key",
                       check="length")
    keys = key_columns(service, copy)
    if column is not None:
        visible_columns(service, client, copy, [column], "column")
        if column not in keys:
            raise ApiError(422, "invalid_parameter", f"column {column!r} is not a key of {copy.dataset_id!r}; "
                           f"its keys are: {', '.join(keys) or 'none'}", parameter="column")
        kind = service.key_kinds[column]
        value = checked_id(key, kind, "key") if kind else key  # type: ignore[arg-type]
        columns = [column]
    else:
        r = check(key)
        if not r.valid or r.normalized is None:
            raise ApiError(422, "invalid_key", f"key {_short(key)!r} is not a recognisable identifier "
                           f"(project code, USCC, organisation code, permit number): check {r.reason} failed",
                           parameter="key", check=r.reason if r.reason and "." in r.reason else f"{r.kind}.{r.reason}")
        value = r.normalized
        kinds = {r.kind, "license_no"} if r.kind in ("uscc", "org_code", "reg_no") else {r.kind}
        columns = [c for c in keys if service.key_kinds[c] in kinds]
        if not columns:
            raise ApiError(422, "invalid_parameter", f"dataset {copy.dataset_id!r} has no key column of kind "
                           f"{r.kind}; its keys are: {', '.join(keys) or 'none'}", parameter="key")
    found = sorted({i for c in columns for i in copy.find(c, value)})
    return found, {"key": value, "columns": columns}


def copy_as_of(service: Service, copy: Copy, as_of: str | None) -> tuple[Copy, str | None]:
    """The copy the caller's area held at ``as_of`` (a version, as /v1/datasets/{id} names it, or an ISO
    date-time), with the time it became current (None: the current copy, whose freshness says it).

    Earlier versions are kept for the retention of ``quancheng datasets maintain``; one no longer kept, or a
    time before the first version, is a 404 that names the versions there are, never an answer from the
    wrong version."""
    if as_of is None or as_of == copy.version:
        return copy, None
    from datetime import UTC, datetime

    from quancheng.sharing.areas import area_versions

    kept = area_versions(service.store.engine, copy.schema, copy.dataset_id)
    oldest = f"{kept[-1].content_hash} (current from {kept[-1].published_at.isoformat()})" if kept else copy.version
    try:
        moment = datetime.fromisoformat(as_of.strip())
    except ValueError:
        if not (len(as_of) <= 64 and as_of.isalnum()):
            raise ApiError(422, "invalid_parameter", "as_of is a version (as /v1/datasets/{id} names it) or an ISO "
                           f"date-time, got {_short(as_of)!r}", parameter="as_of") from None
        found = next((v for v in kept if v.content_hash == as_of), None)
    else:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        found = next((v for v in kept if v.published_at <= moment), None)
        if found is None and not kept and (since := service.freshness(copy)["updated_at"]) \
                and moment >= datetime.fromisoformat(since):
            return copy, None  # a copy published before versions were recorded: current since then
    if found is not None and found.content_hash == copy.version:
        return copy, None
    older = service.cache.get_version(copy.schema, copy.dataset_id, found.content_hash) if found else None
    if found is None or older is None:
        raise ApiError(404, "version_not_kept", f"{copy.dataset_id!r} as of {_short(as_of)!r} is not kept: the "
                       f"current version is {copy.version}, the oldest kept {oldest}", parameter="as_of",
                       current_version=copy.version)
    return older, found.published_at.isoformat()


def records(service: Service, client: Client, dataset_id: str, *, key: str | None, column: str | None,
            fields: str | None, page: int, page_size: int, as_of: str | None = None) -> dict[str, Any]:
    check_page(page, page_size)
    copy, then = copy_as_of(service, service.copy_for(client, dataset_id), as_of)
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    if wanted:
        visible_columns(service, client, copy, wanted, "fields")
    applied: dict[str, Any] = {}
    if key is not None:
        found, applied = match(service, client, copy, key, column)
        total = len(found)
        start = (page - 1) * page_size
        rows = copy.rows(found[start:start + page_size], wanted)
    else:
        if column is not None:
            raise ApiError(422, "invalid_parameter", "column names the key column of `key`; give key too",
                           parameter="column")
        total = copy.table.num_rows
        start = (page - 1) * page_size
        rows = copy.rows(range(start, min(start + page_size, total)), wanted)
    updated = then or service.freshness(copy)["updated_at"]
    return {"dataset": {"id": dataset_id, **names(service, dataset_id), "area": copy.schema,
                        "version": copy.version, "updated_at": updated},
            "filter": applied or None, "page": page, "page_size": page_size, "total": total, "records": rows}


def _short(text: str) -> str:
    return text if len(text) <= 64 else text[:64] + "…"
