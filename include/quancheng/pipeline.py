"""One system's sync as four steps: extract -> normalize -> validate -> publish.

Each step reads and writes part files (Arrow IPC, :mod:`quancheng.parts`) in the batch's staging folder
and returns a small,
JSON-serializable dict (paths and counts) for the next one: that is what travels through XCom.
The batch id is derived from the system and the window, so a rerun of the same interval writes
the same staging folder and publishes the same content.

Each extract writes a fresh attempt folder of the batch and the later steps stay in it; extract and
publish hold the system's lock (see :mod:`quancheng.locks`), so runs of the same system never corrupt
each other's staging or interleave their publishes.

A batch moves through the steps in parts of ``chunk_rows`` rows: an incremental form is read, normalized,
validated and merged part by part (each part its own file, ``_row`` numbering the rows across the whole
batch), so a step holds one part, not the window; a snapshot form's read is compared with its last snapshot
by a slim index of keys and row hashes, bucket by bucket (:class:`quancheng.sources.snapshot.StreamedDiff`),
and its upserts then move through the steps in parts too.

Layout under ``home`` (``$QUANCHENG_HOME``):
  staging/<system>/<batch>/<attempt>/{raw,normalized,issues,valid,quarantine}/<form>/part-NNNNN.arrow
  staging/<system>/<batch>/<attempt>/deleted/<form>/part-00000.arrow   the batch's deleted source keys
  locks/<system>.lock                       the system's lock (embedded store)
  quality/                                  GX validation results per batch and the Data Docs site
  state/<system>/snapshots/<form>.parquet   last published snapshot (snapshot-mode forms), as text
  shared/...                                the shared store (see quancheng.publish.store)
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from quancheng import parts
from quancheng.bucket import Bucket
from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id, quarantine_dataset_id
from quancheng.catalog.models import SourceForm
from quancheng.deletes import IncrementalChanges, SnapshotChanges
from quancheng.errors import QuanchengError
from quancheng.locks import system_lock
from quancheng.normalize import ISSUE_SCHEMA, NormalizedBatch, normalize_form
from quancheng.normalize.quantity import medians
from quancheng.normalize.types import ROW, with_provenance
from quancheng.publish import delta, intent
from quancheng.publish.delta import Batch
from quancheng.publish.store import KEY, QKEY, SharedStore
from quancheng.publish.superseded import mark_superseded, superseded_batch
from quancheng.runs import record_run
from quancheng.runs import totals as totals  # re-exported: pipeline.totals(ref)
from quancheng.safepath import default_home as default_home  # re-exported: pipeline.default_home()
from quancheng.safepath import inside, safe_path
from quancheng.sources import Window, open_source
from quancheng.validate import validate_form
from quancheng.validate.gx import combine_results, expectation_results, write_report

Ref = dict[str, Any]


def batch_id_for(system_id: str, window: Window) -> str:
    start = window.start.strftime("%Y%m%dT%H%M%S") if window.start else "origin"
    return f"{system_id}__{start}__{window.end.strftime('%Y%m%dT%H%M%S')}"


def _paths(ref: Ref, stage: str, form_id: str) -> Path:
    bdir = inside(ref["home"], ref["dir"], what="batch folder")  # the ref travels through XCom: check it again
    p = safe_path(bdir, stage, f"{form_id}.parquet", what="form id")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _parts_dir(ref: Ref, stage: str, form_id: str) -> Path:
    """A stage's folder of parts for a form (``<stage>/<form>/part-NNNNN.arrow``): one part per chunk of the
    batch, so no step holds more than a chunk."""
    bdir = inside(ref["home"], ref["dir"], what="batch folder")  # the ref travels through XCom: check it again
    p = safe_path(bdir, stage, form_id, what="form id")
    p.mkdir(parents=True, exist_ok=True)
    return p


def _parts(ref: Ref, stage: str, form_id: str) -> list[Path]:
    return sorted(_parts_dir(ref, stage, form_id).glob(f"part-*{parts.SUFFIX}"))


def _write_part(ref: Ref, stage: str, form_id: str, index: int, table: pa.Table) -> None:
    parts.write(_parts_dir(ref, stage, form_id) / f"part-{index:05d}{parts.SUFFIX}", table)


def _staged(ref: Ref, stage: str, form_id: str) -> Batch:
    """The rows of a stage's parts of a form (written with one schema), read one part at a time."""
    paths = _parts(ref, stage, form_id)
    if not paths:  # every step writes at least one part a form: an attempt of an earlier release, or damaged
        raise QuanchengError(f"{ref['batch_id']}: the attempt {ref['dir']} holds no {stage} part of form "
                             f"{form_id!r} (fix: run the batch again from extract)")

    return Batch.files(paths, parts.schema(paths[0]), parts.read, sum(parts.num_rows(p) for p in paths))


PUBLISHED_MARK = ".published"  # in an attempt folder once its batch is published
STALE_ATTEMPT_SECONDS = 86_400


def new_attempt(batch_dir: Path) -> Path:
    """A fresh attempt folder of the batch (a rerun starts afresh without touching a folder another run
    may still be reading); the system's attempts already published or a day old, of any batch, are pruned
    (a batch folder emptied so goes too), so staging does not grow day after day."""
    now = time.time()
    system_dir = batch_dir.parent
    for batch in system_dir.iterdir() if system_dir.exists() else ():
        for old in batch.iterdir() if batch.is_dir() else ():
            if old.is_dir() and ((old / PUBLISHED_MARK).exists() or now - old.stat().st_mtime > STALE_ATTEMPT_SECONDS):
                shutil.rmtree(old, ignore_errors=True)
        if batch != batch_dir and batch.is_dir() and not any(batch.iterdir()):
            batch.rmdir()
    attempt = batch_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}"
    attempt.mkdir(parents=True)
    return attempt


def extract(system_id: str, window: Window, *, catalog: Catalog, home: Path | None = None,
            uri: str | None = None, chunk_rows: int = 100_000, rebuild: bool = False,
            allow_mass_delete: bool = False, lock_wait: float = 0) -> Ref:
    """Read the window of every form of ``system_id`` into a fresh attempt folder of the batch, holding
    the system's lock (waiting up to ``lock_wait`` seconds for it).

    ``rebuild`` reads every form whole from the beginning, ignoring the last snapshot, and marks the batch so
    ``publish`` replaces the system's datasets instead of merging into them: the way back when a published
    version is lost (:class:`quancheng.publish.store.MissingVersion`).

    Upserts and deletes come from :mod:`quancheng.deletes`, which also refuses a rollback to an older export
    and a batch deleting more than the system's ``max_delete_share`` (unless ``allow_mass_delete``).
    """
    home = home or default_home()
    system = catalog.system.get(system_id)
    if system is None:
        raise QuanchengError(f"system {system_id!r} is not in the catalog; known: {sorted(catalog.system)}")
    if rebuild and window.start is not None:
        raise QuanchengError(f"system {system_id!r}: a rebuild reads the source from the beginning, but the window "
                             f"starts at {window.start.isoformat()} (fix: drop --start)")
    batch_id = batch_id_for(system_id, window)
    bdir = safe_path(home, "staging", system_id, batch_id, what="system id")  # before anything is pruned
    for form in catalog.forms_of(system_id):  # every path the batch will build, checked before the first is made
        safe_path(bdir, "raw", form.form_id, what="form id")
        safe_path(home, "state", system_id, "snapshots", f"{form.form_id}.parquet", what="form id")
    with system_lock(system_id, home=home, batch_id=batch_id, step="extract", wait=lock_wait):
        attempt = new_attempt(bdir)
        bucket = Bucket.of(home)
        if bucket is not None:  # the bucket's snapshot state is the one to compare with, not this worker's copy
            bucket.pull(home, [f"state/{system_id}"], mirror=True)
            bucket.prune_attempts(f"staging/{system_id}", keep=attempt.relative_to(bdir.parent).as_posix())
        ref: Ref = {"system_id": system_id, "batch_id": batch_id, "dir": str(attempt), "home": str(home),
                    "attempt": attempt.relative_to(home).as_posix(),
                    "window": {"start": window.start.isoformat() if window.start else None,
                               "end": window.end.isoformat()},
                    "started_at": datetime.now(UTC).isoformat(), "forms": {}}
        if rebuild:
            ref["rebuild"] = True
        return _extract_forms(ref, open_source(system, catalog, uri), window, catalog=catalog, home=home,
                              chunk_rows=chunk_rows, allow_mass_delete=allow_mass_delete)


def _extract_forms(ref: Ref, source: Any, window: Window, *, catalog: Catalog, home: Path, chunk_rows: int,
                   allow_mass_delete: bool) -> Ref:
    system_id, batch_id, rebuild = ref["system_id"], ref["batch_id"], bool(ref.get("rebuild"))
    store = SharedStore(home)
    for form in catalog.forms_of(system_id):
        changes: IncrementalChanges | SnapshotChanges
        if IncrementalChanges.applies(form, rebuild):
            changes = IncrementalChanges(source, form, store=store, allow_mass_delete=allow_mass_delete,
                                         chunk_rows=chunk_rows)
        else:  # a snapshot form is compared with its last snapshot, a rebuild takes every row
            work = _paths(ref, "snapshot_work", form.form_id).parent / form.form_id  # the id checked by _paths
            changes = SnapshotChanges(source, form, home=home, store=store, allow_mass_delete=allow_mass_delete,
                                      rebuild=rebuild, work=work, snapshot_out=_paths(ref, "snapshot_next",
                                                                                      form.form_id))
        extracted = written = 0
        # batch by batch: one chunk in memory at a time (a snapshot form's upserts come once the read ends)
        for upserts in itertools.chain((changes.upserts(pa.Table.from_batches([b]))
                                        for b in source.extract(form, window, chunk_rows)), changes.rest()):
            if upserts.num_rows:
                _write_part(ref, "raw", form.form_id, written,
                            with_provenance(upserts, form, batch_id, window.end, first_row=extracted))
                extracted, written = extracted + upserts.num_rows, written + 1
        if not written:  # a quiet day: the form's columns and no rows
            empty = source.schema(form).empty_table()
            _write_part(ref, "raw", form.form_id, 0, with_provenance(empty, form, batch_id, window.end))
        deleted = changes.deleted()
        _write_part(ref, "deleted", form.form_id, 0, pa.table({KEY: deleted}))
        ref["forms"][form.form_id] = {"extracted": extracted, "deleted": len(deleted)}
        future = source.future_rows(form, window)
        if future:  # stamped after the window: never read by any window until the clock catches up
            ref["forms"][form.form_id]["future_rows"] = future
    return ref


def normalize(ref: Ref, *, catalog: Catalog) -> Ref:
    """Map every form's raw batch to canonical columns, part by part; record the issues met. Each row's
    ``_row`` (from extract) is its position in the form's whole batch, so issues and quarantine point at it."""
    store = SharedStore(Path(ref["home"]))
    for form_id in ref["forms"]:
        form = catalog.form[form_id]
        reference = _published_median(store, form, catalog)
        issues = 0
        for i, part in enumerate(_parts(ref, "raw", form_id)):
            raw = parts.read(part)
            norm = normalize_form(raw, form, catalog, reference=reference)
            if norm.table.num_rows != raw.num_rows:
                raise AssertionError(f"normalize changed the row count of {form_id}: "
                                     f"{raw.num_rows} -> {norm.table.num_rows}")
            _write_part(ref, "normalized", form_id, i, norm.table)
            _write_part(ref, "issues", form_id, i, norm.issues)
            issues += norm.issues.num_rows
        ref["forms"][form_id]["issues"] = issues
    return ref


def _published_median(store: SharedStore, form: SourceForm, catalog: Catalog) -> Callable[[str], float | None]:
    """Median of a decimal element in the form's published dataset, read on first use: the yardstick for
    amounts in a batch too small to have its own (a 元-for-万元 slip in a daily run of three rows)."""
    decimals = [e.key for e in catalog.elements_of(form.form_id) if e.data_type == "decimal"]
    ds = dataset_id(form)

    @cache
    def read() -> dict[str, float]:
        schema = store.schema(ds) if decimals else None
        if schema is None:
            return {}
        table = store.read(ds, columns=[k for k in decimals if k in schema.names])
        return medians(table, decimals) if table is not None else {}

    return lambda key: read().get(key)


def validate(ref: Ref, *, catalog: Catalog) -> Ref:
    """Split every form's batch into valid and quarantined rows, part by part; extracted = valid +
    quarantined. The GX result covers the whole batch (each part's counts added up)."""
    for form_id, counts in ref["forms"].items():
        form = catalog.form[form_id]
        raws, norms = _parts(ref, "raw", form_id), _parts(ref, "normalized", form_id)
        issue_parts = _parts(ref, "issues", form_id)
        if not len(raws) == len(norms) == len(issue_parts):
            raise AssertionError(f"{form_id}: {len(raws)} raw parts, {len(norms)} normalized, "
                                 f"{len(issue_parts)} issue parts")
        nv = nq = 0
        reasons: Counter[str] = Counter()
        docs = []
        for i, (raw_path, norm_path, issues_path) in enumerate(zip(raws, norms, issue_parts, strict=True)):
            table = parts.read(norm_path)
            issues = parts.read(issues_path).cast(ISSUE_SCHEMA)
            result = validate_form(NormalizedBatch(table, issues), parts.read(raw_path), form, catalog)
            _write_part(ref, "valid", form_id, i, result.valid)
            _write_part(ref, "quarantine", form_id, i, result.quarantine)
            docs.append(expectation_results(table, catalog, form, ref["batch_id"]))
            nv, nq = nv + result.valid.num_rows, nq + result.quarantine.num_rows
            for r in result.quarantine["reasons"].to_pylist():
                for reason in json.loads(r):
                    reasons[reason["rule"]] += 1
        if nv + nq != counts["extracted"]:
            raise AssertionError(f"{form_id}: extracted {counts['extracted']} != valid {nv} + quarantined {nq}")
        report = write_report(dataset_id(form), combine_results(docs), catalog, form, Path(ref["home"]) / "quality",
                              run_name=ref["batch_id"])
        gx = ref.setdefault("gx", {"success": True, "data_docs_path": report["data_docs_path"], "forms": {}})
        gx["success"] = gx["success"] and report["success"]
        gx["forms"][form_id] = {"success": report["success"], "statistics": report["statistics"],
                                "results_path": report["results_path"]}
        counts.update(valid=nv, quarantined=nq, reasons=dict(reasons))
    return ref


def column_meta(catalog: Catalog, form: SourceForm) -> dict[str, dict[str, str]]:
    """Chinese and English names and definitions of a form's canonical columns, from the registry."""
    return {e.key: {"element_id": e.element_id, "name_zh": e.name_zh, "name_en": e.name_en,
                    "definition": e.definition, "unit": e.unit, "share_type": e.share_type}
            for e in catalog.elements_of(form.form_id)}


def publish(ref: Ref, *, catalog: Catalog, store: SharedStore | None = None, lock_wait: float = 0) -> Ref:
    """Merge valid rows into each form's shared dataset, refresh the system's quarantine, record the run,
    holding the system's lock (waiting up to ``lock_wait`` seconds for it)."""
    home = Path(ref["home"])
    store = store or SharedStore(home)
    with system_lock(ref["system_id"], home=home, batch_id=ref["batch_id"], step="publish",
                     sql_url=store.sql_url, wait=lock_wait):
        ref = _publish(ref, catalog, store, home)
    (Path(ref["dir"]) / PUBLISHED_MARK).write_text(ref["batch_id"], encoding="utf-8")  # not empty: see bucket.py
    bucket = Bucket.of(home)
    if bucket is not None and ref.get("attempt"):
        bucket.push(home, [f"{ref['attempt']}/{PUBLISHED_MARK}"])
    return ref


def _publish(ref: Ref, catalog: Catalog, store: SharedStore, home: Path) -> Ref:
    outputs: dict[str, dict[str, Any]] = {}
    new_q: list[Path] = []  # the batch's quarantine parts, every form's
    touched: list[pa.Array] = [pa.array([], pa.string())]  # held quarantine keys this batch decides anew
    rebuild = bool(ref.get("rebuild"))
    datasets = [dataset_id(catalog.form[f]) for f in ref["forms"]] + [quarantine_dataset_id(ref["system_id"])]
    if not rebuild:  # every dataset the batch merges into must be readable before the first one is swapped
        store.check_current(datasets)
    intent.begin(store, ref["system_id"], ref["batch_id"], datasets)  # status: incomplete until the run record
    quarantined = {} if rebuild else _quarantined_keys(store, quarantine_dataset_id(ref["system_id"]))
    for form_id in ref["forms"]:
        form = catalog.form[form_id]
        valid = _staged(ref, "valid", form_id).map(lambda t: t.drop_columns([ROW]))
        deleted = _staged(ref, "deleted", form_id).column(KEY).cast(pa.string())
        ds = dataset_id(form)
        q_parts = _parts(ref, "quarantine", form_id)
        q_keys = pa.concat_arrays([pa.array([], pa.string()), *(
            parts.read(p, [KEY])[KEY].combine_chunks().cast(pa.string()) for p in q_parts)])
        policy = catalog.system[form.system_id].invalid_update
        if rebuild:  # the batch is the whole source: the dataset becomes exactly its valid rows
            pub = store.publish(ds, mark_superseded(valid.to_table(), q_keys, policy), kind="system",
                                batch_id=ref["batch_id"], column_meta=column_meta(catalog, form),
                                audit=_audit_unique_keys(ds))
        else:
            upserts, gone = superseded_batch(valid, deleted, q_keys, policy, partial(store.read_keys, ds))
            pub = store.merge(ds, upserts, gone, kind="system", batch_id=ref["batch_id"],
                              column_meta=column_meta(catalog, form))
        outputs[ds] = {"rows": pub.rows, "content_hash": pub.content_hash, "changed": pub.changed,
                       "version": pub.version}
        new_q += q_parts
        held = quarantined.get(form.table)
        if held is not None and len(held):  # held rows this batch publishes or deletes leave the quarantine
            keys = valid.column(KEY).cast(pa.string())
            decided = pa.concat_arrays([keys.filter(pc.is_in(keys, value_set=held)),
                                        held.filter(pc.is_in(held, value_set=deleted))])
            touched.append(_qkey(form.table, decided))
    if new_q:
        qid = quarantine_dataset_id(ref["system_id"])
        batch_q = _quarantine_batch(new_q)
        if rebuild:
            pub = store.publish(qid, batch_q.to_table(), kind="quarantine", batch_id=ref["batch_id"],
                                sort_by=[QKEY])
        else:  # rows of keys decided anew this batch and not quarantined again leave the quarantine
            decided = pc.unique(pa.concat_arrays(touched).cast(pa.string()))
            gone = decided.filter(pc.invert(pc.is_in(decided, value_set=batch_q.column(QKEY))))
            pub = store.merge(qid, batch_q, gone, kind="quarantine", batch_id=ref["batch_id"], key=QKEY)
        outputs[qid] = {"rows": pub.rows, "content_hash": pub.content_hash, "changed": pub.changed,
                        "version": pub.version}
    _advance_snapshots(ref, home)
    ref["published"] = outputs
    ref["finished_at"] = datetime.now(UTC).isoformat()
    record_run(store, ref, status="success", then=intent.clear(ref["system_id"]))
    return ref


def _quarantine_batch(paths: list[Path]) -> Batch:
    """The batch's quarantined rows of every form, read part by part in one schema (each form's columns; a
    column another form lacks is null there), keyed by source table and source key."""
    schema = pa.unify_schemas([parts.schema(p) for p in paths], promote_options="permissive")
    schema = pa.schema([f for f in schema if f.name != ROW])

    def shaped(table: pa.Table) -> pa.Table:
        table = delta.conform(table.drop_columns([c for c in (ROW,) if c in table.column_names]), schema)
        return table.append_column(QKEY, _qkey_col(table))

    def column(name: str) -> Iterator[pa.Array]:  # a key column (every part has it), without the rows
        for p in paths:
            t = parts.read(p, ["_source_table", KEY] if name == QKEY else [name])
            values = _qkey_col(t) if name == QKEY else t[name]
            yield values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values

    rows = sum(parts.num_rows(p) for p in paths)
    return Batch(shaped(schema.empty_table()).schema, lambda: (shaped(parts.read(p)) for p in paths), rows,
                 column)


def _quarantined_keys(store: SharedStore, qid: str) -> dict[str, pa.Array]:
    """The source keys a system's quarantine holds now, per source table (read before the batch's merge)."""
    held = store.read(qid, columns=["_source_table", KEY], ordered=False)
    if held is None or not held.num_rows:
        return {}
    out: dict[str, pa.Array] = {}
    for table in pc.unique(held["_source_table"]).to_pylist():
        rows = held.filter(pc.equal(held["_source_table"], table))
        out[str(table)] = rows[KEY].combine_chunks().cast(pa.string())
    return out


def _qkey(table_name: str, keys: pa.Array) -> pa.Array:
    """Quarantine rows of a system are keyed by source table and source key."""
    names = pa.array([table_name] * len(keys), pa.string())
    return pc.binary_join_element_wise(names, keys.cast(pa.string()), "|")


def _qkey_col(q: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(q["_source_table"], q[KEY], "|")


def _audit_unique_keys(ds: str) -> Any:
    def audit(table: pa.Table) -> None:
        n = table.num_rows
        if n and pc.count_distinct(table[KEY]).as_py() != n:
            raise QuanchengError(f"dataset {ds}: duplicate source keys in the new version; previous version kept")
    return audit


def _advance_snapshots(ref: Ref, home: Path) -> None:
    """Snapshot state moves forward only once the batch is published."""
    nxt = Path(ref["dir"]) / "snapshot_next"
    if not nxt.exists():
        return
    state = safe_path(home, "state", ref["system_id"], "snapshots", what="system id")
    state.mkdir(parents=True, exist_ok=True)
    moved = []
    for f in nxt.glob("*.parquet"):
        os.replace(f, state / f.name)
        moved.append(f"state/{ref['system_id']}/snapshots/{f.name}")
    bucket = Bucket.of(home)
    if bucket is not None:
        bucket.push(home, moved)


def run_system(system_id: str, window: Window, *, catalog: Catalog, home: Path | None = None,
               uri: str | None = None, rebuild: bool = False, allow_mass_delete: bool = False,
               lock_wait: float = 0) -> Ref:
    """All four steps in one process (the CLI's ``quancheng run``), holding the system's lock throughout."""
    t0 = time.perf_counter()
    home = home or default_home()
    if system_id not in catalog.system:  # extract says so; no lock file for a name that is not a system
        return extract(system_id, window, catalog=catalog, home=home, uri=uri, rebuild=rebuild)
    with system_lock(system_id, home=home, batch_id=batch_id_for(system_id, window), step="run", wait=lock_wait):
        ref = extract(system_id, window, catalog=catalog, home=home, uri=uri, rebuild=rebuild,
                      allow_mass_delete=allow_mass_delete)
        ref = normalize(ref, catalog=catalog)
        ref = validate(ref, catalog=catalog)
        ref = publish(ref, catalog=catalog)
    ref["seconds"] = round(time.perf_counter() - t0, 3)
    return ref


