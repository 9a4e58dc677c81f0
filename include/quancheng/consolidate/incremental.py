"""Which projects the stage forms must recompute: those touched by the syncs since the last consolidation.

State (``_exchange_consolidation`` in the shared database): per step, the Delta version of every input
system dataset that the last finished consolidation read, and a fingerprint of the catalog's stage-form
rules (project element, stage elements, their types, authorities and requirements).

Rules, in order:
- no state, another fingerprint, an input dataset new or gone since, or a change feed no longer in the
  log (vacuumed): rebuild everything (:mod:`quancheng.consolidate.buckets`);
- the touched projects are the normalized project codes of every row in the change data feed of each
  input between its recorded version and now (inserted rows, both images of updated ones, deleted rows):
  a project whose code changed is touched under the old code and the new;
- nothing touched: nothing to do; more than :data:`MAX_TOUCHED_SHARE` of the projects touched: rebuild
  everything (one pass over the datasets is then cheaper than reading them for a list of keys);
- else the rows of the touched projects are read from every input (used columns only, part by part),
  consolidated, and replace those projects' rows in every output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from quancheng.catalog import Catalog
from quancheng.consolidate.keys import project_key
from quancheng.consolidate.stage_forms import keyed_forms, project_element, stage_elements
from quancheng.publish import delta
from quancheng.publish.store import SharedStore, create_tables

STATE_TABLE = "_exchange_consolidation"
MAX_TOUCHED_SHARE = 0.25
Inputs = dict[str, tuple[list[str], int]]  # dataset -> (columns read, Delta version read)


def _state(md: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        STATE_TABLE, md or sa.MetaData(),
        sa.Column("step", sa.String(100), primary_key=True),
        sa.Column("dataset_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )


def fingerprint(catalog: Catalog) -> str:
    """A digest of the catalog's stage-form rules: when it changes, every project is recomputed."""
    pk = project_element(catalog)
    parts = [pk.key, *(f"{f.form_id}:{f.system_id}:{f.stage_id}" for f in keyed_forms(catalog))]
    for s in catalog.stages:
        parts += [f"{s.stage_id}:{e.key}:{e.data_type}:{e.authority_system}:{s.stage_id in e.required_in}"
                  for e in stage_elements(catalog, s.stage_id)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def read_state(store: SharedStore, step: str) -> tuple[str, dict[str, int]] | None:
    """(fingerprint, input versions) of the last finished consolidation of ``step``; None if none."""
    if not sa.inspect(store.engine).has_table(STATE_TABLE):
        return None
    t = _state()
    with store.engine.connect() as c:
        rows = c.execute(sa.select(t).where(t.c.step == step)).mappings().all()
    if not rows:
        return None
    return str(rows[0]["fingerprint"]), {str(r["dataset_id"]): int(r["version"]) for r in rows}


def write_state(store: SharedStore, step: str, catalog: Catalog, inputs: Inputs, *,
                rules: str | None = None) -> None:
    """Record the versions a finished consolidation read (replacing the previous record, in one transaction),
    under the digest ``rules`` of what else it depends on (default: :func:`fingerprint`)."""
    md = sa.MetaData()
    t = _state(md)
    create_tables(store.engine, md)
    fp = rules or fingerprint(catalog)
    with store.engine.begin() as c:
        c.execute(t.delete().where(t.c.step == step))
        if inputs:
            c.execute(t.insert(), [{"step": step, "dataset_id": ds, "version": v, "fingerprint": fp}
                                   for ds, (_, v) in sorted(inputs.items())])
        else:  # no input: still a finished run (an empty marker row keeps the fingerprint)
            c.execute(t.insert().values(step=step, dataset_id="", version=-1, fingerprint=fp))


def clear_state(store: SharedStore, step: str) -> None:
    """Forget the record of ``step``: a run killed before it records its own is followed by a whole build."""
    if sa.inspect(store.engine).has_table(STATE_TABLE):
        t = _state()
        with store.engine.begin() as c:
            c.execute(t.delete().where(t.c.step == step))


@dataclass(frozen=True)
class Plan:
    """What a consolidation must do: ``full`` (with the reason), or recompute ``touched`` projects only."""

    full: bool
    reason: str
    touched: pa.Array


def plan(store: SharedStore, catalog: Catalog, step: str, inputs: Inputs, *, projects: int | None = None) -> Plan:
    """Full rebuild or the touched projects (see the module's rules); ``projects``: how many there are now
    (for the share of touched ones; None: not checked)."""
    empty = pa.array([], pa.string())
    state = read_state(store, step)
    if state is None:
        return Plan(True, "no earlier consolidation", empty)
    fp, versions = state
    versions.pop("", None)
    if fp != fingerprint(catalog):
        return Plan(True, "the catalog's stage-form rules changed", empty)
    if set(versions) != set(inputs):
        return Plan(True, "the input datasets changed", empty)
    pk = project_element(catalog).key
    touched: list[pa.Array] = []
    for ds, (_, now) in inputs.items():
        before = versions[ds]
        if now < before:
            return Plan(True, f"{ds} is at version {now}, before the {before} last read", empty)
        if now == before:
            continue
        try:
            rows = changed_rows(store, ds, before, now, pk)
        except Exception as exc:  # noqa: BLE001 - the versions since were vacuumed, or the feed is off
            return Plan(True, f"the changes of {ds} since version {before} are not readable ({exc})", empty)
        touched.append(project_key(rows).drop_null())
    keys = pc.unique(pa.concat_arrays(touched)) if touched else empty
    if projects is not None and projects and len(keys) > MAX_TOUCHED_SHARE * projects:
        return Plan(True, f"{len(keys)} of {projects} projects touched", empty)
    return Plan(False, f"{len(keys)} projects touched", keys)


def changed_rows(store: SharedStore, dataset_id: str, before: int, now: int, column: str) -> pa.Array:
    """``column`` of every row the commits after version ``before`` up to ``now`` inserted, updated (both
    images) or deleted (:func:`feed_since`)."""
    return feed_since(store, dataset_id, before, now, [column])[column].combine_chunks()


def feed_since(store: SharedStore, dataset_id: str, before: int, now: int, columns: list[str]) -> pa.Table:
    """The change data feed of the commits after version ``before`` up to ``now``: ``columns`` of each row
    inserted, updated (both images) or deleted, with ``_change_type`` and ``_commit_version`` (asked for by
    name: delta-rs leaves them out of a feed read for some columns, and commits after ``now`` would pass).
    Raises when the feed is not readable (the versions since were vacuumed, or the feed is off): the caller
    then reads the dataset whole."""
    rows = delta.changes(store.dataset_uri(dataset_id), before, columns=[*columns, "_change_type", "_commit_version"],
                         storage_options=store.storage_options or None)
    # delta-rs hands text back as string_view, which pyarrow cannot filter
    rows = rows.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f
                                for f in rows.schema]))
    return rows.filter(pc.less_equal(rows["_commit_version"], now))


def read_projects(store: SharedStore, catalog: Catalog, inputs: Inputs, keys: pa.Array) -> dict[str, pa.Table]:
    """The rows of the projects ``keys`` (normalized codes) in every input, the used columns only, read part by
    part at the versions of ``inputs``."""
    pk = project_element(catalog).key
    out: dict[str, pa.Table] = {}
    for ds, (cols, version) in inputs.items():
        parts = []
        for part in store.scan(ds, columns=cols, as_of=version):
            hit = pc.is_in(project_key(part[pk]), value_set=keys)
            if pc.any(hit).as_py():
                parts.append(part.filter(hit))
        if parts:
            out[ds] = pa.concat_tables(parts)
    return out
