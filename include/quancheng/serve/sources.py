"""Where the data service finds an area copy's current and earlier versions.

- :class:`LinkedAreas` (local storage, the default): ``<home>/shared/areas/<schema>/<dataset>`` is a link to
  ``.versions/<dataset>/<content hash>/``; one ``readlink`` says which version is current.
- :class:`BucketAreas` (the store's storage is an object store): the current version is the one the SQL
  record ``_exchange_areas`` names (read for all copies at once, at most once a TTL); a version's objects
  (:mod:`quancheng.sharing.remote`) are downloaded once into ``<home>/cache/areas/<schema>/<dataset>/<hash>/``
  and read there. Downloaded versions nothing records any more are removed when a copy's next version is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from quancheng.errors import QuanchengError
from quancheng.publish.store import SharedStore
from quancheng.sharing.areas import area_versions, current_copies
from quancheng.sharing.remote import AreaObjects, read_version

STALE_DOWNLOAD_SECONDS = 3600  # a temporary download folder this old belongs to a killed reader


class AreaSource(Protocol):
    """What :class:`quancheng.serve.cache.AreaCache` asks of the place the versions are."""

    def current(self, schema: str, dataset_id: str, *, fresh: bool = False) -> str | None:
        """The current version's content hash, None when the area has no such copy."""

    def read_current(self, schema: str, dataset_id: str, version: str) -> pa.Table:
        """The rows of the current version (``version`` as :meth:`current` just named it)."""

    def read_version(self, schema: str, dataset_id: str, version: str) -> pa.Table | None:
        """The rows of any kept version; None when it is not kept."""


class LinkedAreas:
    """The versions under ``<home>/shared/areas`` behind their links."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def current(self, schema: str, dataset_id: str, *, fresh: bool = False) -> str | None:
        try:
            return os.path.basename(os.readlink(self.root / schema / dataset_id))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:  # not a symlink: a copy laid down by hand; its folder name is its version
            p = self.root / schema / dataset_id
            return "unversioned" if (p / "data.parquet").exists() else None

    def read_current(self, schema: str, dataset_id: str, version: str) -> pa.Table:
        return pq.read_table(self.root / schema / dataset_id / "data.parquet")

    def read_version(self, schema: str, dataset_id: str, version: str) -> pa.Table | None:
        path = self.root / schema / ".versions" / dataset_id / version / "data.parquet"
        return pq.read_table(path) if path.is_file() else None


class BucketAreas:
    """The versions in the bucket, current as the SQL record says, read from a local download."""

    def __init__(self, store: SharedStore, *, ttl: float = 1.0):
        self.store = store
        self.objects = AreaObjects(store.storage)
        self.cache_root = store.home / "cache" / "areas"
        self.ttl = ttl
        self._seen: tuple[float, dict[tuple[str, str], str]] | None = None
        self._lock = threading.Lock()

    def _records(self, fresh: bool) -> dict[tuple[str, str], str]:
        """(schema, dataset) -> current content hash of every copy, from one query at most once a TTL."""
        with self._lock:
            if fresh or self._seen is None or time.monotonic() - self._seen[0] >= self.ttl:
                self._seen = (time.monotonic(), current_copies(self.store.engine))
            return self._seen[1]

    def current(self, schema: str, dataset_id: str, *, fresh: bool = False) -> str | None:
        return self._records(fresh).get((schema, dataset_id))

    def read_current(self, schema: str, dataset_id: str, version: str) -> pa.Table:
        table = self.read_version(schema, dataset_id, version)
        if table is None:
            raise QuanchengError(f"area copy {schema}.{dataset_id}: version {version} is recorded as current but "
                                 f"{self.objects.uri(schema, dataset_id, version)} has no complete version (fix: "
                                 "publish the copy again; check that nothing deletes under _areas/ by hand)")
        self._forget_others(schema, dataset_id, version)
        return table

    def read_version(self, schema: str, dataset_id: str, version: str) -> pa.Table | None:
        folder = self.objects.download(schema, dataset_id, version, self.cache_root)
        return read_version(folder) if folder is not None else None

    def copies(self) -> list[tuple[str, str]]:
        """Every (area, dataset) copy the record lists."""
        return sorted(self._records(False))

    def _forget_others(self, schema: str, dataset_id: str, version: str) -> None:
        """Remove this copy's downloads of versions no longer recorded (pruned by maintenance), and temporary
        folders of downloads killed over an hour ago."""
        folder = self.cache_root / schema / dataset_id
        if not folder.is_dir():
            return
        kept = {v.content_hash for v in area_versions(self.store.engine, schema, dataset_id)} | {version}
        for old in folder.iterdir():
            if old.name.startswith("."):  # another reader's download, under way unless it is old
                with contextlib.suppress(FileNotFoundError):
                    if time.time() - old.stat().st_mtime > STALE_DOWNLOAD_SECONDS:
                        shutil.rmtree(old, ignore_errors=True)
            elif old.name not in kept:
                shutil.rmtree(old, ignore_errors=True)


def source_for(store: SharedStore, areas_root: Path, *, ttl: float = 1.0) -> AreaSource:
    """The place the store's area copies are: their links under ``areas_root``, or the bucket."""
    return LinkedAreas(areas_root) if store.storage.is_local else BucketAreas(store, ttl=ttl)
