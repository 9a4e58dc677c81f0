"""Problems that refer to other rows: unknown references and orphans, folded so one cause gives one problem.

Every place naming the same unknown id (a system, form, stage, element, code list, unit or field) is
folded into the first one's message, with "did you mean" when a defined id is close; a defined id that
nothing uses (an orphan: a system without forms, a form without fields, an unfed element) is dropped
when it is that close id, because then both problems are one rename.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from quancheng.catalog.loader import Catalog
from quancheng.errors import CatalogProblem


class Unknown(CatalogProblem):
    """A reference to an id nothing defines; all references to the same id become one problem."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: str, file: str, line: int, message: str, fix: str):
        super().__init__(file, line, message, fix)
        self.kind, self.value = kind, value


class Orphan(CatalogProblem):
    """A defined id nothing uses; dropped when it is the new name of an id that is still referenced."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: str, file: str, line: int, message: str, fix: str):
        super().__init__(file, line, message, fix)
        self.kind, self.value = kind, value


class _Lined(Protocol):
    @property
    def line(self) -> int: ...


R = TypeVar("R", bound=_Lined)


def dupes(rows: Iterable[R], key: Callable[[R], object], file: str, what: str) -> list[CatalogProblem]:
    seen: dict[object, int] = {}
    out = []
    for r in rows:
        k = key(r)
        line = r.line
        if k in seen:
            out.append(CatalogProblem(file, line, f"duplicate {what} {k!r} (first on line {seen[k]})",
                                      f"give each {what} once"))
        else:
            seen[k] = line
    return out


def fold(problems: list[CatalogProblem], c: Catalog) -> list[CatalogProblem]:
    """One problem per unknown id (at its first reference), orphans that are a rename's new name dropped."""
    defined = {"system": set(c.system), "form": set(c.form), "stage": set(c.stage), "element": set(c.element),
               "code list": set(c.code_list) | set(c.crosswalk), "unit": set(c.unit),
               "field": {f"{f.form_id}.{f.column}" for f in c.fields}}
    groups: dict[tuple[str, str], list[Unknown]] = {}
    for q in problems:
        if isinstance(q, Unknown):
            groups.setdefault((q.kind, q.value), []).append(q)
    orphans = {(q.kind, q.value) for q in problems if isinstance(q, Orphan)}
    renamed: set[tuple[str, str]] = set()
    out: list[CatalogProblem] = []
    for q in problems:
        if isinstance(q, Orphan):
            continue
        if not isinstance(q, Unknown):
            out.append(q)
            continue
        refs = groups[(q.kind, q.value)]
        if refs[0] is not q:
            continue
        message, fix = q.message, q.fix
        if len(refs) > 1:
            places = ", ".join(f"{r.file}:{r.line}" for r in refs[1:6]) + (", …" if len(refs) > 6 else "")
            message += f"; named {len(refs) - 1} more time(s): {places}"
        # a defined id nothing uses is the likeliest new name; otherwise the closest defined id
        near = (difflib.get_close_matches(q.value, sorted(v for k, v in orphans if k == q.kind), n=1, cutoff=0.5)
                or difflib.get_close_matches(q.value, sorted(defined.get(q.kind, ())), n=1, cutoff=0.6))
        if near:
            fix += f"; did you mean {near[0]!r}?"
            if (q.kind, near[0]) in orphans:
                renamed.add((q.kind, near[0]))
                message += f" ({q.kind} {near[0]!r} is defined but used nowhere: renamed?)"
        out.append(CatalogProblem(q.file, q.line, message, fix))
    # an orphan stays a problem unless an unknown reference above explains it as a rename
    return out + [q for q in problems if isinstance(q, Orphan) and (q.kind, q.value) not in renamed]


