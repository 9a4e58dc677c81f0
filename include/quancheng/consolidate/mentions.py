"""Where legal entities are mentioned: the (form, party role) groups of elements that name one entity.

A *role* is an object class of the registry that has an organisation identifier somewhere in the
catalog (统一社会信用代码, 组织机构代码 or 工商注册号: 建设单位, 施工总承包单位, 法人, 纳税人 ...). In a form,
the elements of one role class describe one entity:

- its credit code: ``identifier_kind`` ``uscc``; its organisation code: ``org_code``; its old
  registration number: ``reg_no``; a mixed 证件号码 column (``license_no``) is read per value and kept only
  when it is a valid credit code, registration number or organisation code (a person's ID is not an
  enterprise);
- its name: a string element of the class that is not an identifier and not personal information,
  represented as a 名称 (the key ending in ``_name`` preferred); its former name: a key ending in
  ``former_name`` or a Chinese name with 曾用名.

:func:`mentions` turns system datasets into one row per (dataset row, role) with the identifiers
compacted and checked (GB 32100 mod-31 check for credit codes, GB 11714 for organisation codes,
ISO 7064 MOD 11,10 for registration numbers); an invalid identifier is not used for matching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element
from quancheng.consolidate.keys import embedded_org_code, id_key
from quancheng.consolidate.stage_forms import RECENCY_KEY, SOURCE_TZ, form_of

ORG_KINDS = ("uscc", "org_code", "reg_no")
_USCC_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class EntityRole:
    """The element keys that describe one entity in one form."""

    form_id: str
    role: str  # the object class, e.g. 建设单位
    uscc: str = ""
    org_code: str = ""
    reg_no: str = ""
    license_no: str = ""
    name: str = ""
    former_name: str = ""
    name_authority: str = ""  # the authority system of the name element


def valid_uscc(v: str | None) -> bool:
    return (v is not None and len(v) == 18 and set(v) <= _USCC_CHARS
            and stdnum_uscc.calc_check_digit(v[:17]) == v[17] and valid_org_code(v[8:17]))


def valid_org_code(v: str | None) -> bool:
    if v is None or len(v) != 9 or not v[:8].isalnum() or not v.isascii():
        return False
    total = sum(int(c, 36) * w for c, w in zip(v[:8], _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return v[8] == ("X" if r == 10 else "0" if r == 11 else str(r))


def valid_reg_no(v: str | None) -> bool:
    return v is not None and len(v) == 15 and v.isdigit() and bool(mod_11_10.is_valid(v))


def _is_name(e: Element) -> bool:
    return (e.data_type == "string" and e.identifier_kind is None and e.pi_class == "none"
            and (e.representation_term == "名称" or e.key.endswith("_name"))
            and "former" not in e.key and "曾用名" not in e.name_zh)


def _is_former(e: Element) -> bool:
    return e.data_type == "string" and e.pi_class == "none" and ("former_name" in e.key or "曾用名" in e.name_zh)


def entity_roles(catalog: Catalog) -> dict[str, list[EntityRole]]:
    """form id -> the entity roles its elements describe."""
    classes = {e.object_class for e in catalog.elements if e.identifier_kind in ORG_KINDS}
    out: dict[str, list[EntityRole]] = {}
    for form in catalog.forms:
        groups: dict[str, list[Element]] = {}
        for e in catalog.elements_of(form.form_id):
            if e.object_class in classes:
                groups.setdefault(e.object_class, []).append(e)
        roles = []
        for cls, els in groups.items():
            pick: dict[str, str] = {}
            for kind in (*ORG_KINDS, "license_no"):
                found = [e.key for e in els if e.identifier_kind == kind]
                if found:
                    pick[kind] = found[0]
            names = sorted((e for e in els if _is_name(e)), key=lambda e: (not e.key.endswith("_name"), len(e.key)))
            former = [e.key for e in els if _is_former(e)]
            if not pick and not names:
                continue
            roles.append(EntityRole(
                form.form_id, cls, uscc=pick.get("uscc", ""), org_code=pick.get("org_code", ""),
                reg_no=pick.get("reg_no", ""), license_no=pick.get("license_no", ""),
                name=names[0].key if names else "", former_name=former[0] if former else "",
                name_authority=names[0].authority_system if names else ""))
        if roles:
            out[form.form_id] = roles
    return out


MENTION_SCHEMA: dict[str, Any] = {
    "dataset_id": pl.String, "system_id": pl.String, "source_table": pl.String, "source_key": pl.String,
    "role": pl.String, "uscc": pl.String, "org_code": pl.String, "reg_no": pl.String, "name": pl.String,
    "former_name": pl.String, "authoritative": pl.Boolean, "as_of": pl.Datetime("us", "UTC"),
    "extracted_at": pl.Datetime("us", "UTC"),
}


def _ids(uscc: str | None, org: str | None, reg: str | None, lic: str | None) -> tuple[str | None, ...]:
    u, o, r, x = id_key(uscc), id_key(org), id_key(reg), id_key(lic)
    if x is not None:
        if u is None and valid_uscc(x):
            u = x
        elif r is None and valid_reg_no(x):
            r = x
        elif o is None and valid_org_code(x):
            o = x
    u = u if valid_uscc(u) else None
    o = o if valid_org_code(o) else None
    r = r if valid_reg_no(r) else None
    given_org = o
    o = embedded_org_code(u) or o
    mismatch = given_org if given_org is not None and given_org != o else None
    return u, o, r, mismatch


def mentions(datasets: Mapping[str, pa.Table], catalog: Catalog) -> pl.DataFrame:
    """One row per (dataset row, entity role) that names an entity, identifiers checked.

    ``org_code_mismatch`` holds an organisation code given beside a credit code that embeds another.
    """
    roles = entity_roles(catalog)
    rows: list[dict[str, object]] = []
    for ds in sorted(datasets):
        form = form_of(catalog, ds)
        table = datasets[ds]
        for role in roles.get(form.form_id, []):
            cols = {k: getattr(role, k) for k in ("uscc", "org_code", "reg_no", "license_no", "name", "former_name")}
            present = {k: c for k, c in cols.items() if c and c in table.column_names}
            if not present:
                continue
            data = {k: (table[c].to_pylist() if k in present else [None] * table.num_rows) for k, c in cols.items()}
            keys = table["_source_key"].to_pylist()
            systems = table["_source_system"].to_pylist()
            tables = table["_source_table"].to_pylist()
            extracted = table["_extracted_at"].to_pylist()
            as_of = _as_of(table)
            for i in range(table.num_rows):
                u, o, r, mismatch = _ids(data["uscc"][i], data["org_code"][i], data["reg_no"][i], data["license_no"][i])
                name = (data["name"][i] or "").strip() or None
                if u is None and o is None and r is None and name is None:
                    continue
                rows.append({
                    "dataset_id": ds, "system_id": systems[i], "source_table": tables[i], "source_key": keys[i],
                    "role": role.role, "uscc": u, "org_code": o, "reg_no": r, "name": name,
                    "former_name": (data["former_name"][i] or "").strip() or None,
                    "authoritative": bool(role.name_authority) and systems[i] == role.name_authority,
                    "as_of": as_of[i], "extracted_at": extracted[i], "org_code_mismatch": mismatch,
                })
    return pl.DataFrame(rows, schema={**MENTION_SCHEMA, "org_code_mismatch": pl.String})


def _as_of(table: pa.Table) -> list[object]:
    """When the row was last true: its source update time (local) if it has one, else its extraction."""
    df = pl.from_arrow(table.select([c for c in ("_extracted_at", RECENCY_KEY) if c in table.column_names]))
    assert isinstance(df, pl.DataFrame)
    expr = pl.col("_extracted_at")
    if RECENCY_KEY in df.columns and df.schema[RECENCY_KEY] == pl.Datetime("us"):
        local = pl.col(RECENCY_KEY).dt.replace_time_zone(SOURCE_TZ, ambiguous="earliest", non_existent="null")
        expr = pl.coalesce(local.dt.convert_time_zone("UTC"), expr)
    return df.select(expr.alias("a"))["a"].to_list()
