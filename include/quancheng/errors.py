"""Errors the user sees: each names where the problem is and how to fix it.

The CLI prints these as one clear message (no traceback); anything else is a bug.
"""

from __future__ import annotations


class QuanchengError(Exception):
    """Base for every error that is the input's fault, not the code's."""


class CatalogError(QuanchengError):
    """The catalog is inconsistent. ``problems`` lists each with its file and line."""

    def __init__(self, problems: list[CatalogProblem]):
        self.problems = problems
        lines = [p.render() for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"... and {len(problems) - 50} more")
        super().__init__(f"{len(problems)} catalog problem(s):\n" + "\n".join(lines))


class CatalogProblem:
    """One problem at ``file:line``: what is wrong and how to fix it."""

    __slots__ = ("file", "fix", "line", "message")

    def __init__(self, file: str, line: int | None, message: str, fix: str = ""):
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" (fix: {self.fix})" if self.fix else "")

    def __repr__(self) -> str:
        return f"CatalogProblem({self.render()!r})"


class SourceError(QuanchengError):
    """A departmental system could not be read. Names system, table and, where known, column and value."""

    def __init__(self, system: str, table: str | None, message: str, *, column: str | None = None,
                 value: object = None):
        self.system, self.table, self.column, self.value = system, table, column, value
        where = f"system {system!r}" + (f", table {table!r}" if table else "")
        if column:
            where += f", column {column!r}"
        if value is not None:
            where += f", value {value!r}"
        super().__init__(f"{where}: {message}")


class SchemaDriftError(SourceError):
    """The live source schema differs from the catalog; nothing is published."""


class SourceUnavailable(SourceError):
    """The source is down, timed out, or its file drop is not complete yet (retryable)."""


class MassDeleteRefused(SourceError):
    """A batch would delete more of a dataset than its system's ``max_delete_share``; nothing is published."""
