"""Registries of the open choices: source kinds, transforms and cross-field rule kinds, each keyed by name.

A closed choice (a state, a severity) is a ``Literal``; an open one is a :class:`Registry`, so adding a
kind, a transform or a rule is one module that registers it by name, plus its table of tests:

- built into this package: the module registers its entries when imported, and names them in the
  ``builtin`` table below (name -> module), so the catalog knows every name without importing anything
  heavy (DAG parsing validates ``systems.csv`` and must stay light; the module is imported on first use);
- from another package: an entry point in one of the groups :data:`SOURCE_KINDS_GROUP`,
  :data:`TRANSFORMS_GROUP`, :data:`CROSS_RULES_GROUP`, named as the catalog writes it and pointing at the
  object to register (``oracle = "my_pkg.oracle:OracleSource"``); entry points are read once, and only when
  a name is not otherwise known;
- in a test or a notebook: the register function of its package (:func:`quancheng.sources.base.register`,
  :func:`quancheng.normalize.transforms.register_transform`, :func:`quancheng.validate.cross.register_rule`),
  undone at the end with :meth:`Registry.scoped`.

A name that is nowhere fails with the known names listed, the way the catalog reports a bad row.
This module imports nothing heavy: the catalog models validate names against it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from quancheng.normalize.transforms import Transform
    from quancheng.sources.base import Source
    from quancheng.validate.cross import CrossCheck

T = TypeVar("T")

SOURCE_KINDS_GROUP = "quancheng.source_kinds"
TRANSFORMS_GROUP = "quancheng.transforms"
CROSS_RULES_GROUP = "quancheng.cross_rules"


class UnknownName(KeyError):
    """A name no registry entry, built-in module or entry point answers to; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """Named entries of one sort (``what``, e.g. "source kind"): registered, built in, or from entry points."""

    def __init__(self, what: str, group: str, builtin: Mapping[str, str]):
        self.what = what
        self.group = group
        self.builtin = dict(builtin)  # name -> module that registers it when imported
        self.entries: dict[str, T] = {}  # what is registered now (tests may patch it like any dict)
        self._plugins: dict[str, Any] | None = None  # entry points by name, read once on a miss

    def register(self, name: str, entry: T) -> T:
        """Make ``entry`` available as ``name`` (a later registration of the same name replaces it)."""
        self.entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self.entries.pop(name, None)

    @contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """Registrations made inside the block are undone at its end (for tests)."""
        saved = dict(self.entries)
        try:
            yield self
        finally:
            self.entries.clear()
            self.entries.update(saved)

    def _entry_points(self) -> dict[str, Any]:
        if self._plugins is None:
            from importlib.metadata import entry_points

            self._plugins = {ep.name: ep for ep in entry_points(group=self.group)}
        return self._plugins

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self.entries or name in self.builtin or name in self._entry_points()

    def names(self) -> list[str]:
        """Every known name, sorted (nothing is imported to list them)."""
        return sorted({*self.entries, *self.builtin, *self._entry_points()})

    def unknown(self, name: str) -> UnknownName:
        return UnknownName(f"unknown {self.what} {name!r}; known: {', '.join(self.names())}")

    def check(self, name: str) -> str:
        """``name`` itself when known; else ValueError listing the known names (a pydantic validator)."""
        if name not in self:
            raise ValueError(str(self.unknown(name)))
        return name

    def get(self, name: str) -> T:
        """The entry registered as ``name``, importing its built-in module or loading its entry point first."""
        if name in self.entries:
            return self.entries[name]
        if name in self.builtin:
            importlib.import_module(self.builtin[name])
            if name in self.entries:
                return self.entries[name]
            raise LookupError(f"module {self.builtin[name]} did not register the {self.what} {name!r}")
        ep = self._entry_points().get(name)
        if ep is None:
            raise self.unknown(name)
        loaded = ep.load()  # a module that registers itself, or the object to register
        return self.entries[name] if name in self.entries else self.register(name, loaded)


SOURCE_KINDS: Registry[type[Source]] = Registry("source kind", SOURCE_KINDS_GROUP, {
    "sqlite": "quancheng.sources.sql", "postgresql": "quancheng.sources.sql", "mariadb": "quancheng.sources.sql",
    "csv": "quancheng.sources.files", "excel": "quancheng.sources.files", "http": "quancheng.sources.http",
    "sql": "quancheng.sources.generic_sql",
})
TRANSFORMS: Registry[Transform] = Registry("transform", TRANSFORMS_GROUP, dict.fromkeys(
    ("copy", "text", "date", "quantity", "code", "identifier", "split", "date_range", "concat",
     "nominal_diameter"),
    "quancheng.normalize.transforms"))
CROSS_RULES: Registry[CrossCheck] = Registry("cross-field rule kind", CROSS_RULES_GROUP, dict.fromkeys(
    ("sum_equals", "before", "duration_days"), "quancheng.validate.cross"))
