"""The share step: every system dataset's area copies (open, granted departments, its own area), kept current.

The step runs after every sync (on any system dataset's Asset event), so it must cost what changed. For
each dataset, in order:

- **skip**: every copy was shared from the dataset's current content under the same rules and tokenization
  key (its batch id ``share__<content hash>__<rules>`` is each copy's last batch): nothing is read;
- **merge**: the dataset was shared before under the same rules (its Delta version then is recorded in
  ``_exchange_consolidation``, step ``share:<dataset>``), its change data feed since is readable and touches
  at most :data:`~quancheng.consolidate.incremental.MAX_TOUCHED_SHARE` of its rows: only the changed source
  keys' rows are read, split and merged into each copy (:func:`~quancheng.sharing.publish.merge_touched`);
- **whole**: else (the first time, other rules or key, a form whose source key is tokenized in its copies,
  a vacuumed feed, a copy to make or drop) the dataset is sorted on disk and shared part by part.

Each way leaves the same copies (content hashes) as sharing the whole dataset.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.consolidate.buckets import sorted_rows, spill_folder
from quancheng.consolidate.incremental import MAX_TOUCHED_SHARE, changed_rows, read_state, write_state
from quancheng.publish.store import KEY, SharedStore
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.publish import as_they_are, merge_touched, share_system_dataset
from quancheng.sharing.rules import sensitive_key_tables, split_system_dataset
from quancheng.sharing.tokenize import Tokenizer

Outputs = dict[str, dict[str, Any]]


def sharing_fingerprint(catalog: Catalog, tokenizer: Tokenizer) -> str:
    """A digest of what an area copy of a system dataset depends on besides its rows: the catalog's systems,
    forms, mappings, elements and grants, and the tokenization key (through a token of a fixed probe, never
    the key itself). A copy shared under another digest is shared again."""
    h = hashlib.sha256()
    for rows in (catalog.systems, catalog.forms, catalog.mappings, catalog.elements, catalog.grants):
        for row in rows:
            h.update(row.model_dump_json().encode())
        h.update(b"\n")
    h.update(tokenizer.token("quancheng sharing fingerprint").encode())
    return h.hexdigest()[:12]


def share_system_datasets(store: SharedStore, catalog: Catalog, areas: AreaStore, tokenizer: Tokenizer) -> Outputs:
    """Keep every current system dataset's area copies current (see the module docstring)."""
    registry = {d["dataset_id"]: d for d in store.datasets() if d["kind"] == "system"}
    rules = sharing_fingerprint(catalog, tokenizer)
    copies: dict[str, list[dict[str, Any]]] = {}
    for r in areas.listing():
        copies.setdefault(str(r["dataset_id"]), []).append(r)
    out: Outputs = {}
    with spill_folder(store, "share_") as folder:
        for form in catalog.forms:
            ds = dataset_id(form)
            version = store.version(ds) if ds in registry else None
            if version is None:
                continue
            batch_id = f"share__{registry[ds]['content_hash']}__{rules}"
            done = copies.get(ds, [])
            if done and all(r["last_batch"] == batch_id for r in done):  # shared from this content, these rules
                out |= as_they_are(done)
            else:
                merged = _merged(store, catalog, form, areas, tokenizer, rules, version, batch_id,
                                 int(registry[ds]["rows"]))
                out |= merged if merged is not None else _whole(store, catalog, form, areas, tokenizer, batch_id,
                                                                folder)
            write_state(store, f"share:{ds}", catalog, {ds: ([KEY], version)}, rules=rules)
    return out


def _whole(store: SharedStore, catalog: Catalog, form: SourceForm, areas: AreaStore, tokenizer: Tokenizer,
           batch_id: str, folder: Path) -> Outputs:
    rows = sorted_rows(store, dataset_id(form), [KEY], folder)
    return share_system_dataset(store, catalog, form, rows, batch_id=batch_id, areas=areas, tokenizer=tokenizer)


def _merged(store: SharedStore, catalog: Catalog, form: SourceForm, areas: AreaStore, tokenizer: Tokenizer,
            rules: str, now: int, batch_id: str, rows_now: int) -> Outputs | None:
    """The copies with the rows changed since the version last shared (up to version ``now``) merged in; None
    where that cannot be done (the caller shares the dataset whole)."""
    ds = dataset_id(form)
    state = read_state(store, f"share:{ds}")
    if state is None or state[0] != rules or ds not in state[1] or (form.system_id, form.table) in \
            sensitive_key_tables(catalog):  # a tokenized source key: the copies are not in key order
        return None
    before = state[1][ds]
    if before > now:
        return None
    try:
        touched = pc.unique(changed_rows(store, ds, before, now, KEY).cast(pa.string()).drop_null())
    except Exception:  # noqa: BLE001 - the versions since were vacuumed, or the feed is off: share it whole
        return None
    if len(touched) > MAX_TOUCHED_SHARE * max(1, rows_now):
        return None
    if not len(touched):  # no row changed (a commit of metadata only): the copies stand for this content
        existing = [r for r in areas.listing() if r["dataset_id"] == ds]
        for r in existing:
            areas.relabel(str(r["schema_name"]), ds, batch_id)
        return as_they_are(existing) or None
    rows, schema = store.read_keys(ds, touched), store.schema(ds)
    if rows is None or schema is None:
        return None
    plain = pa.schema([f.remove_metadata() for f in schema])
    return merge_touched(areas, ds, rows.select(plain.names).cast(plain), touched, key=KEY,
                         split=lambda t: split_system_dataset(t, form, catalog, tokenizer), kind="system",
                         batch_id=batch_id, tokenizer=tokenizer, sort_by=[KEY])
