"""Direct edits of one form of a seeded demo world, for the quiet-day tests: a day in which only that form
changes. Unlike ``demo advance`` (every form of every system, deletes included) the edit touches exactly
the form it is given, and only with rows the seed made, so every row it writes is clean.

- :func:`hold_back` removes a few clean rows from the form's source before the first sync;
- :func:`day_of_changes` brings them back (new filings) and changes a value in a few other clean rows,
  stamping every written row at ``at`` when the form has an update column; a snapshot form's change is
  found by the snapshot comparison, as in a system without timestamps;
- :func:`published_rows` is what the tests compare afterwards with a sync from scratch: a dataset's rows
  without the provenance that names the batch a row last came in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.demo import engines as eng
from quancheng.demo.advance import read_current
from quancheng.demo.seed import csv_encoding, drop_stamp
from quancheng.demo.world import World
from quancheng.publish.store import KEY, SharedStore
from quancheng.sources.files import write_drop
from quancheng.sources.types import source_keys

PER_BATCH = ["_batch_id", "_extracted_at"]  # provenance naming the batch a row last came in


def published_rows(home: Path, dataset_id: str) -> list[dict[str, object]]:
    """A published dataset's rows without :data:`PER_BATCH`, in key order."""
    table = SharedStore(home).read(dataset_id)
    assert table is not None, f"{dataset_id} was never published under {home}"
    table = table.drop_columns([c for c in PER_BATCH if c in table.column_names])
    order = [c for c in (KEY, "_source_table") if c in table.column_names]
    return table.sort_by([(c, "ascending") for c in order]).to_pylist()


def clean_rows(world: World, form: SourceForm, table: pa.Table) -> pa.Table:
    """The rows of ``table`` the seed left without dirt (the manifest names every dirty row)."""
    manifest = pq.read_table(Path(world.dir) / world.manifest).to_pylist()
    dirty = {m["source_key"] for m in manifest if m["system_id"] == form.system_id and m["table"] == form.table}
    return table.filter(pc.invert(pc.is_in(_keys(form, table), value_set=pa.array(sorted(dirty), pa.string()))))


def _keys(form: SourceForm, table: pa.Table) -> pa.Array:
    keys = source_keys(table, form.primary_key)
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def write(world: World, catalog: Catalog, form: SourceForm, upserts: pa.Table, deletes: pa.Table,
          at: datetime) -> None:
    """Upsert and delete rows (by primary key) in the form's source, whatever its kind."""
    home = world.systems[form.system_id]
    kind = home["kind"]
    if kind in ("sqlite", "postgresql", "mariadb"):
        eng.apply_changes(kind, home["uri"], catalog, form, upserts, deletes)  # type: ignore[arg-type]
        return
    current = read_current(world, catalog, form)
    gone = pa.concat_arrays([_keys(form, upserts), _keys(form, deletes)])
    kept = current.filter(pc.invert(pc.is_in(_keys(form, current), value_set=gone)))
    table = pa.concat_tables([kept, upserts.cast(current.schema)])
    if kind == "http":
        eng.load_api(Path(world.dir), form.system_id, form, table)
        return
    folder = Path(home["uri"].removeprefix("file://")) / form.table
    write_drop(folder, table, "csv" if kind == "csv" else "xlsx", drop_stamp(at),
               encoding=csv_encoding(form.system_id) if kind == "csv" else "utf-8")


def hold_back(world: World, catalog: Catalog, form: SourceForm, n: int, at: datetime) -> pa.Table:
    """Remove the last ``n`` clean rows from the form's source; returns them."""
    held = clean_rows(world, form, read_current(world, catalog, form))
    held = held.slice(held.num_rows - n)
    write(world, catalog, form, held.slice(0, 0), held, at)
    return held


def day_of_changes(world: World, catalog: Catalog, form: SourceForm, held: pa.Table, n_updates: int,
                   at: datetime) -> pa.Table:
    """Bring ``held`` back and give ``n_updates`` clean rows another clean row's value in one column;
    returns the rows written (their keys are the batch the next sync must read)."""
    current = clean_rows(world, form, read_current(world, catalog, form))
    donors = current.slice(current.num_rows - n_updates)
    updated = current.slice(0, n_updates)
    column = next(f.column for f in catalog.fields_of(form.form_id)
                  if f.column not in form.primary_key and f.column != form.updated_column
                  and updated[f.column].to_pylist() != donors[f.column].to_pylist()
                  and updated[f.column].null_count == donors[f.column].null_count == 0)
    updated = updated.set_column(updated.column_names.index(column), column, donors[column])
    rows = pa.concat_tables([held.cast(current.schema), updated])
    if form.updated_column:
        col = rows.column_names.index(form.updated_column)
        typ = rows.schema.field(col).type
        stamp = at.strftime("%Y-%m-%d %H:%M:%S") if pa.types.is_string(typ) else at
        rows = rows.set_column(col, form.updated_column, pa.array([stamp] * rows.num_rows, typ))
    write(world, catalog, form, rows, rows.slice(0, 0), at)
    return rows
