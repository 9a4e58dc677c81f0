"""The four stage forms: one row per project per stage, each element filled from every system holding it.

Rules:
- A project is matched on the normalized 投资项目代码 (:func:`quancheng.consolidate.keys.project_key`) of
  the element whose ``identifier_kind`` is ``project_code``. Rows without one cannot be matched; they are
  counted per dataset in :attr:`StageForms.unmatched` (and stay in their system dataset).
- A project is in stage *S* when a form of stage *S* holds a row for it.
- The elements of stage *S* are those mapped by the project-keyed forms of *S*, plus those required in
  *S* that some project-keyed form holds.
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
    return [pk] + [e for e in catalog.elements if e.element_id in members]


def _frame(dataset_id: str, table: pa.Table, form: SourceForm, pk: Element) -> pl.DataFrame:
    """A dataset with its project key and recency, ready to pick candidates from."""
    for col in ("_source_system", "_source_table", "_source_key", "_batch_id", "_extracted_at"):
        if col not in table.column_names:
            raise QuanchengError(f"dataset {dataset_id}: provenance column {col!r} is missing")
    t = table.append_column("_project", project_key(table[pk.key]))
    df = pl.from_arrow(t)
    assert isinstance(df, pl.DataFrame)
    recency = pl.col("_extracted_at")
    if RECENCY_KEY in df.columns and df.schema[RECENCY_KEY] == pl.Datetime("us"):
        local = pl.col(RECENCY_KEY).dt.replace_time_zone(SOURCE_TZ, ambiguous="earliest", non_existent="null")
        recency = pl.coalesce(local.dt.convert_time_zone("UTC"), pl.col("_extracted_at"))
    return df.with_columns(recency.alias("_as_of"))


def _candidates(frames: dict[str, pl.DataFrame], el: Element) -> pl.DataFrame | None:
    target = arrow_type(el)
    parts = []
    for ds, df in frames.items():
        if el.key not in df.columns:
            continue
        part = df.select("_project", "_source_system", "_source_table", "_source_key", "_batch_id",
                         "_extracted_at", "_as_of", pl.col(el.key).alias("value"))
        part = part.filter(pl.col("_project").is_not_null() & pl.col("value").is_not_null())
        try:
            arr = part["value"].to_arrow().cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise QuanchengError(f"dataset {ds}, column {el.key!r}: cannot read as {target} "
                                 f"(element {el.element_id}): {exc}") from exc
        parts.append(part.with_columns(pl.Series("value", arr)))
    if not parts:
        return None
    cand = pl.concat(parts, how="vertical_relaxed")
    if cand.height == 0:
        return None
    cmp = pl.col("value").cast(pl.String)
    if el.data_type == "string":
        cmp = cmp.str.normalize("NFKC").str.replace_all(r"\s+", "")
    return cand.with_columns(cmp.alias("_cmp"), (pl.col("_source_system") == el.authority_system).alias("_auth"))


def _resolve(cand: pl.DataFrame, el: Element) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Winners (one per project) with provenance, and the losing candidates that differ."""
    ordered = cand.sort(["_project", "_auth", "_as_of", "_source_system", "_source_key"],
                        descending=[False, True, True, False, False], nulls_last=True)
    stats = cand.group_by("_project").agg(pl.col("_source_system").n_unique().alias("systems"),
                                          pl.col("_cmp").n_unique().alias("distinct_values"))
    win = ordered.group_by("_project", maintain_order=True).first()
    win = win.with_columns(pl.when(pl.col("_auth")).then(pl.lit("authority_system"))
                           .otherwise(pl.lit("most_recent")).alias("rule")).join(stats, on="_project")
    losers = cand.join(win.select("_project", pl.col("_source_system").alias("winner_system"),
                                  pl.col("_cmp").alias("_wcmp"), pl.col("value").cast(pl.String).alias("winner_value"),
                                  "rule"), on="_project")
    losers = losers.filter(pl.col("_cmp") != pl.col("_wcmp")).select(
        pl.col("_project").alias("project_code"), pl.lit(el.element_id).alias("element_id"),
        pl.lit(el.key).alias("element_key"), pl.lit(el.name_zh).alias("element_name_zh"),
        pl.col("_source_system").alias("system_id"), pl.col("_source_table").alias("source_table"),
        pl.col("_source_key").alias("source_key"), pl.col("value").cast(pl.String).alias("value"),
        "winner_system", "winner_value", "rule",
        (pl.col("_source_system") == pl.col("winner_system")).alias("same_system"))
    return win, losers


def _to_arrow(df: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    if df.height == 0:
        return schema.empty_table()
    return df.select(schema.names).to_arrow().cast(schema)


def build_stage_forms(datasets: Mapping[str, pa.Table], catalog: Catalog, *, batch_id: str) -> StageForms:
    """Consolidate system datasets (``"<system>.<form>" -> table``) into the four stage forms."""
    pk = project_element(catalog)
    frames: dict[str, pl.DataFrame] = {}
    unmatched: dict[str, int] = {}
    stage_projects: dict[str, set[str]] = {s.stage_id: set() for s in catalog.stages}
    for ds in sorted(datasets):
        table, form = datasets[ds], form_of(catalog, ds)
        if pk.key not in table.column_names:
            continue
        df = _frame(ds, table, form, pk)
        frames[ds] = df
        unmatched[ds] = int(df["_project"].null_count())
        if form.stage_id in stage_projects:
            stage_projects[form.stage_id].update(v for v in df["_project"].drop_nulls().to_list())
    members = {s.stage_id: stage_elements(catalog, s.stage_id) for s in catalog.stages}
    wanted = {e.element_id: e for els in members.values() for e in els[1:]}
    winners: dict[str, pl.DataFrame] = {}
    conflicts: list[pl.DataFrame] = []
    feeding: dict[str, set[str]] = {}
    for el in catalog.elements:
        if el.element_id not in wanted:
            continue
        cand = _candidates(frames, el)
        if cand is None:
            continue
        feeding[el.key] = set(cand["_source_system"].unique().to_list())
        win, losers = _resolve(cand, el)
        winners[el.element_id] = win
        conflicts.append(losers)
    forms: dict[str, pa.Table] = {}
    provenance: dict[str, pa.Table] = {}
    for stage in catalog.stages:
        sid = stage.stage_id
        forms[stage_dataset_id(sid)], provenance[provenance_dataset_id(sid)] = _stage_table(
            sorted(stage_projects[sid]), members[sid], winners, sid, batch_id)
    all_conflicts = pl.concat(conflicts) if conflicts else pl.DataFrame()
    if all_conflicts.height:
        all_conflicts = all_conflicts.sort(["project_code", "element_id", "system_id", "source_key"])
    return StageForms(forms, provenance, _to_arrow(all_conflicts, CONFLICT_SCHEMA), unmatched, feeding)


def _stage_table(projects: list[str], elements: list[Element], winners: dict[str, pl.DataFrame],
                 stage_id: str, batch_id: str) -> tuple[pa.Table, pa.Table]:
    pk, rest = elements[0], elements[1:]
    base = pl.DataFrame({"_project": projects}, schema={"_project": pl.String})
    wide = base
    prov_parts: list[pl.DataFrame] = []
    for el in rest:
        win = winners.get(el.element_id)
        if win is None:
            wide = wide.with_columns(pl.lit(None).alias(el.key), pl.lit(None, pl.String).alias(f"_src_{el.key}"),
                                     pl.lit(None, pl.Datetime("us", "UTC")).alias(f"_ext_{el.key}"))
            continue
        win = win.join(base, on="_project", how="semi")
        wide = wide.join(win.select("_project", pl.col("value").alias(el.key),
                                    pl.col("_source_system").alias(f"_src_{el.key}"),
                                    pl.col("_extracted_at").alias(f"_ext_{el.key}")), on="_project", how="left")
        prov_parts.append(win.select(
            pl.col("_project").alias("project_code"), pl.lit(el.element_id).alias("element_id"),
            pl.lit(el.key).alias("element_key"), pl.col("_source_system").alias("system_id"),
            pl.col("_source_table").alias("source_table"), pl.col("_source_key").alias("source_key"),
            pl.col("_batch_id").alias("batch_id"), pl.col("_extracted_at").alias("extracted_at"), "rule",
            pl.col("systems").cast(pl.Int64), pl.col("distinct_values").cast(pl.Int64)))
    src_cols = [f"_src_{e.key}" for e in rest]
    ext_cols = [f"_ext_{e.key}" for e in rest]
    required = [e for e in rest if stage_id in e.required_in]
    missing = [pl.when(pl.col(e.key).is_null()).then(pl.lit(e.key)).otherwise(pl.lit(None)) for e in required]
    wide = wide.with_columns(
        pl.concat_list(src_cols).list.drop_nulls().list.unique().list.sort().list.join("|").alias("_source_systems")
        if src_cols else pl.lit("").alias("_source_systems"),
        pl.max_horizontal(ext_cols).alias("_extracted_at") if ext_cols
        else pl.lit(None, pl.Datetime("us", "UTC")).alias("_extracted_at"),
        pl.concat_list(missing).list.drop_nulls().list.join("|").alias("_missing_required")
        if missing else pl.lit("").alias("_missing_required"),
    ).drop(src_cols + ext_cols).rename({"_project": pk.key})
    wide = wide.with_columns(pl.lit(batch_id).alias("_batch_id"))
    schema = pa.schema([(pk.key, pa.string())] + [(e.key, arrow_type(e)) for e in rest] + [
        ("_source_systems", pa.string()), ("_missing_required", pa.string()), ("_batch_id", pa.string()),
        ("_extracted_at", pa.timestamp("us", tz="UTC"))])
    prov = pl.concat(prov_parts) if prov_parts else pl.DataFrame()
    if prov.height:
        prov = prov.sort(["project_code", "element_id"])
    return _to_arrow(wide, schema), _to_arrow(prov, PROVENANCE_SCHEMA)
