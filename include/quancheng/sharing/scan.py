"""Find clear personal ID numbers in a table: the check that no open table leaks one.

A clear ID number is an 18-character run (not part of a longer run of digits) of 17 digits and a digit
or ``X`` that is a valid GB 11643 number: a known province, a real birth date (1900 to today) and the
MOD 11-2 check character. Every text column is scanned, each distinct value once.

Some identifiers have the very same shape: a 施工许可证编号 is a 6-digit region, a date, a 2-digit
sequence and a 2-digit category, so about one in eleven passes the ID check. With the catalog, a column
the registry declares an identifier of such a kind (``uscc``, ``org_code``, ``reg_no``, ``project_code``,
``construction_permit``, ``planning_permit``) is not scanned, nor a source key whose form's primary key
consists only of such identifiers, nor a conflict value of such an element; everything else is.
"""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from stdnum.iso7064 import mod_11_2

from quancheng.catalog import Catalog

_CANDIDATE = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9Xx])")
PROVINCES = frozenset((
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
))
NOT_PERSONAL = frozenset({"uscc", "org_code", "reg_no", "project_code", "construction_permit", "planning_permit"})
# source-key column -> (its system column, its table column)
KEY_COLUMNS = {"_source_key": ("_source_system", "_source_table"), "source_key": ("system_id", "source_table")}


def is_id_number(v: str) -> bool:
    v = v.upper()
    if len(v) != 18 or v[:2] not in PROVINCES:
        return False
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today() and bool(mod_11_2.is_valid(v))


def _impersonal_keys(catalog: Catalog) -> set[tuple[str, str]]:
    """(system, table) of forms whose primary key is made only of non-personal identifiers."""
    out = set()
    for form in catalog.forms:
        kinds = {m.column: catalog.element[m.element_id].identifier_kind for m in catalog.mappings_of(form.form_id)
                 if m.element_id in catalog.element}
        if form.primary_key and all(kinds.get(c) in NOT_PERSONAL for c in form.primary_key):
            out.add((form.system_id, form.table))
    return out


def clear_id_numbers(table: pa.Table, catalog: Catalog | None = None) -> list[tuple[str, str]]:
    """(column, ID number) for every clear ID number found in the table's text columns."""
    impersonal = _impersonal_keys(catalog) if catalog is not None else set()
    found: list[tuple[str, str]] = []
    for name in table.column_names:
        col = table[name]
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        el = catalog.element_by_key.get(name) if catalog is not None else None
        if el is not None and el.identifier_kind in NOT_PERSONAL:
            continue
        sys_c, tab_c = KEY_COLUMNS.get(name, ("", ""))
        if impersonal and sys_c in table.column_names and tab_c in table.column_names:
            pairs = [(s, t) in impersonal for s, t in zip(table[sys_c].to_pylist(), table[tab_c].to_pylist(),
                                                          strict=True)]
            col = col.filter(pa.array([not p for p in pairs], pa.bool_()))
        if catalog is not None and name in ("value", "winner_value") and "element_key" in table.column_names:
            keep = [(e := catalog.element_by_key.get(k)) is None or e.identifier_kind not in NOT_PERSONAL
                    for k in table["element_key"].to_pylist()]
            col = col.filter(pa.array(keep, pa.bool_()))
        for value in pc.unique(col).drop_null().to_pylist():
            found.extend((name, m) for m in _CANDIDATE.findall(value) if is_id_number(m))
    return found
