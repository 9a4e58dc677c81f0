"""Change the demo world as a day of departmental work would: inserts, updates and deletes.

``advance_world(world_dir, seed=..., fraction=0.05)`` touches about ``fraction`` of each form's rows
three times over:

- **inserts**: entities the form did not hold yet (projects reaching its stage, new registrations),
  rendered like the seeded rows and dirtied at the same rate (added to the manifest);
- **updates**: clean rows get a changed value (an amount, a count, a date or a remark) and, where the
  form has an update column, a new timestamp in this change's window; forms without one change
  silently, as such systems do, and are found by snapshot comparison;
- **deletes**: clean rows removed (their manifest rows go too).

Each change window starts where the previous one ended (the seeded interval's end at first) and lasts
a day; it is recorded in world.json ``changes``. Databases get DELETE/INSERT by primary key, file drops
a new complete export, API tables a new Parquet file. Returns the counts per system and in total.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from quancheng.catalog import Catalog, load_catalog
from quancheng.catalog.models import SourceForm
from quancheng.demo import engines as eng
from quancheng.demo.dirt import MANIFEST_SCHEMA, inject
from quancheng.demo.generate import FormRenderer, dedupe_keys, eligible, entity_kind
from quancheng.demo.pools import rng_for
from quancheng.demo.seed import INTERVAL, build_values, csv_encoding, drop_stamp
from quancheng.demo.world import World, load_world
from quancheng.sources.base import Window, source_class
from quancheng.sources.files import DropFormat, complete_exports, write_drop
from quancheng.sources.types import source_keys, unify

KEEP_DROPS = 3


def read_current(world: World, catalog: Catalog, form: SourceForm) -> pa.Table:
    """The form's whole current table, as its source yields it (files as text)."""
    home = world.systems[form.system_id]
    if home["kind"] == "http":
        return pq.read_table(eng.api_path(Path(world.dir), form.system_id, form.table))
    source = source_class(home["kind"])(catalog.system[form.system_id], catalog, home["uri"])
    batches = list(source.read(form, Window(None, datetime(9999, 1, 1)), 100_000))
    return pa.Table.from_batches(unify(batches)) if batches else source.schema(form).empty_table()


def _plain(keys: pa.Array | pa.ChunkedArray) -> pa.Array:
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def _bump(value: Any, native_type: str) -> Any:
    """A changed but still well-typed value."""
    if value is None:
        return None
    if native_type in ("decimal", "integer"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        new = number + 1 if native_type == "integer" else (number * Decimal("1.1")).quantize(Decimal("0.01"))
        return type(value)(new) if not isinstance(value, str) else f"{new}"
    if native_type == "date" and not isinstance(value, str):
        return value + timedelta(days=1)
    if isinstance(value, str):
        return value + "（变更）"
    return None


def _change_column(catalog: Catalog, form: SourceForm) -> tuple[str, str] | None:
    """The column an update changes: a number, else a date, else an unmapped remark."""
    mapped = {m.column: m for m in catalog.mappings_of(form.form_id)}
    fields = [f for f in catalog.fields_of(form.form_id)
              if f.column not in form.primary_key and f.column != form.updated_column]
    for wanted in (("decimal", "integer"), ("date",)):
        for f in fields:
            if f.native_type in wanted and (f.column not in mapped or mapped[f.column].transform in ("copy",
                                                                                                      "quantity")):
                return f.column, f.native_type
    for f in fields:
        if f.column not in mapped and f.native_type == "text":
            return f.column, "text"
    for f in fields:  # a text cell holding a quantity (file drops keep numbers as text)
        if f.column in mapped and mapped[f.column].transform == "quantity":
            return f.column, "decimal"
    for f in fields:
        if f.column in mapped and mapped[f.column].transform == "text":
            return f.column, "text"
    return None


def advance_world(world_dir: Path, *, seed: int, fraction: float = 0.05) -> dict[str, Any]:
    """Apply one day of changes to every system; see the module docstring."""
    world = load_world(world_dir)
    catalog = load_catalog(world.catalog)
    values = build_values(catalog, world.seed, world.scale)
    start = datetime.fromisoformat(world.changes[-1]["end"] if world.changes else world.interval["end"])
    end = start + timedelta(days=1)
    manifest = pq.read_table(Path(world.dir) / world.manifest).to_pylist()
    totals = {"inserts": 0, "updates": 0, "deletes": 0}
    per_system: dict[str, dict[str, int]] = {}
    round_no = len(world.changes) + 1
    for form in catalog.forms:
        if form.system_id not in world.systems or form.form_id not in world.forms:
            continue
        counts, manifest = _advance_form(world, catalog, values, form, seed, fraction, (start, end), manifest,
                                         round_no)
        agg = per_system.setdefault(form.system_id, {"inserts": 0, "updates": 0, "deletes": 0})
        for k, v in counts.items():
            agg[k] += v
            totals[k] += v
    pq.write_table(pa.Table.from_pylist(manifest, schema=MANIFEST_SCHEMA), Path(world.dir) / world.manifest)
    change = {"seed": seed, "fraction": fraction, "start": start.isoformat(), "end": end.isoformat(), **totals}
    world.changes.append(change)
    world.save(Path(world.dir))
    return {**change, "systems": per_system}


def _advance_form(world: World, catalog: Catalog, values: Any, form: SourceForm, seed: int, fraction: float,
                  window: tuple[datetime, datetime], manifest: list[dict[str, str]],
                  round_no: int) -> tuple[dict[str, int], list[dict[str, str]]]:
    rng = rng_for(seed, f"advance.{round_no}.{form.form_id}")
    current = read_current(world, catalog, form)
    n = current.num_rows
    k = max(1, round(fraction * n)) if n >= 10 else 0
    keys = list(form.primary_key)
    # key sets are compared in Arrow (hash sets): numpy's isin on object arrays compares every pair, which took
    # 294 of 329 s of a day's changes at scale 13,622 (1 M rows)
    cur_keys = _plain(source_keys(current, keys)) if n else pa.array([], pa.string())
    dirty = pa.array({m["source_key"] for m in manifest if m["system_id"] == form.system_id
                      and m["table"] == form.table}, pa.string())
    clean = np.flatnonzero(~np.asarray(pc.is_in(cur_keys, value_set=dirty))) if n else np.array([], int)
    picked = rng.permutation(clean)
    target = _change_column(catalog, form)
    delete_rows = np.sort(picked[:k])
    rest = picked[k:]
    if target and not form.updated_column and len(rest):  # the change must be visible to a snapshot diff
        rest = rest[np.asarray(current[target[0]].is_valid())[rest]]
    update_rows = np.sort(rest[:k])
    renderer = FormRenderer(catalog, values, form, world.seed, INTERVAL)

    # updates
    updated = current.take(pa.array(update_rows, pa.int64()))
    if target and updated.num_rows:
        col, native = target
        new = [_bump(v, native) for v in updated[col].to_pylist()]
        typed = pa.array(new, updated.schema.field(col).type)
        updated = updated.set_column(updated.column_names.index(col), col, typed)
    if form.updated_column and updated.num_rows:
        span = int((window[1] - window[0]).total_seconds())
        stamps = [window[0] + timedelta(seconds=int(s)) for s in rng.integers(0, span, updated.num_rows)]
        typ = updated.schema.field(form.updated_column).type
        arr = pa.array(stamps, pa.timestamp("us"))
        arr = pc.utf8_slice_codeunits(pc.strftime(arr, "%Y-%m-%d %H:%M:%S"), 0, 19) if pa.types.is_string(typ) \
            else pc.cast(arr, typ)
        updated = updated.set_column(updated.column_names.index(form.updated_column), form.updated_column, arr)

    # inserts: entities not in the form yet
    kind = entity_kind(catalog, form)
    pool = eligible(values, catalog, form, kind)
    fresh = renderer.render(pool, serial_start=1_000_000 * round_no, salt=f"advance{round_no}",
                            updated_range=window)
    fresh = dedupe_keys(fresh, keys)
    if n:
        fresh = fresh.filter(pc.invert(pc.is_in(_plain(source_keys(fresh, keys)), value_set=cur_keys)))
    if fresh.num_rows > k:
        fresh = fresh.take(pa.array(np.sort(rng.choice(fresh.num_rows, k, replace=False))))
    fresh, new_dirt = inject(fresh, catalog, form, rng, date_style=renderer.date_style)
    fresh = fresh.cast(current.schema) if n else fresh

    deleted = current.take(pa.array(delete_rows, pa.int64()))
    gone = set(source_keys(deleted, keys).to_pylist()) if deleted.num_rows else set()
    manifest = [m for m in manifest if not (m["system_id"] == form.system_id and m["table"] == form.table
                                            and m["source_key"] in gone)] + new_dirt
    _write(world, catalog, form, current, updated, update_rows, delete_rows, fresh, deleted, window[1])
    return {"inserts": fresh.num_rows, "updates": updated.num_rows, "deletes": deleted.num_rows}, manifest


def _write(world: World, catalog: Catalog, form: SourceForm, current: pa.Table, updated: pa.Table,
           update_rows: np.ndarray, delete_rows: np.ndarray, fresh: pa.Table, deleted: pa.Table,
           moment: datetime) -> None:
    home = world.systems[form.system_id]
    kind = home["kind"]
    upserts = pa.concat_tables([updated, fresh]) if fresh.num_rows else updated
    if kind in ("sqlite", "postgresql", "mariadb"):
        eng.apply_changes(kind, home["uri"], catalog, form, upserts, deleted)  # type: ignore[arg-type]
        return
    keep = np.ones(current.num_rows, bool)
    keep[np.concatenate([update_rows, delete_rows]).astype(int)] = False
    table = pa.concat_tables([current.filter(pa.array(keep)), upserts])
    if kind == "http":
        eng.load_api(Path(world.dir), form.system_id, form, table)
        return
    folder = Path(home["uri"].removeprefix("file://")) / form.table
    fmt: DropFormat = "csv" if kind == "csv" else "xlsx"
    write_drop(folder, table, fmt, drop_stamp(moment),
               encoding=csv_encoding(form.system_id) if kind == "csv" else "utf-8")
    complete, _ = complete_exports(folder, fmt)
    for old in complete[KEEP_DROPS:]:
        old.with_name(old.name + ".done").unlink(missing_ok=True)
        old.unlink(missing_ok=True)
