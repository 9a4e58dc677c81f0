"""Writable catalog folders for tests: row-level CSV edits that report the line they changed.

Used by the catalog tests (broken catalogs, one problem each) and by the DAG tests (a catalog with
one more system); the fixtures that copy a catalog live in ``tests/catalog/conftest.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path


class CatalogFiles:
    """A writable catalog folder with row-level edits that report the line they changed."""

    def __init__(self, root: Path):
        self.root = root

    def rows(self, name: str) -> tuple[list[str], list[dict[str, str]]]:
        with (self.root / name).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)

    def _write(self, name: str, header: list[str], rows: list[dict[str, str]]) -> None:
        with (self.root / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

    def set(self, name: str, where: dict[str, str], **changes: str) -> int:
        """Change cells of the first row matching ``where``; return its line (header = line 1)."""
        header, rows = self.rows(name)
        for i, r in enumerate(rows):
            if all(r[k] == v for k, v in where.items()):
                r.update(changes)
                self._write(name, header, rows)
                return i + 2
        raise AssertionError(f"no row {where} in {name}")

    def append(self, name: str, row: dict[str, str]) -> int:
        """Append a row (missing cells empty); return its line."""
        header, rows = self.rows(name)
        rows.append({h: row.get(h, "") for h in header})
        self._write(name, header, rows)
        return len(rows) + 1

    def delete(self, name: str, where: dict[str, str]) -> int:
        """Delete every row matching ``where``; return how many were deleted."""
        header, rows = self.rows(name)
        keep = [r for r in rows if not all(r[k] == v for k, v in where.items())]
        self._write(name, header, keep)
        return len(rows) - len(keep)

    def rename(self, old: str, new: str) -> int:
        """Replace every cell (or ``a|b`` part of a cell) equal to ``old`` in every catalog file; return how many."""
        n = 0
        for path in sorted(self.root.rglob("*.csv")):
            name = str(path.relative_to(self.root))
            header, rows = self.rows(name)
            hits = 0
            for r in rows:
                for k, v in r.items():
                    parts = v.split("|")
                    if old in parts:
                        r[k] = "|".join(new if x == old else x for x in parts)
                        hits += parts.count(old)
            if hits:
                self._write(name, header, rows)
                n += hits
        return n
