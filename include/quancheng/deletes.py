"""What one form's batch changes, deletes included, and the checks that keep a damaged source from publishing.

:class:`SnapshotChanges` and :class:`IncrementalChanges` turn the rows a source yields for a window, batch
by batch, into upserts and deleted source keys:

- **snapshot forms** (no update column) compare the whole read with the last consumed snapshot, in bounded
  memory (:class:`quancheng.sources.snapshot.StreamedDiff`); the snapshot records the source's
  :meth:`~quancheng.sources.base.Source.position` (a file drop's export name) in its Parquet metadata, and
  a read whose position sorts before the one last consumed is refused: taking an older export than one
  already published would roll the shared data back;
- **incremental forms** cannot see a hard delete in rows read by update time, so the system's
  ``delete_detection`` (systems.csv) decides:

  - ``reconcile``: the source lists its primary keys (key columns only,
    :meth:`~quancheng.sources.base.Source.list_keys`); every published or quarantined key of the form that
    is neither listed nor in this batch is deleted. Skipped while nothing is published or quarantined;
  - ``soft_delete``: rows whose ``deleted_column`` (forms.csv) holds one of ``deleted_values`` (trimmed,
    case-folded text) are deletes, not upserts;
  - ``none``: nothing is deleted.

Then the **mass-delete guard**: a batch deleting more than the system's ``max_delete_share`` of the form's
published rows (a truncated export, an emptied table, a key listing gone wrong) raises
:class:`~quancheng.errors.MassDeleteRefused` naming system, table and export, unless the run allows it
(``quancheng run --allow-mass-delete``, the DAG param ``allow_mass_delete``). Every refusal happens during
extract, so nothing published, no quarantine and no snapshot state changes.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quancheng.catalog.light import dataset_id, quarantine_dataset_id
from quancheng.catalog.models import SourceForm, System
from quancheng.errors import MassDeleteRefused, SourceError
from quancheng.publish.store import KEY, SharedStore
from quancheng.safepath import safe_path
from quancheng.sources.base import Source
from quancheng.sources.snapshot import StreamedDiff
from quancheng.sources.types import source_keys

if TYPE_CHECKING:
    import polars as pl

POSITION = b"quancheng.position"  # snapshot metadata: the source position the snapshot was read at


def snapshot_path(home: Path, form: SourceForm) -> Path:
    """The last consumed (published) snapshot of a snapshot form."""
    return safe_path(home, "state", form.system_id, "snapshots", f"{form.form_id}.parquet", what="form id")


class SnapshotChanges:
    """The changes of a form read whole, batch by batch, in bounded memory: a **snapshot form** (no update
    column) compared with its last snapshot (:class:`~quancheng.sources.snapshot.StreamedDiff`), or any form
    in a **rebuild**, where every row read is an upsert and nothing is deleted (a snapshot form still keeps
    the read as its next snapshot, and a read older than the export last consumed is refused either way).

    Same interface as :class:`IncrementalChanges`: each batch through :meth:`upserts` (a snapshot form's
    rows are known only once the read ends, so it gives none), then :meth:`rest` gives the rows to upsert
    part by part, and :meth:`deleted` the deleted keys, guarded. The next snapshot is written to
    ``snapshot_out`` (it becomes the state once the batch is published); ``work`` holds the read meanwhile.
    """

    def __init__(self, source: Source, form: SourceForm, *, home: Path, store: SharedStore, work: Path,
                 snapshot_out: Path, allow_mass_delete: bool = False, rebuild: bool = False):
        self.source, self.form, self.store, self.allow = source, form, store, allow_mass_delete
        self.position = source.position(form)
        self.work = work
        previous = snapshot_path(home, form)
        if not form.updated_column and previous.exists():
            _never_backwards(source.system, form, self.position, pq.read_schema(previous).metadata)
        self.passthrough = rebuild and bool(form.updated_column)  # nothing to compare, no snapshot to keep
        self.rebuild = rebuild
        meta = {POSITION: self.position.encode()} if self.position else {}
        self.diff = None if self.passthrough else StreamedDiff(
            None if rebuild else previous, list(form.primary_key), work,
            snapshot_out=None if form.updated_column else snapshot_out, metadata=meta)
        self._deleted = pa.array([], pa.string())

    def upserts(self, batch: pa.Table) -> pa.Table:
        if self.diff is None:
            return batch
        self.diff.add(batch)
        return batch.schema.empty_table()

    def rest(self) -> Iterator[pa.Table]:
        if self.diff is None:
            return
        parts, self._deleted = self.diff.finish(self.source.schema(self.form))
        yield from parts
        shutil.rmtree(self.work, ignore_errors=True)

    def deleted(self) -> pa.Array:
        """The deleted keys, once :meth:`rest` is consumed; guarded (none in a rebuild)."""
        _guard(self.source.system, self.form, self._deleted, self.store, self.position, self.allow)
        return self._deleted


class IncrementalChanges:
    """The changes of an incremental form (update column, no rebuild) read batch by batch: each
    batch's upserts as it comes (soft deletes split off), the deletes once the last batch is in (reconcile
    against the keys of every batch), then the mass-delete guard. Memory holds one batch and the keys."""

    def __init__(self, source: Source, form: SourceForm, *, store: SharedStore, allow_mass_delete: bool = False,
                 chunk_rows: int = 100_000):
        self.source, self.form, self.store = source, form, store
        self.allow, self.chunk_rows = allow_mass_delete, chunk_rows
        self.detection = source.system.delete_detection
        self._keys: list[pa.Array] = [pa.array([], pa.string())]
        # reconcile deletes nothing while the exchange holds nothing of the form: the batch's keys need not be kept
        self._collect = self.detection == "soft_delete" or (self.detection == "reconcile" and (
            store.schema(dataset_id(form)) is not None
            or store.schema(quarantine_dataset_id(form.system_id)) is not None))

    @staticmethod
    def applies(form: SourceForm, rebuild: bool) -> bool:
        return bool(form.updated_column) and not rebuild

    def rest(self) -> Iterator[pa.Table]:
        """Nothing: every upsert went out with its batch."""
        return iter(())

    def upserts(self, batch: pa.Table) -> pa.Table:
        """The batch's upserts (a soft-deleted row's key is kept for :meth:`deleted`)."""
        if self.detection == "soft_delete":
            batch, gone = _soft_deleted(batch, self.form)
            self._keys.append(gone)
        elif self._collect:
            self._keys.append(_keys(batch, self.form))
        return batch

    def deleted(self) -> pa.Array:
        """The batch's deleted keys, after every batch went through :meth:`upserts`; guarded."""
        seen = pa.concat_arrays(self._keys)
        if self.detection == "soft_delete":
            deleted = seen
        elif self.detection == "reconcile":
            deleted = _reconcile(self.source, self.form, seen, self.store, self.chunk_rows)
        else:
            deleted = pa.array([], pa.string())
        _guard(self.source.system, self.form, deleted, self.store, self.source.position(self.form), self.allow)
        return deleted


def _keys(table: pa.Table, form: SourceForm) -> pa.Array:
    if not table.num_rows:
        return pa.array([], pa.string())
    keys = source_keys(table, form.primary_key)
    return (keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys).cast(pa.string())


def _never_backwards(system: System, form: SourceForm, position: str | None,
                     metadata: dict[bytes, bytes] | None) -> None:
    last = (metadata or {}).get(POSITION, b"").decode()
    if position is not None and last and position < last:
        raise SourceError(system.system_id, form.table,
                          f"the newest complete export is {position}, older than {last}, the export last "
                          "published; refusing to roll the shared data back (fix: restore "
                          f"{last} and its .done marker, or have the department export the table anew)")


def _soft_deleted(data: pa.Table, form: SourceForm) -> tuple[pa.Table, pa.Array]:
    flag = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(data[form.deleted_column], pa.string())))
    marked = pc.fill_null(pc.is_in(flag, value_set=pa.array([v.strip().lower() for v in form.deleted_values],
                                                            pa.string())), False)
    return data.filter(pc.invert(marked)), _keys(data.filter(marked), form)


def _known_keys(store: SharedStore, form: SourceForm) -> Iterator[pa.Array]:
    """Source keys the exchange holds for the form, published or quarantined from its table, part by part (a
    dataset never published has none; a lost version raises, as :meth:`SharedStore.scan` does)."""
    for part in store.scan(dataset_id(form), columns=[KEY]):
        yield from part[KEY].cast(pa.string()).chunks
    for part in store.scan(quarantine_dataset_id(form.system_id), columns=["_source_table", KEY]):
        yield from part.filter(pc.equal(part["_source_table"], form.table))[KEY].cast(pa.string()).chunks


HASH_SEED = 20190601  # any fixed seed: the hashes of both sides are made in the same process


def _hashed(chunks: Iterable[pa.Array]) -> pl.DataFrame:
    """Each key as a 64-bit hash (polars ``hash``): 8 bytes a key, whatever its text, so the comparison of ten
    million keys holds 80 MB a side instead of the strings and a hash table of them."""
    import polars as pl

    frames = [pl.DataFrame({"h": pl.Series(c).hash(seed=HASH_SEED)}) for c in chunks if len(c)]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"h": pl.UInt64})


def _reconcile(source: Source, form: SourceForm, in_batch: pa.Array, store: SharedStore,
               chunk_rows: int) -> pa.Array:
    """The held keys that are neither listed by the source nor in this batch, in memory that grows by a few
    bytes a key: both sides are compared as 64-bit hashes, then the held keys are read again, part by part,
    to turn the hashes gone into keys. A key is reported gone only if its hash is missing from the source's,
    so a delete is never invented; one is missed only if a deleted key's hash equals a listed key's, about
    once in 2^64 / (deleted x listed) reconciles: 1 in 10^11 for 100 deletes among 10 M keys."""
    known = _hashed(_known_keys(store, form))
    if not known.height:
        return pa.array([], pa.string())
    listed = (_keys(pa.Table.from_batches([b]), form) for b in source.list_keys(form, chunk_rows) if b.num_rows)
    present = _hashed(itertools.chain(listed, [in_batch]))  # a row in this batch exists, listed or not
    gone = known.join(present, on="h", how="anti").unique()
    if not gone.height:
        return pa.array([], pa.string())
    found = [pa.array([], pa.string())]
    for chunk in _known_keys(store, form):  # the held keys whose hashes are gone, read again part by part
        at = _hashed([chunk]).with_row_index("i").join(gone, on="h", how="semi")["i"]
        if len(at):
            found.append(chunk.take(at.to_arrow()))
    return pc.unique(pa.concat_arrays(found))


def _guard(system: System, form: SourceForm, deleted: pa.Array, store: SharedStore, position: str | None,
           allow: bool) -> None:
    if allow or not len(deleted):
        return
    total = hits = 0
    for part in store.scan(dataset_id(form), columns=[KEY]):  # part by part: the published keys never whole
        total += part.num_rows
        hits += pc.sum(pc.is_in(part[KEY].cast(pa.string()), value_set=deleted.cast(pa.string()))).as_py() or 0
    if total and hits > system.max_delete_share * total:
        export = f" (export {position})" if position else ""
        raise MassDeleteRefused(
            system.system_id, form.table,
            f"this batch{export} would delete {hits} of the {total} published rows of {dataset_id(form)}, more "
            f"than the system's max_delete_share {system.max_delete_share:.0%}; nothing published (fix: if the "
            "deletes are real, rerun with `quancheng run --allow-mass-delete` or the DAG param "
            "allow_mass_delete=true; else have the department re-export the table)")
