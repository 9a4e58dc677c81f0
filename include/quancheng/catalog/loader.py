"""Load the catalog's CSV files into typed models, failing with file and line.

The catalog is a folder (``include/catalog`` by default, or ``$QUANCHENG_CATALOG``) of CSV files,
one per model, plus ``codes/<code_list_id>.csv`` for the codes of each code list.
Cells holding several values are written ``a|b``. Empty cells take the model's default.
Loading only parses and types rows; cross-file consistency is :mod:`quancheng.catalog.check`.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import typing
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from quancheng.catalog.models import (
    Code,
    CodeList,
    CrossRule,
    Crosswalk,
    Element,
    Grant,
    Mapping,
    Material,
    ReformFigure,
    ServiceItem,
    SourceField,
    SourceForm,
    Stage,
    System,
    Unit,
)
from quancheng.errors import CatalogError, CatalogProblem
from quancheng.registry import Registry

M = TypeVar("M", bound=BaseModel)

DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "catalog"

# file name -> model; the order is the order of loading and of error reports
FILES: dict[str, type[BaseModel]] = {
    "stages.csv": Stage,
    "systems.csv": System,
    "forms.csv": SourceForm,
    "fields.csv": SourceField,
    "mappings.csv": Mapping,
    "elements.csv": Element,
    "code_lists.csv": CodeList,
    "crosswalks.csv": Crosswalk,
    "units.csv": Unit,
    "materials.csv": Material,
    "rules.csv": CrossRule,
    "grants.csv": Grant,
    "reform_figures.csv": ReformFigure,
    "service_items.csv": ServiceItem,
}
OPTIONAL_FILES = {"crosswalks.csv", "rules.csv", "grants.csv", "materials.csv", "reform_figures.csv",
                  "service_items.csv"}
# ids that become file names, table names and DAG ids: lower-case ascii snake case, at most 63 characters
SAFE_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SAFE_ID_FIX = "use lower-case ascii letters, digits and _ (starting with a letter, at most 63 characters)"


def catalog_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The catalog folder: the argument, else ``$QUANCHENG_CATALOG``, else the project's own."""
    if path:
        return Path(path)
    env = os.environ.get("QUANCHENG_CATALOG")
    return Path(env) if env else DEFAULT_CATALOG


def _is_tuple_field(model: type[BaseModel], name: str) -> bool:
    ann = model.model_fields[name].annotation
    return typing.get_origin(ann) is tuple


def read_rows(path: Path, model: type[M], rel: str, problems: list[CatalogProblem],
              extra: dict[str, Any] | None = None) -> list[M]:
    """Parse one CSV file into models; each bad row adds a problem naming ``rel:line``."""
    rows: list[M] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        known = set(model.model_fields) - {"line"} - set(extra or {})
        unknown = [h for h in header if h not in known]
        missing = [n for n, f in model.model_fields.items()
                   if f.is_required() and n not in header and n not in (extra or {})]
        if unknown or missing:
            msg = []
            if unknown:
                msg.append(f"unknown column(s) {unknown}")
            if missing:
                msg.append(f"missing column(s) {missing}")
            problems.append(CatalogProblem(rel, 1, "; ".join(msg),
                                           f"the header must use the columns {sorted(known)}"))
            return rows
        # which columns are multi-valued, decided once per file (not per cell: loading stays well under 1 s)
        tuple_fields = {n for n in model.model_fields if _is_tuple_field(model, n)}
        for raw in reader:
            line = reader.line_num
            data: dict[str, Any] = {"line": line, **(extra or {})}
            for k, v in raw.items():
                if k is None:
                    problems.append(CatalogProblem(rel, line, "more cells than header columns",
                                                   "quote cells that contain commas"))
                    continue
                v = (v or "").strip()
                if v == "":
                    continue
                data[k] = tuple(p.strip() for p in v.split("|") if p.strip()) if k in tuple_fields else v
            try:
                rows.append(model.model_validate(data))
            except ValidationError as exc:
                for err in exc.errors():
                    col = ".".join(str(p) for p in err["loc"][:1])
                    problems.append(CatalogProblem(
                        rel, line, f"column {col!r}: {err['msg']} (got {raw.get(col, '')!r})",
                        _fix_for(model, col)))
    return rows


def _fix_for(model: type[BaseModel], col: str) -> str:
    field = model.model_fields.get(col)
    if field is None:
        return ""
    for meta in field.metadata:  # a name checked against a registry (quancheng.registry)
        if isinstance(meta, Registry):
            return "use one of " + ", ".join(meta.names())
    ann = field.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    for a in [ann, *args]:
        if typing.get_origin(a) is typing.Literal:
            return "use one of " + ", ".join(map(str, typing.get_args(a)))
    return f"give a value of type {getattr(ann, '__name__', ann)}"


class Catalog:
    """The whole catalog, with the indexes every other module needs."""

    def __init__(self, root: Path, tables: dict[str, list[Any]], codes: list[Code]):
        self.root = root
        self.stages: list[Stage] = tables["stages.csv"]
        self.systems: list[System] = tables["systems.csv"]
        self.forms: list[SourceForm] = tables["forms.csv"]
        self.fields: list[SourceField] = tables["fields.csv"]
        self.mappings: list[Mapping] = tables["mappings.csv"]
        self.elements: list[Element] = tables["elements.csv"]
        self.code_lists: list[CodeList] = tables["code_lists.csv"]
        self.crosswalks: list[Crosswalk] = tables.get("crosswalks.csv", [])
        self.units: list[Unit] = tables["units.csv"]
        self.materials: list[Material] = tables.get("materials.csv", [])
        self.rules: list[CrossRule] = tables.get("rules.csv", [])
        self.grants: list[Grant] = tables.get("grants.csv", [])
        self.reform_figures: list[ReformFigure] = tables.get("reform_figures.csv", [])
        self.service_items: list[ServiceItem] = tables.get("service_items.csv", [])
        self.codes: list[Code] = codes

    # --- indexes (built once, on first use) ---
    @cached_property
    def system(self) -> dict[str, System]:
        return {s.system_id: s for s in self.systems}

    @cached_property
    def form(self) -> dict[str, SourceForm]:
        return {f.form_id: f for f in self.forms}

    @cached_property
    def element(self) -> dict[str, Element]:
        return {e.element_id: e for e in self.elements}

    @cached_property
    def element_by_key(self) -> dict[str, Element]:
        return {e.key: e for e in self.elements}

    @cached_property
    def stage(self) -> dict[str, Stage]:
        return {s.stage_id: s for s in self.stages}

    @cached_property
    def unit(self) -> dict[str, Unit]:
        return {u.unit: u for u in self.units}

    @cached_property
    def code_list(self) -> dict[str, CodeList]:
        return {c.code_list_id: c for c in self.code_lists}

    @cached_property
    def codes_by_list(self) -> dict[str, list[Code]]:
        out: dict[str, list[Code]] = {}
        for c in self.codes:
            out.setdefault(c.code_list_id, []).append(c)
        return out

    @cached_property
    def crosswalk(self) -> dict[str, dict[str, str]]:
        """crosswalk_id -> {native value: canonical code}."""
        out: dict[str, dict[str, str]] = {}
        for c in self.crosswalks:
            out.setdefault(c.crosswalk_id, {})[c.native_value] = c.code
        return out

    @cached_property
    def crosswalk_code_list(self) -> dict[str, str]:
        """crosswalk_id -> the code list it maps to."""
        return {c.crosswalk_id: c.code_list_id for c in self.crosswalks}

    @cached_property
    def item_of_form(self) -> dict[str, ServiceItem]:
        """form_id -> the approval item whose cases the form records."""
        return {i.form_id: i for i in self.service_items}

    def forms_of(self, system_id: str) -> list[SourceForm]:
        return [f for f in self.forms if f.system_id == system_id]

    @cached_property
    def _fields_by_form(self) -> dict[str, list[SourceField]]:
        out: dict[str, list[SourceField]] = {}
        for f in self.fields:
            out.setdefault(f.form_id, []).append(f)
        return out

    def fields_of(self, form_id: str) -> list[SourceField]:
        return self._fields_by_form.get(form_id, [])

    @cached_property
    def _mappings_by_form(self) -> dict[str, list[Mapping]]:
        out: dict[str, list[Mapping]] = {}
        for m in self.mappings:
            out.setdefault(m.form_id, []).append(m)
        return out

    def mappings_of(self, form_id: str) -> list[Mapping]:
        return self._mappings_by_form.get(form_id, [])

    def elements_of(self, form_id: str) -> list[Element]:
        """The canonical elements a form's dataset carries, in mapping order, once each."""
        seen: dict[str, Element] = {}
        for m in self.mappings_of(form_id):
            if m.element_id in self.element and m.element_id not in seen:
                seen[m.element_id] = self.element[m.element_id]
        return list(seen.values())


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load and type every catalog file; raise :class:`CatalogError` listing every bad row."""
    root = catalog_dir(path)
    if not root.is_dir():
        raise CatalogError([CatalogProblem(str(root), None, "catalog folder not found",
                                           "pass --catalog PATH or set QUANCHENG_CATALOG")])
    problems: list[CatalogProblem] = []
    tables: dict[str, list[Any]] = {}
    for name, model in FILES.items():
        p = root / name
        if not p.exists():
            if name not in OPTIONAL_FILES:
                problems.append(CatalogProblem(name, None, "file is missing",
                                               f"create {name} with the columns of {model.__name__}"))
            tables[name] = []
            continue
        tables[name] = read_rows(p, model, name, problems)
    codes: list[Code] = []
    for cl in tables.get("code_lists.csv", []):
        if not SAFE_ID.match(cl.code_list_id):  # it names a file: never read outside codes/
            problems.append(CatalogProblem("code_lists.csv", cl.line, f"code_list_id {cl.code_list_id!r} is not "
                                           "a safe identifier", SAFE_ID_FIX))
            continue
        rel = f"codes/{cl.code_list_id}.csv"
        p = root / rel
        if not p.exists():
            problems.append(CatalogProblem("code_lists.csv", cl.line,
                                           f"code list {cl.code_list_id!r} has no file {rel}",
                                           f"add {rel} with columns code,name_zh,parent,valid_from,valid_to,successor"))
            continue
        codes.extend(read_rows(p, Code, rel, problems, extra={"code_list_id": cl.code_list_id}))
    if problems:
        raise CatalogError(problems)
    return Catalog(root, tables, codes)


def current_catalog() -> Catalog:
    """:func:`load_catalog` of ``$QUANCHENG_CATALOG`` (or the project's), loaded again only when a file
    changed: tasks that run in one process (``dag.test``, the demo) share one load and its caches."""
    root = catalog_dir()
    stamp = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*.csv"))) if root.is_dir() else ()
    return _catalog_at(root, stamp)


@functools.lru_cache(maxsize=2)
def _catalog_at(root: Path, stamp: tuple[tuple[str, int], ...]) -> Catalog:
    return load_catalog(root)
