"""Helpers for the source contract tests (contract.py): one host per built-in kind that puts an Arrow table into
a real engine.

PostgreSQL and MariaDB tests use the real servers; they skip when a server is unreachable, unless
CI=true, where they fail.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import ExitStack, closing
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.demo import engines
from quancheng.sources.base import Source, Window, source_class
from quancheng.sources.files import write_drop
from quancheng.sources.types import native_schema

KINDS = ["sqlite", "postgresql", "mariadb", "csv", "excel", "http"]
BASE_TIME = datetime(2025, 1, 1)


def kind_param(kind: str) -> object:
    marks = {"postgresql": [pytest.mark.postgres], "mariadb": [pytest.mark.mariadb]}.get(kind, [])
    return pytest.param(kind, marks=marks, id=kind)


def sample_table(catalog: Catalog, form: SourceForm, rows: int) -> pa.Table:
    """Deterministic rows of every native type; the update column is BASE_TIME + i hours."""
    columns = {}
    for f in catalog.fields_of(form.form_id):
        if f.column == form.updated_column:
            values: list[object] = [BASE_TIME + timedelta(hours=i) for i in range(rows)]
        elif f.native_type == "text" and f.column in form.primary_key:
            values = [f"{f.column}-{i:05d}" for i in range(rows)]
        elif f.native_type == "text":
            values = [f"{f.column}-{i:05d}" if i % 11 else ("甲 乙" if i % 2 else None) for i in range(rows)]
        elif f.native_type == "integer":
            values = [i * 3 for i in range(rows)]
        elif f.native_type == "decimal":
            values = [Decimal(i) / 4 + Decimal("1000.0001") if i % 7 else None for i in range(rows)]
        elif f.native_type == "date":
            values = [date(2019, 1, 1) + timedelta(days=i) for i in range(rows)]
        elif f.native_type == "datetime":
            values = [BASE_TIME + timedelta(minutes=i) for i in range(rows)]
        else:
            values = [i % 2 == 0 for i in range(rows)]
        columns[f.column] = values
    return pa.Table.from_pydict(columns, schema=native_schema(catalog, form))


class Host:
    """A place one kind of source lives in; ``put`` replaces a form's table with any Arrow table."""

    def __init__(self, kind: str, catalog: Catalog, root: Path, stack: ExitStack):
        self.kind, self.catalog, self.root, self.stack = kind, catalog, root, stack
        self.uri = ""
        self.databases: list[str] = []
        self.api_base = ""
        self.text_only = kind in ("csv", "excel")  # what the contract asks of a host (contract.ContractHost)
        self.typed = kind in ("sqlite", "postgresql", "mariadb")

    def system_of(self, form: SourceForm):  # type: ignore[no-untyped-def]
        return self.catalog.system[form.system_id]

    def source(self, form: SourceForm, *, uri: str | None = None, drift: str = "fail") -> Source:
        cls = source_class(self.kind)
        return cls(self.system_of(form), self.catalog, uri or self.uri_for(form), drift=drift)  # type: ignore[arg-type]

    def uri_for(self, form: SourceForm) -> str:
        if self.kind == "http":
            return f"{self.api_base}/{form.system_id}"
        return self.uri

    def put(self, form: SourceForm, table: pa.Table) -> None:
        kind = self.kind
        if kind == "sqlite":
            path = self.root / "db.sqlite"
            self.uri = f"sqlite:///{path}"
            engines.load_sqlite(path, self.catalog, form, self._catalog_shape(form, table))
            self._reshape_sql(form, table)
        elif kind in ("postgresql", "mariadb"):
            if not self.uri:
                db = f"qc_test_{uuid.uuid4().hex[:10]}"
                self.uri = engines.recreate_database(kind, db)  # type: ignore[arg-type]
                self.databases.append(db)
            load = engines.load_postgresql if kind == "postgresql" else engines.load_mariadb
            load(self.uri, self.catalog, form, self._catalog_shape(form, table))
            self._reshape_sql(form, table)
        elif kind in ("csv", "excel"):
            drop = self.root / "drop"
            self.uri = f"file://{drop}"
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
            write_drop(drop / form.table, table, "csv" if kind == "csv" else "xlsx", stamp)
        else:
            engines.load_api(self.root, form.system_id, form, table)
            meta = self.root / "api" / "tables.json"
            rows = json.loads(meta.read_text()) if meta.exists() else []
            rows = [r for r in rows if r["table"] != form.table]
            rows.append({"system_id": form.system_id, "table": form.table, "updated_column": form.updated_column})
            meta.write_text(json.dumps(rows))

    def _catalog_shape(self, form: SourceForm, table: pa.Table) -> pa.Table:
        # load the catalog's columns that the table has; drift tests add or drop columns afterwards
        names = [f.column for f in self.catalog.fields_of(form.form_id)]
        cols = {n: table[n] if n in table.column_names else pa.nulls(table.num_rows, native_schema(
            self.catalog, form).field(n).type) for n in names}
        return pa.table(cols)

    def _reshape_sql(self, form: SourceForm, table: pa.Table) -> None:
        names = [f.column for f in self.catalog.fields_of(form.form_id)]
        extra = [c for c in table.column_names if c not in names]
        missing = [c for c in names if c not in table.column_names]
        engine = "sqlite" if self.kind == "sqlite" else self.kind
        q = lambda n: engines.quote(engine, n)  # type: ignore[arg-type]  # noqa: E731
        stmts = [f"ALTER TABLE {q(form.table)} ADD COLUMN {q(c)} TEXT" for c in extra]
        stmts += [f"ALTER TABLE {q(form.table)} DROP COLUMN {q(c)}" for c in missing]
        if not stmts:
            return
        if self.kind == "sqlite":
            with closing(sqlite3.connect(self.root / "db.sqlite")) as db:
                for s in stmts:
                    db.execute(s)
                db.commit()
        elif self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.uri, autocommit=True) as conn:
                for s in stmts:
                    conn.execute(s)
        else:
            with engines._mariadb(engines.db_name(self.uri)) as conn, conn.cursor() as cur:
                for s in stmts:
                    cur.execute(s)

    def retype(self, form: SourceForm, column: str) -> None:
        """Turn ``column`` into a text column in the live table (values kept as their text)."""
        q = lambda n: engines.quote(self.kind, n)  # type: ignore[arg-type]  # noqa: E731
        if self.kind == "sqlite":  # no ALTER COLUMN: rebuild the table; CAST AS TEXT declares TEXT
            with closing(sqlite3.connect(self.root / "db.sqlite")) as db:
                names = [r[1] for r in db.execute(f"PRAGMA table_info({q(form.table)})")]
                cols = ", ".join(f"CAST({q(n)} AS TEXT) AS {q(n)}" if n == column else q(n) for n in names)
                db.execute(f"CREATE TABLE qc_retyped AS SELECT {cols} FROM {q(form.table)}")
                db.execute(f"DROP TABLE {q(form.table)}")
                db.execute(f"ALTER TABLE qc_retyped RENAME TO {q(form.table)}")
                db.commit()
        elif self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.uri, autocommit=True) as conn:
                conn.execute(f"ALTER TABLE {q(form.table)} ALTER COLUMN {q(column)} TYPE TEXT USING {q(column)}::text")
        elif self.kind == "mariadb":
            with engines._mariadb(engines.db_name(self.uri)) as conn, conn.cursor() as cur:
                cur.execute(f"ALTER TABLE {q(form.table)} MODIFY {q(column)} TEXT")
        else:
            raise ValueError(f"{self.kind} sources hold text only: nothing to retype")

    def broken_uri(self, form: SourceForm) -> str:
        """A URI to the same kind of source that is down; carries a password where the kind has one."""
        return {
            "sqlite": f"sqlite:///{self.root}/missing.sqlite",
            "postgresql": "postgresql://postgres:s3cret-pw@127.0.0.1:1/qc_nowhere",
            "mariadb": "mysql://root:s3cret-pw@127.0.0.1:1/qc_nowhere",
            "csv": f"file://{self.root}/no-such-drop",
            "excel": f"file://{self.root}/no-such-drop",
            "http": f"http://user:s3cret-pw@127.0.0.1:1/{form.system_id}",
        }[self.kind]


ROWS = 60
INCREMENTAL = "amr_enterprise_reg"  # has decimal, date and datetime columns and an update column
SNAPSHOT = "hcb_permit"  # no update column
FAR = Window(None, BASE_TIME + timedelta(days=3650))


def as_text(table: pa.Table) -> list[dict[str, object]]:
    """Rows with every value as text: file drops yield text, databases native types."""
    cols = {n: pc.cast(table[n], pa.string()) for n in table.column_names}
    return pa.table(cols).to_pylist()


def read_all(host: Host, form_id: str, window: Window = FAR, chunk_rows: int = 1000) -> pa.Table:
    form = host.catalog.form[form_id]
    batches = list(host.source(form).extract(form, window, chunk_rows))
    assert batches and all(isinstance(b, pa.RecordBatch) for b in batches)  # an empty window yields one empty batch
    return pa.Table.from_batches(batches)
