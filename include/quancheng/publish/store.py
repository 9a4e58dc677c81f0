"""The shared store: versioned Parquet datasets plus their SQL tables, swapped atomically.

Write, audit, publish: a new dataset version is written beside the current one, checked, and only
then made current:
- Parquet: each version is a folder ``parquet/.versions/<dataset>/<hash>/``; the dataset's public path
  ``parquet/<dataset>`` is a symlink replaced with ``os.replace`` (atomic), so readers see the old
  version or the new one, never half a batch.
- SQL: the batch's changed rows are bulk-loaded (ADBC) and merged into the table in one transaction
  (delete and insert of the touched keys), so grants, views and comments on it survive; a new table, or
  one whose columns changed, is loaded beside and swapped in with DROP + RENAME.
Content is sorted by its key and hashed, so re-publishing the same data is a no-op with the same hash.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from quancheng.errors import QuanchengError
from quancheng.safepath import inside, safe_path

DatasetKind = Literal["system", "quarantine", "stage_form", "master", "materials", "conflicts"]

REGISTRY_TABLE = "_exchange_datasets"
KEY = "_source_key"
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
    h = hashlib.sha256()
    h.update(str(table.schema.remove_metadata()).encode())
    sink = pa.BufferOutputStream()
    t = table.replace_schema_metadata(None).combine_chunks()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()[:16]


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


def write_version(base: Path, dataset_id: str, table: pa.Table, digest: str) -> Path:
    """Write ``table`` as version ``digest`` of ``dataset_id`` under ``base/.versions`` (once, through a
    temporary folder renamed into place); the version's folder."""
    version = safe_path(base, ".versions", dataset_id, digest, what="dataset id")
    if not (version / "data.parquet").exists():
        # a folder of this writer's own, outside the dataset's versions (which make_current prunes): two
        # writers of the same content never remove each other's files
        import uuid

        tmp = base / ".writing" / f"{digest}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
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


def make_current(base: Path, dataset_id: str, version: Path) -> None:
    """Point ``base/<dataset_id>`` at ``version`` (a symlink renamed over the old one, so readers see one
    version or the other, never neither) and delete the dataset's other versions."""
    link = safe_path(base, dataset_id, what="dataset id")
    inside(base, version, what="dataset version")
    import uuid

    # the writer's own temporary link: two writers of a dataset never trip over each other's
    tmp_link = safe_path(base, f".{dataset_id}.{version.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.lnk",
                         what="dataset id")
    os.symlink(os.path.relpath(version, base), tmp_link)
    os.replace(tmp_link, link)
    for old in version.parent.iterdir():
        if old.name != version.name:
            shutil.rmtree(old, ignore_errors=True)


class MissingVersion(QuanchengError):
    """Datasets the registry lists as published have no current Parquet version: nothing was published."""

    def __init__(self, rows: list[dict[str, Any]], parquet_root: Path):
        self.dataset_ids = [str(r["dataset_id"]) for r in rows]
        what = "; ".join(f"{r['dataset_id']} ({r['rows']} rows, hash {r['content_hash']}, batch {r['last_batch']})"
                         for r in rows)
        systems = sorted({_system_of(str(r["dataset_id"])) for r in rows if r["kind"] in ("system", "quarantine")})
        rebuild = (f"rebuild from a full read of the source with `quancheng run {' / '.join(systems)} --rebuild`"
                   f" (DAG param rebuild=true)" if systems else "rerun the step that publishes it")
        super().__init__(
            f"dataset(s) published but their current version is missing under {parquet_root}: {what}; refused "
            f"rather than taken for never published, which would replace the history with this batch alone, and "
            f"nothing was published (fix: restore {parquet_root}/.versions/<dataset>/<hash>/ and the "
            f"<dataset> link from a backup, or {rebuild})")


def _system_of(dataset_id: str) -> str:
    """The system a system or quarantine dataset belongs to (``<system>.<form>``, ``quarantine.<system>``)."""
    return dataset_id.removeprefix("quarantine.").split(".", 1)[0]


class SharedStore:
    """Shared datasets under ``<home>/shared`` and in the shared SQL database.

    The SQL database is ``$QUANCHENG_SHARED_DB`` (an SQLAlchemy URL, e.g. ``postgresql://...``),
    else SQLite at ``<home>/shared/exchange.db``.
    """

    def __init__(self, home: Path, sql_url: str | None = None):
        self.home = Path(home)
        self.root = self.home / "shared"
        self.parquet_root = self.root / "parquet"
        self.parquet_root.mkdir(parents=True, exist_ok=True)
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

    # --- reading ---
    def dataset_path(self, dataset_id: str) -> Path:
        return safe_path(self.parquet_root, dataset_id, what="dataset id")

    def read(self, dataset_id: str) -> pa.Table | None:
        """The current version of a dataset, or None if it was never published.

        "I cannot find the current version" is not "there is none": when the registry lists the dataset as
        published but its Parquet version is missing (files deleted, a dangling link), this raises
        :class:`MissingVersion`; merging a batch into nothing would replace the dataset's history.
        """
        data = self.dataset_path(dataset_id) / "data.parquet"
        if data.is_file():
            return pq.read_table(data)
        self.check_current([dataset_id])
        return None

    def current_digest(self, dataset_id: str) -> str | None:
        """The content hash of the dataset's current Parquet version (its version folder's name), None if it
        has none: what a reader sees now, whatever the registry says."""
        data = self.dataset_path(dataset_id) / "data.parquet"
        return data.resolve().parent.name if data.is_file() else None

    def check_current(self, dataset_ids: list[str]) -> None:
        """Raise :class:`MissingVersion` naming every dataset of ``dataset_ids`` that the registry lists as
        published but whose current Parquet version is gone (checked before a batch swaps anything)."""
        missing = [d for d in dataset_ids if not (self.dataset_path(d) / "data.parquet").is_file()]
        if not missing:
            return
        t = self._registry()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t).where(t.c.dataset_id.in_(missing)).order_by(t.c.dataset_id)).mappings().all()
        if rows:
            raise MissingVersion([dict(r) for r in rows], self.parquet_root)

    # --- writing ---
    def publish(self, dataset_id: str, table: pa.Table, *, kind: DatasetKind, batch_id: str,
                sort_by: list[str] | None = None, column_meta: dict[str, dict[str, str]] | None = None,
                audit: Any = None, touched: pa.Array | None = None) -> Published:
        """Make ``table`` the current content of ``dataset_id`` in Parquet and SQL, atomically.

        ``audit(table)`` may raise to refuse the version; the previous one then stays current. ``touched``:
        every source key whose row may differ from the current version (the batch's upserts, deletes and
        quarantined keys); the SQL table is then merged for those keys only.
        """
        keys = sort_by or ([KEY] if KEY in table.column_names else [])
        if keys and table.num_rows:
            table = table.sort_by([(k, "ascending") for k in keys])
        table = _with_metadata(table, dataset_id, kind, column_meta or {})
        digest = content_hash(table)
        if audit is not None:
            audit(table)
        current = self._registry_row(dataset_id)
        link = self.dataset_path(dataset_id)
        unchanged = (current is not None and current["content_hash"] == digest and link.exists())
        sql_table = sql_name(dataset_id)
        if not unchanged:
            version = write_version(self.parquet_root, dataset_id, table, digest)
            # a failure here leaves the link on the last good version; merged only from a known current one
            self._swap_sql(sql_table, table, touched if current is not None and link.exists() else None)
            make_current(self.parquet_root, dataset_id, version)
        self._register(dataset_id, kind, table.num_rows, digest, batch_id, sql_table)
        return Published(dataset_id, kind, table.num_rows, digest, str(link), sql_table, not unchanged)

    def _swap_sql(self, sql_table: str, table: pa.Table, touched: pa.Array | None = None) -> str:
        """Make the SQL table hold ``table``, in one transaction; how it was done.

        - ``merged``: the table exists with the same columns and ``touched`` names every key whose row may
          differ: only those rows are deleted and inserted (cost grows with the batch, not the table);
        - ``replaced in place``: same columns, no ``touched``: every row deleted and inserted again;
        - ``created``: a new table, or one whose columns changed: loaded beside it, then DROP + RENAME.
        The first two keep the table itself, so grants, views and comments on it survive; a merge that
        leaves a row count different from ``table``'s is replaced in place instead. If the table refuses
        the rows (a constraint someone added), nothing changes and the error says so; only columns whose
        types changed send it down the DROP + RENAME path.
        """
        from adbc_driver_manager import dbapi

        data = sql_compatible(table, self.dialect)
        side = sql_table + "__next"
        conn = self._adbc()
        try:
            cur = conn.cursor()
            live = _live_schema(conn, sql_table)
            if live is not None and live.names == data.column_names:
                try:
                    how = _update_in_place(cur, sql_table, data, touched if KEY in data.column_names else None)
                    conn.commit()
                    return how
                except dbapi.Error as exc:  # rolled back; was it a column type the table cannot take?
                    failed = str(exc).splitlines()[0]
                    conn.close()
                    conn = self._adbc()
                    cur = conn.cursor()
                    cur.adbc_ingest(side, data, mode="replace")
                    if _live_schema(conn, side) == live:  # same types: the table refused the rows themselves
                        raise QuanchengError(f"shared table {sql_table} refused the new rows ({failed}); nothing "
                                             "changed (fix: the constraint or trigger added to it)") from None
            else:
                cur.adbc_ingest(side, data, mode="replace")
            q = _quote(sql_table)
            try:
                cur.execute(f"DROP TABLE IF EXISTS {q}")
            except dbapi.Error as exc:
                raise QuanchengError(f"shared table {sql_table} cannot be replaced for its new columns "
                                     f"({str(exc).splitlines()[0]}); drop the views that depend on it, publish, "
                                     "then create them again") from None
            cur.execute(f"ALTER TABLE {_quote(side)} RENAME TO {q}")
            if KEY in data.column_names:
                cur.execute(f"CREATE INDEX {_quote(sql_table + '__key')} ON {q} ({_quote(KEY)})")
            conn.commit()
            return "created"
        finally:
            conn.close()

    # --- registry of datasets ---
    def _registry(self) -> sa.Table:
        if self._registry_table is None:
            md = sa.MetaData()
            self._registry_table = sa.Table(
                REGISTRY_TABLE, md, sa.Column("dataset_id", sa.String(200), primary_key=True), *version_columns())
            create_tables(self.engine, md)  # once per store, not once per publish
        return self._registry_table

    def _registry_row(self, dataset_id: str) -> dict[str, Any] | None:
        t = self._registry()
        with self.engine.connect() as c:
            row = c.execute(sa.select(t).where(t.c.dataset_id == dataset_id)).mappings().first()
        return dict(row) if row else None

    def _register(self, dataset_id: str, kind: str, rows: int, digest: str, batch_id: str, sql_table: str) -> None:
        t = self._registry()
        values = {"kind": kind, "parquet_path": str(self.dataset_path(dataset_id)), "sql_table": sql_table,
                  "rows": rows, "content_hash": digest, "last_batch": batch_id, "updated_at": datetime.now(UTC)}
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


def _live_schema(conn: Any, sql_table: str) -> pa.Schema | None:
    """An existing table's columns as the driver maps them to Arrow (None when it does not exist)."""
    from adbc_driver_manager import dbapi

    try:
        return getattr(conn, "conn", conn).adbc_get_table_schema(sql_table)  # SqliteWrite wraps the connection
    except dbapi.Error:
        if not isinstance(conn, SqliteWrite):  # PostgreSQL: the failed lookup aborted the transaction
            conn.rollback()
        return None


def _update_in_place(cur: Any, sql_table: str, data: pa.Table, touched: pa.Array | None) -> str:
    """Delete and insert the rows of the touched keys (or all rows) of an existing table; see ``_swap_sql``."""
    q, batch, keys = _quote(sql_table), sql_table + "__batch", sql_table + "__keys"
    cols = ", ".join(_quote(c) for c in data.column_names)
    how = "replaced in place"
    if touched is not None:
        wanted = pc.unique(touched.cast(pa.string()))
        cur.adbc_ingest(batch, data.filter(pc.is_in(data[KEY], value_set=wanted)), mode="replace")
        cur.adbc_ingest(keys, pa.table({KEY: wanted}), mode="replace")
        cur.execute(f"DELETE FROM {q} WHERE {_quote(KEY)} IN (SELECT {_quote(KEY)} FROM {_quote(keys)})")
        cur.execute(f"INSERT INTO {q} ({cols}) SELECT {cols} FROM {_quote(batch)}")
        cur.execute(f"DROP TABLE {_quote(keys)}")
        cur.execute(f"SELECT COUNT(*) FROM {q}")
        row = cur.fetchone()
        how = "merged"
        if row is None or int(row[0]) != data.num_rows:  # the table was not the last version: all of it anew
            how = "replaced in place"
    if how != "merged":
        cur.adbc_ingest(batch, data, mode="replace")
        cur.execute(f"DELETE FROM {q}")
        cur.execute(f"INSERT INTO {q} ({cols}) SELECT {cols} FROM {_quote(batch)}")
    cur.execute(f"DROP TABLE {_quote(batch)}")
    return how


def merge_by_key(current: pa.Table | None, upserts: pa.Table, removed_keys: pa.Array) -> pa.Table:
    """``current`` without the rows whose key is upserted or removed, plus ``upserts``."""
    if current is None or current.num_rows == 0:
        return upserts
    drop = pa.concat_arrays([upserts[KEY].combine_chunks().cast(pa.string()), removed_keys.cast(pa.string())])
    kept = current.filter(pc.invert(pc.is_in(current[KEY], value_set=drop)))
    return pa.concat_tables([kept, upserts], promote_options="permissive")


def _with_metadata(table: pa.Table, dataset_id: str, kind: str, column_meta: dict[str, dict[str, str]]) -> pa.Table:
    fields = []
    for f in table.schema:
        meta = column_meta.get(f.name)
        fields.append(f.with_metadata({k: v.encode() for k, v in meta.items()}) if meta else f.remove_metadata())
    schema = pa.schema(fields, metadata={"quancheng.dataset": dataset_id, "quancheng.kind": kind})
    return table.cast(schema)


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
