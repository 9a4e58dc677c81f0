"""The enterprise master: one row per legal entity across all systems, matched carefully.

Matching, in order (each step works on the distinct identifier/name combinations of the mentions):

1. ``uscc``: the same 统一社会信用代码 is the same entity (always merged).
2. ``org_code``: the same organisation code, given or embedded in a credit code (positions 9-17).
3. ``reg_no``: the same old 15-digit registration number.
   Steps 2 and 3 join nothing for a code held by groups that already hold different credit codes (or,
   for 3, different organisation codes): those groups, and any group known by that code alone, go to
   review as ``conflicting_identifiers``.
4. ``name_exact``: a mention with no usable identifier joins the one identified entity that bears the
   same exact name key (:func:`quancheng.consolidate.keys.name_exact_key`); when several bear it, it
   stays apart and goes to review as ``ambiguous_name``; mentions with the same exact name and no
   entity to join form one entity together.
5. Never merged, only reviewed: entities whose names share a fuzzy key (suffix variants, brackets, region
   prefixes; :class:`quancheng.consolidate.keys.NameKeyer`) unless they certainly differ (both hold
   different identifiers of one kind): ``name_variant``. An organisation code given beside a credit
   code that embeds another is reviewed as ``org_code_mismatch``.

The current name comes from the name element's authority system when it has one, else the most recent
mention; every name seen (and every 曾用名) is kept in the name history. Entity ids are stable:
``uscc:<code>``, else ``org:<code>``, else ``reg:<number>``, else ``name:<hash of the exact name>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.consolidate.keys import NameKeyer, name_exact_key
from quancheng.consolidate.mentions import mentions
from quancheng.consolidate.stage_forms import to_arrow

MatchRule = Literal["uscc", "org_code", "reg_no", "name_exact", "name_only"]
ReviewReason = Literal["conflicting_identifiers", "ambiguous_name", "name_variant", "org_code_mismatch"]

MASTER_DATASET = "master.enterprise"
NAMES_DATASET = "master.enterprise_names"
LINKS_DATASET = "master.enterprise_links"
REVIEW_DATASET = "master.enterprise_review"

MASTER_SCHEMA = pa.schema([
    ("entity_id", pa.string()), ("enterprise_uscc", pa.string()), ("enterprise_org_code", pa.string()),
    ("enterprise_reg_no", pa.string()), ("enterprise_name", pa.string()), ("former_names", pa.string()),
    ("name_count", pa.int64()), ("mentions", pa.int64()), ("source_systems", pa.string()),
    ("match_rules", pa.string()), ("in_review", pa.bool_()), ("first_seen", pa.timestamp("us", tz="UTC")),
    ("last_seen", pa.timestamp("us", tz="UTC")), ("_batch_id", pa.string()),
    ("_extracted_at", pa.timestamp("us", tz="UTC")),
])
NAMES_SCHEMA = pa.schema([
    ("entity_id", pa.string()), ("name", pa.string()), ("is_current", pa.bool_()), ("from_former_name", pa.bool_()),
    ("first_seen", pa.timestamp("us", tz="UTC")), ("last_seen", pa.timestamp("us", tz="UTC")),
    ("systems", pa.string()), ("mentions", pa.int64()),
])
LINKS_SCHEMA = pa.schema([
    ("dataset_id", pa.string()), ("system_id", pa.string()), ("source_table", pa.string()),
    ("source_key", pa.string()), ("role", pa.string()), ("entity_id", pa.string()), ("match_rule", pa.string()),
])
REVIEW_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("reason", pa.string()), ("entity_id_a", pa.string()), ("entity_id_b", pa.string()),
    ("name_a", pa.string()), ("name_b", pa.string()), ("detail", pa.string()), ("systems_a", pa.string()),
    ("systems_b", pa.string()), ("status", pa.string()),
])


@dataclass(frozen=True)
class EnterpriseMaster:
    master: pa.Table
    names: pa.Table
    links: pa.Table
    review: pa.Table
    matched: pl.DataFrame  # the mentions with their name keys, entity and rule (what a later day starts from)


@dataclass(frozen=True)
class Outside:
    """Entities beyond the mentions being matched (a day's build of some entities only) that may pair with
    them as name variants: ``names`` (entity_id, name, fuzzy: the name's key) of theirs sharing a key with the
    matched names, and ``info`` per entity (systems, uscc, org_code, reg_no, name: as their master row says)."""

    names: pl.DataFrame
    info: dict[str, dict[str, Any]]


def name_keyer(catalog: Catalog) -> NameKeyer:
    """The fuzzy name keys of the catalog's regions (GB/T 2260 names)."""
    return NameKeyer(c.name_zh for c in catalog.codes_by_list.get("gb2260", []))


def with_name_keys(m: pl.DataFrame, keyer: NameKeyer) -> pl.DataFrame:
    """``m`` with ``name_exact`` (of ``name``), ``name_fuzzy`` and ``former_fuzzy`` (the fuzzy keys of the name
    and the former name), each distinct name keyed once."""
    names = pl.concat([m["name"], m["former_name"]]).drop_nulls().unique().to_list()
    exact = [name_exact_key(n) for n in names]
    fuzzy = [keyer.fuzzy(n) for n in names]

    def mapped(col: str, to: list[str | None]) -> pl.Expr:
        return pl.col(col).replace_strict(names, to, default=None, return_dtype=pl.String)

    return m.with_columns(mapped("name", exact).alias("name_exact"), mapped("name", fuzzy).alias("name_fuzzy"),
                          mapped("former_name", fuzzy).alias("former_fuzzy"))


class _Clusters:
    """Union-find over identifier/name combinations; each root keeps the identifiers it holds."""

    def __init__(self, combos: list[dict[str, str | None]]):
        self.parent = list(range(len(combos)))
        self.ids: list[dict[str, str]] = [{k: str(c[k]) for k in ("uscc", "org_code", "reg_no") if c[k]}
                                          for c in combos]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def clash(self, a: int, b: int, kinds: Iterable[str]) -> str | None:
        ia, ib = self.ids[self.find(a)], self.ids[self.find(b)]
        for k in kinds:
            if k in ia and k in ib and ia[k] != ib[k]:
                return f"{k} {ia[k]} != {ib[k]}"
        return None

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        ra, rb = min(ra, rb), max(ra, rb)  # the smaller index roots: results never depend on visiting order
        self.parent[rb] = ra
        self.ids[ra] = {**self.ids[rb], **self.ids[ra]}


def build_enterprise_master(datasets: Mapping[str, pa.Table], catalog: Catalog, *, batch_id: str,
                            mentioned: pl.DataFrame | None = None, outside: Outside | None = None) -> EnterpriseMaster:
    """Match every entity mention of the system datasets into the master, its names, links and review list
    (``mentioned``: their :func:`~quancheng.consolidate.mentions.mentions`, gathered part by part instead).

    ``outside``: the mentions are some entities' only (:mod:`quancheng.consolidate.master_days`); their name
    variants among the other entities are reviewed too, and ``in_review`` counts those pairs."""
    m = mentioned if mentioned is not None else mentions(datasets, catalog)
    keyer = name_keyer(catalog)
    m = with_name_keys(m.select([c for c in m.columns if c not in NAME_KEYS]), keyer)
    combo_cols = ["uscc", "org_code", "reg_no", "name_exact"]
    combos_df = m.select(combo_cols).unique().sort(combo_cols, nulls_last=True)
    combos: list[dict[str, str | None]] = combos_df.to_dicts()
    uf = _Clusters(combos)
    rule: list[MatchRule] = []
    refused: list[tuple[int, int, ReviewReason, str]] = []
    for c in combos:
        rule.append("uscc" if c["uscc"] else "org_code" if c["org_code"] else "reg_no" if c["reg_no"]
                    else "name_only")
    for kind, guard in (("uscc", ()), ("org_code", ("uscc",)), ("reg_no", ("uscc", "org_code"))):
        holders: dict[str, list[int]] = {}
        for i, c in enumerate(combos):
            if c[kind]:
                holders.setdefault(str(c[kind]), []).append(i)
        for value, members in sorted(holders.items()):
            _join_holders(uf, kind, value, members, guard, refused)
    _match_names(combos, uf, rule, refused)
    return _assemble(m, combos, uf, rule, refused, batch_id, outside)


NAME_KEYS = ("name_exact", "name_fuzzy", "former_fuzzy")


def _join_holders(uf: _Clusters, kind: str, value: str, members: list[int], guard: tuple[str, ...],
                  refused: list[tuple[int, int, ReviewReason, str]]) -> None:
    """Join every group holding ``value`` -- unless two of them hold different stronger identifiers: then
    none is joined (a mention with only this identifier could belong to either) and the pairs are reviewed."""
    roots = sorted({uf.find(i) for i in members})
    clashes = [(a, b, why) for n, a in enumerate(roots) for b in roots[n + 1:] if (why := uf.clash(a, b, guard))]
    if not clashes:
        for r in roots[1:]:
            uf.union(roots[0], r)
        return
    for a, b, why in clashes:
        refused.append((a, b, "conflicting_identifiers", f"same {kind} {value}; {why}"))
    anchored = {r for a, b, _ in clashes for r in (a, b)}
    for weak in (r for r in roots if r not in anchored):
        refused.extend((a, weak, "conflicting_identifiers", f"{kind} {value} is held by entities with different "
                        f"identifiers") for a in sorted(anchored))


def _match_names(combos: list[dict[str, str | None]], uf: _Clusters, rule: list[MatchRule],
                 refused: list[tuple[int, int, ReviewReason, str]]) -> None:
    by_name: dict[str, set[int]] = {}
    for i, c in enumerate(combos):
        if c["name_exact"] and uf.ids[uf.find(i)]:
            by_name.setdefault(c["name_exact"], set()).add(uf.find(i))
    orphans: dict[str, int] = {}
    for i, c in enumerate(combos):
        name = c["name_exact"]
        if rule[i] != "name_only" or not name:
            continue
        roots = sorted({uf.find(r) for r in by_name.get(name, set())})
        if len(roots) == 1:
            uf.union(roots[0], i)
            rule[i] = "name_exact"
        elif roots:
            refused.extend((r, i, "ambiguous_name", f"exact name {name} borne by {len(roots)} entities")
                           for r in roots)
        else:
            j = orphans.setdefault(name, i)
            if j != i:
                uf.union(j, i)
                rule[i] = "name_exact"


def _entity_id(ids: dict[str, str], names: list[str]) -> str:
    for k, prefix in (("uscc", "uscc"), ("org_code", "org"), ("reg_no", "reg")):
        if k in ids:
            return f"{prefix}:{ids[k]}"
    return "name:" + hashlib.sha256(min(names).encode()).hexdigest()[:16]


def _assemble(m: pl.DataFrame, combos: list[dict[str, str | None]], uf: _Clusters, rule: list[MatchRule],
              refused: list[tuple[int, int, ReviewReason, str]], batch_id: str,
              outside: Outside | None) -> EnterpriseMaster:
    roots = [uf.find(i) for i in range(len(combos))]
    names_of: dict[int, list[str]] = {}
    for i, c in enumerate(combos):
        if c["name_exact"]:
            names_of.setdefault(roots[i], []).append(c["name_exact"])
    eid = {r: _entity_id(uf.ids[r], names_of.get(r, [""])) for r in set(roots)}
    key_df = pl.DataFrame({
        **{k: [c[k] for c in combos] for k in ("uscc", "org_code", "reg_no", "name_exact")},
        "entity_id": [eid[r] for r in roots], "match_rule": [rule[i] for i in range(len(combos))],
    }, schema={"uscc": pl.String, "org_code": pl.String, "reg_no": pl.String, "name_exact": pl.String,
               "entity_id": pl.String, "match_rule": pl.String})
    m = m.join(key_df, on=["uscc", "org_code", "reg_no", "name_exact"], how="left", nulls_equal=True)
    links = m.select(LINKS_SCHEMA.names).sort(LINKS_ORDER)
    names = _names(m)
    review = _review(m, combos, roots, eid, refused, names, outside)
    in_review = set(review["entity_id_a"].to_pylist()) | set(review["entity_id_b"].to_pylist())
    master = _master(m, names, in_review, batch_id)
    return EnterpriseMaster(to_arrow(master, MASTER_SCHEMA), to_arrow(names, NAMES_SCHEMA),
                            to_arrow(links, LINKS_SCHEMA), review, m)


LINKS_ORDER = ["entity_id", "dataset_id", "source_key", "role"]  # an entity's mentions together


def _names(m: pl.DataFrame) -> pl.DataFrame:
    seen = pl.concat([
        m.filter(pl.col("name").is_not_null()).select(
            "entity_id", "name", "system_id", "as_of", "authoritative", pl.lit(False).alias("from_former_name")),
        m.filter(pl.col("former_name").is_not_null()).select(
            "entity_id", pl.col("former_name").alias("name"), "system_id", "as_of",
            pl.lit(False).alias("authoritative"), pl.lit(True).alias("from_former_name")),
    ])
    agg = seen.group_by("entity_id", "name").agg(
        pl.col("from_former_name").all(), pl.col("as_of").min().alias("first_seen"),
        pl.col("as_of").max().alias("last_seen"),
        pl.col("system_id").unique().sort().str.join("|").alias("systems"), pl.len().cast(pl.Int64).alias("mentions"),
        (pl.col("authoritative") & ~pl.col("from_former_name")).any().alias("_auth"),
    )
    current = (agg.filter(~pl.col("from_former_name"))
               .sort(["entity_id", "_auth", "last_seen", "name"], descending=[False, True, True, False],
                     nulls_last=True)
               .group_by("entity_id", maintain_order=True).first().select("entity_id", "name"))
    return (agg.join(current.with_columns(pl.lit(True).alias("is_current")), on=["entity_id", "name"], how="left")
            .with_columns(pl.col("is_current").fill_null(False)).drop("_auth").sort(["entity_id", "name"]))


def _master(m: pl.DataFrame, names: pl.DataFrame, in_review: set[str], batch_id: str) -> pl.DataFrame:
    cur = names.filter(pl.col("is_current")).select("entity_id", pl.col("name").alias("enterprise_name"))
    former = (names.filter(~pl.col("is_current"))
              .sort(["entity_id", "last_seen", "name"], descending=[False, True, False])
              .group_by("entity_id", maintain_order=True).agg(pl.col("name").str.join("|").alias("former_names")))
    counts = names.group_by("entity_id").agg(pl.len().cast(pl.Int64).alias("name_count"))
    agg = m.group_by("entity_id").agg(
        pl.col("uscc").drop_nulls().first().alias("enterprise_uscc"),
        pl.col("org_code").drop_nulls().sort().first().alias("enterprise_org_code"),
        pl.col("reg_no").drop_nulls().sort().first().alias("enterprise_reg_no"),
        pl.len().cast(pl.Int64).alias("mentions"),
        pl.col("system_id").unique().sort().str.join("|").alias("source_systems"),
        pl.col("match_rule").unique().sort().str.join("|").alias("match_rules"),
        pl.col("as_of").min().alias("first_seen"), pl.col("as_of").max().alias("last_seen"),
        pl.col("extracted_at").max().alias("_extracted_at"),
    )
    return (agg.join(cur, on="entity_id", how="left").join(former, on="entity_id", how="left")
            .join(counts, on="entity_id", how="left")
            .with_columns(pl.col("name_count").fill_null(0),
                          pl.col("entity_id").is_in(sorted(in_review)).alias("in_review"),
                          pl.lit(batch_id).alias("_batch_id"))
            .sort("entity_id"))


def _review(m: pl.DataFrame, combos: list[dict[str, str | None]], roots: list[int], eid: dict[int, str],
            refused: list[tuple[int, int, ReviewReason, str]], names: pl.DataFrame,
            outside: Outside | None) -> pa.Table:
    # an entity's identifiers as its master row has them (one value of each kind: joins never mix two)
    info = {r["entity_id"]: r for r in m.group_by("entity_id").agg(
        pl.col("system_id").unique().sort().str.join("|").alias("systems"),
        *(pl.col(k).drop_nulls().sort().first() for k in ("uscc", "org_code", "reg_no"))).to_dicts()}
    cur = names.filter(pl.col("is_current"))
    current = dict(zip(cur["entity_id"].to_list(), cur["name"].to_list(), strict=True))
    keyed = pl.concat([m.select("name", pl.col("name_fuzzy").alias("fuzzy")),
                       m.select(pl.col("former_name").alias("name"), pl.col("former_fuzzy").alias("fuzzy"))])
    fuzzy: dict[str, str | None] = dict(keyed.drop_nulls("name").unique().iter_rows())
    own = set(info)
    pairs = list(zip(names["entity_id"].to_list(), names["name"].to_list(), strict=True))
    if outside is not None:
        for e, r in outside.info.items():
            info.setdefault(e, r)
            current.setdefault(e, r["name"])
        for e, n, k in outside.names.select("entity_id", "name", "fuzzy").iter_rows():
            pairs.append((e, n))
            fuzzy.setdefault(n, k)
    items: dict[tuple[str, str, str], str] = {}

    def add(a: str, b: str, reason: ReviewReason, detail: str) -> None:
        if a == b:
            return
        a, b = min(a, b), max(a, b)
        items.setdefault((reason, a, b), detail)

    for i, j, reason, detail in refused:
        add(eid[roots[i]], eid[roots[j]], reason, detail)
    mismatched = m.filter(pl.col("org_code_mismatch").is_not_null()).select("entity_id", "org_code_mismatch")
    for r in mismatched.unique().sort("entity_id", "org_code_mismatch").to_dicts():
        # the other side is the entity known by the given code, if any; else the code itself awaits a decision
        other = f"org:{r['org_code_mismatch']}"
        add(r["entity_id"], other, "org_code_mismatch",
            f"organisation code {r['org_code_mismatch']} given beside the credit code of {r['entity_id']}")
    by_key: dict[str, set[str]] = {}
    for e, n in pairs:
        k = fuzzy.get(n)
        if k:
            by_key.setdefault(k, set()).add(e)
    for key in sorted(by_key):  # a pair sharing several keys is reviewed under the first of them
        ordered = sorted(by_key[key])
        for a in ordered:
            for b in ordered:
                if a < b and (a in own or b in own) and not _certainly_distinct(info.get(a, {}), info.get(b, {})):
                    add(a, b, "name_variant", f"names share the key {key}")
    rows = []
    for (why, a, b), detail in sorted(items.items()):
        rows.append({"review_id": hashlib.sha256(f"{why}|{a}|{b}".encode()).hexdigest()[:16], "reason": why,
                     "entity_id_a": a, "entity_id_b": b, "name_a": current.get(a), "name_b": current.get(b),
                     "detail": detail, "systems_a": info.get(a, {}).get("systems"),
                     "systems_b": info.get(b, {}).get("systems"), "status": "open"})
    return pa.Table.from_pylist(rows, schema=REVIEW_SCHEMA)


def _certainly_distinct(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    return any(a.get(k) and b.get(k) and a[k] != b[k] for k in ("uscc", "org_code", "reg_no"))
