"""Publish the per-area copies of a dataset: Parquet for DuckDB and a table in the area's SQL schema.

Layout under ``<home>/shared/areas/<schema>/``: ``<dataset_id>`` is a symlink to
``.versions/<dataset_id>/<content hash>/data.parquet``'s folder, replaced atomically (readers see the
old version or the new one). SQL: in PostgreSQL the table ``<schema>.<dataset_id with . -> __>`` is
bulk-loaded beside the current one and swapped in one transaction together with its comments and
grants; with SQLite each area is its own database file ``<schema>.db`` (``ATTACH`` it as ``<schema>``),
with a ``_columns`` table holding the column names and definitions SQLite cannot store as comments.
Every version is recorded in ``_exchange_areas`` of the shared database, with its content hash and the
batch that made it, so re-publishing the same content is a no-op (nothing written at all).

Earlier versions stay beside the current one, each listed in ``_exchange_area_versions`` with the time it
became current, so the data service answers *as of* a version or a time with exactly the copy the area
held then (tokenized as it was); :func:`prune_versions` (the maintenance DAG) deletes those older than
the retention. A copy the sharing no longer makes (its department lost the grant) is withdrawn whole:
table, versions and records (:meth:`AreaStore.withdraw`).

When the store's storage is an object store (``s3://``), the Parquet versions go to the bucket instead
(:mod:`quancheng.sharing.remote`: ``_areas/<schema>/<dataset_id>/<content hash>/``), written before the SQL
record that makes them current; nothing is written under ``shared/areas`` but the SQLite area files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from quancheng.catalog import Catalog
from quancheng.publish.delta import Batch
from quancheng.publish.store import (
    KEY,
    DatasetKind,
    SharedStore,
    SqlChange,
    apply_change,
    content_hash,
    content_hash_parts,
    create_tables,
    key_index_sql,
    make_current,
    sql_compatible,
    sql_name,
    sqlite_adbc,
    version_columns,
    write_version,
)
from quancheng.safepath import safe_path
from quancheng.sharing import postgres
from quancheng.sharing.merge import merged_rows
from quancheng.sharing.remote import AreaObjects, manifest_parts
from quancheng.sharing.rules import Audience

AREAS_TABLE = "_exchange_areas"
VERSIONS_TABLE = "_exchange_area_versions"


def versions_table(md: sa.MetaData | None = None) -> sa.Table:
    """Each version an area copy has had: its content hash, rows, batch, and when it became current."""
    return sa.Table(
        VERSIONS_TABLE, md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schema_name", sa.String(100), nullable=False, index=True),
        sa.Column("dataset_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("last_batch", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class AreaVersion:
    """One version of an area copy, as ``_exchange_area_versions`` lists it."""

    content_hash: str
    rows: int
    last_batch: str
    published_at: datetime


def area_versions(engine: sa.Engine, schema: str, dataset_id: str) -> list[AreaVersion]:
    """The versions of one area copy, newest first (empty where none was recorded)."""
    if not sa.inspect(engine).has_table(VERSIONS_TABLE):
        return []
    t = versions_table()
    with engine.connect() as c:
        rows = c.execute(sa.select(t).where(t.c.schema_name == schema, t.c.dataset_id == dataset_id)
                         .order_by(t.c.id.desc())).mappings().all()
    return [AreaVersion(str(r["content_hash"]), int(r["rows"]), str(r["last_batch"]), _aware(r["published_at"]))
            for r in rows]


def current_copies(engine: sa.Engine) -> dict[tuple[str, str], str]:
    """(schema, dataset id) -> the content hash ``_exchange_areas`` records as current, for every area copy."""
    if not sa.inspect(engine).has_table(AREAS_TABLE):
        return {}
    with engine.connect() as c:
        return {(str(s), str(d)): str(h) for s, d, h in c.execute(sa.text(
            f"SELECT schema_name, dataset_id, content_hash FROM {AREAS_TABLE}"))}


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite hands back naive timestamps


ORPHAN_HOURS = 24  # a version folder in the bucket that no record names is swept once this old


def prune_versions(store: SharedStore, retention_hours: int, *, orphan_hours: float = ORPHAN_HOURS) -> int:
    """Delete the area copies' versions that stopped being current more than ``retention_hours`` ago (their
    files, or their objects in the bucket, and their rows); the current version of every copy stays. How many
    were deleted. On an object store the version folders no record names (a killed writer's, an interrupted
    delete's) are swept too once ``orphan_hours`` old."""
    if not sa.inspect(store.engine).has_table(VERSIONS_TABLE):
        return 0
    if not store.storage.is_local:
        return _prune_objects(store, retention_hours, orphan_hours)
    from datetime import timedelta

    t = versions_table()
    cutoff = datetime.now(UTC) - timedelta(hours=retention_hours)
    with store.engine.connect() as c:
        rows = c.execute(sa.select(t).order_by(t.c.schema_name, t.c.dataset_id, t.c.id)).mappings().all()
    gone: list[int] = []
    root = store.root / "areas"
    by_copy: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        by_copy.setdefault((str(r["schema_name"]), str(r["dataset_id"])), []).append(r)
    for (schema, ds), vs in by_copy.items():
        for r, nxt in pairwise(vs):  # every version but the newest, with the one replacing it
            if _aware(nxt["published_at"]) < cutoff:
                gone.append(int(r["id"]))
                keep = {str(v["content_hash"]) for v in vs if int(v["id"]) not in gone}
                if str(r["content_hash"]) not in keep:
                    shutil.rmtree(safe_path(root, schema, ".versions", ds, str(r["content_hash"]),
                                            what="dataset id"), ignore_errors=True)
    if gone:
        with store.engine.begin() as c:
            c.execute(t.delete().where(t.c.id.in_(gone)))
    return len(gone)


def _pruned(rows: list[Any], cutoff: datetime) -> list[int]:
    """The ids of the version rows replaced before ``cutoff`` (the newest of each copy always stays)."""
    by_copy: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        by_copy.setdefault((str(r["schema_name"]), str(r["dataset_id"])), []).append(r)
    return [int(r["id"]) for vs in by_copy.values() for r, nxt in pairwise(vs)
            if _aware(nxt["published_at"]) < cutoff]


def _recorded(engine: sa.Engine) -> tuple[list[Any], set[tuple[str, str, str]]]:
    """Every version row (by copy, oldest first), and the (schema, dataset, hash) any row or current copy names."""
    t = versions_table()
    with engine.connect() as c:
        rows = list(c.execute(sa.select(t).order_by(t.c.schema_name, t.c.dataset_id, t.c.id)).mappings().all())
    named = {(str(r["schema_name"]), str(r["dataset_id"]), str(r["content_hash"])) for r in rows}
    return rows, named | {(s, d, h) for (s, d), h in current_copies(engine).items()}


def _prune_objects(store: SharedStore, retention_hours: int, orphan_hours: float) -> int:
    """:func:`prune_versions` on an object store: the rows first (a version no row names is never asked for),
    then the objects of each version nothing names any more (looked up again after the rows went, so a
    publish that just made an old hash current again keeps it), then the sweep of unrecorded folders."""
    from datetime import timedelta

    now = datetime.now(UTC)
    rows, _ = _recorded(store.engine)
    gone = _pruned(rows, now - timedelta(hours=retention_hours))
    if gone:
        t = versions_table()
        with store.engine.begin() as c:
            c.execute(t.delete().where(t.c.id.in_(gone)))
    _, keep = _recorded(store.engine)
    objects = AreaObjects(store.storage)
    cache = store.home / "cache" / "areas"
    for version in sorted({(str(r["schema_name"]), str(r["dataset_id"]), str(r["content_hash"])) for r in rows
                           if int(r["id"]) in gone} - keep):
        objects.delete(*version)
        shutil.rmtree(safe_path(cache, *version, what="dataset id"), ignore_errors=True)
    objects.sweep(keep, older_than=now - timedelta(hours=orphan_hours))
    return len(gone)


@dataclass(frozen=True)
class AreaPublished:
    dataset_id: str
    schema: str
    rows: int
    content_hash: str
    parquet_path: str
    sql_table: str
    changed: bool


def _with_meta(table: pa.Table, dataset_id: str, audience: Audience, kind: str,
               columns: dict[str, dict[str, str]], table_meta: dict[str, str]) -> pa.Table:
    fields = [f.with_metadata({k: v.encode() for k, v in columns[f.name].items()}) if f.name in columns
              else f.remove_metadata() for f in table.schema]
    meta = {"quancheng.dataset": dataset_id, "quancheng.kind": kind, "quancheng.area": audience.schema,
            **{f"quancheng.{k}": v for k, v in table_meta.items()}}
    return table.cast(pa.schema(fields, metadata=meta))


def _merge_key(names: list[str]) -> str | None:
    """The column a copy's later merges delete by (a system dataset's source key, else the project code)."""
    return next((k for k in (KEY, "project_code") if k in names), None)


def _same_columns(a: pa.Schema, b: pa.Schema) -> bool:
    """The same column names, types and descriptions (the schemas' own metadata aside)."""
    return a.names == b.names and all(x.type == y.type and (x.metadata or {}) == (y.metadata or {})
                                      for x, y in zip(a, b, strict=True))


def _plain(table: pa.Table | Batch) -> pa.Table | pa.RecordBatchReader:
    """The rows without schema metadata, as the SQL loaders take them (a batch streamed part by part)."""
    if isinstance(table, Batch):
        return table.map(lambda t: t.replace_schema_metadata(None)).reader()
    return table.replace_schema_metadata(None)


# an area's SQLite file: each column's Chinese and English name and definition (PostgreSQL keeps comments)
COLUMNS_DDL = ("CREATE TABLE IF NOT EXISTS _columns (table_name TEXT, column_name TEXT, name_zh TEXT, name_en TEXT, "
               "definition TEXT)")


class AreaStore:
    """The areas beside a :class:`SharedStore` (same home, same SQL database or its SQLite folder)."""

    def __init__(self, store: SharedStore, catalog: Catalog, *, role_prefix: str = postgres.DEFAULT_PREFIX):
        self.store = store
        self.catalog = catalog
        self.prefix = role_prefix
        self.root = store.root / "areas"
        # the Parquet versions: under ``root`` behind links (local storage) or in the bucket
        self.objects = None if store.storage.is_local else AreaObjects(store.storage)
        self._access_applied = False
        self._registry: sa.Table | None = None

    @property
    def is_postgres(self) -> bool:
        return self.store.dialect in ("postgresql", "postgres")

    def area_dir(self, schema: str) -> Path:
        """The folder of one area (its schema name comes from the catalog: checked like any id)."""
        return safe_path(self.root, schema, what="area")

    def parquet_path(self, audience: Audience, dataset_id: str) -> str:
        return str(safe_path(self.area_dir(audience.schema), dataset_id, what="dataset id"))

    def publish(self, audience: Audience, dataset_id: str, table: pa.Table | Batch, *, kind: DatasetKind,
                batch_id: str, columns: dict[str, dict[str, str]], table_meta: dict[str, str],
                sort_by: list[str] | None = None) -> AreaPublished:
        """Make ``table`` the current content of ``dataset_id`` in ``audience``'s area. A :class:`Batch` of parts
        (already in ``sort_by`` order) is hashed, written and loaded part by part, never held whole."""
        if isinstance(table, Batch):
            table = table.map(lambda t: _with_meta(t, dataset_id, audience, kind, columns, table_meta))
            digest = content_hash_parts(table)
        else:
            if sort_by and table.num_rows:
                table = table.sort_by([(k, "ascending") for k in sort_by])
            table = _with_meta(table, dataset_id, audience, kind, columns, table_meta)
            digest = content_hash(table)
        current = self._current(audience.schema, dataset_id)
        if self.objects is None:
            link = self.parquet_path(audience, dataset_id)
            unchanged = current == digest and Path(link).exists()
        else:
            link = self.objects.uri(audience.schema, dataset_id, digest)
            unchanged = current == digest and self.objects.exists(audience.schema, dataset_id, digest)
        if not unchanged:
            self._write_parquet(audience, dataset_id, table, digest)
            if self.is_postgres:
                self._swap_postgres(audience, dataset_id, table, columns, table_meta)
            else:
                self._swap_sqlite(audience, dataset_id, table, columns)
            self._record(audience.schema, dataset_id, kind, table.num_rows, digest, batch_id)
        else:  # the same content from another batch: the batch is recorded as the copy's latest, nothing written
            self.relabel(audience.schema, dataset_id, batch_id)
        return AreaPublished(dataset_id, audience.schema, table.num_rows, digest, link, sql_name(dataset_id),
                             not unchanged)

    def current_files(self, audience: Audience, dataset_id: str) -> list[Path] | None:
        """The current version's Parquet files of an area copy (downloaded from the bucket once); None when it
        has none (never published, or its version is gone)."""
        digest = self._current(audience.schema, dataset_id)
        if digest is None:
            return None
        if self.objects is None:
            path = Path(self.parquet_path(audience, dataset_id)) / "data.parquet"
            return [path] if path.exists() else None
        folder = self.objects.download(audience.schema, dataset_id, digest, self.store.home / "cache" / "areas")
        return None if folder is None else [folder / name for name in manifest_parts(folder)]

    def merge(self, audience: Audience, dataset_id: str, rows: pa.Table, touched: pa.Array, *, key: str,
              kind: DatasetKind, batch_id: str, columns: dict[str, dict[str, str]], table_meta: dict[str, str],
              sort_by: list[str]) -> AreaPublished | None:
        """Replace the rows of the ``touched`` keys of the current copy by ``rows`` (:mod:`quancheng.sharing.merge`):
        a new version written from the current one part by part, the SQL table changed in place. None (nothing
        written) when the copy has no current version or its columns differ from ``rows``' (with their
        descriptions): the caller then shares the dataset whole."""
        files = self.current_files(audience, dataset_id)
        if files is None:
            return None
        rows = _with_meta(rows, dataset_id, audience, kind, columns, table_meta)
        stored = pq.read_schema(files[0])
        if not _same_columns(stored, rows.schema) or not sum(pq.ParquetFile(f).metadata.num_rows for f in files):
            return None
        batch = merged_rows(files, rows, touched, key=key, sort_by=sort_by)
        digest = content_hash_parts(batch)
        if digest == self._current(audience.schema, dataset_id):
            self.relabel(audience.schema, dataset_id, batch_id)
            return AreaPublished(dataset_id, audience.schema, batch.num_rows, digest,
                                 self.parquet_path(audience, dataset_id), sql_name(dataset_id), False)
        self._write_parquet(audience, dataset_id, batch, digest)
        name = sql_name(dataset_id)
        change = SqlChange(Batch.of(rows.replace_schema_metadata(None)), touched.cast(pa.string()), key)
        with self._sql(audience.schema) as conn:
            apply_change(conn.cursor(), name, change, "postgresql" if self.is_postgres else "sqlite",
                         schema=audience.schema if self.is_postgres else None)
            conn.commit()
        self._record(audience.schema, dataset_id, kind, batch.num_rows, digest, batch_id)
        link = (self.parquet_path(audience, dataset_id) if self.objects is None
                else self.objects.uri(audience.schema, dataset_id, digest))
        return AreaPublished(dataset_id, audience.schema, batch.num_rows, digest, link, name, True)

    # --- Parquet ---
    def _write_parquet(self, audience: Audience, dataset_id: str, table: pa.Table | Batch, digest: str) -> None:
        """The version's Parquet, before the SQL record makes it current: in the bucket, or under the area's
        folder with its link moved (earlier versions stay for as-of reads until :func:`prune_versions`)."""
        if self.objects is not None:
            self.objects.write(audience.schema, dataset_id, digest, table)
            return
        base = self.area_dir(audience.schema)
        make_current(base, dataset_id, write_version(base, dataset_id, table, digest), prune=False)

    # --- SQL ---
    def ensure_access(self) -> None:
        """Roles, schemas and grants for the whole catalog, once per store (PostgreSQL only)."""
        if self.is_postgres and not self._access_applied:
            postgres.apply_access(self.store.sql_url, self.catalog, self.prefix)
            self._access_applied = True

    @contextmanager
    def _sql(self, schema: str) -> Iterator[Any]:
        """An ADBC connection to where an area's tables live (the shared PostgreSQL database, or the area's
        own SQLite file), closed afterwards: what is not committed is rolled back."""
        conn = (postgres.connect(self.store.sql_url) if self.is_postgres
                else sqlite_adbc(safe_path(self.root, f"{schema}.db", what="area")))
        try:
            yield conn
        finally:
            conn.close()

    def _swap_postgres(self, audience: Audience, dataset_id: str, table: pa.Table | Batch,
                       columns: dict[str, dict[str, str]], table_meta: dict[str, str]) -> None:
        self.ensure_access()
        name = sql_name(dataset_id)
        side = name + "__next"
        with self._sql(audience.schema) as conn:
            cur = conn.cursor()
            cur.adbc_ingest(side, _plain(table), mode="replace", db_schema_name=audience.schema)
            s = postgres.ident(audience.schema)
            cur.execute(f"DROP TABLE IF EXISTS {s}.{postgres.ident(name)}")
            cur.execute(f"ALTER TABLE {s}.{postgres.ident(side)} RENAME TO {postgres.ident(name)}")
            if key := _merge_key(table.schema.names):
                cur.execute(key_index_sql(f"{s}.{postgres.ident(name)}", name, key))
            postgres.execute_all(conn, postgres.table_sql(audience, name, table_meta, columns, self.prefix))
            conn.commit()

    def _swap_sqlite(self, audience: Audience, dataset_id: str, table: pa.Table | Batch,
                     columns: dict[str, dict[str, str]]) -> None:
        name = sql_name(dataset_id)
        self.root.mkdir(parents=True, exist_ok=True)
        data = _plain(table.map(lambda t: sql_compatible(t, "sqlite")) if isinstance(table, Batch)
                      else sql_compatible(table, "sqlite"))
        comments = pa.table({
            "table_name": [name] * len(columns), "column_name": list(columns),
            "name_zh": [m.get("name_zh", "") for m in columns.values()],
            "name_en": [m.get("name_en", "") for m in columns.values()],
            "definition": [m.get("definition", "") for m in columns.values()],
        }, schema=pa.schema([(c, pa.string()) for c in
                             ("table_name", "column_name", "name_zh", "name_en", "definition")]))
        with self._sql(audience.schema) as conn:
            cur = conn.cursor()
            cur.adbc_ingest(name + "__next", data, mode="replace")
            cur.execute(f"DROP TABLE IF EXISTS {postgres.ident(name)}")
            cur.execute(f"ALTER TABLE {postgres.ident(name + '__next')} RENAME TO {postgres.ident(name)}")
            if key := _merge_key(table.schema.names):
                cur.execute(key_index_sql(postgres.ident(name), name, key))
            cur.execute(COLUMNS_DDL)
            cur.execute(f"DELETE FROM _columns WHERE table_name = {postgres.literal(name)}")
            if comments.num_rows:
                cur.adbc_ingest("_columns", comments, mode="append")
            conn.commit()

    # --- registry ---
    def _table(self) -> sa.Table:
        if self._registry is not None:
            return self._registry
        md = sa.MetaData()
        t = sa.Table(
            AREAS_TABLE, md,
            sa.Column("schema_name", sa.String(100), primary_key=True),
            sa.Column("dataset_id", sa.String(200), primary_key=True),
            *version_columns(),
        )
        versions_table(md)
        create_tables(self.store.engine, md)
        self._registry = t
        return t

    def _current(self, schema: str, dataset_id: str) -> str | None:
        t = self._table()
        with self.store.engine.connect() as c:
            row = c.execute(sa.select(t.c.content_hash).where(t.c.schema_name == schema,
                                                              t.c.dataset_id == dataset_id)).first()
        return str(row[0]) if row else None

    def _record(self, schema: str, dataset_id: str, kind: str, rows: int, digest: str, batch_id: str) -> None:
        t = self._table()
        where_rows = (str(safe_path(self.area_dir(schema), dataset_id, what="dataset id")) if self.objects is None
                      else self.objects.uri(schema, dataset_id, digest))
        values: dict[str, Any] = {
            "kind": kind, "parquet_path": where_rows,
            "sql_table": f"{schema}.{sql_name(dataset_id)}", "rows": rows, "content_hash": digest,
            "last_batch": batch_id, "updated_at": datetime.now(UTC)}
        where = (t.c.schema_name == schema) & (t.c.dataset_id == dataset_id)
        history = t.metadata.tables[VERSIONS_TABLE]
        with self.store.engine.begin() as c:
            if c.execute(sa.select(t.c.dataset_id).where(where)).first():
                c.execute(t.update().where(where).values(**values))
            else:
                c.execute(t.insert().values(schema_name=schema, dataset_id=dataset_id, **values))
            c.execute(history.insert().values(schema_name=schema, dataset_id=dataset_id, content_hash=digest,
                                              rows=rows, last_batch=batch_id, published_at=values["updated_at"]))

    def withdraw(self, schema: str, dataset_id: str) -> None:
        """Take the copy of ``dataset_id`` out of the area ``schema`` (its department lost the grant, or its
        rows left the table): its SQL table is dropped, its Parquet versions deleted (link, files or objects),
        then its record and version rows. A withdrawal killed half way is done again by the next sharing, which
        still finds the record."""
        name = sql_name(dataset_id)
        with self._sql(schema) as conn:
            cur = conn.cursor()
            if self.is_postgres:
                cur.execute(f"DROP TABLE IF EXISTS {postgres.ident(schema)}.{postgres.ident(name)}")
            else:
                cur.execute(f"DROP TABLE IF EXISTS {postgres.ident(name)}")
                cur.execute(COLUMNS_DDL)
                cur.execute(f"DELETE FROM _columns WHERE table_name = {postgres.literal(name)}")
            conn.commit()
        t, versions = self._table(), versions_table()
        if self.objects is None:
            safe_path(self.area_dir(schema), dataset_id, what="dataset id").unlink(missing_ok=True)
            shutil.rmtree(safe_path(self.area_dir(schema), ".versions", dataset_id, what="dataset id"),
                          ignore_errors=True)
        else:
            with self.store.engine.connect() as c:
                digests = {str(h) for (h,) in c.execute(sa.select(versions.c.content_hash).where(
                    versions.c.schema_name == schema, versions.c.dataset_id == dataset_id))}
            for digest in sorted(digests | {h for h in [self._current(schema, dataset_id)] if h}):
                self.objects.delete(schema, dataset_id, digest)
                shutil.rmtree(safe_path(self.store.home / "cache" / "areas", schema, dataset_id, digest,
                                        what="dataset id"), ignore_errors=True)
        with self.store.engine.begin() as c:
            c.execute(versions.delete().where(versions.c.schema_name == schema, versions.c.dataset_id == dataset_id))
            c.execute(t.delete().where(t.c.schema_name == schema, t.c.dataset_id == dataset_id))

    def relabel(self, schema: str, dataset_id: str, batch_id: str) -> None:
        """Record ``batch_id`` as the last batch of a copy whose content it leaves as it is."""
        t = self._table()
        with self.store.engine.begin() as c:
            c.execute(t.update().where(t.c.schema_name == schema, t.c.dataset_id == dataset_id,
                                       t.c.last_batch != batch_id).values(last_batch=batch_id))

    def copies(self, dataset_id: str) -> set[str]:
        """The areas (schemas) holding a copy of ``dataset_id``."""
        t = self._table()
        with self.store.engine.connect() as c:
            return {str(s) for (s,) in c.execute(sa.select(t.c.schema_name).where(t.c.dataset_id == dataset_id))}

    def listing(self) -> list[dict[str, Any]]:
        """Every area copy with its schema, locations, rows and content hash."""
        t = self._table()
        with self.store.engine.connect() as c:
            rows = c.execute(sa.select(t).order_by(t.c.schema_name, t.c.dataset_id)).mappings().all()
        return [{**dict(r), "updated_at": r["updated_at"].isoformat() if r["updated_at"] else None} for r in rows]
