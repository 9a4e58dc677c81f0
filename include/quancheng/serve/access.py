"""Which copy of a dataset a department reads: the SQL roles' rule, asked of the same functions.

The rules that split a dataset into area copies (open, each granted department, each system's own) live
in :mod:`quancheng.sharing.rules`; which roles may read which area lives in
:func:`quancheng.sharing.postgres.readers`. A department's role reads an area when it is one of the
area's readers or a member of one (every department role is a member of the open reader). The API gives
a department the most complete copy among the areas its role reads (its systems' own areas, then its
granted area, then the open area), so an HTTP caller and the same department's SQL role always see
the same columns and the same tokens. Why a column is withheld is told from the element's sharing type
and the grants (:func:`quancheng.sharing.rules.policy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element
from quancheng.sharing import postgres
from quancheng.sharing.rules import Audience, department_audience, policy

SHARE_TYPE_ZH = {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}
_KIND_ORDER = {"private": 0, "department": 1, "open": 2}


def readable_areas(catalog: Catalog, department_en: str) -> list[Audience]:
    """The areas the department's SQL role may read, most complete first."""
    role = postgres.department_role(department_en)
    member_of = {role, postgres.open_role()}  # the department role is granted the open reader
    found = [a for a in postgres.audiences(catalog) if member_of & set(postgres.readers(a))]
    return sorted(found, key=lambda a: (_KIND_ORDER[a.kind], a.schema))


@dataclass(frozen=True)
class Withheld:
    """A column of the dataset the caller does not get, and why."""

    column: str
    share_type: str
    reason: str


def withheld_reason(catalog: Catalog, department_en: str, element: Element, feeding: Iterable[str]) -> str:
    """Why ``element`` is hidden from the department (the rule set's own verdict, put in words)."""
    zh = SHARE_TYPE_ZH[element.share_type]
    if element.share_type == "none":
        return f"{element.key} ({element.name_zh}) is {zh} (not shared): it never leaves its own system's area"
    systems = sorted(set(feeding))
    verdict = policy(catalog, department_audience(department_en), element, systems)
    if element.share_type == "conditional" and verdict == "hidden":
        return (f"{element.key} ({element.name_zh}) is {zh} (conditional): {department_en} holds no grant for it "
                f"from {', '.join(systems) or 'its systems'} in grants.csv")
    return f"{element.key} ({element.name_zh}) is not in the copy {department_en} may read"
