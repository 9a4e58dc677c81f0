"""The service's view of the home: catalog, registries, area copies in memory, and who reads which copy.

One :class:`Service` per running process. Registry reads (the dataset and area tables of the shared
database) are cached for a few seconds: they feed the catalog endpoints, never the per-record hot path,
which only touches the in-memory copies (:mod:`quancheng.serve.cache`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from quancheng.catalog import Catalog
from quancheng.publish.store import SharedStore
from quancheng.serve.access import readable_areas
from quancheng.serve.cache import Answers, AreaCache, Copy
from quancheng.serve.clients import Client
from quancheng.serve.problems import ApiError
from quancheng.serve.sources import BucketAreas, source_for
from quancheng.sharing.areas import AREAS_TABLE
from quancheng.sharing.rules import Audience

# identifier kinds a caller may look records up by (ID numbers are personal: tokenized, never a lookup key)
KEY_KINDS = ("project_code", "uscc", "org_code", "reg_no", "construction_permit", "planning_permit", "license_no")
EXTRA_KEYS = {"project_code": "project_code", "entity_id": "", "stage_id": ""}  # exchange columns: column -> id kind


SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")  # what dataset ids are made of (system, form and stage ids)


@dataclass(frozen=True)
class Registered:
    """A dataset of the registry: its kind, rows, version and when it was last published."""

    dataset_id: str
    kind: str
    rows: int
    content_hash: str
    last_batch: str
    updated_at: str | None


class Service:
    """Reads the published datasets of ``home`` for authenticated departments."""

    def __init__(self, home: Path, catalog: Catalog, *, sql_url: str | None = None, registry_ttl: float = 5.0):
        self.store = SharedStore(home, sql_url=sql_url)
        self.catalog = catalog
        self.areas_root = self.store.root / "areas"
        self.key_kinds: dict[str, str] = {e.key: e.identifier_kind for e in catalog.elements
                                          if e.identifier_kind in KEY_KINDS and e.pi_class == "none"}
        self.key_kinds.update({c: k for c, k in EXTRA_KEYS.items() if c not in self.key_kinds})
        self.cache = AreaCache(self.areas_root, self.key_kinds, source=source_for(self.store, self.areas_root))
        self.system_names = {s.system_id: s.name_zh for s in catalog.systems}
        self.answers = Answers()
        self.derived = Answers(limit=10_000)  # per-version facts (stage element lists, material skeletons)
        self.registry_ttl = registry_ttl
        self._lock = threading.Lock()
        self._registry: tuple[float, dict[str, Registered], dict[tuple[str, str], dict[str, Any]]] | None = None
        self._areas_of: dict[str, list[Audience]] = {}
        self._schemas: dict[tuple[str, str], pa.Schema] = {}
        self._holders: dict[str, set[str]] | None = None
        self._located: dict[tuple[str, str], tuple[str, str, float]] = {}  # (department, dataset) -> area, version

    @property
    def engine(self) -> sa.Engine:
        return self.store.engine

    # --- registries ---
    def registry(self) -> tuple[dict[str, Registered], dict[tuple[str, str], dict[str, Any]]]:
        """Published datasets by id, and area copies by (schema, dataset id)."""
        with self._lock:
            if self._registry is None or time.monotonic() - self._registry[0] > self.registry_ttl:
                datasets = {d["dataset_id"]: Registered(d["dataset_id"], d["kind"], int(d["rows"]), d["content_hash"],
                                                        d["last_batch"], d["updated_at"])
                            for d in self.store.datasets()}
                self._registry = (time.monotonic(), datasets, self._area_rows())
            return self._registry[1], self._registry[2]

    def _area_rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        if not sa.inspect(self.engine).has_table(AREAS_TABLE):
            return {}
        t = sa.Table(AREAS_TABLE, sa.MetaData(), autoload_with=self.engine)
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t)).mappings().all()
        return {(r["schema_name"], r["dataset_id"]): dict(r) for r in rows}

    def known(self, dataset_id: str) -> bool:
        datasets, area_rows = self.registry()
        return dataset_id in datasets or any(ds == dataset_id for _, ds in area_rows)

    def full_schema(self, dataset_id: str) -> pa.Schema | None:
        """The schema of the exchange's own (clear, complete) copy: what columns exist at all."""
        reg = self.registry()[0].get(dataset_id)
        if reg is None:
            return None
        key = (dataset_id, reg.content_hash)
        if key not in self._schemas:
            schema = self.store.schema(dataset_id)
            if schema is None:
                return None
            self._schemas[key] = schema
        return self._schemas[key]

    def holders(self, element_key: str) -> set[str]:
        """The systems whose forms map the element (what feeds it in a consolidated dataset)."""
        if self._holders is None:
            found: dict[str, set[str]] = {}
            for f in self.catalog.forms:
                for e in self.catalog.elements_of(f.form_id):
                    found.setdefault(e.key, set()).add(f.system_id)
            self._holders = found
        return self._holders.get(element_key, set())

    # --- access ---
    def areas_of(self, client: Client) -> list[Audience]:
        found = self._areas_of.get(client.department_en)
        if found is None:
            found = self._areas_of[client.department_en] = readable_areas(self.catalog, client.department_en)
        return found

    def shared_anywhere(self, dataset_id: str) -> bool:
        """Whether any open or department area holds the dataset (else it is 不予共享 for every caller)."""
        return any(ds == dataset_id and not schema.startswith("src_") for schema, ds in self.registry()[1])

    def locate(self, client: Client, dataset_id: str) -> tuple[str, str]:
        """(area schema, version) of the most complete copy the client's department may read, without
        reading it; 404 for an unknown dataset, 403 (with the reason) for one the department may not read."""
        key = (client.department_en, dataset_id)
        now = time.monotonic()
        seen = self._located.get(key)
        if seen is not None and now - seen[2] < self.cache.link_ttl:  # a prefill locates each of its copies thrice
            return seen[0], seen[1]
        if not SAFE_ID.match(dataset_id) or dataset_id.startswith("."):  # never a path outside the areas
            raise ApiError(404, "not_found", f"no dataset {dataset_id[:64]!r} is published (GET /v1/datasets "
                           "lists them)", dataset=dataset_id[:64])
        oldest = now  # the answer holds while every link it read does (a publish is seen within the link TTL)
        for area in self.areas_of(client):
            version, seen_at = self.cache.version_seen(area.schema, dataset_id)
            oldest = min(oldest, seen_at)
            if version is not None:
                self._located[key] = (area.schema, version, oldest)
                return area.schema, version
        if not self.known(dataset_id):
            raise ApiError(404, "not_found", f"no dataset {dataset_id!r} is published (GET /v1/datasets lists them)",
                           dataset=dataset_id)
        if not self.shared_anywhere(dataset_id):
            raise ApiError(403, "forbidden", f"dataset {dataset_id!r} is 不予共享 (not shared): it is published for "
                           "the exchange and its own system only", dataset=dataset_id)
        raise ApiError(403, "forbidden", f"dataset {dataset_id!r} is 有条件共享 (conditional) and "
                       f"{client.department_en} holds no grant for it in grants.csv", dataset=dataset_id)

    def hot_copies(self) -> list[tuple[str, str]]:
        """The (area, dataset) copies the prefill and enterprise endpoints read, in every area a department may
        read (not the systems' own ``src_`` areas, which the service never serves)."""
        from quancheng.consolidate.enterprise import MASTER_DATASET
        from quancheng.consolidate.materials import MATERIALS_DATASET
        from quancheng.consolidate.stage_forms import CONFLICTS_DATASET, provenance_dataset_id, stage_dataset_id

        wanted = {MASTER_DATASET, MATERIALS_DATASET, CONFLICTS_DATASET}
        for s in self.catalog.stages:
            wanted |= {stage_dataset_id(s.stage_id), provenance_dataset_id(s.stage_id)}
        if isinstance(self.cache.source, BucketAreas):  # the copies the SQL record lists
            return [(area, ds) for area, ds in self.cache.source.copies()
                    if not area.startswith(("src_", ".")) and ds in wanted]
        if not self.areas_root.is_dir():
            return []
        return [(area.name, ds) for area in sorted(self.areas_root.iterdir())
                if area.is_dir() and not area.name.startswith(("src_", ".")) for ds in sorted(wanted)
                if (area / ds).exists()]

    def in_memory(self, client: Client, datasets: list[str]) -> bool:
        """Whether answering from these datasets reads nothing from disk: the current version of each copy the
        client reads is held (an unknown or forbidden dataset reads nothing either: it is refused)."""
        for ds in datasets:
            try:
                schema, version = self.locate(client, ds)
            except ApiError:
                continue
            if not self.cache.holds(schema, ds, version):
                return False
        return True

    def copy_for(self, client: Client, dataset_id: str) -> Copy:
        """The most complete copy of ``dataset_id`` the client's department may read, in memory."""
        schema, version = self.locate(client, dataset_id)
        copy = self.cache.get(schema, dataset_id, version=version)
        if copy is None:  # replaced between the two looks by a publish that removed it: ask again
            schema, _ = self.locate(client, dataset_id)
            copy = self.cache.get(schema, dataset_id)
        if copy is None:
            raise ApiError(404, "not_found", f"dataset {dataset_id!r} was just withdrawn", dataset=dataset_id)
        return copy

    def freshness(self, copy: Copy) -> dict[str, Any]:
        datasets, area_rows = self.registry()
        row = area_rows.get((copy.schema, copy.dataset_id), {})
        reg = datasets.get(copy.dataset_id)
        updated = row.get("updated_at")
        updated_iso = (updated if updated.tzinfo else updated.replace(tzinfo=UTC)).isoformat() \
            if isinstance(updated, datetime) else (reg.updated_at if reg else None)
        return {"version": copy.version, "area": copy.schema, "rows": copy.table.num_rows,
                "updated_at": updated_iso, "last_batch": row.get("last_batch") or (reg.last_batch if reg else None)}
