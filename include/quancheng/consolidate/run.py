"""Consolidation over the shared store: read the system datasets, build, publish, share by the rules.

Each ``publish_*`` function reads the current system datasets of the catalog from the store (only the
columns it uses; the stage forms part by part, in buckets of projects, and after a first run only the
projects the syncs touched since), builds its datasets with the pure functions of this package,
publishes them (the exchange's internal copy, atomic and content-hashed) and then their per-area copies
(:mod:`quancheng.sharing`). The batch id is derived from the content hashes of the inputs, so a rerun
over unchanged inputs publishes byte-identical datasets (the same content hash). Each returns
``{dataset: {rows, content_hash, changed}}`` (area copies keyed ``<schema>/<dataset>``) for the Asset events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.consolidate import master_days, share
from quancheng.consolidate.buckets import BUCKET_ROWS, build_in_buckets, keyed_inputs, sorted_rows, spill_folder
from quancheng.consolidate.cases import (
    CASES_DATASET,
    CASES_ORDER,
    build_cases,
    case_columns,
    case_elements,
    case_forms,
    columns_read,
)
from quancheng.consolidate.enterprise import (
    LINKS_DATASET,
    LINKS_ORDER,
    MASTER_DATASET,
    NAMES_DATASET,
    REVIEW_DATASET,
    build_enterprise_master,
)
from quancheng.consolidate.incremental import Inputs, clear_state, plan, read_projects, read_state, write_state
from quancheng.consolidate.materials import MATERIALS_DATASET, materials_by_stage, summary
from quancheng.consolidate.mentions import mentions
from quancheng.consolidate.stage_forms import (
    CONFLICTS_DATASET,
    CONFLICTS_ORDER,
    PROVENANCE_ORDER,
    build_stage_forms,
    project_element,
    provenance_dataset_id,
    stage_dataset_id,
)
from quancheng.publish import delta
from quancheng.publish.delta import Batch
from quancheng.publish.store import KEY, DatasetKind, SharedStore
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.metadata import column_meta
from quancheng.sharing.publish import (
    as_they_are,
    merge_touched,
    share_long,
    share_open,
    share_wide,
    tokenizer_for,
)
from quancheng.sharing.rules import OPEN, Audience, long_audiences, sensitive_key_tables, split_long, split_table
from quancheng.sharing.tokenize import Tokenizer

Outputs = dict[str, dict[str, Any]]


def system_datasets(store: SharedStore, catalog: Catalog,
                    columns: Callable[[SourceForm, list[str]], list[str]] | None = None,
                    ) -> tuple[dict[str, pa.Table], dict[str, str]]:
    """The current system datasets of the catalog's forms, and their content hashes; with ``columns``, each
    read with only the columns ``columns(form, its columns)`` names."""
    hashes = {d["dataset_id"]: d["content_hash"] for d in store.datasets() if d["kind"] == "system"}
    tables: dict[str, pa.Table] = {}
    for form in catalog.forms:
        ds = dataset_id(form)
        if ds in hashes:
            schema = store.schema(ds) if columns is not None else None
            t = store.read(ds, columns=columns(form, schema.names) if columns and schema else None)
            if t is not None:
                tables[ds] = t
    return tables, {d: hashes[d] for d in tables}


def batch_id_for(step: str, input_hashes: dict[str, str]) -> str:
    """A batch id that changes exactly when an input changes."""
    h = hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(input_hashes.items())).encode()).hexdigest()[:16]
    return f"{step}__{h}"


def _publish(store: SharedStore, catalog: Catalog, dataset_id: str, table: pa.Table | Batch, *,
             kind: DatasetKind, batch_id: str, sort_by: list[str]) -> Outputs:
    names = table.schema.names if isinstance(table, Batch) else table.column_names
    pub = store.publish(dataset_id, table, kind=kind, batch_id=batch_id, sort_by=sort_by,
                        column_meta=column_meta(catalog, names))
    return {dataset_id: {"rows": pub.rows, "content_hash": pub.content_hash, "changed": pub.changed}}


def _context(store: SharedStore, catalog: Catalog, key: str | None, areas: AreaStore | None,
             tokenizer: Tokenizer | None) -> tuple[AreaStore, Tokenizer]:
    return areas or AreaStore(store, catalog), tokenizer or tokenizer_for(store, key=key)


def share_system_datasets(store: SharedStore, catalog: Catalog, *, key: str | None = None,
                          areas: AreaStore | None = None, tokenizer: Tokenizer | None = None) -> Outputs:
    """Share every current system dataset by the rules, at the cost of what changed since it was last shared
    (:mod:`quancheng.consolidate.share`)."""
    areas, tokenizer = _context(store, catalog, key, areas, tokenizer)
    return share.share_system_datasets(store, catalog, areas, tokenizer)


STAGE_FORMS = "stage_forms"
OUTPUTS_STATE = f"{STAGE_FORMS}:outputs"  # the outputs' Delta versions a finished run left


def publish_stage_forms(store: SharedStore, catalog: Catalog, *, key: str | None = None,
                        areas: AreaStore | None = None, tokenizer: Tokenizer | None = None,
                        bucket_rows: int = BUCKET_ROWS, incremental: bool = True) -> Outputs:
    """The four stage forms, their provenance and the conflicts dataset, internal and shared.

    With ``incremental`` (and an earlier run on record), only the projects touched by the syncs since are
    recomputed and replaced (:mod:`quancheng.consolidate.incremental`); else everything is built in buckets
    of projects of about ``bucket_rows`` input rows (:mod:`quancheng.consolidate.buckets`). Either way the
    datasets are published part by part: memory follows the bucket (or the touched projects), not the
    datasets. Under the incremental path a row's ``_batch_id`` is that of the consolidation that last
    recomputed it; everything else equals a full rebuild."""
    areas, tokenizer = _context(store, catalog, key, areas, tokenizer)
    hashes = {d["dataset_id"]: d["content_hash"] for d in store.datasets() if d["kind"] == "system"}
    batch_id = batch_id_for(STAGE_FORMS, {dataset_id(f): hashes[dataset_id(f)] for f in catalog.forms
                                          if dataset_id(f) in hashes})
    inputs = keyed_inputs(store, catalog)
    published = {d["dataset_id"]: int(d["rows"]) for d in store.datasets()}
    outputs = [stage_dataset_id(s.stage_id) for s in catalog.stages] + [
        provenance_dataset_id(s.stage_id) for s in catalog.stages] + [CONFLICTS_DATASET]
    todo = plan(store, catalog, STAGE_FORMS, inputs,
                projects=max((published.get(d, 0) for d in outputs[:len(catalog.stages)]), default=0))
    if not incremental or todo.full or any(d not in published for d in outputs):
        out = _stage_forms_in_full(store, catalog, areas, tokenizer, batch_id, inputs, bucket_rows)
    else:
        out = _stage_forms_touched(store, catalog, areas, tokenizer, batch_id, inputs, todo.touched)
    write_state(store, STAGE_FORMS, catalog, inputs)
    write_state(store, OUTPUTS_STATE, catalog, {ds: ([], v) for ds in outputs if (v := store.version(ds)) is not None})
    return out


def _stage_forms_in_full(store: SharedStore, catalog: Catalog, areas: AreaStore, tokenizer: Tokenizer,
                         batch_id: str, inputs: Inputs, bucket_rows: int) -> Outputs:
    pk = project_element(catalog).key
    out: Outputs = {}
    with spill_folder(store, "stage_forms_") as folder:
        built = build_in_buckets(store, catalog, batch_id=batch_id, folder=folder, bucket_rows=bucket_rows,
                                 inputs=inputs)
        for stage in catalog.stages:
            ds = stage_dataset_id(stage.stage_id)
            rows = built.batch(ds)
            out |= _publish(store, catalog, ds, rows, kind="stage_form", batch_id=batch_id, sort_by=[pk])
            out |= share_wide(areas, ds, rows, built.feeding_systems, kind="stage_form", batch_id=batch_id,
                              tokenizer=tokenizer, sort_by=[pk])
        for stage in catalog.stages:
            ds = provenance_dataset_id(stage.stage_id)
            rows = built.batch(ds)
            out |= _publish(store, catalog, ds, rows, kind="stage_form", batch_id=batch_id, sort_by=PROVENANCE_ORDER)
            out |= share_long(areas, ds, rows, kind="stage_form", batch_id=batch_id, tokenizer=tokenizer,
                              sort_by=PROVENANCE_ORDER)
        rows = built.batch(CONFLICTS_DATASET)
        out |= _publish(store, catalog, CONFLICTS_DATASET, rows, kind="conflicts", batch_id=batch_id,
                        sort_by=CONFLICTS_ORDER)
        out |= _share_conflicts(areas, rows, batch_id, tokenizer)
    for ds, n in built.unmatched.items():
        if n:
            out.setdefault("_unmatched", {})[ds] = n
    return out


def _share_conflicts(areas: AreaStore, rows: Batch, batch_id: str, tokenizer: Tokenizer) -> Outputs:
    return share_long(areas, CONFLICTS_DATASET, rows, kind="conflicts", batch_id=batch_id, tokenizer=tokenizer,
                      sort_by=CONFLICTS_ORDER, system_cols=("system_id", "winner_system"),
                      value_cols=("value", "winner_value"))


def _stage_forms_touched(store: SharedStore, catalog: Catalog, areas: AreaStore, tokenizer: Tokenizer,
                         batch_id: str, inputs: Inputs, touched: pa.Array) -> Outputs:
    """Recompute the ``touched`` projects and replace their rows in every output; then merge those rows into
    the area copies of the outputs that changed (:func:`~quancheng.sharing.publish.merge_touched`). An output
    whose copies cannot be merged (a copy to make or to drop, other columns: the systems feeding an element
    changed) is shared again whole, from the output itself (sorted, part by part)."""
    pk = project_element(catalog).key
    result = build_stage_forms(read_projects(store, catalog, inputs, touched) if len(touched) else {}, catalog,
                               batch_id=batch_id)
    tables: list[tuple[str, pa.Table, str, DatasetKind]] = [(ds, t, pk, "stage_form") for ds, t in result.forms.items()]
    tables += [(ds, t, "project_code", "stage_form") for ds, t in result.provenance.items()]
    tables.append((CONFLICTS_DATASET, result.conflicts, "project_code", "conflicts"))
    out: Outputs = {}
    changed: dict[str, pa.Table] = {}
    finished = read_state(store, OUTPUTS_STATE)  # the outputs' versions when the last run finished
    for ds, table, key_col, kind in tables:
        pub = store.replace_keys(ds, table, touched, key=key_col, kind=kind, batch_id=batch_id,
                                 column_meta=column_meta(catalog, table.column_names))
        out[ds] = {"rows": pub.rows, "content_hash": pub.content_hash, "changed": pub.changed}
        if pub.changed or (finished is not None and finished[1].get(ds, pub.version) != pub.version):
            changed[ds] = table  # changed now, or by a run killed before its area copies were merged
    # the area copies of the outputs that did not change, as they are
    out |= as_they_are([r for r in areas.listing() if r["dataset_id"] in out and r["dataset_id"] not in changed])
    if not changed:
        return out
    feeding: dict[str, set[str]] = {}
    for stage in catalog.stages:  # which systems feed each element, over every project (the copies' columns)
        for part in store.scan(provenance_dataset_id(stage.stage_id), columns=["element_key", "system_id"]):
            pairs = part.group_by(["element_key", "system_id"]).aggregate([])
            for r in pairs.to_pylist():
                feeding.setdefault(str(r["element_key"]), set()).add(str(r["system_id"]))
    every = long_audiences(catalog, [s.system_id for s in catalog.systems])
    with spill_folder(store, "stage_forms_share_") as folder:
        for ds, table in changed.items():
            schema = store.schema(ds)
            assert schema is not None
            plain = pa.schema([f.remove_metadata() for f in schema])
            rows = delta.conform(table, schema).select(plain.names).cast(plain)
            long = ds == CONFLICTS_DATASET or ds.endswith(".provenance")
            order, split = _area_split(catalog, ds, pk, feeding, tokenizer, every)
            merged = merge_touched(areas, ds, rows, touched, key=order[0], split=split,
                                   kind="conflicts" if ds == CONFLICTS_DATASET else "stage_form", batch_id=batch_id,
                                   tokenizer=tokenizer, sort_by=order, drop_equal=long)
            if merged is not None:
                out |= merged
            elif ds == CONFLICTS_DATASET:  # a copy to make or drop: shared whole
                out |= _share_conflicts(areas, sorted_rows(store, ds, CONFLICTS_ORDER, folder), batch_id, tokenizer)
            elif ds.endswith(".provenance"):
                out |= share_long(areas, ds, sorted_rows(store, ds, PROVENANCE_ORDER, folder), kind="stage_form",
                                  batch_id=batch_id, tokenizer=tokenizer, sort_by=PROVENANCE_ORDER)
            else:
                out |= share_wide(areas, ds, sorted_rows(store, ds, [pk], folder), feeding, kind="stage_form",
                                  batch_id=batch_id, tokenizer=tokenizer, sort_by=[pk])
    return out


def _area_split(catalog: Catalog, ds: str, pk: str, feeding: dict[str, set[str]], tokenizer: Tokenizer,
                every: list[Audience]) -> tuple[list[str], Callable[[pa.Table], Mapping[Audience, pa.Table]]]:
    """The order of an output of the stage forms and how its rows split per area, as the whole sharing does
    (a long output's rows split over ``every`` area: which copies exist is the merge's to check)."""
    if ds == CONFLICTS_DATASET:
        return CONFLICTS_ORDER, lambda t: split_long(t, catalog, tokenizer, system_cols=("system_id", "winner_system"),
                                                     value_cols=("value", "winner_value"), audiences=every)
    if ds.endswith(".provenance"):
        return PROVENANCE_ORDER, lambda t: split_long(t, catalog, tokenizer, system_cols=("system_id",),
                                                      value_cols=(), audiences=every)
    return [pk], lambda t: split_table(t, catalog, feeding, tokenizer)


def publish_enterprise_master(store: SharedStore, catalog: Catalog, *, key: str | None = None,
                              areas: AreaStore | None = None, tokenizer: Tokenizer | None = None,
                              incremental: bool = True) -> Outputs:
    """The enterprise master, its name history, links and review list, internal and shared.

    With ``incremental`` (and an earlier build on record) only the entities the syncs' changed rows reach are
    matched again and replaced (:mod:`quancheng.consolidate.master_days`); else every mention is matched.
    Under the incremental path a master row's ``_batch_id`` is that of the run that last recomputed it;
    everything else equals a whole build."""
    areas, tokenizer = _context(store, catalog, key, areas, tokenizer)
    hashes = {d["dataset_id"]: d["content_hash"] for d in store.datasets() if d["kind"] == "system"}
    inputs = master_days.inputs_of(store, catalog)
    batch_id = batch_id_for("enterprise_master", {ds: hashes[ds] for ds in inputs})
    outputs = [MASTER_DATASET, NAMES_DATASET, REVIEW_DATASET, LINKS_DATASET]
    done = _done(store, areas, outputs, batch_id)
    if done is not None and master_days.up_to_date(store, catalog, inputs):
        return done
    todo = master_days.plan(store, catalog, inputs)
    clear_state(store, master_days.STEP)  # until recorded again below, the next run builds whole
    out: Outputs | None = None
    if not incremental or todo.whole or any(store.version(ds) is None for ds in outputs):
        out = _master_whole(store, catalog, areas, tokenizer, inputs, batch_id)
    elif todo.touched:
        out = _master_day(store, catalog, areas, tokenizer, todo, batch_id)
        if out is None:  # the day reaches too many mentions
            out = _master_whole(store, catalog, areas, tokenizer, inputs, batch_id)
    else:  # nothing changed that names an entity
        registry = {d["dataset_id"]: d for d in store.datasets() if d["dataset_id"] in outputs}
        out = {ds: {"rows": int(r["rows"]), "content_hash": r["content_hash"], "changed": False}
               for ds, r in registry.items()}
        out |= as_they_are([r for r in areas.listing() if r["dataset_id"] in outputs])
    write_state(store, master_days.STEP, catalog, inputs, rules=master_days.rules(catalog))
    return out


def _master_whole(store: SharedStore, catalog: Catalog, areas: AreaStore, tokenizer: Tokenizer,
                  inputs: Inputs, batch_id: str) -> Outputs:
    result = build_enterprise_master({}, catalog, batch_id=batch_id, mentioned=_mentions(store, catalog, inputs))
    master_days.write_state_rows(store, result, batch_id)
    result = replace(result, matched=result.matched.clear())  # the mentions are no longer held
    systems = set(result.links["system_id"].to_pylist())
    feeding = {c: systems for c in result.master.column_names}
    out: Outputs = {}
    out |= _publish(store, catalog, MASTER_DATASET, result.master, kind="master", batch_id=batch_id,
                    sort_by=["entity_id"])
    out |= share_wide(areas, MASTER_DATASET, result.master, feeding, kind="master", batch_id=batch_id,
                      tokenizer=tokenizer, sort_by=["entity_id"])
    for ds, table, order in ((NAMES_DATASET, result.names, NAMES_ORDER), (REVIEW_DATASET, result.review, REVIEW_ORDER)):
        kind: DatasetKind = "conflicts" if ds == REVIEW_DATASET else "master"
        out |= _publish(store, catalog, ds, table, kind=kind, batch_id=batch_id, sort_by=order)
        out |= share_open(areas, ds, table, kind=kind, batch_id=batch_id, sort_by=order)
    links = _slices(result.links, LINKS_ORDER)  # one row per mention: published and shared part by part
    out |= _publish(store, catalog, LINKS_DATASET, links, kind="master", batch_id=batch_id, sort_by=LINKS_ORDER)
    out |= share_long(areas, LINKS_DATASET, links, kind="master", batch_id=batch_id, tokenizer=tokenizer,
                      sort_by=LINKS_ORDER, element_col=None)
    return out


NAMES_ORDER = ["entity_id", "name"]
REVIEW_ORDER = ["review_id"]


def _master_day(store: SharedStore, catalog: Catalog, areas: AreaStore, tokenizer: Tokenizer,
                todo: master_days.Plan, batch_id: str) -> Outputs | None:
    """Match the entities the ``touched`` rows reach and replace their rows in every output and area copy
    (merged by entity; a copy that cannot be merged is shared whole from its output). None, with nothing
    written, when they are too many (:class:`~quancheng.consolidate.master_days.TooLarge`)."""
    try:
        day = master_days.build_day(store, catalog, todo, batch_id=batch_id)
    except master_days.TooLarge:
        return None
    result = day.result
    entities = pa.array(sorted(day.before | set(result.master["entity_id"].to_pylist())), pa.string())
    review, others = master_days.review_after(store, day)
    flips = master_days.flipped(store, review, others, batch_id)
    master = result.master
    if flips.num_rows:
        master = pa.concat_tables([master, delta.conform(flips, master.schema).select(master.schema.names)])
        master = master.sort_by("entity_id")
    master_keys = pa.concat_arrays([entities, flips["entity_id"].combine_chunks().cast(pa.string())]) \
        if flips.num_rows else entities
    out: Outputs = {}
    for ds, rows, keys in ((MASTER_DATASET, master, master_keys), (NAMES_DATASET, result.names, entities),
                           (LINKS_DATASET, result.links, entities)):
        pub = store.replace_keys(ds, rows, keys, key="entity_id", kind="master", batch_id=batch_id,
                                 column_meta=column_meta(catalog, rows.column_names))
        out[ds] = {"rows": pub.rows, "content_hash": pub.content_hash, "changed": pub.changed}
    out |= _publish(store, catalog, REVIEW_DATASET, review, kind="conflicts", batch_id=batch_id, sort_by=REVIEW_ORDER)
    feeding = {c: day.systems for c in master.column_names}
    with spill_folder(store, "master_share_") as folder:
        shared = merge_touched(areas, MASTER_DATASET, master, master_keys, key="entity_id",
                               split=lambda t: split_table(t, catalog, feeding, tokenizer), kind="master",
                               batch_id=batch_id, tokenizer=tokenizer, sort_by=["entity_id"])
        out |= shared if shared is not None else share_wide(
            areas, MASTER_DATASET, sorted_rows(store, MASTER_DATASET, ["entity_id"], folder), feeding, kind="master",
            batch_id=batch_id, tokenizer=tokenizer, sort_by=["entity_id"])
        shared = merge_touched(areas, NAMES_DATASET, result.names, entities, key="entity_id",
                               split=lambda t: {OPEN: t}, kind="master", batch_id=batch_id, tokenizer=None,
                               sort_by=NAMES_ORDER)
        if shared is None:
            names = store.read(NAMES_DATASET)
            assert names is not None
            shared = share_open(areas, NAMES_DATASET, names.sort_by([(k, "ascending") for k in NAMES_ORDER]),
                                kind="master", batch_id=batch_id, sort_by=NAMES_ORDER)
        out |= shared
        shared = merge_touched(areas, LINKS_DATASET, result.links, entities, key="entity_id",
                               split=lambda t: split_long(t, catalog, tokenizer, element_col=None, value_cols=()),
                               kind="master", batch_id=batch_id, tokenizer=tokenizer, sort_by=LINKS_ORDER)
        out |= shared if shared is not None else share_long(
            areas, LINKS_DATASET, sorted_rows(store, LINKS_DATASET, LINKS_ORDER, folder), kind="master",
            batch_id=batch_id, tokenizer=tokenizer, sort_by=LINKS_ORDER, element_col=None)
    out |= share_open(areas, REVIEW_DATASET, review, kind="conflicts", batch_id=batch_id, sort_by=REVIEW_ORDER)
    # the kept mentions last; their versions are recorded after (a run killed before that is followed by a
    # whole build: the record was cleared when it started)
    master_days.write_state_rows(store, result, batch_id, entities)
    return out


def _done(store: SharedStore, areas: AreaStore, outputs: list[str], batch_id: str) -> Outputs | None:
    """The outputs as they are when they and every area copy of them were made from these inputs (their last
    batch is ``batch_id``, which only the inputs' content hashes decide): nothing is read again. None else."""
    registry = {d["dataset_id"]: d for d in store.datasets() if d["dataset_id"] in outputs}
    copies = [r for r in areas.listing() if r["dataset_id"] in outputs]
    if set(registry) != set(outputs) or any(r["last_batch"] != batch_id for r in [*registry.values(), *copies]):
        return None
    return {ds: {"rows": int(r["rows"]), "content_hash": r["content_hash"], "changed": False}
            for ds, r in registry.items()} | as_they_are(copies)


def _mentions(store: SharedStore, catalog: Catalog, inputs: Inputs) -> pl.DataFrame:
    """:func:`~quancheng.consolidate.mentions.mentions` of the datasets, gathered part by part (the columns it
    uses only, at the versions planned): the same rows as over the whole tables, which are never held."""
    parts: list[pl.DataFrame] = []
    for ds, (columns, version) in inputs.items():
        for part in store.scan(ds, columns=columns, as_of=version):
            found = mentions({ds: part}, catalog)
            if found.height:
                parts.append(found)
    if not parts:
        return mentions({}, catalog)
    return pl.concat(parts).sort(["dataset_id", "source_key", "role"])


def _slices(table: pa.Table, order: list[str], rows: int = 250_000) -> Batch:
    """``table`` sorted by ``order`` as a batch of slices, so it is hashed, written and shared a slice at a time."""
    t = table.sort_by([(k, "ascending") for k in order]) if table.num_rows else table
    return Batch(t.schema, lambda: (t.slice(i, rows) for i in range(0, max(t.num_rows, 1), rows)), t.num_rows)


def publish_materials(store: SharedStore, catalog: Catalog, *, areas: AreaStore | None = None) -> Outputs:
    """The materials per stage form, with whether the issuers' datasets are live."""
    areas = areas or AreaStore(store, catalog)
    registry = store.datasets()
    live = {d["dataset_id"]: int(d["rows"]) for d in registry}
    table = materials_by_stage(catalog, published=live)
    batch_id = batch_id_for("materials", {d["dataset_id"]: d["content_hash"] for d in registry
                                          if d["kind"] == "system"})
    order = ["stage_id", "material_key"]
    out = _publish(store, catalog, MATERIALS_DATASET, table, kind="materials", batch_id=batch_id, sort_by=order)
    out |= share_open(areas, MATERIALS_DATASET, table, kind="materials", batch_id=batch_id, sort_by=order)
    out[MATERIALS_DATASET]["summary"] = summary(table)
    return out


def publish_cases(store: SharedStore, catalog: Catalog, *, key: str | None = None, areas: AreaStore | None = None,
                  tokenizer: Tokenizer | None = None) -> Outputs:
    """The case record of every approval item (:mod:`quancheng.consolidate.cases`), read from the case forms'
    datasets (their case columns only). Its open copy holds the columns shared unconditionally, with the
    source keys of forms keyed by personal values tokenized (practitioner registration is keyed by an ID
    number)."""
    areas, tokenizer = _context(store, catalog, key, areas, tokenizer)
    hashes = {d["dataset_id"]: d["content_hash"] for d in store.datasets() if d["kind"] == "system"}
    forms, wanted = case_forms(catalog), case_columns(catalog)
    batch_id = batch_id_for("cases", {dataset_id(f): hashes[dataset_id(f)] for f in forms if dataset_id(f) in hashes})
    done = _done(store, areas, [CASES_DATASET], batch_id)
    if done is not None:
        return done
    tables: dict[str, pa.Table] = {}
    for form in forms:
        ds = dataset_id(form)
        if ds in hashes:
            t = store.read(ds, columns=columns_read(catalog, form, wanted))
            if t is not None:
                tables[ds] = t
    table = build_cases(tables, catalog)
    out = _publish(store, catalog, CASES_DATASET, table, kind="cases", batch_id=batch_id, sort_by=CASES_ORDER)
    closed = [e.key for e in case_elements(catalog) if e.share_type != "unconditional" or e.pi_class != "none"]
    # a form keyed by a person's ID number has its keys tokenized, as in its own open copy (the same tokens);
    # only those rows' keys are hashed
    personal_keys = sensitive_key_tables(catalog)
    sensitive = sorted(dataset_id(f) for f in forms if (f.system_id, f.table) in personal_keys)
    opened = table.drop_columns(closed)
    if opened.num_rows and sensitive:
        mask = pc.is_in(opened["dataset_id"], pa.array(sensitive, pa.string()))
        personal = pc.if_else(mask, opened[KEY], pa.scalar(None, pa.string()))
        keys = pc.if_else(mask, tokenizer.array(personal, "key"), opened[KEY])
        opened = opened.set_column(opened.schema.get_field_index(KEY), KEY, keys)
    out |= share_open(areas, CASES_DATASET, opened, kind="cases", batch_id=batch_id, sort_by=CASES_ORDER)
    return out
