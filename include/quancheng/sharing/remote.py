"""The per-area copies' Parquet versions on an object store, for workers that share no disk.

When the shared store's storage is ``s3://bucket/prefix`` (:mod:`quancheng.objectstore`), each version of an
area copy lives under the same base::

  _areas/<schema>/<dataset_id>/<content hash>/part-NNNNN-<writer>.parquet   the rows, one file per part
  _areas/<schema>/<dataset_id>/<content hash>/_manifest.json                the parts in order, written last

Rules:
- a version is written part by part (a :class:`~quancheng.publish.delta.Batch` never held whole), then its
  manifest; a folder without a manifest (a writer killed on the way) is never read, and the parts carry the
  writer's tag, so two writers of the same content never mix their files;
- which version is current is the SQL record (``_exchange_areas``), written after the objects: it is the
  commit point, so a reader sees the old version or the new one, never half (no pointer object);
- a reader downloads a version once into ``<home>/cache/areas/<schema>/<dataset_id>/<hash>/``, through a
  temporary folder renamed into place, so a download cut short is never read; then reads it locally;
- :meth:`AreaObjects.delete` removes the manifest first, then the parts; :meth:`AreaObjects.sweep` removes
  version folders no record names once they are older than a grace (what a killed writer or an
  interrupted delete left).

Object I/O goes through :meth:`quancheng.objectstore.Storage.filesystem` (delta-rs's client), whose quirks
it works around: files are written with ``pq.write_table`` and ``copy_files``, never through an output
stream; folders are emptied file by file; directory markers in listings are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from quancheng.errors import QuanchengError
from quancheng.objectstore import Storage, object_files
from quancheng.publish.delta import Batch
from quancheng.safepath import plain_name, safe_path

PREFIX: Final = "_areas"
MANIFEST: Final = "_manifest.json"
ROW_GROUP_ROWS: Final = 100_000  # as the local data.parquet is written
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")  # what a key part may hold unescaped (as Storage.uri allows)


class AreaObjectsError(QuanchengError):
    """An area copy's version cannot be written, found or read on the object store."""


@dataclass(frozen=True)
class StoredVersion:
    """One version folder found under ``_areas/``: its copy, hash, objects and newest object's time."""

    schema: str
    dataset_id: str
    content_hash: str
    paths: tuple[str, ...]
    newest: datetime | None


def _part(name: str, base: str, what: str) -> str:
    plain_name(name, base, what=what)
    if not _NAME.match(name):
        raise AreaObjectsError(f"{what} {name!r} has characters an object key would have to escape, under {base} "
                               f"(fix: letters, digits, '_', '-' and '.' only in the catalog)")
    return name


class AreaObjects:
    """The ``_areas/`` folder of a storage on an object store: write, find, download and delete versions."""

    def __init__(self, storage: Storage):
        if storage.is_local:
            raise AreaObjectsError(f"{storage.base} is a local folder: its area copies stay under "
                                   "<home>/shared/areas (the object-store layout is for s3:// storage only)")
        self.storage = storage
        self._fs: Any = None

    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self.storage.filesystem()
        return self._fs

    def key(self, schema: str, dataset_id: str, digest: str | None = None) -> str:
        """The folder of a copy (or of one of its versions) under the base, each part checked."""
        parts = [PREFIX, _part(schema, self.storage.base, "area"), _part(dataset_id, self.storage.base, "dataset id")]
        if digest is not None:
            parts.append(_part(digest, self.storage.base, "content hash"))
        return "/".join(parts)

    def uri(self, schema: str, dataset_id: str, digest: str | None = None) -> str:
        """:meth:`key` as a full ``s3://`` URI (for messages and the registry)."""
        return f"{self.storage.base}/{self.key(schema, dataset_id, digest)}"

    def exists(self, schema: str, dataset_id: str, digest: str) -> bool:
        """Whether the version is complete in the bucket (its manifest is there)."""
        import pyarrow.fs as pafs

        info = self.fs.get_file_info(f"{self.key(schema, dataset_id, digest)}/{MANIFEST}")
        return bool(info.type == pafs.FileType.File)

    def write(self, schema: str, dataset_id: str, digest: str, table: pa.Table | Batch) -> str:
        """Write version ``digest`` (a table, or a batch part by part), then its manifest; nothing when the
        version is already complete. The version's URI."""
        folder = self.key(schema, dataset_id, digest)
        if self.exists(schema, dataset_id, digest):
            return self.uri(schema, dataset_id, digest)
        tag = f"{os.getpid()}{uuid.uuid4().hex[:8]}"
        parts: list[dict[str, Any]] = []
        tables: Iterable[pa.Table] = table.tables() if isinstance(table, Batch) else [table]
        try:
            for part in tables:
                if parts and not part.num_rows:
                    continue
                name = f"part-{len(parts):05d}-{tag}.parquet"
                pq.write_table(part, f"{folder}/{name}", filesystem=self.fs, compression="zstd",
                               row_group_size=ROW_GROUP_ROWS)
                parts.append({"name": name, "rows": part.num_rows})
            if not parts:  # an empty batch: one empty part keeps the columns
                name = f"part-00000-{tag}.parquet"
                pq.write_table(table.schema.empty_table(), f"{folder}/{name}", filesystem=self.fs,
                               compression="zstd")
                parts.append({"name": name, "rows": 0})
            manifest = {"area": schema, "dataset_id": dataset_id, "content_hash": digest,
                        "rows": sum(int(p["rows"]) for p in parts), "parts": parts,
                        "written_at": datetime.now(UTC).isoformat()}
            self._put_text(f"{folder}/{MANIFEST}", json.dumps(manifest, ensure_ascii=False, indent=1))
        except (OSError, TypeError, ValueError) as exc:
            raise AreaObjectsError(f"area copy {schema}.{dataset_id}: writing version {digest} to "
                                   f"{self.uri(schema, dataset_id, digest)} failed ({exc}); the current version is "
                                   "unchanged (fix: check the bucket's endpoint and credentials, then publish "
                                   "again)") from exc
        return self.uri(schema, dataset_id, digest)

    def _put_text(self, key: str, text: str) -> None:
        """A small text object, uploaded from a local file (the filesystem's output stream refuses bytes)."""
        import pyarrow.fs as pafs

        with tempfile.TemporaryDirectory(prefix="quancheng-manifest-") as tmp:
            local = Path(tmp, MANIFEST)
            local.write_text(text, encoding="utf-8")
            pafs.copy_files(str(local), key, source_filesystem=pafs.LocalFileSystem(),
                            destination_filesystem=self.fs)

    def files(self, key: str) -> list[Any]:
        """The objects under ``key`` (directory markers left out)."""
        return object_files(self.fs, key)

    def delete(self, schema: str, dataset_id: str, digest: str) -> int:
        """Remove a version's objects, its manifest first (so what an interrupted delete leaves is never read
        as a version); how many objects were removed."""
        folder = self.key(schema, dataset_id, digest)
        found = sorted(self.files(folder), key=lambda i: not i.path.endswith("/" + MANIFEST))
        try:
            for info in found:
                self.fs.delete_file(info.path)
        except OSError as exc:
            raise AreaObjectsError(f"area copy {schema}.{dataset_id}: deleting version {digest} from "
                                   f"{self.uri(schema, dataset_id, digest)} failed ({exc}); what is left is swept "
                                   "by a later maintenance run") from exc
        return len(found)

    def stored(self) -> list[StoredVersion]:
        """Every version folder under ``_areas/`` (complete or not)."""
        by_folder: dict[tuple[str, str, str], list[Any]] = {}
        for info in self.files(PREFIX):
            parts = info.path.split("/")
            if len(parts) == 5 and parts[0] == PREFIX:
                by_folder.setdefault((parts[1], parts[2], parts[3]), []).append(info)
        out = []
        for (schema, ds, digest), infos in sorted(by_folder.items()):
            times = [_aware(i.mtime) for i in infos if i.mtime is not None]
            out.append(StoredVersion(schema, ds, digest, tuple(i.path for i in infos), max(times) if times else None))
        return out

    def sweep(self, keep: set[tuple[str, str, str]], older_than: datetime) -> int:
        """Remove the version folders not in ``keep`` (schema, dataset, hash) whose newest object is older than
        ``older_than``: the leftovers of killed writers and interrupted deletes. How many folders."""
        gone = 0
        for v in self.stored():
            if (v.schema, v.dataset_id, v.content_hash) in keep or v.newest is None or v.newest >= older_than:
                continue
            for path in sorted(v.paths, key=lambda p: not p.endswith("/" + MANIFEST)):
                self.fs.delete_file(path)
            gone += 1
        return gone

    def download(self, schema: str, dataset_id: str, digest: str, cache_root: Path) -> Path | None:
        """The local folder of version ``digest`` under ``cache_root/<schema>/<dataset_id>/``, downloaded once
        (into a temporary folder renamed into place); None when the bucket has no complete such version."""
        import pyarrow.fs as pafs

        final = safe_path(cache_root, schema, dataset_id, digest, what="dataset id")
        if (final / MANIFEST).is_file():
            return final
        folder = self.key(schema, dataset_id, digest)
        if not self.exists(schema, dataset_id, digest):
            return None
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{digest}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        local = pafs.LocalFileSystem()
        try:
            tmp.mkdir()
            pafs.copy_files(f"{folder}/{MANIFEST}", str(tmp / MANIFEST), source_filesystem=self.fs,
                            destination_filesystem=local)
            for name in manifest_parts(tmp):
                pafs.copy_files(f"{folder}/{_part(name, self.storage.base, 'part')}", str(tmp / name),
                                source_filesystem=self.fs, destination_filesystem=local)
            try:
                os.replace(tmp, final)
            except OSError:  # another reader put the same version in place first: the same files
                if not (final / MANIFEST).is_file():
                    raise
        except OSError as exc:  # the bucket unreachable, the version pruned meanwhile, the local disk full
            raise AreaObjectsError(f"area copy {schema}.{dataset_id}: downloading version {digest} from "
                                   f"{self.uri(schema, dataset_id, digest)} into {final} failed ({exc}); nothing "
                                   "half-downloaded is left to read (fix: check the bucket and the disk, then ask "
                                   "again)") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final


def manifest_parts(folder: Path) -> list[str]:
    """The part files a version folder's manifest lists, in order."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return [str(p["name"]) for p in manifest["parts"]]


def read_version(folder: Path, columns: list[str] | None = None) -> pa.Table:
    """A downloaded version's rows: its parts in the manifest's order, as one table."""
    tables = [pq.read_table(folder / name, columns=columns) for name in manifest_parts(folder)]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)
