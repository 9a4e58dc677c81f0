"""Names the catalog hands on to file systems, SQL and Airflow must be safe: one rule per kind of name.

An id from the catalog becomes a folder (``staging/<system_id>/``), a file (``codes/<code_list_id>.csv``),
an unquoted SQL name (``stage__<stage_id>``, the demo's DDL), an Airflow DAG id (``sync__<system_id>``) or
connection id, and a URL path (an HTTP system's ``table``). So:

- system, form, stage, approval-item, code-list and crosswalk ids and connection ids are lower-case ascii snake case
  starting with a letter, at most 63 characters (PostgreSQL's identifier limit): ``SAFE_ID``;
- a source table keeps its native name (``TZ_XMBA``, ``credit-ratings``, ``施工许可申请``): letters of any
  script, digits, ``_`` and ``-``, starting with a letter or digit, at most 63 characters, so never a path
  (``/``, ``..``), a quote, a space or a semicolon: ``NATIVE_TABLE``;
- a source column keeps its native name (``XMDM``, ``projectCode``, ``项目名称``): letters of any script,
  digits and ``_``, not starting with ``_`` (reserved for the provenance columns ``_source_system`` …),
  at most 63 characters: ``NATIVE_COLUMN``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from quancheng.catalog.loader import SAFE_ID, SAFE_ID_FIX, Catalog
from quancheng.errors import CatalogProblem

NATIVE_TABLE = re.compile(r"^[^\W_][\w-]{0,62}$")
NATIVE_COLUMN = re.compile(r"^[^\W_]\w{0,62}$")


def _bad(rows: Iterable[tuple[int, str, str]], rx: re.Pattern[str], file: str, fix: str) -> list[CatalogProblem]:
    """``rows`` are (line, what the value is, value)."""
    return [CatalogProblem(file, line, f"{what} {value!r} is not a safe name", fix)
            for line, what, value in rows if not rx.match(value)]


def check_names(c: Catalog) -> list[CatalogProblem]:
    """Every unsafe id or native name, at its file and line."""
    p: list[CatalogProblem] = []
    p += _bad(((s.line, "stage_id", s.stage_id) for s in c.stages), SAFE_ID, "stages.csv", SAFE_ID_FIX)
    p += _bad(((s.line, "system_id", s.system_id) for s in c.systems), SAFE_ID, "systems.csv", SAFE_ID_FIX)
    p += _bad(((s.line, f"system {s.system_id!r}: conn_id", s.conn_id) for s in c.systems), SAFE_ID,
              "systems.csv", SAFE_ID_FIX + ", e.g. qc_<system_id>")
    p += _bad(((f.line, "form_id", f.form_id) for f in c.forms), SAFE_ID, "forms.csv", SAFE_ID_FIX)
    p += _bad(((f.line, f"form {f.form_id!r}: table", f.table) for f in c.forms), NATIVE_TABLE, "forms.csv",
              "write the native table, file folder or endpoint name alone: letters, digits, _ and - "
              "(no path, quote, space or schema prefix), at most 63 characters")
    p += _bad(((f.line, f"field {f.form_id}: column", f.column) for f in c.fields), NATIVE_COLUMN,
              "fields.csv", "write the native column name: letters, digits and _, not starting with _ "
              "(reserved for provenance columns), at most 63 characters")
    p += _bad(((i.line, "item_id", i.item_id) for i in c.service_items), SAFE_ID, "service_items.csv", SAFE_ID_FIX)
    seen: set[str] = set()
    for x in c.crosswalks:  # one problem per crosswalk, not per row of it
        if x.crosswalk_id not in seen:
            seen.add(x.crosswalk_id)
            p += _bad([(x.line, "crosswalk_id", x.crosswalk_id)], SAFE_ID, "crosswalks.csv", SAFE_ID_FIX)
    return p
