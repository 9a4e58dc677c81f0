"""The enterprise master after a day of syncs: only the entities the changed rows reach are matched again.

Matching (:mod:`quancheng.consolidate.enterprise`) joins mentions through a shared credit code,
organisation code (embedded or given), registration number or exact name, and never across: the mentions
connected by such values (a *component*) match alike whether built alone or with every other mention. So a
day needs only the components its changed rows are in, before and after the change.

State: every mention as the last build matched it, with its name keys and entity (a Delta table beside the
datasets, :data:`STATE_TABLE`, not registered: nobody reads it but this module, and only its current version
is kept), and the Delta version of each input dataset it read (``_exchange_consolidation``, step
``enterprise_master``, under a digest of the matching rules: :func:`rules`), recorded after the rest.

A day, in order (:func:`plan` decides it may be taken, else the master is built whole):

1. the changed rows: the source keys in each input's change data feed since the version last read, and
   their rows now (the feed's last image of each, no pass over the inputs);
2. their mentions now and as they were (from the state);
3. the component: the state's mentions sharing a value with those, again and again until none is added;
4. the component matched alone; name variants across components (a fuzzy key shared with another
   entity's name) are found from the state's name keys and the other entity's master row. A component
   holding more than :data:`MAX_TOUCHED_SHARE` of the mentions (one enterprise named by most rows) is built
   whole instead: matching it alone would cost as much;
5. written: the master's, names' and links' rows of the component's entities (before and after)
   replaced, with the master rows of other entities whose ``in_review`` changed; the review list
   republished; the state last, so a run killed before it is done again whole by the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.consolidate.enterprise import (
    MASTER_DATASET,
    REVIEW_DATASET,
    EnterpriseMaster,
    Outside,
    build_enterprise_master,
    name_keyer,
    with_name_keys,
)
from quancheng.consolidate.incremental import Inputs, feed_since, read_state
from quancheng.consolidate.mentions import MENTION_SCHEMA, entity_roles, mention_columns, mentions
from quancheng.publish import delta
from quancheng.publish.delta import Batch
from quancheng.publish.store import KEY, SharedStore

STEP = "enterprise_master"
STATE_TABLE = "_state.enterprise_mentions"  # under the store's datasets, as a dataset's folder would be
MAX_TOUCHED_SHARE = 0.25  # more rows changed, or a component larger, than this share of the mentions: whole
MIN_ROWS = 1000  # ... and than this many rows (a small store is never built whole for the share alone)
MATCHING = "2"  # bump when the matching changes: every state is then rebuilt
# the values that join mentions (the given organisation code too: its review names the entity holding it)
TOKENS = (("uscc", "u:"), ("org_code", "o:"), ("org_code_mismatch", "o:"), ("reg_no", "r:"), ("name_exact", "n:"))


def rules(catalog: Catalog) -> str:
    """A digest of what the matching depends on besides the mentions: the entity roles and the region names."""
    roles = sorted(repr(r) for rs in entity_roles(catalog).values() for r in rs)
    regions = sorted(c.name_zh for c in catalog.codes_by_list.get("gb2260", []))
    return hashlib.sha256("\n".join([MATCHING, *roles, *regions]).encode()).hexdigest()[:32]


def inputs_of(store: SharedStore, catalog: Catalog) -> Inputs:
    """Every current system dataset of a form naming an entity: the columns mentions read, the version now."""
    current = {d["dataset_id"] for d in store.datasets() if d["kind"] == "system"}
    roles = entity_roles(catalog)
    out: Inputs = {}
    for form in catalog.forms:
        ds = dataset_id(form)
        if ds in current and roles.get(form.form_id):
            version, schema = store.version(ds), store.schema(ds)
            if version is not None and schema is not None:
                out[ds] = mention_columns(catalog, form.form_id, schema.names), version
    return out


def up_to_date(store: SharedStore, catalog: Catalog, inputs: Inputs) -> bool:
    """Whether the state is of these rules and read exactly these input versions (a finished build)."""
    state = read_state(store, STEP)
    return state is not None and state[0] == rules(catalog) and \
        {ds: v for ds, v in state[1].items() if ds} == {ds: v for ds, (_, v) in inputs.items()}


@dataclass(frozen=True)
class Plan:
    """Build whole (``reason`` says why) or redo the rows ``touched`` (dataset -> source keys), whose rows now
    (those not deleted, the columns mentions read) are ``rows``."""

    whole: bool
    reason: str
    touched: dict[str, pa.Array]
    rows: dict[str, pa.Table]


def plan(store: SharedStore, catalog: Catalog, inputs: Inputs) -> Plan:
    """Whole, or the rows each input's change data feed shows since the versions the last build read."""
    state = read_state(store, STEP)
    if state is None or delta.current_version(state_uri(store), storage_options=store.storage_options or None) is None:
        return Plan(True, "no earlier build", {}, {})
    fp, versions = state
    versions.pop("", None)
    if fp != rules(catalog):
        return Plan(True, "the matching rules changed", {}, {})
    if set(versions) != set(inputs):
        return Plan(True, "the input datasets changed", {}, {})
    touched: dict[str, pa.Array] = {}
    now_rows: dict[str, pa.Table] = {}
    for ds, (columns, now) in sorted(inputs.items()):
        before = versions[ds]
        if now < before:
            return Plan(True, f"{ds} is at version {now}, before the {before} last read", {}, {})
        if now == before:
            continue
        try:
            keys, rows = changed_now(store, ds, before, now, columns)
        except Exception as exc:  # noqa: BLE001 - the versions since were vacuumed, or the feed is off
            return Plan(True, f"the changes of {ds} since version {before} are not readable ({exc})", {}, {})
        if len(keys):
            touched[ds], now_rows[ds] = keys, rows
    count = sum(len(k) for k in touched.values())
    held = held_mentions(store)
    if count > MAX_TOUCHED_SHARE * max(held, 1) and count > MIN_ROWS:
        return Plan(True, f"{count} rows changed against {held} mentions", {}, {})
    return Plan(False, f"{count} rows changed", touched, now_rows)


def changed_now(store: SharedStore, dataset_id: str, before: int, now: int,
                columns: list[str]) -> tuple[pa.Array, pa.Table]:
    """The source keys the commits after version ``before`` up to ``now`` changed, and those keys' rows as of
    ``now`` (``columns``; a deleted key has none), from the change data feed alone: a key's row is the
    inserted or updated image of its last commit. No pass over the dataset."""
    df = pl.DataFrame(feed_since(store, dataset_id, before, now, columns))
    last = pl.col("_commit_version") == pl.col("_commit_version").max().over(KEY)
    rows = df.filter(last & pl.col("_change_type").is_in(["insert", "update_postimage"])).select(columns)
    return df[KEY].unique().drop_nulls().to_arrow().cast(pa.string()), rows.to_arrow()


STATE_SCHEMA = pa.schema(
    [(c, pa.bool_() if c == "authoritative" else pa.timestamp("us", tz="UTC") if c in ("as_of", "extracted_at")
      else pa.string()) for c in MENTION_SCHEMA]
    + [(c, pa.string()) for c in ("org_code_mismatch", "name_exact", "name_fuzzy", "former_fuzzy", "entity_id",
                                  "match_rule")])


def state_rows(result: EnterpriseMaster) -> pa.Table:
    """The state's rows of a build: its mentions as matched."""
    return result.matched.select(STATE_SCHEMA.names).to_arrow().cast(STATE_SCHEMA)


def state_uri(store: SharedStore) -> str:
    return store.dataset_uri(STATE_TABLE)


def held_mentions(store: SharedStore) -> int:
    return delta.row_count(state_uri(store), storage_options=store.storage_options or None)


def write_state_rows(store: SharedStore, result: EnterpriseMaster, batch_id: str,
                     entities: pa.Array | None = None) -> None:
    """Keep the build's mentions: all of them (a whole build: converted and written a slice at a time), or
    replacing those of ``entities`` (a day's); then forget the versions before (nothing reads them)."""
    uri, options = state_uri(store), store.storage_options or None
    info = {"quancheng.batch_id": batch_id}
    if entities is None:
        m, step = result.matched.select(STATE_SCHEMA.names), 250_000
        slices = Batch(STATE_SCHEMA, lambda: (m.slice(i, step).to_arrow().cast(STATE_SCHEMA)
                                              for i in range(0, max(m.height, 1), step)), m.height)
        delta.overwrite(uri, slices, commit_info=info, storage_options=options)
    else:
        delta.replace_where(uri, state_rows(result), delta.in_keys("entity_id", entities), commit_info=info,
                            storage_options=options)
    delta.forget_versions(uri, storage_options=options)


def _tokens(df: pl.DataFrame) -> set[str]:
    out: set[str] = set()
    for col, prefix in TOKENS:
        out.update(prefix + v for v in df[col].drop_nulls().unique().to_list())
    return out


def _hits(tokens: set[str]) -> pl.Expr:
    """Rows holding one of ``tokens`` (each column compared with the values of its kind, unprefixed)."""
    def values(prefix: str) -> pl.Series:
        return pl.Series(sorted(t[len(prefix):] for t in tokens if t.startswith(prefix)), dtype=pl.String)

    return pl.any_horizontal(pl.col(col).is_in(values(prefix)).fill_null(False) for col, prefix in TOKENS)


def _of_rows(touched: dict[str, pa.Array]) -> pl.Expr:
    return pl.any_horizontal((pl.col("dataset_id") == ds)
                             & pl.col("source_key").is_in(pl.Series(keys.to_pylist(), dtype=pl.String))
                             for ds, keys in touched.items())


def _matching(store: SharedStore, where: pl.Expr, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
    """The state's rows ``where`` holds (``columns`` only), part by part. Each is filtered by Arrow, which
    copies the rows out: a polars filter's strings would keep the whole part's buffers alive."""
    for part in delta.scan(state_uri(store), columns=columns, storage_options=store.storage_options or None):
        df = pl.from_arrow(part)
        assert isinstance(df, pl.DataFrame)
        hit = part.filter(df.select(where.fill_null(False).alias("hit"))["hit"].to_arrow())
        if hit.num_rows:
            out = pl.from_arrow(hit)
            assert isinstance(out, pl.DataFrame)
            yield out


def _rows(parts: Iterator[pl.DataFrame], schema: pa.Schema, limit: float | None = None) -> pl.DataFrame:
    """The parts as one frame (empty with ``schema``'s columns if none); :class:`TooLarge` past ``limit`` rows."""
    found, rows = [], 0
    for part in parts:
        rows += part.height
        if limit is not None and rows > limit and rows > MIN_ROWS:
            raise TooLarge(f"more than {rows} mentions reached")
        found.append(part)
    empty = pl.from_arrow(schema.empty_table())
    assert isinstance(empty, pl.DataFrame)
    return pl.concat([empty, *found], how="vertical_relaxed")


def _new_mentions(catalog: Catalog, rows: dict[str, pa.Table]) -> pl.DataFrame:
    """The mentions of the changed rows as they are now."""
    return pl.concat([mentions({}, catalog), *(mentions({ds: t}, catalog) for ds, t in rows.items())],
                     how="vertical_relaxed")


@dataclass(frozen=True)
class Day:
    """A day's build: the component's entities before (``before``) and ``result`` of matching it alone."""

    before: set[str]
    result: EnterpriseMaster
    systems: set[str]  # every system naming an entity, after the day


class TooLarge(Exception):
    """The component holds more than :data:`MAX_TOUCHED_SHARE` of the mentions: build whole."""


def build_day(store: SharedStore, catalog: Catalog, todo: Plan, *, batch_id: str) -> Day:
    """Match the component of the ``touched`` rows (see the module's steps 2-4); :class:`TooLarge` when it
    holds more than :data:`MAX_TOUCHED_SHARE` of the mentions (found part by part, never held)."""
    keyer = name_keyer(catalog)
    touched = todo.touched
    new = with_name_keys(_new_mentions(catalog, todo.rows), keyer)
    slim = pa.schema([STATE_SCHEMA.field(c) for c in ("dataset_id", "source_key", "entity_id",
                                                      *(c for c, _ in TOKENS))])
    old = _rows(_matching(store, _of_rows(touched), slim.names), slim)  # their keys, values and entities only
    tokens = _tokens(old) | _tokens(new)
    limit = MAX_TOUCHED_SHARE * held_mentions(store)
    rest = _rows(iter(()), STATE_SCHEMA)
    while tokens:  # the state's other mentions joined to these, until none is added (mostly one pass)
        rest = _rows(_matching(store, ~_of_rows(touched) & _hits(tokens)), STATE_SCHEMA, limit)
        more = tokens | _tokens(rest)
        if more == tokens:
            break
        tokens = more
    before = set(old["entity_id"].to_list()) | set(rest["entity_id"].to_list())
    component = pl.concat([rest.select(new.columns), new], how="vertical_relaxed")
    fuzzy = pl.Series(sorted(set(component["name_fuzzy"].drop_nulls().to_list())
                             | set(component["former_fuzzy"].drop_nulls().to_list())), dtype=pl.String)
    outside = ~pl.col("entity_id").is_in(pl.Series(sorted(before), dtype=pl.String))
    shared = pl.col("name_fuzzy").is_in(fuzzy) | pl.col("former_fuzzy").is_in(fuzzy)
    named = pa.schema([STATE_SCHEMA.field(c) for c in ("entity_id", "system_id", "name", "former_name",
                                                       "name_fuzzy", "former_fuzzy")])
    systems = set(component["system_id"].to_list())
    found: list[pl.DataFrame] = []  # one pass over the other mentions: the systems naming one, the variants
    for part in delta.scan(state_uri(store), columns=named.names, storage_options=store.storage_options or None):
        df = pl.DataFrame(part)
        masks = df.select(outside.alias("out"), (outside & shared).fill_null(False).alias("hit"))
        systems.update(df.filter(masks["out"])["system_id"].unique().to_list())
        found.append(pl.DataFrame(part.filter(masks["hit"].to_arrow())))
    variants = _rows(iter(found), named)
    names = pl.concat([variants.filter(pl.col(key).is_in(fuzzy))
                       .select("entity_id", pl.col(col).alias("name"), pl.col(key).alias("fuzzy"))
                       for col, key in (("name", "name_fuzzy"), ("former_name", "former_fuzzy"))]).unique()
    mentioned = component.select([*MENTION_SCHEMA, "org_code_mismatch"])
    others = set(names["entity_id"].to_list())
    return Day(before, build_enterprise_master({}, catalog, batch_id=batch_id, mentioned=mentioned,
                                               outside=Outside(names, _info(store, others))), systems)


def _info(store: SharedStore, entities: set[str]) -> dict[str, dict[str, object]]:
    """Other entities' identifiers, systems and current name, from their master rows."""
    if not entities:
        return {}
    rows = store.read_keys(MASTER_DATASET, pa.array(sorted(entities), pa.string()), key="entity_id")
    assert rows is not None
    return {r["entity_id"]: {"systems": r["source_systems"], "uscc": r["enterprise_uscc"],
                             "org_code": r["enterprise_org_code"], "reg_no": r["enterprise_reg_no"],
                             "name": r["enterprise_name"]} for r in rows.to_pylist()}


def review_after(store: SharedStore, day: Day) -> tuple[pa.Table, set[str]]:
    """The whole review list after the day (the pairs naming an entity of the component replaced by the
    day's), and the other entities whose ``in_review`` it may change."""
    everyone = day.before | set(day.result.master["entity_id"].to_pylist())
    current = store.read(REVIEW_DATASET)
    assert current is not None
    ids = pa.array(sorted(everyone), pa.string())
    mine = pc.or_(pc.is_in(current["entity_id_a"], value_set=ids), pc.is_in(current["entity_id_b"], value_set=ids))
    kept = current.filter(pc.invert(mine))
    new = day.result.review.cast(kept.schema)
    table = pa.concat_tables([kept, new]).sort_by("review_id")
    named = {e for t in (current.filter(mine), new) for c in ("entity_id_a", "entity_id_b") for e in t[c].to_pylist()}
    return table, named - everyone


def flipped(store: SharedStore, review: pa.Table, others: set[str], batch_id: str) -> pa.Table:
    """The master rows of ``others`` whose ``in_review`` the review list changes, with it changed."""
    if not others:
        return pa.table({})
    rows = store.read_keys(MASTER_DATASET, pa.array(sorted(others), pa.string()), key="entity_id")
    assert rows is not None
    listed = pa.array(sorted({e for c in ("entity_id_a", "entity_id_b") for e in review[c].to_pylist()}), pa.string())
    now = pc.is_in(rows["entity_id"], value_set=listed)
    rows = rows.filter(pc.not_equal(now, rows["in_review"]))
    if not rows.num_rows:
        return rows
    rows = rows.set_column(rows.schema.get_field_index("in_review"), "in_review", pc.invert(rows["in_review"]))
    return rows.set_column(rows.schema.get_field_index("_batch_id"), "_batch_id",
                           pa.array([batch_id] * rows.num_rows, pa.string()))
