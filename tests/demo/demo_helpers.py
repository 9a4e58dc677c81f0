"""Read a demo world's forms back through the real sources (serving the API when needed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.demo.api import serve
from quancheng.demo.world import World
from quancheng.sources.base import Source, Window, source_class

EVERYTHING = Window(None, datetime(9999, 1, 1))


def live_columns(world: World, catalog: Catalog, form: SourceForm) -> list[str]:
    if world.systems[form.system_id]["kind"] == "http":
        with serve(Path(world.dir)) as base:
            return source_for(world, catalog, form, base).live_columns(form)
    return source_for(world, catalog, form).live_columns(form)


def check_schema(world: World, catalog: Catalog, form: SourceForm) -> list[str]:
    """The source's own schema check (names and, for databases, types); returns the new columns."""
    if world.systems[form.system_id]["kind"] == "http":
        with serve(Path(world.dir)) as base:
            return source_for(world, catalog, form, base).check_schema(form)
    return source_for(world, catalog, form).check_schema(form)


def source_for(world: World, catalog: Catalog, form: SourceForm, api_base: str = "") -> Source:
    home = world.systems[form.system_id]
    uri = world.uri(form.system_id, api_base or "http://127.0.0.1:9")
    return source_class(home["kind"])(catalog.system[form.system_id], catalog, uri)


def read_form(world: World, catalog: Catalog, form: SourceForm) -> pa.Table:
    if world.systems[form.system_id]["kind"] == "http":
        with serve(Path(world.dir)) as base:
            batches = list(source_for(world, catalog, form, base).extract(form, EVERYTHING))
    else:
        batches = list(source_for(world, catalog, form).extract(form, EVERYTHING))
    return pa.Table.from_batches(batches)
