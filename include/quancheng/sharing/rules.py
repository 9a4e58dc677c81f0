"""Who may see which column: the catalog's sharing types and grants, applied to a dataset.

Areas (audiences), each a schema in PostgreSQL:
- ``open`` (schema ``shared_open``): elements shared unconditionally (无条件共享);
- ``department`` (schema ``dept_<department>``): a department granted conditional elements (有条件共享)
  in ``grants.csv`` sees the open columns plus those; it gets its own copy only where that adds columns;
- ``private`` (schema ``src_<system>``): a system's own area, everything in clear, for the system's own
  department. Elements shared under ``none`` (不予共享) never leave it.

Personal information (``pi_class`` personal or sensitive) is tokenized
(:mod:`quancheng.sharing.tokenize`) everywhere except the private area and a department whose grant
names the element explicitly (a grant with an empty element list gives the conditional elements,
tokenized where personal).

A consolidated dataset (a stage form) mixes systems: a conditional element is visible to a department
only when every system that feeds it grants it (``feeding``: element key -> systems).
Columns that are not element keys (provenance, consolidation columns) pass unchanged, except
``_source_key`` when the source form's primary key is personal or not openly shared: it is tokenized.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, SourceForm
from quancheng.sharing.tokenize import MIXED_KINDS, Tokenizer, normalization

AudienceKind = Literal["open", "department", "private"]
Policy = Literal["clear", "token", "hidden"]
OPEN_SCHEMA = "shared_open"
KEY = "_source_key"
TOKENIZED = b"quancheng.tokenized"  # field metadata marking a column whose values are tokens


@dataclass(frozen=True, order=True)
class Audience:
    kind: AudienceKind
    schema: str
    department_en: str = ""
    system_id: str = ""


OPEN = Audience("open", OPEN_SCHEMA)


def slug(text: str, limit: int = 48) -> str:
    """A lower-case SQL identifier piece; long ones keep a hash so two never collide."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"
    if len(s) > limit:
        s = s[: limit - 9].rstrip("_") + "_" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return s


def department_audience(department_en: str) -> Audience:
    return Audience("department", f"dept_{slug(department_en)}", department_en=department_en)


def private_audience(catalog: Catalog, system_id: str) -> Audience:
    return Audience("private", f"src_{slug(system_id)}", department_en=catalog.system[system_id].department_en,
                    system_id=system_id)


def is_personal(e: Element) -> bool:
    return e.pi_class in ("personal", "sensitive")


def _grant(catalog: Catalog, department: str, system_id: str, element: Element) -> Literal["none", "all", "explicit"]:
    best: Literal["none", "all", "explicit"] = "none"
    for g in catalog.grants:
        if g.department_en != department or g.system_id != system_id:
            continue
        if element.element_id in g.elements:
            return "explicit"
        if not g.elements and element.share_type == "conditional":
            best = "all"
    return best


def policy(catalog: Catalog, audience: Audience, element: Element, feeding: Iterable[str]) -> Policy:
    """How ``audience`` sees ``element`` when the values come from the systems ``feeding``."""
    systems = sorted(set(feeding))
    if audience.kind == "private":
        return "clear" if systems == [audience.system_id] else "hidden"
    if element.share_type == "none":
        return "hidden"
    # no system to ask (e.g. a key column the consolidation derived): nothing beyond the open rule is granted
    grants = ([_grant(catalog, audience.department_en, s, element) for s in systems]
              if audience.kind == "department" and systems else ["none"])
    granted = all(g != "none" for g in grants)
    if element.share_type == "conditional" and not granted:
        return "hidden"
    if not is_personal(element):
        return "clear"
    return "clear" if granted and all(g == "explicit" for g in grants) else "token"


def explicitly_granted(catalog: Catalog, department_en: str) -> set[str]:
    """Keys of the elements a department's grants name one by one (where it may see personal data in clear)."""
    return {catalog.element[e].key for g in catalog.grants if g.department_en == department_en
            for e in g.elements if e in catalog.element}


def granted_departments(catalog: Catalog, systems: Iterable[str]) -> list[str]:
    wanted = set(systems)
    return sorted({g.department_en for g in catalog.grants if g.system_id in wanted})


def column_policies(catalog: Catalog, audience: Audience, columns: Iterable[str],
                    feeding: Mapping[str, set[str]]) -> dict[str, Policy]:
    """The policy of every element column (other columns are not listed: they pass unchanged)."""
    out: dict[str, Policy] = {}
    for c in columns:
        el = catalog.element_by_key.get(c)
        if el is not None:
            out[c] = policy(catalog, audience, el, feeding.get(c, set()))
    return out


def sensitive_key_tables(catalog: Catalog) -> set[tuple[str, str]]:
    """(system, native table) of forms whose primary key is personal or not openly shared."""
    out = set()
    for form in catalog.forms:
        by_column = {m.column: catalog.element.get(m.element_id) for m in catalog.mappings_of(form.form_id)}
        for col in form.primary_key:
            el = by_column.get(col)
            if el is None or is_personal(el) or el.share_type != "unconditional":
                out.add((form.system_id, form.table))
                break
    return out


def apply_policies(table: pa.Table, policies: Mapping[str, Policy], catalog: Catalog, tokenizer: Tokenizer,
                   *, tokenize_key: bool = False) -> pa.Table:
    """``table`` with hidden columns dropped and tokenized ones replaced (string tokens)."""
    cols, fields = [], []
    for field in table.schema:
        p = policies.get(field.name, "clear")
        if p == "hidden":
            continue
        col = table[field.name]
        if p == "token" or (field.name == KEY and tokenize_key):
            el = catalog.element_by_key[field.name] if p == "token" else None
            how = normalization(el) if el is not None else "key"
            col = tokenizer.array(col, how, mixed=el is not None and el.identifier_kind in MIXED_KINDS)
            field = pa.field(field.name, pa.string(), metadata={TOKENIZED: b"true"})
        cols.append(col)
        fields.append(field)
    return pa.table(cols, schema=pa.schema(fields))


def split_system_dataset(table: pa.Table, form: SourceForm, catalog: Catalog,
                         tokenizer: Tokenizer) -> dict[Audience, pa.Table]:
    """The copies of one system dataset each area gets: open, each granted department, the private area."""
    feeding = {c: {form.system_id} for c in table.column_names}
    sensitive_key = (form.system_id, form.table) in sensitive_key_tables(catalog)
    return split_table(table, catalog, feeding, tokenizer, private_system=form.system_id,
                       tokenize_key=sensitive_key)


def split_table(table: pa.Table, catalog: Catalog, feeding: Mapping[str, set[str]], tokenizer: Tokenizer, *,
                private_system: str | None = None, tokenize_key: bool = False) -> dict[Audience, pa.Table]:
    """Per-area copies of a wide table whose element columns are fed by ``feeding``."""
    out: dict[Audience, pa.Table] = {}
    open_pol = column_policies(catalog, OPEN, table.column_names, feeding)
    out[OPEN] = apply_policies(table, open_pol, catalog, tokenizer, tokenize_key=tokenize_key)
    systems = {s for v in feeding.values() for s in v}
    for dept in granted_departments(catalog, systems):
        aud = department_audience(dept)
        pol = column_policies(catalog, aud, table.column_names, feeding)
        if pol != open_pol:
            out[aud] = apply_policies(table, pol, catalog, tokenizer, tokenize_key=tokenize_key)
    if private_system is not None:
        out[private_audience(catalog, private_system)] = table
    return out


def long_audiences(catalog: Catalog, systems: Iterable[str]) -> list[Audience]:
    """The areas a long table whose rows name ``systems`` may be copied to: open, then each granted department."""
    return [OPEN] + [department_audience(d) for d in granted_departments(catalog, {s for s in systems if s})]


def split_long(table: pa.Table, catalog: Catalog, tokenizer: Tokenizer, *, element_col: str | None = "element_key",
               system_cols: tuple[str, ...] = ("system_id",), value_cols: tuple[str, ...] = ("value",),
               key_cols: tuple[str, str, str] | None = ("system_id", "source_table", "source_key"),
               audiences: list[Audience] | None = None) -> dict[Audience, pa.Table]:
    """Per-area copies of a long table (one element per row: conflicts, provenance).

    A row is kept when its element is visible from every system in ``system_cols``; its ``value_cols``
    are tokenized where the element is; ``key_cols`` (system, table, key) name a source key to tokenize
    when that form's key is sensitive. Without ``element_col`` only the source keys are handled.
    A department gets its copy only where it differs from the open one; given ``audiences`` (those of the
    whole table, :func:`long_audiences`, when ``table`` is one part of it), every one of them gets its copy.
    """
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    marked: set[str] = set()
    if key_cols is not None and df.height:
        sys_c, tab_c, key_c = key_cols
        sensitive = sensitive_key_tables(catalog)
        pairs = pl.DataFrame({sys_c: [s for s, _ in sensitive], tab_c: [t for _, t in sensitive]},
                             schema={sys_c: pl.String, tab_c: pl.String}).with_columns(pl.lit(True).alias("_sens"))
        df = df.join(pairs, on=[sys_c, tab_c], how="left").with_columns(pl.col("_sens").fill_null(False))
        if df["_sens"].any():
            marked.add(key_c)
        df = df.with_columns(pl.when(pl.col("_sens")).then(pl.col(key_c).map_elements(
            lambda v: tokenizer.token(v, "key"), return_dtype=pl.String)).otherwise(pl.col(key_c)).alias(key_c)
        ).drop("_sens")
    if element_col is None:
        return {OPEN: _long_arrow(df, table.schema, marked)}
    on = [element_col, *system_cols]
    combos = df.select(on).unique().to_dicts() if df.height else []
    every = audiences is not None
    if audiences is None:
        audiences = long_audiences(catalog, (r[c] for r in combos for c in system_cols))
    out: dict[Audience, pa.Table] = {}
    for aud in audiences:
        rows = []
        for r in combos:
            el = catalog.element_by_key.get(r[element_col])
            p: Policy = "clear" if el is None else policy(catalog, aud, el, {r[c] for c in system_cols if r[c]})
            rows.append({**r, "_policy": p, "_how": normalization(el) if el is not None else "text",
                         "_mixed": el is not None and el.identifier_kind in MIXED_KINDS})
        pol = pl.DataFrame(rows, schema={**{c: df.schema[c] for c in on}, "_policy": pl.String, "_how": pl.String,
                                         "_mixed": pl.Boolean})
        part = df.join(pol, on=on, how="left", nulls_equal=True).filter(pl.col("_policy") != "hidden")
        tok = set(marked)
        if part.height and (part["_policy"] == "token").any():
            tok |= set(value_cols)
            part = part.with_columns([pl.when(pl.col("_policy") == "token").then(
                pl.struct(v, "_how", "_mixed").map_elements(_struct_tokenizer(tokenizer, v), return_dtype=pl.String))
                .otherwise(pl.col(v)).alias(v) for v in value_cols])
        tbl = _long_arrow(part.drop("_policy", "_how", "_mixed"), table.schema, tok)
        if aud is OPEN or every or not tbl.equals(out[OPEN]):
            out[aud] = tbl
    return out


def _struct_tokenizer(tokenizer: Tokenizer, column: str) -> Callable[[dict[str, Any]], str | None]:
    def tok(row: dict[str, Any]) -> str | None:
        v = row[column]
        return None if v is None else tokenizer.token_or_organisation(str(v), row["_how"], bool(row["_mixed"]))
    return tok


def _long_arrow(df: pl.DataFrame, schema: pa.Schema, tokenized: set[str]) -> pa.Table:
    tbl = df.select(schema.names).to_arrow().cast(schema) if df.height else schema.empty_table()
    marked = [f.with_metadata({TOKENIZED: b"true"}) if f.name in tokenized else f for f in tbl.schema]
    return tbl.cast(pa.schema(marked))
