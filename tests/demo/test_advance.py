"""demo advance: inserts, updates and deletes that incremental reads and snapshot diffs both see."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
from demo_helpers import read_form, source_for
from quancheng.catalog import Catalog
from quancheng.demo.advance import advance_world
from quancheng.demo.seed import seed_world
from quancheng.sources.base import Window
from quancheng.sources.snapshot import diff_snapshots
from quancheng.sources.types import source_keys


def test_advance_changes_every_form_visibly(slice_catalog: Catalog, tmp_path: Path) -> None:
    world = seed_world(slice_catalog, tmp_path / "w", scale=200, seed=11)
    before = {f.form_id: read_form(world, slice_catalog, f) for f in slice_catalog.forms}
    result = advance_world(Path(world.dir), seed=5, fraction=0.05)
    window = Window(datetime.fromisoformat(result["start"]), datetime.fromisoformat(result["end"]))
    manifest = pq.read_table(Path(world.dir) / "manifest.parquet").to_pylist()
    assert manifest
    for form in slice_catalog.forms:
        counts = result["systems"][form.system_id]
        assert counts["inserts"] > 0 and counts["updates"] > 0 and counts["deletes"] > 0
        after = read_form(world, slice_catalog, form)
        ins, upd, dele = diff_snapshots(before[form.form_id], after, form.primary_key)
        assert (ins.num_rows, upd.num_rows, dele.num_rows) == (counts["inserts"], counts["updates"],
                                                                counts["deletes"])
        if form.updated_column:  # an incremental read of the change window sees exactly the changed rows
            changed = sum(b.num_rows for b in source_for(world, slice_catalog, form).read(form, window, 1000))
            assert changed == counts["inserts"] + counts["updates"]
        gone = set(source_keys(dele, form.primary_key).to_pylist())
        assert not [m for m in manifest if m["table"] == form.table and m["source_key"] in gone]


def test_second_advance_starts_where_the_first_ended(slice_catalog: Catalog, tmp_path: Path) -> None:
    world = seed_world(slice_catalog, tmp_path / "w", scale=100, seed=11)
    first = advance_world(Path(world.dir), seed=1)
    second = advance_world(Path(world.dir), seed=2)
    assert second["start"] == first["end"] and second["end"] > second["start"]
