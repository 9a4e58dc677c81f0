"""Share a published dataset by the rules: split it per area, tokenize, publish each area's copy.

What the pipeline calls after the shared store has published a dataset (see
``notes/issue6_integration.md``): :func:`share_system_dataset` for a system's form dataset,
:func:`share_wide`, :func:`share_long` or :func:`share_open` for the consolidated datasets.
Each returns ``{"<schema>/<dataset_id>": {rows, content_hash, changed}}`` for the Asset event's extra.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.publish.delta import Batch
from quancheng.publish.store import DatasetKind, SharedStore
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.guard import guard_open
from quancheng.sharing.metadata import column_meta, dataset_meta
from quancheng.sharing.rules import (
    OPEN,
    TOKENIZED,
    Audience,
    long_audiences,
    split_long,
    split_system_dataset,
    split_table,
)
from quancheng.sharing.tokenize import Mode, Tokenizer, resolve_key

Outputs = dict[str, dict[str, Any]]


def mode_of(store: SharedStore) -> Mode:
    """Services mode when the shared database is PostgreSQL, else embedded (the demo)."""
    return "services" if store.dialect in ("postgresql", "postgres") else "embedded"


def tokenizer_for(store: SharedStore, *, key: str | None = None, mode: Mode | None = None) -> Tokenizer:
    """The tokenizer under the configured key (``key``: the Airflow connection's password, if the DAG has it)."""
    return Tokenizer(resolve_key(mode=mode or mode_of(store), home=store.home, explicit=key))


def _publish_parts(areas: AreaStore, dataset_id: str, parts: Mapping[Audience, pa.Table], *, kind: DatasetKind,
                   batch_id: str, sort_by: list[str] | None, tokenizer: Tokenizer | None) -> Outputs:
    """Publish each area's copy; the open copy passes :func:`~quancheng.sharing.guard.guard_open` first (with
    no ``tokenizer`` a clear personal-looking value is refused)."""
    out: Outputs = {}
    table_meta = dataset_meta(areas.catalog, dataset_id)
    for aud, part in sorted(parts.items()):
        if aud == OPEN:
            part = guard_open(part, areas.catalog, tokenizer, dataset_id)
        tokenized = _tokenized_columns(part)
        cols = column_meta(areas.catalog, part.column_names, tokenized)
        pub = areas.publish(aud, dataset_id, part, kind=kind, batch_id=batch_id, columns=cols, table_meta=table_meta,
                            sort_by=[c for c in (sort_by or []) if c in part.column_names])
        out[f"{aud.schema}/{dataset_id}"] = {"rows": pub.rows, "content_hash": pub.content_hash,
                                             "changed": pub.changed}
    return _withdraw_the_rest(areas, dataset_id, out)


def _withdraw_the_rest(areas: AreaStore, dataset_id: str, out: Outputs) -> Outputs:
    """``out`` after withdrawing every other copy of ``dataset_id`` (:meth:`AreaStore.withdraw`): a copy this
    sharing no longer makes, as its department lost the grant (or a long table's rows of the system that
    granted it are gone), must not stay readable as it was. Only once the open copy was published here: a
    sharing of nothing leaves every copy as it is.

    A long table's department copy is made where it differs from the open one and, once made, kept current
    while the department may see the table, equal to the open one or not: a department reads its own copy
    where it has one, so a copy left as it was when it came to equal the open one would go on serving rows
    the open one no longer has."""
    if f"{OPEN.schema}/{dataset_id}" not in out:
        return out
    for schema in sorted(areas.copies(dataset_id) - {k.split("/", 1)[0] for k in out}):
        areas.withdraw(schema, dataset_id)
        out[f"{schema}/{dataset_id}"] = {"rows": 0, "content_hash": None, "changed": True, "withdrawn": True}
    return out


def _tokenized_columns(part: pa.Table) -> list[str]:
    return [f.name for f in part.schema if f.metadata and f.metadata.get(TOKENIZED) == b"true"]


def share_system_dataset(store: SharedStore, catalog: Catalog, form: SourceForm, table: pa.Table | Batch, *,
                         batch_id: str, key: str | None = None, areas: AreaStore | None = None,
                         tokenizer: Tokenizer | None = None) -> Outputs:
    """Publish the open, granted-department and private copies of one system dataset (a :class:`Batch` of
    parts in ``_source_key`` order is shared part by part)."""
    areas = areas or AreaStore(store, catalog)
    tokenizer = tokenizer or tokenizer_for(store, key=key)
    if isinstance(table, Batch):
        tok = tokenizer
        return _publish_batch(areas, dataset_id(form), table, lambda t: split_system_dataset(t, form, catalog, tok),
                              kind="system", batch_id=batch_id, tokenizer=tokenizer, drop_equal=False)
    parts = split_system_dataset(table, form, catalog, tokenizer)
    return _publish_parts(areas, dataset_id(form), parts, kind="system", batch_id=batch_id,
                          sort_by=["_source_key"], tokenizer=tokenizer)


def _publish_batch(areas: AreaStore, dataset_id: str, batch: Batch,
                   split: Callable[[pa.Table], Mapping[Audience, pa.Table]], *, kind: DatasetKind, batch_id: str,
                   tokenizer: Tokenizer, drop_equal: bool) -> Outputs:
    """:func:`_publish_parts` for a batch of parts (in order), never held whole: each part is split, guarded
    and spilled to a Parquet file per area; then each area's copy is published from its files. With
    ``drop_equal`` (``split`` gives every area for every part) a copy other than the open one is published
    only when some part of it differs from the open one or the copy exists already (see
    :func:`_withdraw_the_rest`). The columns tokenized in any part are described as tokenized."""
    out: Outputs = {}
    existing = areas.copies(dataset_id) if drop_equal else set()
    table_meta = dataset_meta(areas.catalog, dataset_id)
    spill = areas.store.root / ".spill"
    spill.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spill, prefix="share_") as tmp:
        files: dict[Audience, list[Path]] = {}
        tokenized: dict[Audience, set[str]] = {}
        differs: set[Audience] = {OPEN}
        for n, part in enumerate(batch.tables()):
            copies = split(part)
            for aud, copy in sorted(copies.items()):
                if aud != OPEN and (not drop_equal or not copy.equals(copies[OPEN])):
                    differs.add(aud)
                if aud == OPEN:
                    copy = guard_open(copy, areas.catalog, tokenizer, dataset_id)
                tokenized.setdefault(aud, set()).update(_tokenized_columns(copy))
                folder = Path(tmp) / aud.schema
                folder.mkdir(exist_ok=True)
                path = folder / f"{n:06d}.parquet"
                pq.write_table(copy.cast(pa.schema([f.remove_metadata() for f in copy.schema])), path)
                files.setdefault(aud, []).append(path)
        for aud in sorted(a for a in files if a in differs or a.schema in existing):
            rows = Batch.parts(files[aud])
            cols = column_meta(areas.catalog, rows.schema.names, sorted(tokenized[aud]))
            pub = areas.publish(aud, dataset_id, rows, kind=kind, batch_id=batch_id, columns=cols,
                                table_meta=table_meta)
            out[f"{aud.schema}/{dataset_id}"] = {"rows": pub.rows, "content_hash": pub.content_hash,
                                                 "changed": pub.changed}
    return _withdraw_the_rest(areas, dataset_id, out)


def share_wide(areas: AreaStore, dataset_id: str, table: pa.Table | Batch, feeding: Mapping[str, set[str]], *,
               kind: DatasetKind, batch_id: str, tokenizer: Tokenizer, sort_by: list[str]) -> Outputs:
    """A consolidated table with element columns fed by several systems (stage forms, the master); a
    :class:`Batch` of parts (in ``sort_by`` order) is shared part by part."""
    if isinstance(table, Batch):
        return _publish_batch(areas, dataset_id, table,
                              lambda t: split_table(t, areas.catalog, feeding, tokenizer),
                              kind=kind, batch_id=batch_id, tokenizer=tokenizer, drop_equal=False)
    parts = split_table(table, areas.catalog, feeding, tokenizer)
    return _publish_parts(areas, dataset_id, parts, kind=kind, batch_id=batch_id, sort_by=sort_by,
                          tokenizer=tokenizer)


def share_long(areas: AreaStore, dataset_id: str, table: pa.Table | Batch, *, kind: DatasetKind, batch_id: str,
               tokenizer: Tokenizer, sort_by: list[str], system_cols: tuple[str, ...] = ("system_id",),
               value_cols: tuple[str, ...] = (), element_col: str | None = "element_key") -> Outputs:
    """A long table, one element per row (conflicts, provenance; links with ``element_col=None``); a
    :class:`Batch` of parts (in ``sort_by`` order) is shared part by part."""
    if isinstance(table, Batch):
        batch = table
        systems = {s for c in system_cols for a in batch.column_parts(c) for s in pc.unique(a).to_pylist()}
        audiences = long_audiences(areas.catalog, systems) if element_col is not None else None
        return _publish_batch(areas, dataset_id, batch, lambda t: split_long(
            t, areas.catalog, tokenizer, element_col=element_col, system_cols=system_cols, value_cols=value_cols,
            audiences=audiences), kind=kind, batch_id=batch_id, tokenizer=tokenizer, drop_equal=audiences is not None)
    systems = {s for c in system_cols for s in pc.unique(table[c]).to_pylist()}
    audiences = long_audiences(areas.catalog, systems) if element_col is not None else None
    parts = split_long(table, areas.catalog, tokenizer, element_col=element_col, system_cols=system_cols,
                       value_cols=value_cols, audiences=audiences)
    if audiences is not None:
        existing = areas.copies(dataset_id)
        parts = {aud: part for aud, part in parts.items()
                 if aud == OPEN or aud.schema in existing or not part.equals(parts[OPEN])}
    return _publish_parts(areas, dataset_id, parts, kind=kind, batch_id=batch_id, sort_by=sort_by,
                          tokenizer=tokenizer)


def share_open(areas: AreaStore, dataset_id: str, table: pa.Table, *, kind: DatasetKind, batch_id: str,
               sort_by: list[str]) -> Outputs:
    """A table with nothing personal or restricted in it (materials, the enterprise review list)."""
    return _publish_parts(areas, dataset_id, {OPEN: table}, kind=kind, batch_id=batch_id,
                          sort_by=sort_by, tokenizer=None)


def as_they_are(copies: list[dict[str, Any]]) -> Outputs:
    """The outputs entry of area copies left as they are (rows of :meth:`AreaStore.listing`)."""
    return {f"{r['schema_name']}/{r['dataset_id']}": {"rows": int(r["rows"]), "content_hash": r["content_hash"],
                                                     "changed": False} for r in copies}


def merge_touched(areas: AreaStore, dataset_id: str, rows: pa.Table, touched: pa.Array, *, key: str,
                  split: Callable[[pa.Table], Mapping[Audience, pa.Table]], kind: DatasetKind, batch_id: str,
                  tokenizer: Tokenizer | None, sort_by: list[str], drop_equal: bool = False) -> Outputs | None:
    """Replace the ``touched`` keys' rows of every area copy of ``dataset_id`` by ``rows`` (those keys' rows of
    the output now) split per area by ``split`` (:meth:`AreaStore.merge`). None when some copy cannot be merged
    (split ``rows`` would make a copy that does not exist or change a copy's columns, or a copy is empty):
    then nothing is merged from that copy on and the caller shares the output whole, which gives the same
    copies. Copies merged before it stay merged: their content is what the whole sharing gives them.
    ``drop_equal``: as for :func:`_publish_batch` (a long table's department copy exists where it differs from
    the open one)."""
    existing = areas.copies(dataset_id)
    copies = dict(split(rows))
    for aud in [a for a in copies if a.schema not in existing]:
        if not drop_equal or aud == OPEN or not copies[aud].equals(copies[OPEN]):
            return None  # a copy the whole sharing would make
        del copies[aud]  # a copy the whole sharing leaves out while it equals the open one
    if {aud.schema for aud in copies} != existing:
        return None  # a copy the whole sharing would no longer make
    out: Outputs = {}
    table_meta = dataset_meta(areas.catalog, dataset_id)
    for aud, part in sorted(copies.items()):
        if aud == OPEN:
            part = guard_open(part, areas.catalog, tokenizer, dataset_id)
        cols = column_meta(areas.catalog, part.column_names, _tokenized_columns(part))
        pub = areas.merge(aud, dataset_id, part, touched, key=key, kind=kind, batch_id=batch_id, columns=cols,
                          table_meta=table_meta, sort_by=sort_by)
        if pub is None:
            return None
        out[f"{aud.schema}/{dataset_id}"] = {"rows": pub.rows, "content_hash": pub.content_hash,
                                             "changed": pub.changed}
    return out
