"""The four stage forms: one row per project per stage, each element filled from every system holding it.

Rules:
- A project is matched on the normalized 投资项目代码 (:func:`quancheng.consolidate.keys.project_key`) of
  the element whose ``identifier_kind`` is ``project_code``. Rows without one cannot be matched; they are
  counted per dataset in :attr:`StageForms.unmatched` (and stay in their system dataset).
- A project is in stage *S* when a form of stage *S* holds a row for it.
- The elements of stage *S* are those mapped by the project-keyed forms of *S*, plus those required in
  *S* that some project-keyed form holds; not the record's own update time (``source_updated_at``),
  which is provenance, nor the case record's elements (``filled_by == "office"``: 受理日期, 审批决定日期 …),
  which belong to one approval item each and stay in the system datasets with their form's item.
- Each element's value comes from every system dataset (of any stage) that holds the element for the
  project. The winner: the catalog's ``authority_system`` of the element when it has a value, else the
  most recent (the row's ``source_updated_at``, read as Asia/Shanghai time, else its ``_extracted_at``);
  ties go to the system id, then the source key, so the result never depends on input order.
- Every other candidate whose value differs from the winner's (strings compared after NFKC and without
  whitespace) is a conflict, kept with the winner and the rule that decided.
- Per-value provenance: a long table, one row per (project, element) with the winning system, table,
  key, batch and extraction time, the rule, and how many systems and distinct values there were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.models import Element, SourceForm
from quancheng.consolidate.keys import project_key
from quancheng.errors import QuanchengError
from quancheng.normalize.types import arrow_type

Rule = Literal["authority_system", "most_recent"]
RECENCY_KEY = "source_updated_at"  # the element every incremental system maps its update column to
SOURCE_TZ = "Asia/Shanghai"  # naive source timestamps are local time

CONFLICT_SCHEMA = pa.schema([
    ("project_code", pa.string()), ("element_id", pa.string()), ("element_key", pa.string()),
    ("element_name_zh", pa.string()), ("system_id", pa.string()), ("source_table", pa.string()),
    ("source_key", pa.string()), ("value", pa.string()), ("winner_system", pa.string()),
    ("winner_value", pa.string()), ("rule", pa.string()), ("same_system", pa.bool_()),
])
# the order the long datasets are published and shared in, each a unique key of its rows: with ties, the
# order of tied rows (and so the content hash) would depend on the reader (DuckDB's sort is not stable), and
# a rebuild of unchanged content would publish a new version. A project element has one provenance row (its
# winner); a loser is one source row, which two tables of a system keyed alike share the key of
PROVENANCE_ORDER = ["project_code", "element_id"]
CONFLICTS_ORDER = ["project_code", "element_id", "system_id", "source_table", "source_key"]
PROVENANCE_SCHEMA = pa.schema([
    ("project_code", pa.string()), ("element_id", pa.string()), ("element_key", pa.string()),
    ("system_id", pa.string()), ("source_table", pa.string()), ("source_key", pa.string()),
    ("batch_id", pa.string()), ("extracted_at", pa.timestamp("us", tz="UTC")), ("rule", pa.string()),
    ("systems", pa.int64()), ("distinct_values", pa.int64()),
])


def stage_dataset_id(stage_id: str) -> str:
    return f"stage.{stage_id}"


def provenance_dataset_id(stage_id: str) -> str:
    return f"stage.{stage_id}.provenance"


CONFLICTS_DATASET = "conflicts.stage_forms"


@dataclass(frozen=True)
class StageForms:
    """What consolidation produced: per stage the form and its provenance, plus all conflicts."""

    forms: dict[str, pa.Table]
    provenance: dict[str, pa.Table]
    conflicts: pa.Table
    unmatched: dict[str, int] = field(default_factory=dict)
    feeding_systems: dict[str, set[str]] = field(default_factory=dict)  # element key -> systems with values


def project_element(catalog: Catalog) -> Element:
    """The element projects are matched on: the one with identifier kind ``project_code``."""
    found = [e for e in catalog.elements if e.identifier_kind == "project_code"]
    if len(found) > 1:
        named = [e for e in found if e.key == "project_code"]
        found = named or found
    if len(found) != 1:
        raise QuanchengError(
            f"the catalog must have exactly one element with identifier_kind project_code to match projects "
            f"on; found {[e.element_id for e in found]} (fix: elements.csv)")
    return found[0]


def form_of(catalog: Catalog, dataset_id: str) -> SourceForm:
    system_id, _, form_id = dataset_id.partition(".")
    form = catalog.form.get(form_id)
    if form is None or form.system_id != system_id:
        raise QuanchengError(f"dataset {dataset_id!r} is not a system dataset of the catalog "
                             f"(expected '<system_id>.<form_id>' of forms.csv)")
    return form


def keyed_forms(catalog: Catalog) -> list[SourceForm]:
    """Forms that carry the project code, in catalog order."""
    pk = project_element(catalog).element_id
    return [f for f in catalog.forms if any(e.element_id == pk for e in catalog.elements_of(f.form_id))]


def stage_elements(catalog: Catalog, stage_id: str) -> list[Element]:
    """The elements of a stage form, in catalog order (the project code first)."""
    pk = project_element(catalog)
    forms = keyed_forms(catalog)
    held = {e.element_id for f in forms for e in catalog.elements_of(f.form_id)}
    members = {e.element_id for f in forms if f.stage_id == stage_id for e in catalog.elements_of(f.form_id)}
    members |= {e.element_id for e in catalog.elements if stage_id in e.required_in and e.element_id in held}
    members.discard(pk.element_id)
    # a record's own update time is provenance, not a fact about the project: every system would "conflict";
    # the case record (受理日期, 审批决定日期 ...) is about one approval item, recorded by its office, not
    # something the applicant declares: each item has its own, so they would "conflict" too
    members -= {e.element_id for e in catalog.elements if e.key == RECENCY_KEY or e.filled_by == "office"}
    return [pk] + [e for e in catalog.elements if e.element_id in members]


INDEX = ["_project", "_source_system", "_source_table", "_source_key", "_batch_id", "_extracted_at", "_as_of"]


def _long(dataset_id: str, table: pa.Table, pk: Element, wanted: dict[str, Element],
          keys: pa.Array) -> pl.DataFrame | None:
    """One row per (dataset row, element) with a value: the candidates this dataset offers, as text."""
    for col in ("_source_system", "_source_table", "_source_key", "_batch_id", "_extracted_at"):
        if col not in table.column_names:
            raise QuanchengError(f"dataset {dataset_id}: provenance column {col!r} is missing")
    cols = [c for c in table.column_names if c in wanted]
    for c in cols:
        target = arrow_type(wanted[c])
        if table[c].type != target:
            try:
                table = table.set_column(table.column_names.index(c), c, pc.cast(table[c], target))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise QuanchengError(f"dataset {dataset_id}, column {c!r}: cannot read as {target} "
                                     f"(element {wanted[c].element_id}): {exc}") from exc
    t = table.append_column("_project", keys)
    df = pl.from_arrow(t)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(as_of(df).alias("_as_of")).filter(pl.col("_project").is_not_null())
    if not cols or df.height == 0:
        return None
    df = df.select(*INDEX[:-1], "_as_of", *(pl.col(c).cast(pl.String) for c in cols))
    long = df.unpivot(index=INDEX, on=cols, variable_name="element_key", value_name="value")
    return long.filter(pl.col("value").is_not_null())


def _resolve(cand: pl.DataFrame, wanted: dict[str, Element]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Winners (one per project and element) with provenance, and the losing candidates that differ."""
    meta = pl.DataFrame({
        "element_key": list(wanted), "element_id": [e.element_id for e in wanted.values()],
        "element_name_zh": [e.name_zh for e in wanted.values()],
        "_authority": [e.authority_system for e in wanted.values()],
        "_is_text": [e.data_type == "string" for e in wanted.values()]})
    cand = cand.join(meta, on="element_key").with_columns(
        (pl.col("_source_system") == pl.col("_authority")).alias("_auth"),
        pl.when(pl.col("_is_text")).then(pl.col("value").str.normalize("NFKC").str.replace_all(r"\s+", ""))
        .otherwise(pl.col("value")).alias("_cmp"))
    group = ["element_key", "_project"]
    ordered = cand.sort([*group, "_auth", "_as_of", "_source_system", "_source_key"],
                        descending=[False, False, True, True, False, False], nulls_last=True)
    stats = cand.group_by(group).agg(pl.col("_source_system").n_unique().alias("systems"),
                                     pl.col("_cmp").n_unique().alias("distinct_values"))
    win = ordered.group_by(group, maintain_order=True).first()
    win = win.with_columns(pl.when(pl.col("_auth")).then(pl.lit("authority_system"))
                           .otherwise(pl.lit("most_recent")).alias("rule")).join(stats, on=group)
    losers = cand.join(win.select(*group, pl.col("_source_system").alias("winner_system"),
                                  pl.col("_cmp").alias("_wcmp"), pl.col("value").alias("winner_value"), "rule"),
                       on=group)
    losers = losers.filter(pl.col("_cmp") != pl.col("_wcmp")).select(
        pl.col("_project").alias("project_code"), "element_id", "element_key", "element_name_zh",
        pl.col("_source_system").alias("system_id"), pl.col("_source_table").alias("source_table"),
        pl.col("_source_key").alias("source_key"), "value", "winner_system", "winner_value", "rule",
        (pl.col("_source_system") == pl.col("winner_system")).alias("same_system"))
    return win, losers


def as_of(df: pl.DataFrame) -> pl.Expr:
    """When a row was last true: its source update time (local) if it has one, else its extraction."""
    expr = pl.col("_extracted_at")
    if RECENCY_KEY in df.columns and df.schema[RECENCY_KEY] == pl.Datetime("us"):
        local = pl.col(RECENCY_KEY).dt.replace_time_zone(SOURCE_TZ, ambiguous="earliest", non_existent="null")
        expr = pl.coalesce(local.dt.convert_time_zone("UTC"), expr)
    return expr


def to_arrow(df: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``df``'s columns of ``schema`` as an Arrow table of exactly that schema (empty: the empty table)."""
    if df.height == 0:
        return schema.empty_table()
    return df.select(schema.names).to_arrow().cast(schema)


def build_stage_forms(datasets: Mapping[str, pa.Table], catalog: Catalog, *, batch_id: str) -> StageForms:
    """Consolidate system datasets (``"<system>.<form>" -> table``) into the four stage forms."""
    pk = project_element(catalog)
    members = {s.stage_id: stage_elements(catalog, s.stage_id) for s in catalog.stages}
    wanted = {e.key: e for els in members.values() for e in els[1:]}
    parts: list[pl.DataFrame] = []
    unmatched: dict[str, int] = {}
    stage_projects: dict[str, set[str]] = {s.stage_id: set() for s in catalog.stages}
    for ds in sorted(datasets):
        table, form = datasets[ds], form_of(catalog, ds)
        if pk.key not in table.column_names:
            continue
        keys = project_key(table[pk.key])
        unmatched[ds] = keys.null_count
        if form.stage_id in stage_projects:
            stage_projects[form.stage_id].update(keys.drop_null().to_pylist())
        long = _long(ds, table, pk, wanted, keys)
        if long is not None:
            parts.append(long)
    if parts:
        win, losers = _resolve(pl.concat(parts, how="vertical_relaxed"), wanted)
    else:
        win, losers = pl.DataFrame(), pl.DataFrame()
    feeding: dict[str, set[str]] = {}
    if win.height:
        for key, systems in win.group_by("element_key").agg(pl.col("_source_system").unique()).iter_rows():
            feeding[key] = set(systems)
    forms: dict[str, pa.Table] = {}
    provenance: dict[str, pa.Table] = {}
    for stage in catalog.stages:
        sid = stage.stage_id
        forms[stage_dataset_id(sid)], provenance[provenance_dataset_id(sid)] = _stage_table(
            sorted(stage_projects[sid]), members[sid], win, sid, batch_id)
    if losers.height:
        losers = losers.sort(CONFLICTS_ORDER)
    return StageForms(forms, provenance, to_arrow(losers, CONFLICT_SCHEMA), unmatched, feeding)


def _stage_table(projects: list[str], elements: list[Element], win: pl.DataFrame, stage_id: str,
                 batch_id: str) -> tuple[pa.Table, pa.Table]:
    pk, rest = elements[0], elements[1:]
    keys = [e.key for e in rest]
    base = pl.DataFrame({"_project": projects}, schema={"_project": pl.String})
    mine = (win.filter(pl.col("element_key").is_in(keys)).join(base, on="_project", how="semi")
            if win.height else pl.DataFrame(schema={"_project": pl.String, "element_key": pl.String,
                                                    "value": pl.String, "_source_system": pl.String,
                                                    "_extracted_at": pl.Datetime("us", "UTC")}))
    values = mine.pivot(on="element_key", index="_project", values="value") if mine.height else base
    rowinfo = mine.group_by("_project").agg(
        pl.col("_source_system").unique().sort().str.join("|").alias("_source_systems"),
        pl.col("_extracted_at").max().alias("_extracted_at"))
    wide = base.join(values, on="_project", how="left").join(rowinfo, on="_project", how="left")
    wide = wide.with_columns([pl.lit(None, pl.String).alias(k) for k in keys if k not in wide.columns])
    required = [e.key for e in rest if stage_id in e.required_in]
    missing = (pl.concat_list([pl.when(pl.col(k).is_null()).then(pl.lit(k)) for k in required])
               .list.drop_nulls().list.join("|") if required else pl.lit(""))
    wide = wide.with_columns(missing.alias("_missing_required"))
    text = {k: wide[k].to_arrow() for k in keys}
    cols: dict[str, pa.Array] = {pk.key: wide["_project"].to_arrow().cast(pa.string())}
    for e in rest:
        cols[e.key] = _typed(text[e.key], e)
    cols["_source_systems"] = wide["_source_systems"].fill_null("").to_arrow().cast(pa.string())
    cols["_missing_required"] = wide["_missing_required"].to_arrow().cast(pa.string())
    cols["_batch_id"] = pa.array([batch_id] * wide.height, pa.string())
    cols["_extracted_at"] = wide["_extracted_at"].to_arrow().cast(pa.timestamp("us", tz="UTC"))
    prov = mine.select(
        pl.col("_project").alias("project_code"), "element_id", "element_key",
        pl.col("_source_system").alias("system_id"), pl.col("_source_table").alias("source_table"),
        pl.col("_source_key").alias("source_key"), pl.col("_batch_id").alias("batch_id"),
        pl.col("_extracted_at").alias("extracted_at"), "rule", pl.col("systems").cast(pl.Int64),
        pl.col("distinct_values").cast(pl.Int64)).sort(PROVENANCE_ORDER) if mine.height \
        else pl.DataFrame()
    return pa.table(cols), to_arrow(prov, PROVENANCE_SCHEMA)


def _typed(text: pa.Array | pa.ChunkedArray, element: Element) -> pa.Array:
    """A winning value column back from text to the element's type (exactly: it was written from it)."""
    arr = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    out: pa.Array = pc.cast(pc.cast(arr, pa.string()), arrow_type(element))
    return out
