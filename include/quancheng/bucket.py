"""Staging, snapshot state and GX results in the bucket, for workers that share no disk.

When the shared datasets live on an object store (``$QUANCHENG_STORAGE_URL=s3://bucket/prefix``, see
:mod:`quancheng.objectstore`), what a sync hands from step to step lives there too, under the same base:

  _exchange/staging/<system>/<batch>/<attempt>/<stage>/<form>/part-NNNNN.arrow
  _exchange/state/<system>/snapshots/<form>.parquet      a snapshot form's last published snapshot
  _exchange/quality/{validations,suites}/...             GX results and suites

Each step still works in the local folder of the worker that runs it (its own ``$QUANCHENG_HOME``): it
pulls what it reads and does not have yet, and pushes what it wrote before it returns, so the next step may
run on any worker. The bucket is the truth and a worker's folder only a cache:
- a pull copies each missing file under a temporary name and renames it, so a download cut short is never
  read as a whole file; ``mirror`` also removes local files the bucket no longer has (snapshot state: a
  worker's older copy must never be compared with);
- a step pushes before it returns, so the task Airflow marks successful has its output in the bucket; a
  task killed before that is retried (on any worker) from the input, which is still there;
- snapshot state is pulled inside the system's lock at extract and pushed inside it at publish, after the
  commits and before the run record (:mod:`quancheng.pipeline`); a publish killed between the two leaves
  the older state, and the next day's comparison then repeats changes the datasets already hold, which
  merge as no-ops;
- attempts of a system already published, or a day old, are pruned from the bucket by the next extract.

With a local storage (the embedded default) :meth:`Bucket.of` is None and nothing is copied. File I/O goes
through :meth:`quancheng.objectstore.Storage.filesystem` (delta-rs's object-store client), so the bucket's
endpoint and credentials are the ones the Delta tables use.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from quancheng.errors import QuanchengError
from quancheng.objectstore import Storage, object_files

PREFIX: Final = "_exchange"
PUBLISHED: Final = ".published"  # the mark of an attempt whose batch is published (holds the batch id)
STALE_SECONDS: Final = 86_400
THREADS: Final = 8  # parallel transfers: an object store's latency, not its bandwidth, bounds small files


class BucketError(QuanchengError):
    """A transfer to or from the bucket failed (the message names the object and the local file)."""


@dataclass(frozen=True)
class Bucket:
    """The ``_exchange/`` folder of the storage's base, and the filesystem that reaches it."""

    storage: Storage
    fs: Any

    @classmethod
    def of(cls, home: Path) -> Bucket | None:
        """The bucket of ``$QUANCHENG_STORAGE_URL`` when it is an object store; None for a local folder."""
        storage = Storage.from_env(home)
        return None if storage.is_local else cls(storage, storage.filesystem())

    def _key(self, rel: str) -> str:
        return f"{PREFIX}/{rel.strip('/')}"

    def files(self, rel: str) -> dict[str, Any]:
        """Every file under ``rel`` (a folder), by its path relative to ``rel``, with its ``FileInfo``."""
        base = self._key(rel)
        try:
            return {i.path[len(base) + 1:]: i for i in object_files(self.fs, base)}
        except OSError as exc:
            raise BucketError(f"cannot list {self.storage.base}/{base}: {exc}") from exc

    def push(self, home: Path, rels: Iterable[str]) -> int:
        """Copy the files under each ``home/rel`` (a folder or one file) to the bucket; how many."""
        pairs = []
        for rel in rels:
            src = home / rel
            found = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
            pairs += [(p, self._key(p.relative_to(home).as_posix())) for p in found]
        self._copy(pairs, upload=True)
        return len(pairs)

    def pull(self, home: Path, rels: Iterable[str], *, mirror: bool = False) -> int:
        """Copy the files under each ``rel`` in the bucket that ``home/rel`` lacks (or has at another size) to
        the local folder; with ``mirror`` also remove local files the bucket does not have. How many copied."""
        pairs = []
        for rel in rels:
            remote = self.files(rel)
            local = home / rel
            for name, info in remote.items():
                dest = local / name
                if not dest.is_file() or dest.stat().st_size != info.size:
                    pairs.append((dest, info.path))
            if mirror and local.is_dir():
                for p in local.rglob("*"):
                    if p.is_file() and p.relative_to(local).as_posix() not in remote:
                        p.unlink()
        self._copy(pairs, upload=False)
        return len(pairs)

    def prune_attempts(self, system_rel: str, *, keep: str | None = None) -> int:
        """Remove the system's attempts (``<system_rel>/<batch>/<attempt>/``) that are published or whose
        newest file is a day old, all but ``keep`` (the attempt a run is starting); how many were removed."""
        attempts: dict[str, list[Any]] = defaultdict(list)
        for name, info in self.files(system_rel).items():
            parts = name.split("/")
            if len(parts) > 2:
                attempts["/".join(parts[:2])].append(info)
        now, gone = time.time(), 0
        for attempt, infos in attempts.items():
            if attempt == keep:
                continue
            newest = max(i.mtime.timestamp() for i in infos if i.mtime is not None) if any(
                i.mtime is not None for i in infos) else now
            if any(i.path.endswith("/" + PUBLISHED) for i in infos) or now - newest > STALE_SECONDS:
                for i in infos:
                    self.fs.delete_file(i.path)
                gone += 1
        return gone

    def _copy(self, pairs: list[tuple[Path, str]], *, upload: bool) -> None:
        import pyarrow.fs as pafs

        local_fs = pafs.LocalFileSystem()

        def one(pair: tuple[Path, str]) -> None:
            path, key = pair
            try:
                if upload:
                    pafs.copy_files(str(path), key, source_filesystem=local_fs, destination_filesystem=self.fs)
                    return
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f".{path.name}.{os.getpid()}.part")
                pafs.copy_files(key, str(part), source_filesystem=self.fs, destination_filesystem=local_fs)
                os.replace(part, path)
            except OSError as exc:
                what = f"upload {path} to" if upload else f"download {path} from"
                raise BucketError(f"cannot {what} {self.storage.base}/{key}: {exc}") from exc

        if len(pairs) == 1:
            one(pairs[0])
        elif pairs:
            with ThreadPoolExecutor(min(THREADS, len(pairs))) as pool:
                list(pool.map(one, pairs))
