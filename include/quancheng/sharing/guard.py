"""The open area's last line of defence: clear values that look like a person's number are tokenized.

The catalog decides which columns are personal; this guard catches what a catalog entry gets wrong (a
column catalogued as not personal that holds mobile numbers), so a token published for one column can
never be joined back to the same number published in clear in another. Rules, for every text column of a
table bound for the open area that is not already tokenized:

- a **mobile number** (mainland China: 11 digits ``1[3-9]…``, optionally with ``+86``/``86`` and spaces or
  hyphens, full-width digits read as half-width) becomes its token under the ``phone`` normalization, the
  token a personal phone column gets;
- in an element's column, a **resident ID number** (GB 11643: 18 characters with a real region, birth
  date and check, or the old 15 digits) becomes its token under the ``identifier`` normalization. Not in
  other columns (source keys, the values of long tables): a construction permit number (region, date,
  four digits) passes the ID number's check one time in eleven, and there the catalog decides;
- columns of elements whose identifier kind cannot be a person's (USCC, organization code, registration
  number, project code, permit numbers) are left alone: normalization already proved what they hold;
- with no tokenizer (a table published as holding nothing personal) such a value is refused:
  :class:`ClearPersonalValue` names the dataset, the column and how many values, never the values.

Each guarded column records how many cells it replaced in its field metadata (``quancheng.guarded``).
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.errors import QuanchengError
from quancheng.ids.scalar import check_ric
from quancheng.sharing.rules import TOKENIZED
from quancheng.sharing.tokenize import Normalization, Tokenizer

GUARDED = b"quancheng.guarded"
# kinds whose values normalization has proved are not a person's number
NOT_A_PERSON = frozenset({"uscc", "org_code", "reg_no", "tax_no", "project_code", "construction_permit",
                          "planning_permit"})
# a cheap pre-filter over the raw text (ASCII or full-width digits); candidates are then checked one by one
_CANDIDATE = r"^[\s+＋]*[0-9０-９][0-9０-９\s\-－]{9,20}[0-9０-９XxＸｘ]\s*$"
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9][0-9]{9}$")


class ClearPersonalValue(QuanchengError):
    """A table meant to hold nothing personal has a value that looks like a person's number."""


def classify(value: str, ids: bool = True) -> Normalization | None:
    """``phone`` for a mobile number, ``identifier`` for a resident ID number (when ``ids``), else None."""
    v = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value))
    if _MOBILE.match(v):
        return "phone"
    if ids and len(v) in (15, 18) and check_ric(v).valid:
        return "identifier"
    return None


def _guard_column(col: pa.ChunkedArray, tokenizer: Tokenizer | None, where: str,
                  ids: bool) -> tuple[pa.ChunkedArray, int]:
    hit = pc.fill_null(pc.match_substring_regex(col, _CANDIDATE), False)
    if not pc.any(hit).as_py():
        return col, 0
    found = {v: how for v in pc.unique(pc.filter(col, hit)).to_pylist() if (how := classify(v, ids)) is not None}
    if not found:
        return col, 0
    values = pa.array(list(found), pa.string())
    cells = int(pc.sum(pc.is_in(col, value_set=values)).as_py() or 0)
    if tokenizer is None:
        raise ClearPersonalValue(f"{where}: {cells} value(s) look like mobile or ID numbers in clear; nothing "
                                 "published (fix: catalog the element as personal in elements.csv)")
    tokens = pa.array([tokenizer.token(v, how) for v, how in found.items()], pa.string())
    idx = pc.index_in(col, value_set=values)
    replaced = pc.if_else(pc.is_valid(idx), pc.take(tokens, idx), col)
    return pa.chunked_array([replaced]) if not isinstance(replaced, pa.ChunkedArray) else replaced, cells


def guard_open(table: pa.Table, catalog: Catalog, tokenizer: Tokenizer | None, dataset_id: str) -> pa.Table:
    """``table`` with every clear value that looks like a mobile or ID number tokenized (see the rules)."""
    cols, fields = [], []
    for field in table.schema:
        col = table[field.name]
        el = catalog.element_by_key.get(field.name)
        skip = (not pa.types.is_string(field.type) or (field.metadata or {}).get(TOKENIZED) == b"true"
                or (el is not None and el.identifier_kind in NOT_A_PERSON))
        if not skip:
            col, cells = _guard_column(col, tokenizer, f"open area, dataset {dataset_id}, column {field.name!r}",
                                       ids=el is not None)
            if cells:
                field = field.with_metadata({**(field.metadata or {}), GUARDED: str(cells).encode()})
        cols.append(col)
        fields.append(field)
    return pa.table(cols, schema=pa.schema(fields, metadata=table.schema.metadata))
