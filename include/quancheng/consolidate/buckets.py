"""The stage forms in bounded memory: the system datasets split by project into buckets, built one by one.

A project's rows are consolidated together and with nothing else, so the projects can be built a group
at a time. The rules:

- Only the columns consolidation uses are read (:func:`stage_columns`): the project code, the mapped
  element columns of the stage forms, the record's update time and the provenance columns.
- Pass 1 reads the project codes alone, part by part, normalizes them
  (:func:`quancheng.consolidate.keys.project_key`) and counts rows per key; the sorted distinct keys are
  cut into ranges of about ``bucket_rows`` input rows each (a project is never split). Rows without a
  key are counted as unmatched here and read no further.
- Pass 2 reads the used columns part by part and appends each part's rows to its bucket's spill file
  (Parquet, in a temporary folder under the store).
- Each bucket is built by :func:`quancheng.consolidate.stage_forms.build_stage_forms` on its rows alone,
  and each output written as one part. The buckets are key ranges in ascending order, so their parts,
  one after another, are the outputs of one build over everything, in the same order.

Memory follows ``bucket_rows`` and the distinct project keys (pass 1), not the datasets.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.consolidate.keys import project_key
from quancheng.consolidate.stage_forms import (
    CONFLICTS_DATASET,
    RECENCY_KEY,
    StageForms,
    build_stage_forms,
    project_element,
    provenance_dataset_id,
    stage_dataset_id,
    stage_elements,
)
from quancheng.errors import QuanchengError
from quancheng.publish.delta import Batch
from quancheng.publish.store import SharedStore

BUCKET_ROWS = 50_000  # input rows per bucket: a build of 200,000 rows peaked at 2.4 GB (benchmarks/consolidate.py)
SORT_MEMORY = "512MB"  # DuckDB's limit when it sorts a dataset for its area copies
PROVENANCE_COLUMNS = ("_source_system", "_source_table", "_source_key", "_batch_id", "_extracted_at")


def stage_columns(catalog: Catalog, available: list[str]) -> list[str]:
    """The columns of a system dataset that the stage forms use, of those it has (its own order)."""
    wanted = {project_element(catalog).key, RECENCY_KEY, *PROVENANCE_COLUMNS}
    wanted |= {e.key for s in catalog.stages for e in stage_elements(catalog, s.stage_id)}
    return [c for c in available if c in wanted]


@dataclass
class BuiltParts:
    """Stage forms built bucket by bucket: each output dataset as its parts (Parquet files, in key order)."""

    parts: dict[str, list[Path]]
    schemas: dict[str, pa.Schema]
    unmatched: dict[str, int] = field(default_factory=dict)
    feeding_systems: dict[str, set[str]] = field(default_factory=dict)
    buckets: int = 0

    def batch(self, dataset: str) -> Batch:
        """One output dataset's rows, read part by part."""
        return Batch.parts(self.parts[dataset], self.schemas[dataset])


@contextmanager
def spill_folder(store: SharedStore, prefix: str) -> Iterator[Path]:
    """A temporary folder beside the store's datasets (the same disk), removed afterwards."""
    root = store.root / ".spill"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=prefix))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sorted_rows(store: SharedStore, dataset: str, order: list[str], folder: Path) -> Batch:
    """A published dataset's current rows in ``order``, read back part by part (row groups): sorted by DuckDB
    into a Parquet file in ``folder`` within a memory limit (it spills to ``folder``). On an object store the
    dataset is read whole and sorted."""
    schema = store.schema(dataset)
    if schema is None:
        raise QuanchengError(f"dataset {dataset!r} was never published")
    plain = pa.schema([f.remove_metadata() for f in schema])
    if not store.is_local:
        table = store.read(dataset)
        assert table is not None
        return Batch.of(table.sort_by([(k, "ascending") for k in order]).cast(plain))
    import duckdb

    from quancheng.publish import delta

    files = [f.removeprefix("file://") for f in delta.current_files(store.dataset_uri(dataset))]
    if not files:
        return Batch.of(plain.empty_table())
    out = folder / f"{dataset}.sorted.parquet"
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{SORT_MEMORY}'")
        con.execute("SET temp_directory = ?", [str(folder / "duckdb")])
        con.execute("SET preserve_insertion_order = false")
        cols = ", ".join('"' + n.replace('"', '""') + '"' for n in plain.names)
        keys = ", ".join('"' + k.replace('"', '""') + '"' for k in order)
        con.execute(f"COPY (SELECT {cols} FROM read_parquet(?, union_by_name = true) ORDER BY {keys}) "
                    f"TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE 100000)", [files])
    finally:
        con.close()
    pf = pq.ParquetFile(out)
    groups = range(pf.num_row_groups)
    return Batch(plain, lambda: (pq.ParquetFile(out).read_row_group(g) for g in groups), pf.metadata.num_rows)


def keyed_inputs(store: SharedStore, catalog: Catalog) -> dict[str, tuple[list[str], int]]:
    """dataset id -> the columns to read and the version read, for every current system dataset holding the
    project code (both passes read that version, whatever a sync commits meanwhile)."""
    pk = project_element(catalog).key
    current = {d["dataset_id"] for d in store.datasets() if d["kind"] == "system"}
    out: dict[str, tuple[list[str], int]] = {}
    for form in catalog.forms:
        ds = dataset_id(form)
        if ds not in current:
            continue
        version, schema = store.version(ds), store.schema(ds)
        if version is not None and schema is not None and pk in schema.names:
            out[ds] = stage_columns(catalog, schema.names), version
    return out


def bucket_bounds(keys: pl.Series, bucket_rows: int) -> pl.Series:
    """The upper bounds (inclusive, sorted) of key ranges holding about ``bucket_rows`` rows each; ``keys``
    holds one entry per input row (non-null). A key's bucket is the first bound at or above it."""
    counts = keys.value_counts(name="n").sort(keys.name)
    if counts.height == 0:
        return pl.Series("bound", [], pl.String)
    cum = counts["n"].cum_sum()
    buckets = max(1, math.ceil(int(cum[-1]) / max(1, bucket_rows)))
    target = int(cum[-1]) / buckets
    index = ((cum - counts["n"]) / target).floor().cast(pl.Int64)  # by the row a key's rows start at
    last = counts.with_columns(index.alias("_b")).group_by("_b", maintain_order=True).last()
    return last[keys.name].alias("bound")


def _bucket_of(keys: pa.Array, bounds: pl.Series) -> pl.Series:
    s = pl.Series("k", keys, dtype=pl.String)
    return bounds.search_sorted(s, side="left").clip(0, max(0, len(bounds) - 1))


def build_in_buckets(store: SharedStore, catalog: Catalog, *, batch_id: str, folder: Path,
                     bucket_rows: int = BUCKET_ROWS, inputs: dict[str, tuple[list[str], int]] | None = None,
                     ) -> BuiltParts:
    """The stage forms of the store's current system datasets (or of ``inputs``: dataset -> columns and
    version, :func:`keyed_inputs`), built bucket by bucket into ``folder``."""
    pk = project_element(catalog).key
    columns = inputs if inputs is not None else keyed_inputs(store, catalog)
    unmatched: dict[str, int] = {}
    seen: list[pl.Series] = []
    for ds, (_, version) in columns.items():  # pass 1: the keys alone
        unmatched[ds] = 0
        for part in store.scan(ds, columns=[pk], as_of=version):
            keys = project_key(part[pk])
            unmatched[ds] += keys.null_count
            seen.append(pl.Series("key", keys.drop_null(), dtype=pl.String))
    bounds = bucket_bounds(pl.concat(seen) if seen else pl.Series("key", [], pl.String), bucket_rows)
    del seen
    n_buckets = max(1, len(bounds))
    writers: dict[tuple[str, int], pq.ParquetWriter] = {}
    spilled: dict[int, dict[str, Path]] = {b: {} for b in range(n_buckets)}
    try:
        for i, (ds, (cols, version)) in enumerate(columns.items()):  # pass 2: the used columns, to the buckets
            for part in store.scan(ds, columns=cols, as_of=version):
                keys = project_key(part[pk])
                bucket = _bucket_of(keys, bounds)
                valid = pl.Series(keys.is_valid())
                for b in bucket.filter(valid).unique().sort().to_list():
                    rows = part.filter((valid & (bucket == b)).to_arrow())
                    w = writers.get((ds, b))
                    if w is None:
                        path = folder / "in" / str(b) / f"{i:04d}.parquet"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        w = writers[(ds, b)] = pq.ParquetWriter(path, rows.schema)
                        spilled[b][ds] = path
                    w.write_table(rows.cast(w.schema))
    finally:
        for w in writers.values():
            w.close()
    return _build(catalog, spilled, batch_id, folder, unmatched)


def _build(catalog: Catalog, inputs: dict[int, dict[str, Path]], batch_id: str, folder: Path,
           unmatched: dict[str, int]) -> BuiltParts:
    out = BuiltParts({}, {}, unmatched=unmatched, buckets=len(inputs))
    for b in sorted(inputs):
        tables = {ds: pq.read_table(path) for ds, path in inputs[b].items()}
        result = build_stage_forms(tables, catalog, batch_id=batch_id)
        del tables
        for path in inputs[b].values():
            path.unlink()
        for key, systems in result.feeding_systems.items():
            out.feeding_systems.setdefault(key, set()).update(systems)
        for ds, table in _outputs(result):
            path = folder / "out" / ds / f"{b:06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path)
            out.parts.setdefault(ds, []).append(path)
            out.schemas.setdefault(ds, table.schema)
    return out


def _outputs(result: StageForms) -> Iterator[tuple[str, pa.Table]]:
    yield from result.forms.items()
    yield from result.provenance.items()
    yield CONFLICTS_DATASET, result.conflicts


def output_datasets(catalog: Catalog) -> list[str]:
    """The datasets the stage forms publish, in publishing order."""
    return ([stage_dataset_id(s.stage_id) for s in catalog.stages]
            + [provenance_dataset_id(s.stage_id) for s in catalog.stages] + [CONFLICTS_DATASET])
