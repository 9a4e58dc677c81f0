"""Publishing a batch into a shared dataset: today's whole-version Parquet swap vs Delta Lake vs Iceberg.

Issue 12 asks for an open table format whose publish costs the batch, not the table. One run, one
synthetic system dataset (a ``_source_key`` + 21 typed columns with Chinese text, shaped like a published
form), the same sequence of batches for every variant:
  initial load; a 1 % batch (80 % updates, 10 % inserts, 10 % deletes); the same 1 % batch again (a
  rerun); a 0.1 % batch; an empty batch (a quiet day).
Variants:
  parquet_swap      today's store: read the current version, merge by key, sort, content hash, write the
                    whole version and swap the symlink (``quancheng.publish.store`` helpers, no SQL)
  delta             ``quancheng.publish.delta.merge_batch``: one Delta MERGE per batch (delta-rs)
  iceberg_upsert    pyiceberg, SQL catalog on SQLite: ``Table.upsert`` then ``Table.delete`` of the keys
  iceberg_overwrite pyiceberg: one ``Table.overwrite`` with an ``In(key, ...)`` filter per batch
Each step runs in its own subprocess, so peak RSS is the step's own (imports and reading the batch
included, the same for every variant); seconds are the publish call alone.
Changed keys are spread over the whole table (``--spread random``, the worst case for copy-on-write)
or among the most recent 5 % of keys (``--spread recent``, where a sorted table lets files be skipped).

Run: .venv/bin/python benchmarks/table_format.py [--rows 1000000] [--spread random,recent]
     (replaces the measured part of benchmarks/results/table_format.md; the decision and the plan for
     wiring the store, written by hand, are in that file too). About 4 minutes at 1 M rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
KEY = "_source_key"
VARIANTS = ["parquet_swap", "delta", "iceberg_upsert", "iceberg_overwrite"]
STEPS = [("initial", "initial load"), ("b1", "1 % batch"), ("b1", "1 % batch again (rerun)"),
         ("b01", "0.1 % batch"), ("b0", "0 % (empty batch)")]
DISTRICTS = np.array(["370102", "370103", "370104", "370105", "370112", "370113", "370114", "370115"])
DISTRICT_ZH = np.array(["历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "济阳区"])
KINDS = np.array(["新建", "扩建", "改建", "迁建"])
STATUS = np.array(["已备案", "在建", "已竣工", "已撤销"])
INDUSTRY = np.array(["C13", "C26", "E47", "F51", "I65", "K70", "M73"])
SURNAMES = np.array(list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"))
GIVEN = np.array(["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明"])


def keys(ix: np.ndarray) -> np.ndarray:
    if len(ix) == 0:
        return np.array([], dtype=str)
    return np.char.add("2019-370102-47-01-", np.char.zfill(ix.astype(str), 8))


def dataset(ix: np.ndarray, seed: int, tag: str = "") -> pa.Table:
    """Rows for the key numbers ``ix`` (deterministic for a seed): the shape of a published form."""
    if len(ix) == 0:
        return dataset(np.arange(1), seed, tag).slice(0, 0)
    rng = np.random.default_rng(seed)
    n = len(ix)
    num = ix.astype(str)
    d = rng.integers(0, len(DISTRICTS), n)
    cents = rng.integers(10_000_00, 900_000_000_00, n)
    start = rng.integers(17_000, 20_000, n)
    filed = (start.astype("int64") - 60) * 86_400_000_000 + rng.integers(0, 86_400_000_000, n)
    remarks = np.char.add(np.char.add("项目位于", DISTRICT_ZH[d]), np.char.add("，备注编号", num))
    remark_mask = rng.random(n) < 0.3
    return pa.table({
        KEY: pa.array(keys(ix)),
        "project_code": pa.array(np.char.add("JN", np.char.zfill(num, 9))),
        "project_name": pa.array(np.char.add(np.char.add(np.char.add("济南", DISTRICT_ZH[d]), "产业园项目"),
                                             np.char.add(num, tag))),
        "enterprise_name": pa.array(np.char.add(np.char.add("山东", num), "号科技有限公司")),
        "legal_person": pa.array(np.char.add(SURNAMES[rng.integers(0, len(SURNAMES), n)],
                                             GIVEN[rng.integers(0, len(GIVEN), n)])),
        "address": pa.array(np.char.add(np.char.add("山东省济南市", DISTRICT_ZH[d]), np.char.add("经十路", num))),
        "district_code": pa.array(DISTRICTS[d]),
        "industry_code": pa.array(INDUSTRY[rng.integers(0, len(INDUSTRY), n)]),
        "project_kind": pa.array(KINDS[rng.integers(0, len(KINDS), n)]),
        "status": pa.array(STATUS[rng.integers(0, len(STATUS), n)]),
        "total_investment": pa.array(cents // 100).cast(pa.decimal128(20, 0)).cast(pa.decimal128(22, 2)),
        "fixed_asset_investment": pa.array(cents // 200).cast(pa.decimal128(20, 0)).cast(pa.decimal128(22, 2)),
        "land_area": pa.array(np.round(rng.uniform(100, 1e6, n), 2)),
        "building_area": pa.array(np.round(rng.uniform(100, 2e6, n), 2)),
        "employees": pa.array(rng.integers(1, 5_000, n).astype("int32")),
        "planned_start": pa.array(start.astype("int32")).cast(pa.date32()),
        "planned_end": pa.array((start + rng.integers(90, 1_500, n)).astype("int32")).cast(pa.date32()),
        "approved": pa.array(rng.random(n) < 0.8),
        "filed_at": pa.array(filed, pa.timestamp("us", tz="UTC")),
        "updated_at": pa.array(filed + rng.integers(0, 10**12, n), pa.timestamp("us", tz="UTC")),
        "remarks": pa.array(remarks, mask=remark_mask),
        "_batch_id": pa.array(np.full(n, f"batch{seed}")),
    })


def make_data(work: Path, rows: int, spread: str) -> dict[str, int]:
    """Write the initial table and the batches (upserts + deleted keys) as Parquet under ``work``."""
    pq.write_table(dataset(np.arange(rows), 1), work / "initial.parquet")
    rng = np.random.default_rng(11)
    pool = np.arange(rows) if spread == "random" else np.arange(rows - max(rows // 20, 1), rows)
    sizes = {"b1": rows // 100, "b01": rows // 1000, "b0": 0}
    next_key = rows
    for name, n in sizes.items():
        n_ins, n_del = n // 10, n // 10
        picked = rng.choice(pool, size=min(n - n_ins, len(pool)), replace=False)
        upd, dele = picked[: len(picked) - n_del], picked[len(picked) - n_del:]
        ins = np.arange(next_key, next_key + n_ins)
        next_key += n_ins
        ups = dataset(np.concatenate([upd, ins]), 100 + n, tag="（变更）")
        pq.write_table(ups, work / f"{name}.upserts.parquet")
        pq.write_table(pa.table({KEY: pa.array(keys(dele), pa.string())}), work / f"{name}.deleted.parquet")
    return sizes


# --- one step of one variant (in a child process) ---------------------------------------------------------

def step_parquet_swap(base: Path, ups: pa.Table, dels: pa.Array, initial: bool) -> str:
    from quancheng.publish.store import content_hash, make_current, write_version

    ds = "bench.form"
    current = None if initial else pq.read_table(base / ds / "data.parquet")
    table = merge_by_key(current, ups, dels).sort_by([(KEY, "ascending")])
    digest = content_hash(table)
    link = base / ds
    if not (link.exists() and link.resolve().name == digest):
        make_current(base, ds, write_version(base, ds, table, digest))
    return digest


def step_delta(base: Path, ups: pa.Table, dels: pa.Array, initial: bool) -> str:
    from quancheng.publish import delta

    return str(delta.merge_batch(base / "bench.form", ups, dels, commit_info={"batch": "bench"}))


def _iceberg_table(base: Path, ups: pa.Table, initial: bool) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog
    from quancheng.publish.delta import TARGET_FILE_BYTES

    base.mkdir(parents=True, exist_ok=True)
    cat = SqlCatalog("bench", uri=f"sqlite:///{base}/catalog.db", warehouse=f"file://{base}/warehouse")
    if initial:
        cat.create_namespace_if_not_exists("qc")
        # the same file size as the Delta tables, so a batch rewrites only the files it touches
        return cat.create_table("qc.form", schema=ups.schema,
                                properties={"write.target-file-size-bytes": str(TARGET_FILE_BYTES)})
    return cat.load_table("qc.form")


def _iceberg_snapshot(tbl: Any) -> str:
    snap = tbl.current_snapshot()
    return str(snap.snapshot_id if snap else None)


def step_iceberg_upsert(base: Path, ups: pa.Table, dels: pa.Array, initial: bool) -> str:
    from pyiceberg.expressions import In

    tbl = _iceberg_table(base, ups, initial)
    if initial:
        tbl.append(ups)
        return _iceberg_snapshot(tbl)
    if ups.num_rows:
        tbl.upsert(ups, join_cols=[KEY])
    if len(dels):
        tbl.delete(In(KEY, dels.to_pylist()))
    return _iceberg_snapshot(tbl)


def step_iceberg_overwrite(base: Path, ups: pa.Table, dels: pa.Array, initial: bool) -> str:
    from pyiceberg.expressions import In

    tbl = _iceberg_table(base, ups, initial)
    if initial:
        tbl.append(ups)
    elif ups.num_rows or len(dels):
        touched = pa.concat_arrays([ups[KEY].combine_chunks(), dels]).to_pylist()
        tbl.overwrite(ups, overwrite_filter=In(KEY, touched))
    return _iceberg_snapshot(tbl)


STEP_FUNCS = {"parquet_swap": step_parquet_swap, "delta": step_delta,
              "iceberg_upsert": step_iceberg_upsert, "iceberg_overwrite": step_iceberg_overwrite}


def files(base: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in base.rglob("*") if p.is_file()} if base.exists() else {}


def peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM; ru_maxrss would carry the parent's peak over)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(variant: str, step: str, work: Path) -> None:
    base = work / variant
    if step == "maintain":
        from quancheng.publish import delta

        before = files(base)
        t0 = time.perf_counter()
        done = delta.maintain(base / "bench.form", retention_hours=0)
        seconds = time.perf_counter() - t0
        after = files(base)
        new = [p for p in after if p not in before]
        print(json.dumps({"seconds": seconds, "rss_mb": peak_rss_mb(), "files": len(new),
                          "mb_written": sum(after[p] for p in new) / 2**20, "table_mb": sum(after.values()) / 2**20,
                          "version": done.version}))
        return
    if step == "initial":
        ups, dels = pq.read_table(work / "initial.parquet"), pa.array([], pa.string())
    else:
        ups = pq.read_table(work / f"{step}.upserts.parquet")
        dels = pq.read_table(work / f"{step}.deleted.parquet")[KEY].combine_chunks()
    base.mkdir(parents=True, exist_ok=True)
    before = files(base)
    t0 = time.perf_counter()
    version = STEP_FUNCS[variant](base, ups, dels, step == "initial")
    seconds = time.perf_counter() - t0
    after = files(base)
    new = [p for p in after if p not in before]
    print(json.dumps({"seconds": seconds, "rss_mb": peak_rss_mb(),
                      "files": len(new), "mb_written": sum(after[p] for p in new) / 2**20,
                      "table_mb": sum(after.values()) / 2**20, "version": version}))


def check_equal(work: Path) -> str:
    """Whether every variant ends with the same rows (the benchmark's own sanity check)."""
    from deltalake import DeltaTable
    from pyiceberg.catalog.sql import SqlCatalog

    def norm(t: pa.Table) -> pa.Table:
        return pa.table(t).select(pq.read_schema(work / "initial.parquet").names).sort_by(KEY)

    got = {"parquet_swap": norm(pq.read_table(work / "parquet_swap" / "bench.form" / "data.parquet")),
           "delta": norm(pa.table(DeltaTable(str(work / "delta" / "bench.form")).to_pyarrow_table()))}
    for v in ("iceberg_upsert", "iceberg_overwrite"):
        cat = SqlCatalog("bench", uri=f"sqlite:///{work / v}/catalog.db", warehouse=f"file://{work / v}/warehouse")
        got[v] = norm(cat.load_table("qc.form").scan().to_arrow())
    ref = got["parquet_swap"]
    return ", ".join(f"{v}: {'equal' if t.equals(ref) else 'DIFFERENT'} ({t.num_rows:,} rows)" for v, t in got.items())


def run(rows: int, spread: str, variants: list[str]) -> tuple[list[dict[str, Any]], str]:
    work = Path(tempfile.mkdtemp(prefix=f"qc_tblfmt_{spread}_"))
    out: list[dict[str, Any]] = []
    try:
        sizes = make_data(work, rows, spread)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
        for variant in variants:
            steps = [*STEPS, ("maintain", "maintain: compact + vacuum 0 h")] if variant == "delta" else STEPS
            for step, label in steps:
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, __file__, "--child", variant, "--step", step,
                                       "--work", str(work)], capture_output=True, text=True, env=env)
                if proc.returncode:
                    raise SystemExit(f"{variant} {label} failed:\n{proc.stderr[-3000:]}")
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                r.update(variant=variant, step=label, spread=spread, process_s=time.perf_counter() - t0,
                         batch=rows if step == "initial" else sizes.get(step, 0))
                out.append(r)
                print(f"{spread:7} {variant:18} {label:26} {r['seconds']:7.2f}s {r['rss_mb']:7.0f} MB "
                      f"{r['files']:4d} files {r['mb_written']:8.1f} MB", flush=True)
        same = check_equal(work) if set(variants) == set(VARIANTS) else "not checked (subset of variants)"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out, same


def medians(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per step: the median of each measured figure over the runs (same steps in the same order)."""
    return [{**first, **{k: float(np.median([r[i][k] for r in runs])) for k in ("seconds", "process_s", "rss_mb")}}
            for i, first in enumerate(runs[0])]


def table_md(results: list[dict[str, Any]]) -> str:
    lines = ["| spread | variant | step | batch rows | publish s | process s | peak RSS MB | files written "
             "| MB written | table MB after |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['spread']} | {r['variant']} | {r['step']} | {r['batch']:,} | {r['seconds']:.2f} | "
                     f"{r['process_s']:.1f} | {r['rss_mb']:.0f} | {r['files']} | {r['mb_written']:.1f} | "
                     f"{r['table_mb']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--spread", default="random,recent", help="comma list of: random, recent")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--repeat", type=int, default=1, help="run the whole sequence N times; report medians")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "table_format.md"),
                    help="results file: the measured part between its markers is replaced, the rest kept")
    ap.add_argument("--child")
    ap.add_argument("--step")
    ap.add_argument("--work")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.step, Path(args.work))
        return
    load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results, checks = [], []
    for spread in args.spread.split(","):
        runs = []
        for _ in range(args.repeat):
            res, same = run(args.rows, spread, args.variants.split(","))
            runs.append(res)
            checks.append(f"- {spread}: {same}")
        results += medians(runs)
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    cmd = " ".join(["benchmarks/table_format.py", *sys.argv[1:]])
    measured = (f"Command: `.venv/bin/python {cmd}` ({args.rows:,} rows; "
                f"{'medians of ' + str(args.repeat) + ' runs' if args.repeat > 1 else 'one run'})\n\n"
                f"Load: before `{load_before}`; after `{load_after}`\n\n{table_md(results)}\n\n"
                f"Final content of every variant against today's approach:\n" + "\n".join(checks) + "\n")
    out = Path(args.out)
    out.write_text(with_measured(out.read_text() if out.exists() else "", measured))
    print(measured)


def with_measured(text: str, measured: str) -> str:
    """``text`` with the part between the markers replaced by ``measured`` (appended if no markers)."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        return f"{head}{START}\n{measured}{END}{rest.split(END, 1)[1]}"
    return f"{text}{START}\n{measured}{END}\n"


START, END = "<!-- measured: start -->", "<!-- measured: end -->"

def merge_by_key(current: pa.Table | None, upserts: pa.Table, removed_keys: pa.Array) -> pa.Table:
    """``current`` without the rows whose key is upserted or removed, plus ``upserts`` (the earlier publish's
    whole-table merge, kept here as the baseline)."""
    if current is None or current.num_rows == 0:
        return upserts
    drop = pa.concat_arrays([upserts[KEY].combine_chunks().cast(pa.string()), removed_keys.cast(pa.string())])
    kept = current.filter(pc.invert(pc.is_in(current[KEY], value_set=drop)))
    return pa.concat_tables([kept, upserts], promote_options="permissive")



if __name__ == "__main__":
    main()
