"""Read a new system's schema: tables, columns, Chinese labels, native types, keys, samples.

- SQL (PostgreSQL, MariaDB/MySQL, SQLite, and any database SQLAlchemy has a dialect for, by its own URL):
  reflection gives columns, types and primary keys; column comments (PostgreSQL ``COMMENT ON COLUMN``,
  MySQL ``COLUMN_COMMENT``) become the Chinese labels and table comments the form names;
- CSV and Excel drops (``file:///dropdir``, one folder per table): the newest complete export's header, in
  the encoding its bytes show (:func:`quancheng.sources.files.detect_encoding`), and its first rows;
- the JSON API (``http://host/base``, tables named with ``--table``): ``<table>/schema`` and a first page.

A column without a comment is labelled with its own name (a Chinese header in a drop is its label). The
update-time column is guessed from names and types (:func:`guess_updated`). Nothing here writes anything:
:mod:`quancheng.onboard.drafts` turns the result into catalog rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from quancheng.errors import QuanchengError

SAMPLE_ROWS = 20
_UPDATED_NAME = re.compile(r"(updated?|modif|changed|last_?(mod|upd)|gxsj|xgsj|zhgxsj|update_?time|mtime|更新|修改)",
                           re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


@dataclass
class ColumnDraft:
    name: str
    label: str
    native_type: str
    samples: tuple[str, ...] = ()


@dataclass
class TableDraft:
    table: str
    label: str
    columns: list[ColumnDraft] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    updated_column: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "label": self.label, "primary_key": list(self.primary_key),
                "updated_column": self.updated_column,
                "columns": [{"name": c.name, "label": c.label, "native_type": c.native_type,
                             "samples": list(c.samples)} for c in self.columns]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TableDraft:
        return cls(d["table"], d["label"], [ColumnDraft(c["name"], c["label"], c["native_type"], tuple(c["samples"]))
                                            for c in d["columns"]], tuple(d["primary_key"]), d["updated_column"])


def kind_of(uri: str) -> str:
    """The catalog ``kind`` a connection URI suggests (a drop folder's files decide csv or excel)."""
    scheme = uri.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    if scheme in ("mysql", "mariadb", "mysql+pymysql"):
        return "mariadb"
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("http", "https"):
        return "http"
    if scheme == "file":
        from quancheng.sources.files import drop_dir

        folder = drop_dir(uri)
        if not folder.is_dir():
            raise QuanchengError(f"drop folder {folder} does not exist (fix: the --uri file:///path of the drops)")
        if any(folder.glob("*/*.xlsx")):
            return "excel"
        return "csv"
    return "sql"  # any other SQLAlchemy URL (达梦, 金仓, Oracle ...): the generic kind, quancheng.sources.generic_sql


def introspect(uri: str, tables: Sequence[str] = (), sample_rows: int = SAMPLE_ROWS) -> list[TableDraft]:
    """Every table of the system at ``uri`` (or the ones named), drafted for the catalog."""
    kind = kind_of(uri)
    if kind in ("csv", "excel"):
        drafts = _drops(uri, kind, tables, sample_rows)
    elif kind == "http":
        if not tables:
            raise QuanchengError("an API lists no tables: name them with --table (one per endpoint)")
        drafts = [_api_table(uri, t, sample_rows) for t in tables]
    else:
        drafts = _sql(uri, tables, sample_rows)
    if not drafts:
        raise QuanchengError(f"no tables found at {_redact(uri)}" + (f" named {list(tables)}" if tables else ""))
    for d in drafts:
        d.updated_column = d.updated_column or guess_updated(d)
    return drafts


def guess_updated(t: TableDraft) -> str:
    """The column that most likely records each row's last change: a date-time column named so, else ''."""
    timed = [c for c in t.columns if c.native_type == "datetime"]
    for c in timed:
        if _UPDATED_NAME.search(c.name) or _UPDATED_NAME.search(c.label):
            return c.name
    return ""


def _redact(uri: str) -> str:
    from quancheng.sources.base import redact

    return redact(uri)


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date | Decimal):
        return str(v)
    return str(v)


def _guess_text_type(samples: Sequence[str]) -> str:
    """A text column whose every sample is an ISO date (date-time) is one (SQLite keeps them as text)."""
    values = [s for s in samples if s]
    if values and all(_ISO_DATE.match(v) for v in values):
        return "date"
    if values and all(_ISO_DATETIME.match(v) for v in values):
        return "datetime"
    return "text"


# --- SQL ---
def _sql(uri: str, only: Sequence[str], sample_rows: int) -> list[TableDraft]:
    import sqlalchemy as sa

    from quancheng.sources.sql import _SCHEMES, sqlalchemy_url

    scheme = uri.split("://", 1)[0].lower()
    ours = scheme in _SCHEMES
    url = sqlalchemy_url(uri) if ours else uri
    if scheme == "sqlite":
        path = Path(url.split("file:", 1)[1].split("?", 1)[0])
        if not path.is_file():
            raise QuanchengError(f"SQLite database {path} does not exist (fix: --uri sqlite:////abs/path.db)")
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise QuanchengError(f"cannot read {_redact(uri)}: {exc} (fix: a database URL SQLAlchemy knows, "
                             "with its driver installed)") from None
    try:
        insp = sa.inspect(engine)
        names = [n for n in insp.get_table_names() if not only or n in only]
        missing = [t for t in only if t not in names]
        if missing:
            raise QuanchengError(f"{_redact(uri)} has no table {missing[0]!r} (it has: {insp.get_table_names()[:20]})")
        out = []
        with engine.connect() as conn:
            for name in names:
                out.append(_sql_table(conn, insp, engine, name, sample_rows))
        return out
    except sa.exc.DBAPIError as exc:
        raise QuanchengError(f"cannot read {_redact(uri)}: {_redact(str(exc.orig or exc)).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _sql_table(conn: Any, insp: Any, engine: Any, name: str, sample_rows: int) -> TableDraft:
    import sqlalchemy as sa

    try:
        label = (insp.get_table_comment(name) or {}).get("text") or name
    except NotImplementedError:
        label = name
    cols = insp.get_columns(name)
    table = sa.Table(name, sa.MetaData(), *(sa.Column(c["name"]) for c in cols))
    rows = conn.execute(sa.select(table).limit(sample_rows)).fetchall()
    draft = TableDraft(name, label.strip(), primary_key=tuple(insp.get_pk_constraint(name).get("constrained_columns")
                                                              or ()))
    for i, c in enumerate(cols):
        samples = tuple(_text(r[i]) for r in rows)
        native = _native(c["type"])
        if native == "text" and engine.dialect.name == "sqlite":
            native = _guess_text_type(samples)
        draft.columns.append(ColumnDraft(c["name"], (c.get("comment") or "").strip() or c["name"], native, samples))
    return draft


def _native(sql_type: Any) -> str:
    import sqlalchemy as sa

    if isinstance(sql_type, sa.Boolean):
        return "boolean"
    if isinstance(sql_type, sa.Integer):
        return "integer"
    if isinstance(sql_type, sa.Numeric | sa.Float):
        return "decimal"
    if isinstance(sql_type, sa.DateTime):
        return "datetime"
    if isinstance(sql_type, sa.Date):
        return "date"
    return "text"


# --- file drops ---
def _drops(uri: str, kind: str, only: Sequence[str], sample_rows: int) -> list[TableDraft]:
    from quancheng.sources.files import complete_exports, drop_dir

    folder = drop_dir(uri)
    fmt = "xlsx" if kind == "excel" else "csv"
    out = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if only and sub.name not in only:
            continue
        done, _ = complete_exports(sub, fmt)  # type: ignore[arg-type]
        if not done:
            continue
        header, rows = (_csv_head if fmt == "csv" else _xlsx_head)(done[0], sample_rows)  # newest first
        draft = TableDraft(sub.name, sub.name)
        for i, h in enumerate(header):
            samples = tuple(r[i] if i < len(r) else "" for r in rows)
            draft.columns.append(ColumnDraft(h, h, _guess_text_type(samples), samples))
        out.append(draft)
    return out


def _csv_head(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    import csv
    import io

    from quancheng.sources.files import detect_encoding, read_marker

    encoding = read_marker(path).get("encoding") or detect_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        head = [line for _, line in zip(range(n + 1), fh, strict=False)]
    rows = list(csv.reader(io.StringIO("".join(head))))
    header = [h.lstrip("\ufeff").strip() for h in rows[0]] if rows else []
    return header, rows[1:]


def _xlsx_head(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    from python_calamine import CalamineWorkbook

    from quancheng.sources.files import _cell_text

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = []
    for i, row in enumerate(sheet.iter_rows()):
        rows.append([_cell_text(c) or "" for c in row])
        if i >= n:
            break
    header = [h.strip() for h in rows[0]] if rows else []
    return header, rows[1:]


# --- JSON API ---
def _api_table(uri: str, table: str, sample_rows: int) -> TableDraft:
    import urllib.error
    import urllib.request
    from urllib.parse import quote

    from quancheng.sources.http import split_credentials

    base, headers = split_credentials(uri)

    def get(path: str) -> Any:
        req = urllib.request.Request(base.rstrip("/") + "/" + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # the steward's own URI
                return json.loads(resp.read())
        except (urllib.error.URLError, json.JSONDecodeError, TimeoutError) as exc:
            raise QuanchengError(f"cannot read {_redact(base)}/{path}: {exc}") from None

    schema = get(f"{quote(table)}/schema")
    page = get(f"{quote(table)}?page=1&page_size={sample_rows}")
    columns = schema.get("columns") if isinstance(schema, dict) else None
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(columns, list) or not isinstance(items, list):
        raise QuanchengError(f"{_redact(base)}/{table}: the API answers no 'columns' or 'items' list")
    labels = schema.get("labels") if isinstance(schema.get("labels"), dict) else {}
    draft = TableDraft(table, str(schema.get("label") or table))
    for c in columns:
        samples = tuple(_text(i.get(c)) for i in items if isinstance(i, dict))
        kinds = {type(i.get(c)) for i in items if isinstance(i, dict) and i.get(c) is not None}
        native = ("integer" if kinds == {int} else "decimal" if kinds and kinds <= {int, float}
                  else "boolean" if kinds == {bool} else _guess_text_type(samples))
        draft.columns.append(ColumnDraft(str(c), str(labels.get(c) or c), native, samples))
    return draft
