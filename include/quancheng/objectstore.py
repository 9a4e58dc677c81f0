"""Where the shared Delta datasets live, by URL: a local folder or an S3-compatible bucket.

:class:`Storage` is a base (a local folder, or ``s3://bucket/prefix``) plus the ``storage_options``
delta-rs takes (``quancheng.publish.delta`` passes them through). :meth:`Storage.from_env` reads
``$QUANCHENG_STORAGE_URL`` (default ``<home>/shared/parquet``) and, for S3, the usual AWS variables;
:func:`storage_from_connection` maps an Airflow ``aws`` connection (its extras, login and password) to the
same options without importing Airflow. Credentials come only from the environment or the connection,
never from the repository; ``repr`` hides the secret.

The S3 options:
- ``AWS_ENDPOINT_URL`` for a non-AWS store (SeaweedFS, MinIO), ``AWS_ALLOW_HTTP=true`` when it is plain
  ``http://``; ``AWS_REGION`` (default ``us-east-1``, which S3-compatible stores accept).
- ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` when given, else ``AWS_SKIP_SIGNATURE=true`` (anonymous
  requests, for a store with no identities configured).
- ``aws_conditional_put=etag``: a Delta commit is "create ``_delta_log/<n>.json`` unless it exists". A store
  that honours ``If-None-Match: *`` on PUT (SeaweedFS answers ``412 Precondition Failed`` to a second
  create; MinIO, R2 and AWS S3 since 2024 do too) makes that atomic, so of two writers racing for version
  ``n`` one wins and the other retries or fails with ``CommitFailedError``: no commit is lost and no lock
  service is needed. The delta-rs docs give this option for such stores ("CloudFlare R2 & Minio": "we have
  to pass the aws_conditional_put flag into storage_options"); deltalake 1.x also uses conditional puts on S3
  by default (delta-rs pull request 3091, "make put-if-absent default for S3 stores"; its older page
  "Writing to S3 with a locking provider" predates that, and 1.6 no longer supports the DynamoDB lock).
  Set explicitly, so a change of default cannot silently drop the protection.
  ``AWS_S3_ALLOW_UNSAFE_RENAME=true`` would switch commits to copy-then-delete, unsafe with two writers;
  delta-rs reads it from the environment too, so :meth:`Storage.from_env` refuses to start with it set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from quancheng.errors import QuanchengError
from quancheng.safepath import plain_name, safe_path

STORAGE_URL_ENV: Final = "QUANCHENG_STORAGE_URL"
DEFAULT_REGION: Final = "us-east-1"
S3_SCHEME: Final = "s3://"
SECRET_OPTIONS: Final = frozenset({"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})

# S3's bucket naming rule (3-63 characters: lowercase letters, digits, '.', '-', starting and ending with a
# letter or digit); a key part is kept to characters a URI carries unescaped
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY_PART = re.compile(r"^[A-Za-z0-9_.-]+$")


class StorageError(QuanchengError):
    """The storage URL or its credentials cannot be used as given."""


@dataclass(frozen=True)
class Storage:
    """Where datasets live: ``base`` (a local folder or ``s3://bucket/prefix``) and the delta-rs
    ``storage_options`` for it (empty for a local folder)."""

    base: str
    storage_options: dict[str, str] = field(default_factory=dict, hash=False, compare=True)

    def __post_init__(self) -> None:
        if "://" in self.base:
            normalize_s3_url(self.base)  # refuse another scheme, a bad bucket or prefix now, not at the first write

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_OPTIONS else v) for k, v in self.storage_options.items()}
        return f"Storage(base={self.base!r}, storage_options={shown!r})"

    @property
    def is_local(self) -> bool:
        """Whether ``base`` is a local folder (not an object-store URI)."""
        return not self.base.startswith(S3_SCHEME)

    def filesystem(self) -> Any:
        """A ``pyarrow.fs.FileSystem`` rooted at ``base``: paths given to it are relative to ``base``.

        On an object store it is delta-rs's own object-store client (``deltalake.fs.DeltaStorageHandler``)
        with the same ``storage_options`` as the Delta tables, not pyarrow's ``S3FileSystem``: uploads
        through pyarrow's (26.0, AWS SDK checksums on by default) were stored by SeaweedFS with extra bytes
        (a 13,278,728-byte Parquet file read back as 13,280,642 bytes), those through delta-rs's byte for byte.
        """
        import pyarrow.fs as pafs

        if self.is_local:
            Path(self.base).mkdir(parents=True, exist_ok=True)
            return pafs.SubTreeFileSystem(str(Path(self.base).resolve()), pafs.LocalFileSystem())
        from deltalake.fs import DeltaStorageHandler

        return pafs.PyFileSystem(DeltaStorageHandler(self.base, dict(self.storage_options)))

    def uri(self, dataset_id: str) -> str:
        """The dataset's path or URI under ``base``, refused with ``UnsafePath`` unless ``dataset_id`` is one
        plain name (for S3 also only letters, digits, ``_``, ``-`` and ``.``)."""
        if self.is_local:
            return str(safe_path(self.base, dataset_id, what="dataset id"))
        plain_name(dataset_id, self.base, what="dataset id")
        if not _KEY_PART.match(dataset_id):
            raise StorageError(f"dataset id {dataset_id!r} has characters an object-store URI would have to "
                               f"escape, under {self.base} (fix: give it an id of letters, digits, '_', '-' and "
                               f"'.' only in the catalog)")
        return f"{self.base}/{dataset_id}"

    @classmethod
    def from_env(cls, home: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Storage:
        """The storage ``$QUANCHENG_STORAGE_URL`` names (default: the folder ``<home>/shared/parquet``), with
        the S3 endpoint, keys and region from ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
        ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` and ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``)."""
        env = os.environ if env is None else env
        url = env.get(STORAGE_URL_ENV, "").strip()
        if not url:
            return cls(str(Path(home, "shared", "parquet").resolve()))
        if "://" not in url:
            return cls(str(Path(url).resolve()))
        if env.get("AWS_S3_ALLOW_UNSAFE_RENAME", "").strip().lower() in ("true", "1", "yes"):
            raise StorageError("AWS_S3_ALLOW_UNSAFE_RENAME is set: delta-rs would commit to S3 by copy-then-delete "
                               "and two writers could lose a commit (fix: unset it; conditional puts keep "
                               "concurrent commits safe)")
        options = s3_options(endpoint=env.get("AWS_ENDPOINT_URL"), key_id=env.get("AWS_ACCESS_KEY_ID"),
                             secret=env.get("AWS_SECRET_ACCESS_KEY"), session_token=env.get("AWS_SESSION_TOKEN"),
                             region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"), source="environment")
        return cls(normalize_s3_url(url), options)


def object_files(fs: Any, prefix: str) -> list[Any]:
    """The objects under ``prefix`` of a :meth:`Storage.filesystem`, as ``FileInfo``s: files only. An object
    store may list a folder as a zero-size file (SeaweedFS does, once the folder's objects are deleted), so
    empty objects are left out: whatever the exchange stores there (Parquet parts, manifests, JSON results,
    marks) has content."""
    import pyarrow.fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
    return [i for i in infos if i.type == pafs.FileType.File and i.size and not i.path.endswith("/")]


def normalize_s3_url(url: str) -> str:
    """``url`` as ``s3://bucket`` or ``s3://bucket/prefix`` (no trailing ``/``), refused unless the bucket is
    a valid S3 bucket name and each prefix part a plain name."""
    if not url.startswith(S3_SCHEME):
        scheme = url.split("://", 1)[0]
        raise StorageError(f"storage URL {url!r}: scheme {scheme!r} is not supported (fix: set "
                           f"${STORAGE_URL_ENV} to a local folder or to s3://bucket/prefix)")
    bucket, prefix = _split_s3(url)
    return S3_SCHEME + "/".join([bucket, *prefix])


def _split_s3(url: str) -> tuple[str, list[str]]:
    """The bucket and prefix parts of ``s3://bucket/a/b/``."""
    bucket, _, rest = url[len(S3_SCHEME):].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise StorageError(f"storage URL {url!r}: {bucket!r} is not a valid S3 bucket name (fix: 3-63 lowercase "
                           f"letters, digits, '.' or '-', as in s3://quancheng-shared/datasets)")
    parts = rest.rstrip("/").split("/") if rest.strip("/") else []
    for part in parts:
        if part in ("", ".", "..") or not _KEY_PART.match(part):
            raise StorageError(f"storage URL {url!r}: prefix part {part!r} is not a plain name (fix: a prefix of "
                               f"letters, digits, '_', '-' and '.' separated by single '/')")
    return bucket, parts


def s3_options(*, endpoint: str | None, key_id: str | None, secret: str | None, region: str | None,
               session_token: str | None = None, source: str = "settings") -> dict[str, str]:
    """delta-rs ``storage_options`` for an S3-compatible store (see the module docstring for each one);
    ``source`` names where the values came from, for the message when only one key is given."""
    options = {"AWS_REGION": region or DEFAULT_REGION, "aws_conditional_put": "etag"}
    if endpoint:
        if not endpoint.startswith(("http://", "https://")):
            raise StorageError(f"S3 endpoint {endpoint!r} from the {source} is not an http(s) URL (fix: e.g. "
                               f"AWS_ENDPOINT_URL=http://127.0.0.1:8333)")
        options["AWS_ENDPOINT_URL"] = endpoint.rstrip("/")
        if endpoint.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    if bool(key_id) != bool(secret):
        given, missing = ("access key id", "secret access key") if key_id else ("secret access key", "access key id")
        raise StorageError(f"S3 credentials from the {source}: a {given} without a {missing} (fix: give both, "
                           f"or neither for anonymous access)")
    if key_id and secret:
        options["AWS_ACCESS_KEY_ID"] = key_id
        options["AWS_SECRET_ACCESS_KEY"] = secret
        if session_token:
            options["AWS_SESSION_TOKEN"] = session_token
    else:
        options["AWS_SKIP_SIGNATURE"] = "true"
    return options


def storage_from_connection(conn_extra: Mapping[str, Any], *, base: str, login: str | None = None,
                            password: str | None = None) -> Storage:
    """The storage at ``base`` (``s3://bucket/prefix``) reached with an Airflow ``aws`` connection: its
    extras (``endpoint_url``, or ``service_config.s3.endpoint_url`` which wins for S3; ``region_name``;
    ``aws_session_token``) and its login and password (access key id and secret). Airflow is not imported:
    the caller passes ``conn.extra_dejson``, ``conn.login`` and ``conn.password``."""
    endpoint = _text(_s3_service_config(conn_extra).get("endpoint_url")) or _text(conn_extra.get("endpoint_url"))
    options = s3_options(endpoint=endpoint, key_id=login or None, secret=password or None,
                         region=_text(conn_extra.get("region_name")),
                         session_token=_text(conn_extra.get("aws_session_token")), source="Airflow connection")
    return Storage(normalize_s3_url(base), options)


def storage_env(storage: Storage) -> dict[str, str]:
    """The environment :meth:`Storage.from_env` reads ``storage`` back from: how a task that got its storage
    from an Airflow connection hands it to the code that reads the environment (the task's own process)."""
    names = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {STORAGE_URL_ENV: storage.base} | {n: storage.storage_options[n] for n in names
                                              if n in storage.storage_options}


def _s3_service_config(conn_extra: Mapping[str, Any]) -> Mapping[str, Any]:
    """The connection's ``service_config["s3"]`` (empty when absent or not a mapping)."""
    service = conn_extra.get("service_config")
    s3 = service.get("s3") if isinstance(service, Mapping) else None
    return s3 if isinstance(s3, Mapping) else {}


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
