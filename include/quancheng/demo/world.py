"""The demo world's description: where every system lives, saved as ``<world>/world.json``.

``world.json`` holds ``engines``, ``scale``, ``seed``, ``catalog`` (the catalog folder it was seeded
from), ``systems`` (``system_id -> {kind, conn_id, uri, catalog_kind, note}``; ``kind`` is the engine
that really serves it, e.g. ``sqlite`` for a PostgreSQL system in embedded mode, and an ``http`` system's
``uri`` holds ``{api}`` for the base URL :func:`quancheng.demo.api.serve` yields), ``forms``
(``form_id -> {rows, entity}``), ``interval`` (``start``/``end``: the range the seeded update timestamps
fall in), ``changes`` (one entry per ``demo advance``) and ``manifest`` (the dirt ground truth file).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from quancheng.errors import QuanchengError

WORLD_FILE = "world.json"
MANIFEST_FILE = "manifest.parquet"


@dataclass
class World:
    engines: str
    scale: int
    seed: int
    catalog: str
    systems: dict[str, dict[str, str]]
    forms: dict[str, dict[str, Any]]
    interval: dict[str, str]
    manifest: str = MANIFEST_FILE
    changes: list[dict[str, Any]] = field(default_factory=list)
    databases: list[dict[str, str]] = field(default_factory=list)  # {engine, name}: what the seed created
    dir: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("dir")
        return out

    def uri(self, system_id: str, api_base: str | None = None) -> str:
        """The system's connection URI (``api_base`` fills in an HTTP system's base URL)."""
        uri = self.systems[system_id]["uri"]
        if "{api}" in uri:
            if not api_base:
                raise QuanchengError(f"system {system_id!r} is served by the demo API: start quancheng.demo.api.serve")
            uri = uri.replace("{api}", api_base.rstrip("/"))
        return uri

    def save(self, world_dir: Path) -> None:
        tmp = world_dir / (WORLD_FILE + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(world_dir / WORLD_FILE)


def load_world(world_dir: Path) -> World:
    """Read ``<world_dir>/world.json``."""
    path = Path(world_dir) / WORLD_FILE
    if not path.is_file():
        raise QuanchengError(f"no demo world in {world_dir}: run `quancheng demo seed` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    return World(**data, dir=str(Path(world_dir).resolve()))
