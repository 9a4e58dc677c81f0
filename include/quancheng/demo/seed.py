"""Seed the demo world: every catalog system's native tables, with dirt and its manifest.

``seed_world(catalog, out_dir)`` builds the pools (:mod:`quancheng.demo.pools`), renders each form
(:mod:`quancheng.demo.generate`), dirties it (:mod:`quancheng.demo.dirt`) and writes it where its system
lives (:mod:`quancheng.demo.engines`):

- ``embedded``: SQLite files under ``sqlite/`` for sqlite systems *and* for postgresql/mariadb ones
  (noted in world.json), CSV/Excel drops under ``drops/<system_id>/``, API tables under ``api/``;
- ``services``: postgresql systems in one PostgreSQL database each (``<db_prefix><system_id>``), mariadb
  systems in one MariaDB database each; the rest as embedded.

The same ``seed`` gives the same data. ``scale`` is about the rows of a first-stage form; later stages
hold fewer (only the projects that got there), enterprise and person registers about as many; the
whole world holds about ``0.8 * scale`` rows per form (81 forms in the full catalog: ``--scale 160000``
for ten million rows). Columns are generated whole (see :mod:`quancheng.demo.vec`), databases are
bulk-loaded over one connection each (:class:`quancheng.demo.engines.Loader`), and each canonical
column is dropped after the last form that uses it, so memory follows the largest form, not the world.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm, System
from quancheng.demo import engines as eng
from quancheng.demo.dirt import DEFAULT_RATE, MANIFEST_SCHEMA, inject
from quancheng.demo.generate import FormRenderer, dedupe_keys, select_rows
from quancheng.demo.pools import make_enterprises, make_persons, make_projects, rng_for
from quancheng.demo.values import EntityKind, Values
from quancheng.demo.world import MANIFEST_FILE, World
from quancheng.errors import QuanchengError
from quancheng.sources.files import write_drop

Engines = Literal["embedded", "services"]
Progress = Callable[[str, int, int], None]
INTERVAL = (datetime(2025, 1, 1), datetime(2025, 7, 1))


def pool_size(scale: int) -> int:
    return max(20, round(scale * 1.15))


def build_values(catalog: Catalog, seed: int, scale: int) -> Values:
    """The pools and canonical values of a world (a pure function of seed and scale)."""
    n = pool_size(scale)
    persons = make_persons(seed, n)
    enterprises = make_enterprises(seed, n, persons)
    projects = make_projects(seed, n, enterprises, INTERVAL[1].date())
    return Values(catalog, seed, persons, enterprises, projects)


def csv_encoding(system_id: str) -> str:
    # some departments still export in the national encoding rather than UTF-8
    return "gb18030" if zlib.crc32(system_id.encode()) % 3 == 0 else "utf-8"


def drop_stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def service_databases(catalog: Catalog, engines: Engines, db_prefix: str) -> list[dict[str, str]]:
    """The databases a services world needs: one per PostgreSQL or MariaDB system, ``<db_prefix><system_id>``."""
    if engines != "services":
        return []
    return [{"engine": s.kind, "name": f"{db_prefix}{s.system_id}"} for s in catalog.systems
            if s.kind in ("postgresql", "mariadb")]


def databases_to_drop(world_dir: Path, wanted: list[dict[str, str]]) -> list[dict[str, str]]:
    """Which of ``wanted`` already exist and would be dropped to seed again. Only databases an earlier seed of
    this same folder recorded (``world.json``) may be: any other that exists is refused, naming it."""
    recorded: list[dict[str, str]] = []
    path = Path(world_dir) / "world.json"
    if path.exists():
        recorded = list(json.loads(path.read_text(encoding="utf-8")).get("databases", []))
    existing = [d for d in wanted if eng.database_exists(d["engine"], d["name"])]  # type: ignore[arg-type]
    foreign = [d for d in existing if d not in recorded]
    if foreign:
        raise QuanchengError(
            f"{len(foreign)} database(s) the demo would create already exist and were not created by a seed of "
            f"{world_dir}: {', '.join(d['engine'] + ' ' + d['name'] for d in foreign)}; nothing was dropped "
            "(fix: choose another --db-prefix, or drop them yourself if they are yours to drop)")
    return existing


def system_home(world_dir: Path, system: System, engines: Engines, db_prefix: str) -> dict[str, str]:
    """Where a system lives: its engine kind, URI and a note (creates service databases, which
    :func:`databases_to_drop` has cleared)."""
    entry = {"conn_id": system.conn_id, "catalog_kind": system.kind, "note": ""}
    kind = system.kind
    if kind in ("postgresql", "mariadb") and engines == "services":
        server: Literal["postgresql", "mariadb"] = "postgresql" if kind == "postgresql" else "mariadb"
        uri = eng.recreate_database(server, f"{db_prefix}{system.system_id}")
        return {**entry, "kind": kind, "uri": uri, "note": f"database {db_prefix}{system.system_id}"}
    if kind in ("sqlite", "postgresql", "mariadb"):
        path = world_dir / "sqlite" / f"{system.system_id}.db"
        note = "" if kind == "sqlite" else f"embedded: {kind} system served from SQLite"
        return {**entry, "kind": "sqlite", "uri": f"sqlite:///{path}", "note": note}
    if kind in ("csv", "excel"):
        note = f"encoding {csv_encoding(system.system_id)}" if kind == "csv" else ""
        return {**entry, "kind": kind, "uri": f"file://{world_dir / 'drops' / system.system_id}", "note": note}
    return {**entry, "kind": "http", "uri": "{api}/" + system.system_id, "note": "served by quancheng.demo.api"}


def write_form(world_dir: Path, catalog: Catalog, home: dict[str, str], form: SourceForm, table: pa.Table,
               stamp: str, loader: eng.Loader | None = None) -> None:
    kind, uri = home["kind"], home["uri"]
    if kind in ("sqlite", "postgresql", "mariadb"):
        with contextlib.ExitStack() as stack:
            active = loader or stack.enter_context(eng.Loader())
            active.load(kind, uri, catalog, form, table)  # type: ignore[arg-type]
    elif kind in ("csv", "excel"):
        folder = Path(uri.removeprefix("file://")) / form.table
        write_drop(folder, table, "csv" if kind == "csv" else "xlsx", stamp,
                   encoding=csv_encoding(form.system_id) if kind == "csv" else "utf-8")
    else:
        eng.load_api(world_dir, form.system_id, form, table)


class BackgroundWriter:
    """Runs write calls one at a time, in order, in a thread, while the caller generates the next form.

    Loading is mostly native code that releases the GIL (ADBC ingest, the servers' own work, Arrow's
    CSV and Parquet writers), so generation and loading overlap. At most ``depth`` tables wait; the
    first error is raised in the caller at its next :meth:`submit` or on leaving the ``with`` block.
    """

    def __init__(self, depth: int = 2) -> None:
        import queue
        import threading

        self._queue: queue.Queue[tuple[Callable[..., object], tuple[object, ...]] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="quancheng-seed-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self._error is None:
                try:
                    job[0](*job[1])
                except BaseException as exc:  # noqa: BLE001 -- handed to the caller's thread, re-raised there
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        self._raise()
        self._queue.put((fn, args))

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc[0] is None:
            self._raise()


def last_uses(renderers: list[FormRenderer]) -> dict[int, list[tuple[EntityKind, str]]]:
    """Form position -> the (entity kind, element) columns no later form needs."""
    last: dict[tuple[EntityKind, str], int] = {}
    for i, r in enumerate(renderers):
        for el in r.elements():
            last[(r.kind, el)] = i
    out: dict[int, list[tuple[EntityKind, str]]] = {}
    for key, i in last.items():
        out.setdefault(i, []).append(key)
    return out


def write_api_meta(world_dir: Path, catalog: Catalog, systems: dict[str, dict[str, str]]) -> None:

    rows = [{"system_id": f.system_id, "table": f.table, "updated_column": f.updated_column}
            for f in catalog.forms if systems.get(f.system_id, {}).get("kind") == "http"]
    (world_dir / "api").mkdir(parents=True, exist_ok=True)
    (world_dir / "api" / "tables.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def seed_world(catalog: Catalog, out_dir: Path, *, scale: int = 200, engines: Engines = "embedded", seed: int = 7,
               progress: Progress | None = None, dirt_rate: float = DEFAULT_RATE, db_prefix: str = "qc_",
               replace_databases: bool = False) -> World:
    """Generate every system of ``catalog`` into ``out_dir`` (replacing a previous world there).

    With ``engines="services"`` each PostgreSQL or MariaDB system gets a database ``<db_prefix><system_id>``.
    One that already exists is dropped only if an earlier seed of this folder created it and
    ``replace_databases`` says so; any other existing one stops the seed before anything is dropped.
    """
    world_dir = Path(out_dir).resolve()
    wanted = service_databases(catalog, engines, db_prefix)
    existing = databases_to_drop(world_dir, wanted)
    if existing and not replace_databases:
        raise QuanchengError(
            f"seeding again would drop {len(existing)} database(s) this folder's earlier seed created: "
            f"{', '.join(d['name'] for d in existing)}; nothing was dropped (fix: confirm with --yes)")
    world_dir.mkdir(parents=True, exist_ok=True)
    for old in ("sqlite", "drops", "api"):
        shutil.rmtree(world_dir / old, ignore_errors=True)
    values = build_values(catalog, seed, scale)
    systems = {s.system_id: system_home(world_dir, s, engines, db_prefix) for s in catalog.systems}
    write_api_meta(world_dir, catalog, systems)
    forms = [f for f in catalog.forms if f.system_id in systems]
    manifest: list[dict[str, str]] = []
    form_info: dict[str, dict[str, object]] = {}
    stamp = drop_stamp(INTERVAL[1])
    renderers = [FormRenderer(catalog, values, form, seed, INTERVAL) for form in forms]
    done_with = last_uses(renderers)
    with eng.Loader() as loader, BackgroundWriter() as writer:
        for done, (form, renderer) in enumerate(zip(forms, renderers, strict=True)):
            if progress:
                progress(f"{form.system_id}.{form.table}", done, len(forms))
            kind, idx = select_rows(values, catalog, form, seed)
            table = dedupe_keys(renderer.render(idx), form.primary_key)
            for entity, element_id in done_with.get(done, []):
                values.release(entity, element_id)
            table, dirt = inject(table, catalog, form, rng_for(seed, "dirt." + form.form_id), rate=dirt_rate,
                                 date_style=renderer.date_style)
            manifest.extend(dirt)
            writer.submit(write_form, world_dir, catalog, systems[form.system_id], form, table, stamp, loader)
            form_info[form.form_id] = {"rows": table.num_rows, "entity": kind, "system_id": form.system_id,
                                       "table": form.table}
    if progress:
        progress("manifest", len(forms), len(forms))
    pq.write_table(pa.Table.from_pylist(manifest, schema=MANIFEST_SCHEMA), world_dir / MANIFEST_FILE)
    world = World(engines=engines, scale=scale, seed=seed, catalog=str(Path(catalog.root).resolve()),
                  systems=systems, forms=form_info,
                  interval={"start": INTERVAL[0].isoformat(), "end": INTERVAL[1].isoformat()},
                  databases=wanted, dir=str(world_dir))
    world.save(world_dir)
    return world


