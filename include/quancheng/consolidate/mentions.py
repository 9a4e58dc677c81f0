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
from quancheng.consolidate.stage_forms import RECENCY_KEY, as_of, form_of

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


RAW_IDS = ("uscc", "org_code", "reg_no", "license_no")


def mention_columns(catalog: Catalog, form_id: str, available: list[str]) -> list[str]:
    """The columns of a form's dataset that :func:`mentions` reads, of those it has (its own order): the
    provenance columns, the record's update time and the entity roles' identifiers and names."""
    wanted = {RECENCY_KEY}
    for role in entity_roles(catalog).get(form_id, []):
        wanted |= {getattr(role, k) for k in (*RAW_IDS, "name", "former_name")}
    return [c for c in available if c.startswith("_") or c in wanted]


def mentions(datasets: Mapping[str, pa.Table], catalog: Catalog) -> pl.DataFrame:
    """One row per (dataset row, entity role) that names an entity, identifiers checked.

    ``org_code_mismatch`` holds an organisation code given beside a credit code that embeds another.
    Identifiers are checked once per distinct combination, not once per row.
    """
    roles = entity_roles(catalog)
    parts: list[pl.DataFrame] = []
    for ds in sorted(datasets):
        form = form_of(catalog, ds)
        table = datasets[ds]
        for role in roles.get(form.form_id, []):
            cols = {k: getattr(role, k) for k in (*RAW_IDS, "name", "former_name")}
            if not any(c and c in table.column_names for c in cols.values()):
                continue
            df = pl.from_arrow(table.select([c for c in table.column_names if c.startswith("_")
                                             or c in cols.values() or c == RECENCY_KEY]))
            assert isinstance(df, pl.DataFrame)
            parts.append(df.select(
                pl.lit(ds).alias("dataset_id"), pl.col("_source_system").alias("system_id"),
                pl.col("_source_table").alias("source_table"), pl.col("_source_key").alias("source_key"),
                pl.lit(role.role).alias("role"),
                *((pl.col(c).cast(pl.String) if c and c in df.columns else pl.lit(None, pl.String)).alias("raw_" + k)
                  for k, c in cols.items()),
                (pl.lit(bool(role.name_authority)) & (pl.col("_source_system") == role.name_authority))
                .alias("authoritative"),
                as_of(df).alias("as_of"), pl.col("_extracted_at").alias("extracted_at")))
    out_schema = {**MENTION_SCHEMA, "org_code_mismatch": pl.String}
    if not parts:
        return pl.DataFrame(schema=out_schema)
    m = pl.concat(parts, how="vertical_relaxed").with_columns(
        *(pl.col("raw_" + k).str.strip_chars().replace("", None).alias(k) for k in ("name", "former_name")))
    raw = [f"raw_{k}" for k in RAW_IDS]
    combos = m.select(raw).unique()
    checked = pl.DataFrame([(*r, *_ids(*r)) for r in combos.iter_rows()], orient="row",
                           schema={**dict.fromkeys(raw, pl.String), "uscc": pl.String, "org_code": pl.String,
                                   "reg_no": pl.String, "org_code_mismatch": pl.String})
    m = m.join(checked, on=raw, how="left", nulls_equal=True)
    m = m.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in ("uscc", "org_code", "reg_no", "name")))
    return m.select(list(out_schema)).sort(["dataset_id", "source_key", "role"])
