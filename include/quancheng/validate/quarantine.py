"""The quarantine table: provenance, ``reasons`` and ``raw`` JSON for the rows that failed.

``reasons`` is a JSON list of ``{"rule", "element", "column", "value"}``: normalization errors first
(``rule`` is the issue code, e.g. ``date.unparseable``), then failed rules in compile order (``rule`` is
the rule id: ``required``, ``code_list``, ``R001`` ...). ``value`` is the source value as text (values of
several columns joined by ``|``). ``raw`` is the JSON object of the source row's native columns.
JSON is built by polars for the quarantined rows only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.normalize.apply import WORKERS
from quancheng.validate import QUARANTINE_EXTRA
from quancheng.validate.compile import Rule

_REASON = ["rule", "element", "column", "value"]


def _bounds(col: pa.ChunkedArray) -> np.ndarray:
    return np.cumsum([0] + [len(c) for c in col.chunks])


def take_rows(table: pa.Table, pos: np.ndarray) -> pa.Table:
    """``table.take(pos)`` for sorted positions, chunk by chunk.

    Arrow's take on a many-chunk column concatenates the whole column first (a Parquet read gives one
    chunk per row group): half a second to pick a few thousand rows out of a million.
    """
    cols = []
    for col in table.columns:
        if col.num_chunks <= 1:
            cols.append(col.take(pa.array(pos)))
            continue
        b = _bounds(col)
        cut = np.searchsorted(pos, b)
        parts = [ch.take(pa.array(pos[cut[i]:cut[i + 1]] - b[i])) for i, ch in enumerate(col.chunks)
                 if cut[i + 1] > cut[i]]
        cols.append(pa.chunked_array(parts, type=col.type))
    return pa.table(cols, schema=table.schema)


def filter_rows(table: pa.Table, keep: np.ndarray) -> pa.Table:
    """``table.filter(keep)`` with the mask cut to each column's own chunks (no re-chunking), columns in
    parallel (Arrow's kernels release the GIL; copying a million-row table is most of validation's time)."""
    def one(col: pa.ChunkedArray) -> pa.ChunkedArray:
        b = _bounds(col)
        return pa.chunked_array([ch.filter(pa.array(keep[b[i]:b[i + 1]])) for i, ch in enumerate(col.chunks)],
                                type=col.type)

    if table.num_rows < 100_000:
        return pa.table([one(c) for c in table.columns], schema=table.schema)
    with ThreadPoolExecutor(WORKERS) as pool:
        return pa.table(list(pool.map(one, table.columns)), schema=table.schema)


def _source_text(raw: pa.Table, columns: tuple[str, ...], pos: np.ndarray) -> pl.Series:
    parts = []
    for c in columns:
        col = take_rows(raw.select([c]), pos)[c] if c in raw.column_names else pa.nulls(len(pos), pa.string())
        s = pl.Series(col)
        parts.append(s if s.dtype == pl.String else s.cast(pl.String, strict=False))
    if not parts:
        return pl.Series([None] * len(pos), dtype=pl.String)
    if len(parts) == 1:
        return parts[0]
    return pl.select(pl.concat_str(parts, separator="|", ignore_nulls=True)).to_series()


def reasons_json(raw: pa.Table, rules: tuple[Rule, ...], fails: list[np.ndarray], errors: pl.DataFrame,
                 err_pos: np.ndarray) -> pl.DataFrame:
    """``pos`` -> ``reasons`` JSON for every row with at least one reason."""
    frames = [errors.select(pos=pl.Series(err_pos, dtype=pl.Int64), ord=pl.lit(0, pl.Int32),
                            rule=pl.col("code"), element=pl.col("element_id"), column=pl.col("column"),
                            value=pl.col("value"))]
    for i, (r, pos) in enumerate(zip(rules, fails, strict=True)):
        if len(pos):
            frames.append(pl.DataFrame({
                "pos": pos.astype(np.int64), "ord": np.full(len(pos), i + 1, np.int32),
                "rule": pl.repeat(r.rule_id, len(pos), eager=True),
                "element": pl.repeat(r.element_id, len(pos), eager=True),
                "column": pl.repeat(r.column, len(pos), eager=True),
                "value": _source_text(raw, r.columns, pos)}))
    entries = pl.concat(frames, how="vertical_relaxed").sort(["pos", "ord"], maintain_order=True)
    return (entries.select("pos", j=pl.struct(_REASON).struct.json_encode())
            .group_by("pos", maintain_order=True).agg(pl.col("j").str.join(","))
            .select("pos", reasons=pl.lit("[") + pl.col("j") + pl.lit("]")))


def raw_json(raw: pa.Table, pos: np.ndarray) -> pl.Series:
    """The source rows at ``pos`` (native columns only) as JSON objects."""
    native = [c for c in raw.column_names if not c.startswith("_")]
    if not native:
        return pl.Series(["{}"] * len(pos), dtype=pl.String)
    part = take_rows(raw.select(native), pos)
    part = pa.table({c: part[c].cast(pa.string()) if pa.types.is_binary(part[c].type) else part[c]
                     for c in native})
    frame = pl.from_arrow(part)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.struct(native).struct.json_encode()).to_series()


def quarantine_table(raw: pa.Table, rules: tuple[Rule, ...], fails: list[np.ndarray], errors: pl.DataFrame,
                     err_pos: np.ndarray, bad: np.ndarray) -> pa.Table:
    """Provenance + ``reasons`` + ``raw`` of the rows where ``bad``, in source order."""
    pos = np.flatnonzero(bad)
    prov = take_rows(raw.select([c for c in raw.column_names if c.startswith("_")]), pos)
    if len(pos) == 0:
        return pa.table({**{c: prov[c] for c in prov.column_names},
                         **{f.name: pa.array([], f.type) for f in QUARANTINE_EXTRA}})
    reasons = reasons_json(raw, rules, fails, errors, err_pos)
    order = pl.DataFrame({"pos": pos.astype(np.int64)}).join(reasons, on="pos", how="left", maintain_order="left")
    out = prov.append_column("reasons", order["reasons"].to_arrow().cast(pa.string()))
    return out.append_column("raw", raw_json(raw, pos).to_arrow().cast(pa.string()))
