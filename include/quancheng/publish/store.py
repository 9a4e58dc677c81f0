"""The shared store: each dataset a Delta Lake table plus its SQL table, each changed in one commit.

Write, audit, publish:
- Delta: a dataset lives at ``shared/parquet/<dataset>`` (Parquet files and a ``_delta_log``), or under
  the :class:`~quancheng.objectstore.Storage` the store is given (``$QUANCHENG_STORAGE_URL``: another
  folder, or ``s3://bucket/prefix``, where it is ``<prefix>/<dataset>``), read by DuckDB, polars, Spark and
  Trino. A system's batch is *merged* (:meth:`SharedStore.merge`): one commit
  whose cost follows the batch; a dataset built in full (consolidation, a rebuild) is *overwritten*
  (:meth:`SharedStore.publish`) when its content hash changed. Readers see one version or the next, never
  half a batch; earlier versions stay readable *as of* their version or time until ``maintain`` vacuums
  them (:mod:`quancheng.publish.delta`).
- SQL: the rows of the keys changed since the version the table holds are bulk-loaded (ADBC) and merged
  into it in one transaction (delete and insert of those keys), so grants, views and comments on it
  survive; a new table, or one whose columns changed, is loaded beside and swapped in with DROP + RENAME.
Rows equal to the published ones change nothing, so re-publishing a batch commits nothing.
The per-area copies (:mod:`quancheng.sharing.areas`) keep the earlier layout: Parquet versions under
``.versions/<dataset>/<hash>/`` behind a link replaced atomically (:func:`write_version`, :func:`make_current`);
with the storage on an object store they go to its ``_areas/`` folder instead (:mod:`quancheng.sharing.remote`).

Concurrent writers: on the embedded SQLite database every connection (SQLAlchemy and ADBC) runs in WAL
mode with a busy timeout, so writers from several processes wait their turn instead of failing with
``database is locked``. A system's publish is
also serialized by its lock (:mod:`quancheng.locks`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from quancheng.errors import QuanchengError
from quancheng.objectstore import Storage
from quancheng.publish import delta
from quancheng.safepath import inside, safe_path

DatasetKind = Literal["system", "quarantine", "stage_form", "master", "materials", "conflicts", "cases"]

REGISTRY_TABLE = "_exchange_datasets"
KEY = "_source_key"
QKEY = "_quarantine_key"  # a system's quarantine: source table and key
# how long a writer to an embedded SQLite database waits for another one before giving up: longer than
# the slowest swap of a large table, so a nightly burst of syncs queues instead of failing
SQLITE_BUSY_MS = 300_000


def sqlite_engine(url: str) -> sa.Engine:
    """An SQLAlchemy engine on a SQLite file whose writers from several processes wait their turn.

    WAL lets readers run beside the one writer, and the busy timeout makes a writer wait for the lock
    instead of failing. The driver's own transaction handling is kept on purpose: it opens a transaction
    only at the first write, so a read followed by a write never has to upgrade a read snapshot (which
    SQLite refuses at once, without waiting, when another writer committed in between).
    No pool: ADBC links its own copy of SQLite, and two copies in one process do not see each other's
    POSIX locks, so a pooled connection left open while an ADBC connection to the same file closes would
    find the WAL checkpointed and removed under it ("database disk image is malformed"). Connections
    therefore live only as long as one use, and a process never holds both kinds at once.
    """
    from sqlalchemy import event

    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, poolclass=sa.pool.NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.close()

    return engine


def create_tables(engine: sa.Engine, md: sa.MetaData) -> None:
    """``md.create_all`` that several processes may run at the same moment: the existence checks and the
    CREATEs happen under the database's write lock (SQLite) or a transaction advisory lock (PostgreSQL),
    so the second process sees the first one's tables instead of failing with "already exists"."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            c.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('quancheng.create_tables'))"))
        md.create_all(c, checkfirst=True)
        c.commit()


def sqlite_adbc(path: str | Path) -> SqliteWrite:
    """An ADBC connection to a SQLite file (WAL, busy timeout) holding the write lock from the start.

    ADBC's own transaction is deferred and its ingest reads the schema before writing, so a writer that
    finds another one committing fails at once (``database is locked``, no busy wait). Here the
    connection runs in autocommit and opens ``BEGIN IMMEDIATE`` itself, which waits its turn.
    """
    import sqlite3

    import adbc_driver_sqlite.dbapi as sq

    # journal_mode cannot change inside a transaction, so set it (persistent) beforehand
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_MS / 1000)) as c:
        c.execute("PRAGMA journal_mode=WAL")
    return SqliteWrite(sq.connect(str(path), autocommit=True))


class SqliteWrite:
    """The DB-API surface the writers use (``cursor``, ``commit``, ``close``) over one ``BEGIN IMMEDIATE``
    transaction of an autocommit ADBC connection; closing without commit rolls back."""

    def __init__(self, conn: Any):
        self.conn = conn
        cur = conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.fetchall()  # ADBC runs a statement with a result only when it is read
        cur.execute("BEGIN IMMEDIATE")
        cur.close()
        self.open = True

    def cursor(self) -> Any:
        return self.conn.cursor()

    def commit(self) -> None:
        self.conn.cursor().execute("COMMIT")
        self.open = False

    def close(self) -> None:
        from adbc_driver_manager import dbapi

        if self.open:
            self.open = False
            # a failed statement may have ended the transaction already; the caller's error is the one to see
            with contextlib.suppress(dbapi.Error):
                self.conn.cursor().execute("ROLLBACK")
        self.conn.close()


def content_hash(table: pa.Table) -> str:
    """A hash of a table's content (schema and values), independent of chunking and file encoding."""
    h, nulls = hashlib.sha256(), hashlib.sha256()
    h.update(str(table.schema.remove_metadata()).encode())
    sink = pa.BufferOutputStream()
    t = _canonical(table.replace_schema_metadata(None).combine_chunks(), nulls)
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    h.update(sink.getvalue().to_pybytes())
    h.update(nulls.digest())
    return h.hexdigest()[:16]


def batch_digest(batch: delta.Batch, deleted: pa.Array) -> str:
    """A hash of a merge's input: the upserts' rows (:func:`content_hash_parts`) and the deleted keys (in any
    order), recorded in the merge's commit so a rerun of the same batch can tell it would change nothing."""
    keys = deleted.cast(pa.string())
    keys = keys.take(pc.sort_indices(keys)) if len(keys) else keys
    both = content_hash_parts(batch) + content_hash(pa.table({"deleted": keys}))
    return hashlib.sha256(both.encode()).hexdigest()[:16]


def _made_current(path: str, info: dict[str, str], options: dict[str, str] | None) -> bool:
    """Whether the table's newest commit is a merge of this batch id with this digest."""
    last = delta.last_commit(path, storage_options=options)
    return (last.batch_id, last.batch_digest) == (info["quancheng.batch_id"], info[delta.BATCH_DIGEST])


HASH_SLICE_ROWS = 1 << 18  # content_hash_parts hashes the rows in slices of this many, whatever the parts


def content_hash_parts(batch: delta.Batch) -> str:
    """:func:`content_hash` of a batch's rows, read part by part: the same digest as the whole table's when it
    has at most :data:`HASH_SLICE_ROWS` rows; above that the rows are hashed in slices of that many, so the
    digest still depends only on the content, never on how the rows were split into parts."""
    if batch.num_rows <= HASH_SLICE_ROWS:
        return content_hash(batch.to_table())
    schema = batch.schema.remove_metadata()
    h, nulls = hashlib.sha256(), hashlib.sha256()
    h.update(str(schema).encode())
    pending: list[pa.Table] = []
    held = 0
    with pa.ipc.new_stream(pa.PythonFile(_Hashing(h), mode="w"), schema) as w:
        for part in batch.tables():
            pending.append(part.replace_schema_metadata(None).cast(schema))
            held += part.num_rows
            while held >= HASH_SLICE_ROWS:
                whole = pa.concat_tables(pending)
                w.write_table(_canonical(_compact(whole.slice(0, HASH_SLICE_ROWS)), nulls))
                rest = whole.slice(HASH_SLICE_ROWS)
                pending, held = [rest], rest.num_rows
        if held:
            w.write_table(_canonical(_compact(pa.concat_tables(pending)), nulls))
    h.update(nulls.digest())
    return h.hexdigest()[:16]


def _canonical(table: pa.Table, nulls: Any) -> pa.Table:
    """``table`` in one physical form for its values, so equal rows give equal IPC bytes whatever buffers Arrow
    holds them in. Arrow leaves undefined what lies under a null (a bool read from Parquet may carry a 1 there,
    one built in Python a 0), may carry an all-valid validity buffer or none (a filter's output has one), and
    IPC writes a string slice's buffers as they are. So each column's nulls go into ``nulls`` (a hash: the
    validity bits, packed) and are filled with a zero of the type; a slice is copied into buffers of its own;
    an all-valid validity buffer is dropped. Nested columns are left as they are."""
    import numpy as np

    columns = []
    for i, column in enumerate(table.columns):
        chunks = []
        for a in column.chunks:
            flat = not pa.types.is_nested(a.type) and not pa.types.is_dictionary(a.type)
            if flat and a.null_count:
                valid = a.is_valid().to_numpy(zero_copy_only=False)
                nulls.update(f"{i}:{len(a)}:".encode() + np.packbits(valid).tobytes())
                a = pc.fill_null(a, _zero(a.type))
            if a.offset:
                a = pa.concat_arrays([a])
            bufs = a.buffers()
            if flat and a.null_count == 0 and bufs and bufs[0] is not None:
                a = pa.Array.from_buffers(a.type, len(a), [None, *bufs[1:]], null_count=0)
            chunks.append(a)
        columns.append(pa.chunked_array(chunks, column.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


def _zero(typ: pa.DataType) -> pa.Scalar:
    """A value of ``typ`` to fill its nulls with for hashing (they are told apart by the validity bits)."""
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pa.scalar("", typ)
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return pa.scalar(b"\0" * (typ.byte_width if pa.types.is_fixed_size_binary(typ) else 0), typ)
    if pa.types.is_boolean(typ):
        return pa.scalar(False, typ)
    if pa.types.is_null(typ):
        return pa.scalar(None, typ)
    if pa.types.is_decimal(typ):
        from decimal import Decimal

        return pa.scalar(Decimal(0), typ)
    if pa.types.is_date32(typ) or pa.types.is_time32(typ):
        return pa.scalar(0, pa.int32()).cast(typ)
    return pa.scalar(0, pa.int64()).cast(typ)


def _compact(table: pa.Table) -> pa.Table:
    """``table``'s rows copied into fresh buffers: a slice's IPC bytes depend on the buffers it shares."""
    import numpy as np

    return table.take(pa.array(np.arange(table.num_rows)))


class _Hashing:
    """A writable file that feeds a hash instead of storing the bytes."""

    def __init__(self, h: Any):
        self.h, self.closed = h, False

    def write(self, data: bytes) -> int:
        self.h.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class Published:
    """What one publish left current."""

    dataset_id: str
    kind: DatasetKind
    rows: int
    content_hash: str
    parquet_path: str
    sql_table: str
    changed: bool
    version: int  # the dataset's Delta version now current


def version_columns() -> list[sa.Column[Any]]:
    """The columns every registry of published versions has (datasets here, area copies in sharing)."""
    return [
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("parquet_path", sa.Text, nullable=False),
        sa.Column("sql_table", sa.String(200), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("last_batch", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


# --- Parquet versions swapped by a link: the per-area copies (quancheng.sharing.areas) ---
def write_version(base: Path, dataset_id: str, table: pa.Table | delta.Batch, digest: str) -> Path:
    """Write ``table`` (or a batch, part by part) as version ``digest`` of ``dataset_id`` under
    ``base/.versions`` (once, through a temporary folder renamed into place); the version's folder."""
    version = safe_path(base, ".versions", dataset_id, digest, what="dataset id")
    if not (version / "data.parquet").exists():
        # a folder of this writer's own, outside the dataset's versions (which make_current prunes): two
        # writers of the same content never remove each other's files
        import uuid

        tmp = base / ".writing" / f"{digest}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            if isinstance(table, delta.Batch):
                with pq.ParquetWriter(tmp / "data.parquet", table.schema, compression="zstd") as w:
                    for part in table.tables():
                        w.write_table(part, row_group_size=100_000)
            else:
                pq.write_table(table, tmp / "data.parquet", compression="zstd", row_group_size=100_000)
            version.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(tmp, version)
            except OSError:  # another writer put the same version in place first: the same bytes
                if not (version / "data.parquet").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return version


def make_current(base: Path, dataset_id: str, version: Path, *, prune: bool = True) -> None:
    """Point ``base/<dataset_id>`` at ``version`` (a symlink renamed over the old one, so readers see one
    version or the other, never neither) and, with ``prune``, delete the dataset's other versions."""
    link = safe_path(base, dataset_id, what="dataset id")
    inside(base, version, what="dataset version")
    import uuid

    # the writer's own temporary link: two writers of a dataset never trip over each other's
    tmp_link = safe_path(base, f".{dataset_id}.{version.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.lnk",
                         what="dataset id")
    os.symlink(os.path.relpath(version, base), tmp_link)
    os.replace(tmp_link, link)
    if not prune:
        return
    for old in version.parent.iterdir():
        if old.name != version.name:
            shutil.rmtree(old, ignore_errors=True)


def _from_parquet_version(link: Path) -> None:
    """Turn a dataset of the earlier layout (``<dataset>`` a link to ``.versions/<dataset>/<hash>/``) into a
    Delta table at the same path whose version 0 is that content; once, on first use after an upgrade."""
    old = pq.read_table(link / "data.parquet")
    versions = link.resolve().parent
    link.unlink() if link.is_symlink() else shutil.rmtree(link)
    old = old.cast(pa.schema([f.with_nullable(True) for f in old.schema]))  # as _with_metadata makes them
    delta.overwrite(link, old, commit_info={"quancheng.batch_id": "upgrade"})
    shutil.rmtree(versions, ignore_errors=True)


class MissingVersion(QuanchengError):
    """Datasets the registry lists as published have no Delta table: nothing was published."""

    def __init__(self, rows: list[dict[str, Any]], parquet_root: Path | str):
        self.dataset_ids = [str(r["dataset_id"]) for r in rows]
        what = "; ".join(f"{r['dataset_id']} ({r['rows']} rows, version {r['content_hash']}, batch "
                         f"{r['last_batch']})" for r in rows)
        systems = sorted({_system_of(str(r["dataset_id"])) for r in rows if r["kind"] in ("system", "quarantine")})
        rebuild = (f"rebuild from a full read of the source with `quancheng run {' / '.join(systems)} --rebuild`"
                   f" (DAG param rebuild=true)" if systems else "rerun the step that publishes it")
        super().__init__(
            f"dataset(s) published but their Delta table is missing under {parquet_root}: {what}; refused "
            f"rather than taken for never published, which would replace the history with this batch alone, and "
            f"nothing was published (fix: restore {parquet_root}/<dataset>/ with its _delta_log from a backup, "
            f"or {rebuild})")


def _system_of(dataset_id: str) -> str:
    """The system a system or quarantine dataset belongs to (``<system>.<form>``, ``quarantine.<system>``)."""
    return dataset_id.removeprefix("quarantine.").split(".", 1)[0]


class SharedStore:
    """Shared datasets under ``<home>/shared`` (or ``storage``) and in the shared SQL database.

    The Delta tables live under ``storage`` (default :meth:`Storage.from_env`: ``$QUANCHENG_STORAGE_URL``,
    else the folder ``<home>/shared/parquet``). The SQL database is ``$QUANCHENG_SHARED_DB`` (an
    SQLAlchemy URL, e.g. ``postgresql://...``), else SQLite at ``<home>/shared/exchange.db``.
    On an object store the local-only upkeep is skipped: the upgrade of the earlier Parquet-link layout
    and the check for data files gone from the current version (an object store is not listed file by file).
    """

    def __init__(self, home: Path, sql_url: str | None = None, storage: Storage | None = None):
        self.home = Path(home)
        self.root = self.home / "shared"
        self.storage = storage if storage is not None else Storage.from_env(self.home)
        self._options = dict(self.storage.storage_options) or None
        self._parquet_root: Path | None = None
        self.root.mkdir(parents=True, exist_ok=True)  # the default SQLite database's folder, wherever the tables are
        if self.storage.is_local:
            default = self.root / "parquet"
            # the default folder stays the path as given (not resolved), as every caller has seen it
            base = Path(self.storage.base)
            self._parquet_root = default if base == default.resolve() else base
            self._parquet_root.mkdir(parents=True, exist_ok=True)
        self.sql_url = sql_url or os.environ.get("QUANCHENG_SHARED_DB") or f"sqlite:///{self.root / 'exchange.db'}"
        self._engine: sa.Engine | None = None
        self._registry_table: sa.Table | None = None

    # --- SQL plumbing ---
    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = (sqlite_engine(self.sql_url) if self.dialect == "sqlite"
                            else sa.create_engine(self.sql_url))
        return self._engine

    @property
    def dialect(self) -> str:
        return self.sql_url.split(":", 1)[0].split("+", 1)[0]

    def _adbc(self) -> Any:
        """An ADBC DB-API connection to the shared database (Arrow-native bulk load)."""
        if self.dialect == "sqlite":
            return sqlite_adbc(self.sql_url.removeprefix("sqlite:///"))
        if self.dialect in ("postgresql", "postgres"):
            import adbc_driver_postgresql.dbapi as pgd

            return pgd.connect(self.sql_url.replace("postgresql+psycopg://", "postgresql://"))
        raise NotImplementedError(f"bulk publish to {self.dialect!r} is not supported; use sqlite or postgresql")

    # --- where the tables are ---
    @property
    def is_local(self) -> bool:
        """Whether the Delta tables are in a local folder (not on an object store)."""
        return self._parquet_root is not None

    @property
    def location(self) -> str:
        """Where the Delta tables are: the local folder, or the ``s3://bucket/prefix`` base."""
        return str(self._parquet_root) if self._parquet_root is not None else self.storage.base

    @property
    def parquet_root(self) -> Path:
        """The local folder of the Delta tables; refused when they are on an object store."""
        if self._parquet_root is None:
            raise QuanchengError(f"the shared datasets are on an object store ({self.storage.base}), not in a local "
                                 "folder (fix: use SharedStore.location or dataset_uri, or unset "
                                 "$QUANCHENG_STORAGE_URL for a local folder)")
        return self._parquet_root

    def dataset_path(self, dataset_id: str) -> Path:
        """The dataset's stable local path: a Delta Lake table's folder (``_delta_log/`` and Parquet files);
        refused when the tables are on an object store (:meth:`dataset_uri` names them there)."""
        if self._parquet_root is None:
            raise QuanchengError(f"dataset {dataset_id!r} has no local path: it is on an object store "
                                 f"({self.storage.base}) (fix: use SharedStore.dataset_uri with its storage options)")
        return safe_path(self._parquet_root, dataset_id, what="dataset id")

    def dataset_uri(self, dataset_id: str) -> str:
        """The dataset's stable location as delta-rs takes it (with :attr:`storage_options`): its local path,
        or ``s3://bucket/prefix/<dataset>``."""
        if self._parquet_root is not None:
            return str(self.dataset_path(dataset_id))
        return self.storage.uri(dataset_id)

    @property
    def storage_options(self) -> dict[str, str]:
        """The delta-rs storage options for :meth:`dataset_uri` (empty for a local folder)."""
        return dict(self.storage.storage_options)

    # --- reading ---
    def _table(self, dataset_id: str) -> str | None:
        """The dataset's Delta table, None if it has none or (local) its current version lost a data file (a
        local dataset of the Parquet-version layout of earlier releases becomes a Delta table here, its
        content as version 0)."""
        uri = self.dataset_uri(dataset_id)
        if self._parquet_root is None:
            return uri if delta.exists(uri, storage_options=self._options) else None
        path = Path(uri)
        if path.is_symlink() or (path / "data.parquet").is_file():
            _from_parquet_version(path)
        return uri if delta.exists(path) and not delta.missing_files(path) else None

    def read(self, dataset_id: str, *, columns: list[str] | None = None,
             as_of: int | datetime | None = None, ordered: bool = True) -> pa.Table | None:
        """The current version of a dataset (or the one current as of a version number or an aware time),
        sorted by its key (``ordered=False``: as stored, for a caller that wants a set or a count, which the
        sort of a million keys would cost 0.2 s); None if it was never published.

        "I cannot find the current version" is not "there is none": when the registry lists the dataset as
        published but its table is missing, this raises :class:`MissingVersion`; merging a batch into
        nothing would replace the dataset's history.
        """
        path = self._table(dataset_id)
        if path is None:
            self.check_current([dataset_id])
            return None
        table = delta.read(path, as_of, columns=columns, storage_options=self._options)
        key = next((k for k in (QKEY, KEY) if k in table.column_names), None)
        return table.sort_by(key) if ordered and key and table.num_rows else table

    def scan(self, dataset_id: str, *, columns: list[str] | None = None, as_of: int | None = None,
             part_rows: int = delta.SCAN_PART_ROWS) -> Iterator[pa.Table]:
        """The current rows of a dataset (or those of version ``as_of``) part by part (``columns`` only; in no
        particular order), never whole; nothing if it was never published (:class:`MissingVersion` if its
        table is missing)."""
        path = self._table(dataset_id)
        if path is None:
            self.check_current([dataset_id])
            return iter(())
        return delta.scan(path, columns=columns, part_rows=part_rows, as_of=as_of, storage_options=self._options)

    def version(self, dataset_id: str) -> int | None:
        """The dataset's current Delta version, None if it has none."""
        path = self._table(dataset_id)
        return delta.current_version(path, storage_options=self._options) if path is not None else None

    def read_keys(self, dataset_id: str, keys: pa.Array, *, key: str = KEY) -> pa.Table | None:
        """The current rows of ``keys`` (a batch's worth, read without the rest); None if never published."""
        path = self._table(dataset_id)
        return delta.read_keys(path, key, keys, storage_options=self._options) if path is not None else None

    def schema(self, dataset_id: str) -> pa.Schema | None:
        """The current version's columns with their metadata (no data read); None if never published."""
        path = self._table(dataset_id)
        return delta.schema(path, storage_options=self._options) if path is not None else None

    def history(self, dataset_id: str) -> list[delta.Commit]:
        """The dataset's versions, newest first (empty if never published)."""
        path = self._table(dataset_id)
        return delta.history(path, storage_options=self._options) if path is not None else []

    def current_digest(self, dataset_id: str) -> str | None:
        """The dataset's current version as a tag (``v<N>``), None if it has none: what a reader sees now,
        whatever the registry says."""
        path = self._table(dataset_id)
        version = delta.current_version(path, storage_options=self._options) if path is not None else None
        return None if version is None else f"v{version}"

    def check_current(self, dataset_ids: list[str]) -> None:
        """Raise :class:`MissingVersion` naming every dataset of ``dataset_ids`` that the registry lists as
        published but whose Delta table is gone (checked before a batch commits anything)."""
        missing = [d for d in dataset_ids if self._table(d) is None]
        if not missing:
            return
        t = self._registry()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t).where(t.c.dataset_id.in_(missing)).order_by(t.c.dataset_id)).mappings().all()
        if rows:
            raise MissingVersion([dict(r) for r in rows], self.location)

    # --- writing ---
    def publish(self, dataset_id: str, table: pa.Table | delta.Batch, *, kind: DatasetKind, batch_id: str,
                sort_by: list[str] | None = None, column_meta: dict[str, dict[str, str]] | None = None,
                audit: Any = None) -> Published:
        """Make ``table`` the whole content of ``dataset_id``, in Delta and SQL, each in one commit.

        For datasets built in full (consolidation, a rebuild): sorted, hashed, and committed only when the
        hash differs from the published one, so a rerun is a no-op. ``audit(table)`` may raise to refuse
        the version; the previous one then stays current. A :class:`~quancheng.publish.delta.Batch` of parts
        (already in ``sort_by`` order: it is not sorted again) is hashed, written and loaded part by part,
        never held whole; ``audit`` then sees each part.
        """
        data: pa.Table | delta.Batch
        if isinstance(table, delta.Batch):
            data = table.map(lambda t: _with_metadata(t, column_meta or {}))
            if audit is not None:
                data = data.map(lambda t: (audit(t), t)[1])
            digest, rows = content_hash_parts(data), data.num_rows
        else:
            keys = sort_by or ([KEY] if KEY in table.column_names else [])
            if keys and table.num_rows:
                table = table.sort_by([(k, "ascending") for k in keys])
            data = _with_metadata(table, column_meta or {})
            digest, rows = content_hash(data), data.num_rows
            if audit is not None:
                audit(data)
        reg = self._registry_row(dataset_id)
        path = self._table(dataset_id)
        version = delta.current_version(path, storage_options=self._options) if path is not None else None
        unchanged = reg is not None and reg["content_hash"] == digest and version is not None \
            and reg["version"] == version
        sql_table = sql_name(dataset_id)
        if not unchanged:
            versions: list[int] = []
            self._swap_sql(sql_table, data, commit=lambda: versions.append(delta.overwrite(
                self.dataset_uri(dataset_id), data, commit_info={"quancheng.batch_id": batch_id},
                storage_options=self._options)), index=sort_by[0] if sort_by else None)
            version = versions[0]
        assert version is not None
        self._register(dataset_id, kind, rows, digest, batch_id, sql_table, version)
        return Published(dataset_id, kind, rows, digest, self.dataset_uri(dataset_id), sql_table,
                         not unchanged, version)

    def replace_keys(self, dataset_id: str, rows: pa.Table, keys: pa.Array, *, key: str, kind: DatasetKind,
                     batch_id: str, column_meta: dict[str, dict[str, str]] | None = None) -> Published:
        """Replace every row whose ``key`` is one of ``keys`` by ``rows`` (whose keys are all among them: a key
        may have several rows, or none now), in one Delta commit and one SQL transaction (those keys' rows
        deleted and ``rows`` inserted); the dataset must have been published. For a consolidated dataset
        recomputed for some projects only."""
        path = self._table(dataset_id)
        if path is None:
            self.check_current([dataset_id])
            raise QuanchengError(f"dataset {dataset_id!r} was never published, so its rows cannot be replaced "
                                 "in part (fix: publish it whole first)")
        before = delta.current_version(path, storage_options=self._options)
        assert before is not None

        def unchanged() -> Published:
            reg = self._registry_row(dataset_id)
            return Published(dataset_id, kind, delta.row_count(path, storage_options=self._options),
                             str(reg["content_hash"]) if reg else f"v{before}", path, sql_name(dataset_id), False,
                             before)

        keys = pc.unique(keys.cast(pa.string()))
        if not len(keys):
            return unchanged()
        target = delta.schema(path, storage_options=self._options)
        rows = _with_metadata(delta.conform(rows, target).select(target.names), column_meta or {})
        current = delta.read_keys(path, key, keys, storage_options=self._options)
        if _same_rows(current, rows):  # nothing to commit: those keys' rows are already these
            return unchanged()
        versions: list[int] = []

        def commit() -> None:
            versions.append(delta.replace_where(path, rows, delta.in_keys(key, keys),
                                                commit_info={"quancheng.batch_id": batch_id},
                                                storage_options=self._options))

        sql_table = sql_name(dataset_id)
        self._swap_sql(sql_table, lambda: delta.read(path, storage_options=self._options),
                       SqlChange(delta.Batch.of(rows), keys, key), commit=commit,
                       total=lambda: delta.row_count(path, storage_options=self._options))
        after = versions[0]
        total = delta.row_count(path, storage_options=self._options)
        self._register(dataset_id, kind, total, f"v{after}", batch_id, sql_table, after)
        return Published(dataset_id, kind, total, f"v{after}", path, sql_table, after != before, after)

    def merge(self, dataset_id: str, upserts: pa.Table | delta.Batch, deleted: pa.Array, *, kind: DatasetKind,
              batch_id: str, key: str = KEY, column_meta: dict[str, dict[str, str]] | None = None) -> Published:
        """Merge one batch into ``dataset_id``: ``upserts`` (one row per ``key``) inserted or updated,
        ``deleted`` keys removed, in one Delta commit whose cost follows the batch, not the table. A
        :class:`~quancheng.publish.delta.Batch` of parts is streamed into both commits, never held whole.

        Rows equal to the published ones change nothing, so a rerun commits nothing and keeps the version.
        The SQL table takes the batch's rows in a transaction committed only after the Delta commit: a
        failure before it leaves both at the last version. The registry records the version the SQL table
        holds, so one left behind (killed between the two commits) is caught up by the next publish from
        the change data feed.
        """
        path = self._table(dataset_id)
        before = delta.current_version(path, storage_options=self._options) if path is not None else None
        batch = upserts if isinstance(upserts, delta.Batch) else delta.Batch.of(upserts)
        if path is not None:
            target_schema = delta.schema(path, storage_options=self._options)
            batch = batch.map(lambda t: delta.conform(t, target_schema))
        batch = batch.map(lambda t: _with_metadata(t, column_meta or {}))
        deleted = deleted.cast(pa.string())
        reg = self._registry_row(dataset_id)
        sql_at = reg["version"] if reg is not None else None
        target = self.dataset_uri(dataset_id)
        sql_table = sql_name(dataset_id)
        info = {"quancheng.batch_id": batch_id}
        if before is not None:  # what a rerun compares: the batch's rows and deletes (first publishes: none)
            info[delta.BATCH_DIGEST] = batch_digest(batch, deleted)
            if sql_at == before and _made_current(target, info, self._options):
                # a rerun of the batch that made the current version, with the same rows and deletes: the merge
                # would change nothing in either copy (a merge is idempotent), so neither is read or rewritten
                rows = delta.row_count(target, storage_options=self._options)
                self._register(dataset_id, kind, rows, f"v{before}", batch_id, sql_table, before)
                return Published(dataset_id, kind, rows, f"v{before}", target, sql_table, False, before)
        change = None
        if before is not None and sql_at is not None:
            change = self._sql_change(target, key, batch, deleted, since=None if sql_at == before else sql_at)
        versions: list[int] = []

        def commit() -> None:
            versions.append(delta.merge_batch(target, batch, deleted, key=key, metadata=column_meta,
                                              commit_info=info, storage_options=self._options))

        if change is not None and not len(change.keys):  # a quiet day: nothing for either to do
            commit()
        else:
            # before the first commit the batch is the whole content: the SQL table is loaded from it, streamed
            content: delta.Batch | Callable[[], pa.Table] = (
                batch if before is None else (lambda: delta.read(target, storage_options=self._options)))
            self._swap_sql(sql_table, content, change, commit=commit,
                           total=lambda: delta.row_count(target, storage_options=self._options))
        after = versions[0]
        rows = delta.row_count(target, storage_options=self._options)
        tag = f"v{after}"
        self._register(dataset_id, kind, rows, tag, batch_id, sql_table, after)
        return Published(dataset_id, kind, rows, tag, target, sql_table, after != before, after)

    def _sql_change(self, path: str, key: str, upserts: delta.Batch, deleted: pa.Array,
                    since: int | None) -> SqlChange | None:
        """What the SQL table needs: the batch's rows and keys, plus, when it holds an older version than
        the Delta table (``since``), the rows of every key changed after it; None when those changes are no
        longer in the log (vacuumed): the whole table is copied then."""
        rows, keys = upserts, pa.concat_arrays([upserts.column(key).cast(pa.string()), deleted])
        if since is not None:
            try:
                since_rows = delta.changes(path, since, columns=[key], storage_options=self._options)
                behind = pc.unique(since_rows[key].combine_chunks().cast(pa.string()))
            except Exception:  # noqa: BLE001 - the versions since were vacuumed
                return None
            extra = behind.filter(pc.invert(pc.is_in(behind, value_set=keys)))
            rows = rows.then(delta.read_keys(path, key, extra, storage_options=self._options))
            keys = pa.concat_arrays([keys, extra])
        return SqlChange(rows, pc.unique(keys), key)

    def maintain(self, dataset_id: str, retention_hours: int) -> delta.Maintenance | None:
        """Compact and vacuum one dataset (:func:`quancheng.publish.delta.maintain`); None if it has no table.
        Compaction changes no row, so a SQL table current before it stays current (the registry says so)."""
        path = self._table(dataset_id)
        if path is None:
            return None
        before = delta.current_version(path, storage_options=self._options)
        m = delta.maintain(path, retention_hours, storage_options=self._options)
        if m.version != before:
            t = self._registry()
            with self.engine.begin() as c:
                c.execute(t.update().where(t.c.dataset_id == dataset_id, t.c.version == before)
                          .values(version=m.version))
        return m

    def _swap_sql(self, sql_table: str, full: pa.Table | delta.Batch | Callable[[], pa.Table],
                  change: SqlChange | None = None, *,
                  commit: Callable[[], None] = lambda: None, total: Callable[[], int] | None = None,
                  index: str | None = None) -> str:
        """Make the SQL table hold the dataset, in one transaction, calling ``commit()`` (the Delta commit)
        just before that transaction commits; how it was done.

        - ``merged``: the table exists with the same columns and ``change`` holds every key whose row may
          differ: only those rows are deleted and inserted (cost grows with the batch, not the table);
        - ``replaced in place``: same columns, no ``change`` (or the merge left a row count other than
          ``total()``): every row deleted and inserted again from ``full()``;
        - ``created``: a new table, or one whose columns changed: loaded beside it, then DROP + RENAME.
        ``full`` is the whole content (a table, or a batch streamed part by part), or a function reading it
        after ``commit()`` (as ``total()`` is). A
        kill or failure before ``commit()`` leaves both at the last version. The first two keep the table itself, so
        grants, views and comments on it survive. If the table refuses the rows (a constraint someone
        added), nothing changes and the error says so; only columns whose types changed send it down the
        DROP + RENAME path. A created table gets an index on its source key, else on ``index`` (the
        column a consolidated dataset's rows are replaced by: :meth:`replace_keys`).
        """
        from adbc_driver_manager import dbapi

        side = sql_table + "__next"
        known = full if isinstance(full, delta.Batch) else delta.Batch.of(full) if isinstance(full, pa.Table) else None

        def whole() -> delta.Batch:
            rows = known if known is not None else delta.Batch.of(full())  # type: ignore[operator]
            return rows.map(lambda t: sql_compatible(t, self.dialect))

        conn = self._adbc()
        committed = False
        try:
            cur = conn.cursor()
            live = _live_schema(conn, sql_table)
            if live is not None and change is not None and live.names == change.rows.schema.names:
                try:
                    apply_change(cur, sql_table, change, self.dialect)
                    commit()
                    committed = True
                    how = "merged"
                    if total is not None and _count(cur, sql_table) != total():  # not the last version: anew
                        how = _replace_rows(cur, sql_table, whole())
                    conn.commit()
                    return how
                except dbapi.Error as exc:
                    if committed:
                        raise
                    raise QuanchengError(f"shared table {sql_table} refused the new rows "
                                         f"({str(exc).splitlines()[0]}); nothing changed (fix: the constraint or "
                                         "trigger added to it)") from None
            if known is None:  # the whole content is the Delta table's after the commit
                commit()
                committed = True
            data = whole()
            if live is not None and live.names == data.schema.names:
                try:
                    how = _replace_rows(cur, sql_table, data)
                    if not committed:
                        commit()
                    conn.commit()
                    return how
                except dbapi.Error as exc:  # rolled back; was it a column type the table cannot take?
                    failed = str(exc).splitlines()[0]
                    conn.close()
                    conn = self._adbc()
                    cur = conn.cursor()
                    cur.adbc_ingest(side, data.reader(), mode="replace")
                    if _live_schema(conn, side) == live:  # same types: the table refused the rows themselves
                        raise QuanchengError(f"shared table {sql_table} refused the new rows ({failed}); nothing "
                                             "changed (fix: the constraint or trigger added to it)") from None
            else:
                cur.adbc_ingest(side, data.reader(), mode="replace")
            if not committed:
                commit()
            q = _quote(sql_table)
            try:
                cur.execute(f"DROP TABLE IF EXISTS {q}")
            except dbapi.Error as exc:
                raise QuanchengError(f"shared table {sql_table} cannot be replaced for its new columns "
                                     f"({str(exc).splitlines()[0]}); drop the views that depend on it, publish, "
                                     "then create them again") from None
            cur.execute(f"ALTER TABLE {_quote(side)} RENAME TO {q}")
            names = data.schema.names
            key = next((k for k in (QKEY, KEY) if k in names), index if index in names else None)
            if key is not None:
                cur.execute(key_index_sql(q, sql_table, key))
            conn.commit()
            return "created"
        finally:
            conn.close()

    # --- registry of datasets ---
    def _registry(self) -> sa.Table:
        if self._registry_table is None:
            md = sa.MetaData()
            self._registry_table = sa.Table(
                REGISTRY_TABLE, md, sa.Column("dataset_id", sa.String(200), primary_key=True), *version_columns(),
                # the Delta version the SQL table holds: a publish killed between the two is caught up
                sa.Column("version", sa.BigInteger, nullable=True))
            create_tables(self.engine, md)  # once per store, not once per publish
            if "version" not in {c["name"] for c in sa.inspect(self.engine).get_columns(REGISTRY_TABLE)}:
                with contextlib.suppress(sa.exc.DBAPIError), self.engine.begin() as c:  # another process won
                    c.execute(sa.text(f"ALTER TABLE {REGISTRY_TABLE} ADD COLUMN version BIGINT"))  # earlier release
        return self._registry_table

    def _registry_row(self, dataset_id: str) -> dict[str, Any] | None:
        t = self._registry()
        with self.engine.connect() as c:
            row = c.execute(sa.select(t).where(t.c.dataset_id == dataset_id)).mappings().first()
        return dict(row) if row else None

    def _register(self, dataset_id: str, kind: str, rows: int, digest: str, batch_id: str, sql_table: str,
                  version: int) -> None:
        t = self._registry()
        values = {"kind": kind, "parquet_path": self.dataset_uri(dataset_id), "sql_table": sql_table,
                  "rows": rows, "content_hash": digest, "last_batch": batch_id, "updated_at": datetime.now(UTC),
                  "version": version}
        with self.engine.begin() as c:
            if c.execute(sa.select(t.c.dataset_id).where(t.c.dataset_id == dataset_id)).first():
                c.execute(t.update().where(t.c.dataset_id == dataset_id).values(**values))
            else:
                c.execute(t.insert().values(dataset_id=dataset_id, **values))

    def datasets(self) -> list[dict[str, Any]]:
        """Every published dataset with kind, locations, rows, content hash and last batch."""
        t = self._registry()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t).order_by(t.c.dataset_id)).mappings().all()
        return [{**dict(r), "updated_at": r["updated_at"].isoformat() if r["updated_at"] else None} for r in rows]


def _same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Whether two tables of one schema hold the same rows, in any order."""
    if a.num_rows != b.num_rows or a.column_names != b.column_names:
        return False
    order = [(c, "ascending") for c in a.column_names]
    return bool(a.sort_by(order).equals(b.cast(a.schema).sort_by(order)))


def _live_schema(conn: Any, sql_table: str) -> pa.Schema | None:
    """An existing table's columns as the driver maps them to Arrow (None when it does not exist)."""
    from adbc_driver_manager import dbapi

    try:
        return getattr(conn, "conn", conn).adbc_get_table_schema(sql_table)  # SqliteWrite wraps the connection
    except dbapi.Error:
        if not isinstance(conn, SqliteWrite):  # PostgreSQL: the failed lookup aborted the transaction
            conn.rollback()
        return None


@dataclass(frozen=True)
class SqlChange:
    """The rows a SQL table needs to catch up: ``rows`` (the current rows of ``keys``, streamed) and ``keys``
    (every key that may have changed, deleted ones included)."""

    rows: delta.Batch
    keys: pa.Array
    key: str


def apply_change(cur: Any, sql_table: str, change: SqlChange, dialect: str, *, schema: str | None = None) -> None:
    """Delete the rows of the changed keys and insert their current rows (one transaction, not committed), by
    an index on the key; ``schema``: the table's schema (an area's in PostgreSQL), else the default one."""
    def qual(name: str) -> str:
        return f"{_quote(schema)}.{_quote(name)}" if schema else _quote(name)

    q, batch, keys = qual(sql_table), sql_table + "__batch", sql_table + "__keys"
    side = {"db_schema_name": schema} if schema else {}
    data = change.rows.map(lambda t: sql_compatible(t, dialect))
    cols = ", ".join(_quote(c) for c in data.schema.names)
    k = _quote(change.key)
    cur.adbc_ingest(batch, data.reader(), mode="replace", **side)
    cur.adbc_ingest(keys, pa.table({change.key: change.keys}), mode="replace", **side)
    cur.execute(key_index_sql(q, sql_table, change.key))
    cur.execute(f"DELETE FROM {q} WHERE {k} IN (SELECT {k} FROM {qual(keys)})")
    cur.execute(f"INSERT INTO {q} ({cols}) SELECT {cols} FROM {qual(batch)}")
    cur.execute(f"DROP TABLE {qual(keys)}")
    cur.execute(f"DROP TABLE {qual(batch)}")


def key_index_sql(target: str, sql_table: str, key: str) -> str:
    """``CREATE INDEX IF NOT EXISTS`` on the key column of ``target`` (the quoted, maybe schema-qualified
    table): what a merge deletes by, so it finds the changed keys' rows without scanning the table. Made with
    the table, or by the first merge into a table made before."""
    name = f"{sql_table}__key" if key in (KEY, QKEY) else f"{sql_table}__{key}"
    return f"CREATE INDEX IF NOT EXISTS {_quote(name)} ON {target} ({_quote(key)})"


def _count(cur: Any, sql_table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {_quote(sql_table)}")
    row = cur.fetchone()
    return int(row[0]) if row is not None else -1


def _replace_rows(cur: Any, sql_table: str, data: delta.Batch) -> str:
    """Every row of an existing table deleted and ``data`` inserted, the table itself kept."""
    q, batch = _quote(sql_table), sql_table + "__batch"
    cols = ", ".join(_quote(c) for c in data.schema.names)
    cur.adbc_ingest(batch, data.reader(), mode="replace")
    cur.execute(f"DELETE FROM {q}")
    cur.execute(f"INSERT INTO {q} ({cols}) SELECT {cols} FROM {_quote(batch)}")
    cur.execute(f"DROP TABLE {_quote(batch)}")
    return "replaced in place"


def _with_metadata(table: pa.Table, column_meta: dict[str, dict[str, str]]) -> pa.Table:
    """``table`` whose described columns carry their description (names, definition, unit) and whose other
    columns carry none; the Delta schema keeps it per column. Every column is nullable there: a merge's
    delete rows are null but for the key, and a batch's nullability never differs from the table's."""
    fields = []
    for f in table.schema:
        meta = column_meta.get(f.name)
        f = f.with_nullable(True)
        fields.append(f.with_metadata({k: v.encode() for k, v in meta.items()}) if meta else f.remove_metadata())
    return table.cast(pa.schema(fields))


def sql_compatible(table: pa.Table, dialect: str) -> pa.Table:
    """SQLite has no decimal type: exact decimals go in as text there, keeping every digit."""
    if dialect != "sqlite":
        return table
    cols = [pc.cast(c, pa.string()) if pa.types.is_decimal(c.type) else c for c in table.columns]
    return pa.table(cols, names=table.column_names)


def sql_name(dataset_id: str) -> str:
    """The SQL table name of a dataset id (``a.b`` -> ``a__b``)."""
    return dataset_id.replace(".", "__").replace("-", "_")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
