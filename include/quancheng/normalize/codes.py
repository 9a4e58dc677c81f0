"""Codes: department values -> codes of the canonical code list (crosswalks, history, versions).

Rules of :meth:`CodeTable.resolve` (the ``code`` transform; run once per distinct value):

- values are matched on their key (NFKC, no spaces, upper-case; ``370102.0`` from a float cell reads
  as ``370102``), never on the raw spelling.
- a field whose ``code_list`` is a crosswalk id uses the department's crosswalk first
  (结构类型 ``A`` -> ``01``); a value that already is a canonical code is accepted as it is.
- a current code maps to itself; a code list entry's name maps to its code (note ``code.by_name``), unless
  codes of the list that are not parent and child share the name (GB 50137's 住宅用地 is R11, R21 and
  R31): such a name is ``code.unknown`` unless the department's crosswalk says which code it means.
- an abolished code with a successor maps to the end of its successor chain (370122 章丘县 -> 370181
  章丘市 -> 370114 章丘区), note ``division.successor`` for GB/T 2260 (``code.successor`` elsewhere):
  shared datasets carry today's divisions; the source value stays in the issues.
- an abolished code without a successor is ``code.retired``; anything else ``code.unknown``.
- GB/T 4754 industry codes are written in the list's own form: with or without the section letter
  (``E4710`` / ``4710``), note ``industry.normalized`` when rewritten.
- placeholders are null with ``placeholder.null`` ('0' too, unless '0' is a code of the list).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from quancheng.catalog import Catalog
from quancheng.catalog.models import Code
from quancheng.normalize.base import Outcome, first_code, mark, no_codes, placeholder_mask
from quancheng.normalize.text import match_key

# GB/T 4754-2017 sections by their first and last two-digit division
SECTIONS_4754 = [("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52),
                 ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72),
                 ("M", 73, 75), ("N", 76, 79), ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90),
                 ("S", 91, 96), ("T", 97, 97)]


def key(text: str) -> str:
    """:func:`quancheng.normalize.text.match_key` for one Python string."""
    k = unicodedata.normalize("NFKC", text)
    k = re.sub(r"[【〔\[]", "(", k)
    k = re.sub(r"[】〕\]]", ")", k)
    return re.sub(r"\s+", "", k).upper()


def section_of(digits: str) -> str | None:
    """The GB/T 4754 section letter of a division, group or class code."""
    if len(digits) < 2 or not digits[:2].isdigit():
        return None
    div = int(digits[:2])
    return next((s for s, lo, hi in SECTIONS_4754 if lo <= div <= hi), None)


def is_gb2260(list_id: str, catalog: Catalog) -> bool:
    cl = catalog.code_list.get(list_id)
    return "2260" in list_id or (cl is not None and "2260" in cl.standard)


def is_gb4754(list_id: str, catalog: Catalog) -> bool:
    cl = catalog.code_list.get(list_id)
    return "4754" in list_id or (cl is not None and "4754" in cl.standard)


@dataclass
class CodeTable:
    """Every accepted key of one field's codes -> (canonical code, note or None)."""

    list_id: str
    aliases: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    codes: frozenset[str] = frozenset()

    @classmethod
    def build(cls, catalog: Catalog, list_id: str, crosswalk_id: str = "") -> CodeTable:
        t = cls(list_id)
        entries = catalog.codes_by_list.get(list_id, [])
        by_code = {c.code: c for c in entries}
        successor_note = "division.successor" if is_gb2260(list_id, catalog) else "code.successor"
        current = {c.code for c in entries if not c.valid_to}
        t.codes = frozenset(current)
        for native, code in catalog.crosswalk.get(crosswalk_id, {}).items():
            t.aliases.setdefault(native, (code, None))
            t.aliases.setdefault(key(native), (code, None))
        ambiguous = _ambiguous_names(entries)
        for c in entries:
            final = _chain_end(c, by_code)
            if final is None:
                t.retired |= {c.code, key(c.name_zh)}
                continue
            note = None if final == c.code else successor_note
            t.aliases.setdefault(key(c.code), (final, note))
            if c.name_zh not in ambiguous:
                t.aliases.setdefault(key(c.name_zh), (final, note or "code.by_name"))
        if is_gb4754(list_id, catalog):
            for c in entries:
                digits = c.code.lstrip("ABCDEFGHIJKLMNOPQRST")
                sec = section_of(digits)
                for spelling in {digits, f"{sec}{digits}" if sec else digits}:
                    t.aliases.setdefault(key(spelling), (c.code, "industry.normalized"))
        return t

    def resolve(self, s: pl.Series) -> Outcome:
        """Canonical codes for ``s``; see the module rules."""
        t = s.cast(pl.String).str.strip_chars()
        k = match_key(t).str.replace(r"^(\d+)\.0+$", "${1}")
        keys = list(self.aliases)
        values = k.replace_strict(keys, [self.aliases[x][0] for x in keys], default=None, return_dtype=pl.String)
        notes = k.replace_strict(keys, [self.aliases[x][1] for x in keys], default=None, return_dtype=pl.String)
        codes = no_codes(len(s))
        codes = mark(codes, placeholder_mask(t, zero="0" not in self.aliases) & values.is_null(), "placeholder.null")
        codes = mark(codes, values.is_null() & k.is_in(sorted(self.retired)).fill_null(False), "code.retired")
        codes = mark(codes, values.is_null() & (t != "").fill_null(False), "code.unknown")
        codes = first_code(codes, notes)
        return Outcome(values, codes)


def _ambiguous_names(entries: list[Code]) -> set[str]:
    """Names two codes of the list share without being parent and child (a GB/T 4754 group and its single
    class may share one: either reading is the same industry)."""
    by_name: dict[str, list[Code]] = {}
    for c in entries:
        by_name.setdefault(c.name_zh, []).append(c)
    return {name for name, cs in by_name.items()
            if any(a.parent != b.code and b.parent != a.code for i, a in enumerate(cs) for b in cs[i + 1:])}


def _chain_end(c: Code, by_code: dict[str, Code]) -> str | None:
    """The current code at the end of ``c``'s successor chain (None: retired without successor)."""
    seen: set[str] = set()
    while c.valid_to:
        if not c.successor or c.successor in seen or c.successor not in by_code:
            return c.successor if c.successor and c.successor not in by_code else None
        seen.add(c.code)
        c = by_code[c.successor]
    return c.code
