"""Share a published dataset by the rules: split it per area, tokenize, publish each area's copy.

What the pipeline calls after the shared store has published a dataset (see
``notes/issue6_integration.md``): :func:`share_system_dataset` for a system's form dataset,
:func:`share_wide`, :func:`share_long` or :func:`share_open` for the consolidated datasets.
Each returns ``{"<schema>/<dataset_id>": {rows, content_hash, changed}}`` for the Asset event's extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.publish.store import DatasetKind, SharedStore
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.guard import guard_open
from quancheng.sharing.metadata import column_meta, dataset_meta
from quancheng.sharing.rules import OPEN, TOKENIZED, Audience, split_long, split_system_dataset, split_table
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
    return out


def _tokenized_columns(part: pa.Table) -> list[str]:
    return [f.name for f in part.schema if f.metadata and f.metadata.get(TOKENIZED) == b"true"]


def share_system_dataset(store: SharedStore, catalog: Catalog, form: SourceForm, table: pa.Table, *, batch_id: str,
                         key: str | None = None, areas: AreaStore | None = None,
                         tokenizer: Tokenizer | None = None) -> Outputs:
    """Publish the open, granted-department and private copies of one system dataset."""
    areas = areas or AreaStore(store, catalog)
    tokenizer = tokenizer or tokenizer_for(store, key=key)
    parts = split_system_dataset(table, form, catalog, tokenizer)
    return _publish_parts(areas, dataset_id(form), parts, kind="system", batch_id=batch_id,
                          sort_by=["_source_key"], tokenizer=tokenizer)


def share_wide(areas: AreaStore, dataset_id: str, table: pa.Table, feeding: Mapping[str, set[str]], *,
               kind: DatasetKind, batch_id: str, tokenizer: Tokenizer, sort_by: list[str]) -> Outputs:
    """A consolidated table with element columns fed by several systems (stage forms, the master)."""
    parts = split_table(table, areas.catalog, feeding, tokenizer)
    return _publish_parts(areas, dataset_id, parts, kind=kind, batch_id=batch_id, sort_by=sort_by,
                          tokenizer=tokenizer)


def share_long(areas: AreaStore, dataset_id: str, table: pa.Table, *, kind: DatasetKind, batch_id: str,
               tokenizer: Tokenizer, sort_by: list[str], system_cols: tuple[str, ...] = ("system_id",),
               value_cols: tuple[str, ...] = (), element_col: str | None = "element_key") -> Outputs:
    """A long table, one element per row (conflicts, provenance; links with ``element_col=None``)."""
    parts = split_long(table, areas.catalog, tokenizer, element_col=element_col, system_cols=system_cols,
                       value_cols=value_cols)
    return _publish_parts(areas, dataset_id, parts, kind=kind, batch_id=batch_id, sort_by=sort_by,
                          tokenizer=tokenizer)


def share_open(areas: AreaStore, dataset_id: str, table: pa.Table, *, kind: DatasetKind, batch_id: str,
               sort_by: list[str]) -> Outputs:
    """A table with nothing personal or restricted in it (materials, the enterprise review list)."""
    return _publish_parts(areas, dataset_id, {OPEN: table}, kind=kind, batch_id=batch_id,
                          sort_by=sort_by, tokenizer=None)
