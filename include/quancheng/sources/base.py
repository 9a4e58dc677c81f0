"""The one source interface: extract a window of a form into bounded Arrow record batches.

Every kind of departmental system (SQL database, file drop, HTTP API) subclasses :class:`Source`
and registers itself by name with :func:`register` (the registry is :data:`quancheng.registry.SOURCE_KINDS`;
kinds from other packages come through the entry point group ``quancheng.source_kinds``). The pipeline only ever calls
:meth:`Source.extract`, which first compares the live schema with the catalog (drift fails the
task and publishes nothing), then yields record batches of at most ``chunk_rows`` rows in the schema
the kind declares (:meth:`Source.schema`: the catalog's columns in their native types, or all as text
for kinds that carry text only; a column holding a value its native type cannot goes on as text).
A window with no rows (a quiet day, a drop with no new row, an API
with no page) yields one empty batch of that schema, so the batch always has every column.

Drift is an added, removed or retyped column. Retyping is checked only where the source has typed
columns: a kind that can tell implements :meth:`Source.live_types` (SQL databases, by reflection);
file drops and the JSON API carry text only and keep the default, which skips the check.

Connections are URIs, resolved from an Airflow connection or ``AIRFLOW_CONN_<CONN_ID>``; they
never appear in errors or logs (see :func:`redact`).
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.models import NativeType, SourceForm, System
from quancheng.errors import QuanchengError, SchemaDriftError, SourceError
from quancheng.registry import SOURCE_KINDS as KINDS
from quancheng.registry import UnknownName
from quancheng.sources.types import local_naive, native_schema

DriftPolicy = Literal["fail", "allow_new"]


@dataclass(frozen=True)
class LiveType:
    """A live column's type as the source reports it, and the catalog native types it can hold."""

    declared: str  # e.g. "NUMERIC(24, 4)", "TEXT"
    accepts: frozenset[NativeType]


@dataclass(frozen=True)
class Window:
    """The slice of source data one run reads: Airflow's data interval, ``[start, end)``.

    ``start=None`` reads from the beginning (first run, or a snapshot system).
    """

    start: datetime | None
    end: datetime


def connection_uri(conn_id: str) -> str:
    """The URI of a connection from the environment (the same variable Airflow reads)."""
    var = "AIRFLOW_CONN_" + conn_id.upper()
    uri = os.environ.get(var)
    if not uri:
        raise QuanchengError(f"connection {conn_id!r} is not configured: set {var} or add an Airflow connection")
    return uri


def canonical_uri(uri: str) -> str:
    """Undo what Airflow's ``Connection.get_uri()`` does to paths and schemes.

    Airflow percent-encodes the path (``sqlite:///%2Ftmp%2Fa.db``, ``http://host/api%2Fv1%2Ftax``) and names
    PostgreSQL ``postgres://``; sources always receive ``sqlite:////tmp/a.db``, ``file:///tmp/drop``,
    ``http://host/api/v1/tax`` and ``postgresql://...``.
    """
    from urllib.parse import unquote

    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    scheme = {"postgres": "postgresql", "mariadb": "mysql"}.get(scheme, scheme)
    if scheme in ("sqlite", "file"):
        rest = unquote(rest)
        if not rest.startswith("/"):
            rest = "/" + rest
        if scheme == "sqlite" and not rest.startswith("//"):
            rest = "/" + rest
    elif scheme in ("http", "https"):  # the base path only: credentials and the query stay encoded
        netloc, slash, tail = rest.partition("/")
        path, q, query = tail.partition("?")
        rest = netloc + slash + unquote(path) + q + query
    return f"{scheme}://{rest}"


_SECRET = re.compile(r"(?P<scheme>[a-z0-9+]+://)(?P<user>[^:/@]*)(:(?P<pw>[^@/]*))?@")


def redact(text: str) -> str:
    """Remove passwords from any URI in ``text`` (``user:secret@`` -> ``user:***@``)."""
    return _SECRET.sub(lambda m: f"{m['scheme']}{m['user']}{':***' if m['pw'] is not None else ''}@", text)


class Source(ABC):
    """A departmental system of one kind, bound to its catalog entry and connection URI."""

    kind: ClassVar[str]

    def __init__(self, system: System, catalog: Catalog, uri: str, *, drift: DriftPolicy = "fail"):
        self.system = system
        self.catalog = catalog
        self.uri = uri
        self.drift = drift

    def local(self, moment: datetime) -> datetime:
        """A window bound in the system's own clock (its catalog ``timezone``), naive like its timestamps."""
        return local_naive(moment, self.system.timezone)

    def future_rows(self, form: SourceForm, window: Window) -> int | None:
        """How many rows of ``form`` carry an update time at or after the window's end (a clock ahead, or a
        typo in a date): a window never reads them, so the run reports them. None: this kind cannot tell."""
        return None

    # --- what each kind implements ---
    @abstractmethod
    def live_columns(self, form: SourceForm) -> list[str]:
        """The column names the live source has for ``form`` (raises SourceUnavailable if down)."""

    @abstractmethod
    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        """Yield the rows of ``form`` changed within ``window`` (all rows for a snapshot form)."""

    def live_types(self, form: SourceForm) -> dict[str, LiveType] | None:
        """Column -> live type, for kinds whose columns are typed; None (this default) skips the type check."""
        return None

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """Yield the primary key columns (only those) of every row the source holds now, in batches of at
        most ``chunk_rows``: what delete reconciliation compares the published keys with. A kind that cannot
        list its keys keeps this default, which refuses with the fix."""
        raise SourceError(self.system.system_id, form.table,
                          f"a {self.kind} source cannot list its keys for delete reconciliation "
                          "(fix: set the system's delete_detection to soft_delete or none in systems.csv)")

    def position(self, form: SourceForm) -> str | None:
        """The complete state of the source a read of ``form`` sees, where a kind has one that sorts by time and
        must never go backwards (a file drop's export name); None, this default, for live databases and APIs."""
        return None

    def schema(self, form: SourceForm) -> pa.Schema:
        """The schema of every batch :meth:`read` yields for ``form``: the catalog's columns in fields.csv
        order, in their native types (this default); kinds that carry text only declare all text."""
        return native_schema(self.catalog, form)

    # --- shared behaviour ---
    def check_schema(self, form: SourceForm) -> list[str]:
        """Compare live columns and types with the catalog; raise SchemaDriftError, or return new columns let through.

        A column is retyped when its live type cannot hold the catalog's ``native_type`` (e.g. a
        ``decimal`` field that the source now keeps as ``TEXT``); the message names both types.
        """
        fields = self.catalog.fields_of(form.form_id)
        expected = [f.column for f in fields]
        live = self.live_columns(form)
        missing = [c for c in expected if c not in live]
        added = [c for c in live if c not in expected]
        retyped: list[str] = []
        if not missing:
            types = self.live_types(form)
            if types is not None:
                retyped = [f"{f.column} (catalog {f.native_type}, live {types[f.column].declared})"
                           for f in fields if f.column in types and f.native_type not in types[f.column].accepts]
        if missing or retyped or (added and self.drift == "fail"):
            parts = []
            if missing:
                parts.append(f"columns missing from the source: {missing}")
            if retyped:
                parts.append(f"columns retyped: {retyped}")
            if added:
                parts.append(f"columns not in the catalog: {added}")
            fix = "update the catalog's fields.csv" + (", or allow new columns with drift='allow_new'"
                                                       if added and not (missing or retyped) else "")
            raise SchemaDriftError(self.system.system_id, form.table,
                                   "schema drift, nothing published: " + "; ".join(parts) + f" ({fix})")
        return added

    def extract(self, form: SourceForm, window: Window, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """Check the schema, then yield the window's rows in batches of at most ``chunk_rows``.

        A window with no rows yields one empty batch of :meth:`schema`: an empty result still says which
        columns the form has, so the steps after it treat a quiet day like any other.
        """
        self.check_schema(form)
        empty = True
        for batch in self.read(form, window, chunk_rows):
            empty = False
            yield batch
        if empty:
            yield pa.RecordBatch.from_pylist([], schema=self.schema(form))


# the registry of kinds (quancheng.registry): built-in kinds are imported on first use, other packages' through
# the entry point group ``quancheng.source_kinds``; this dict is what is registered now
SOURCE_KINDS = KINDS.entries


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a Source kind available by its ``kind`` name."""
    KINDS.register(cls.kind, cls)
    return cls


def source_kinds() -> list[str]:
    """Every source kind the catalog may name, sorted."""
    return KINDS.names()


def source_class(kind: str) -> type[Source]:
    """The Source class for ``kind``; an unknown kind fails listing the known ones."""
    try:
        return KINDS.get(kind)
    except UnknownName as exc:
        raise SourceError("?", None, str(exc)) from None


def open_source(system: System, catalog: Catalog, uri: str | None = None, *,
                drift: DriftPolicy = "fail") -> Source:
    """Bind a system to its source kind and connection (from the environment when ``uri`` is None)."""
    cls = source_class(system.kind)
    resolved = canonical_uri(uri or connection_uri(system.conn_id))
    check_uri(system, resolved)
    return cls(system, catalog, resolved, drift=drift)


def check_uri(system: System, uri: str) -> None:
    """Refuse a connection URI that cannot be parsed (a port that is not a number, out of range) in one
    line naming the system and its connection, password removed."""
    from urllib.parse import urlsplit

    try:
        urlsplit(uri).port  # noqa: B018 - parsed for its ValueError
    except ValueError as exc:
        raise SourceError(system.system_id, None, f"connection {system.conn_id!r} has an unusable URI "
                                                  f"{redact(uri)!r}: {exc} (fix: the connection's port)") from None
