"""Benchmark: a full sync end to end against the I/O floor of the same rows and against the typical pipeline.

Issue 12's goals: a full sync ≤ 1.5× the floor and ≥ 10× faster than the peer. One system, one PostgreSQL
source table, one PostgreSQL destination database, measured in this one script, each case a fresh
process timed from outside by GNU time (wall seconds and peak RSS; start-up and imports included, as a
scheduler's task pays them):

1. **floor**: read the source table with ADBC as Arrow batches and write the same rows, untouched, both to a
   Parquet file (zstd, as the shared datasets are) and into the destination with one ADBC ``adbc_ingest``
   (COPY), each batch passing on to the other as it comes: the floor as issue 12 defines it ("ADBC read,
   Parquet zstd write, ADBC ingest"), the I/O a sync cannot avoid, for it publishes both a versioned Parquet
   table and a SQL table. No normalization, validation or staging.
2. **sync**: ``quancheng run <system>`` (extract, normalize, validate, publish) into the embedded home with
   the shared database on PostgreSQL (``QUANCHENG_SHARED_DB``): staged Parquet between the steps, the
   dataset's versioned table and the SQL table, the quarantine, the run record.
3. **peer**: the typical Airflow pipeline: ``pandas.read_sql`` of the table, the same normalizations as
   pandas ``Series.map`` of per-value Python per column (the conversions of ``normalize_validate.py``'s
   row-wise baseline), Great Expectations 1.x on the pandas frame with the suite generated from the catalog
   (``result_format`` COMPLETE, to learn which rows failed), then ``DataFrame.to_sql`` of the valid rows
   and of the quarantined rows (chunks of 10,000, as in ``publish.py``).

The source is the demo world (generator and dirt) of one PostgreSQL system, seeded with ``--engines services``
(only that system: the generator's values are keyed by form, so they are the same as in the whole world). By
default the slice catalog's ``amr_enterprise`` (one form, ``enterprise``, 7 columns); ``--catalog full
--system S --form F`` measures a form of the project's catalog (e.g. the same table's 35 columns there). When
the system has other forms in that catalog, every case runs on a copy of the catalog without them (the rows
of ``forms.csv``, ``fields.csv``, ``mappings.csv`` and the other files with a ``form_id`` column), so the
sync, like the floor and the peer, moves that one table; the sync's code and settings are unchanged.

Reproduce: PYTHONPATH=include .venv/bin/python benchmarks/end_to_end.py --rows 300000 --write
Wide: PYTHONPATH=include .venv/bin/python benchmarks/end_to_end.py --catalog full --system amr_enterprise \
    --form amr_enterprise_reg --rows 300000 --write
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); makes and drops databases ``qc_bench_e2e_*``.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quancheng.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from incremental import timed_note as timed  # noqa: E402 -- the benchmarks folder is not a package

CATALOGS = {"slice": ROOT / "tests" / "fixtures" / "slice_catalog", "full": ROOT / "include" / "catalog"}
RESULTS = ROOT / "benchmarks" / "results" / "end_to_end.md"
SYSTEM = "amr_enterprise"
PREFIX = "qc_bench_e2e_"
DEST_DB = f"{PREFIX}shared"
# rows per unit of the demo's scale of amr_enterprise_reg (52 at scale 60; 0.94 at large scales), in either
# catalog: the rows a form holds are chosen by its form_id from the entity pool, so at one scale the slice's
# 7-column table and the full catalog's 35-column one hold the same rows. Other forms: a small embedded seed
ROWS_PER_SCALE = {"amr_enterprise_reg": 52 / 60}
CALIBRATION_SCALE = 3000

FLOOR = r'''
import sys
import adbc_driver_postgresql.dbapi as pg
import pyarrow as pa
import pyarrow.parquet as pq
src, dst, table, out = sys.argv[1:5]
with pg.connect(src) as s, pg.connect(dst) as d:
    cur = s.cursor()
    cur.execute(f'SELECT * FROM "{table}"')
    reader = cur.fetch_record_batch()
    with pq.ParquetWriter(out, reader.schema, compression="zstd") as parquet:
        def tee():
            for batch in reader:
                parquet.write_batch(batch)
                yield batch
        d.cursor().adbc_ingest("floor_" + table, pa.RecordBatchReader.from_batches(reader.schema, tee()),
                               mode="replace")
    d.commit()
'''

PEER = r'''
import sys
sys.path[:0] = [sys.argv[4], sys.argv[5]]
import pandas as pd
import sqlalchemy as sa
from normalize_validate import value_converters
from quancheng.catalog import load_catalog
from quancheng.validate.gx import suite_json

import time
t0 = time.perf_counter()
src, dst, form_id = sys.argv[1:4]
catalog = load_catalog(sys.argv[6])
form = next(f for f in catalog.forms if f.form_id == form_id)
source = sa.create_engine(src)
raw = pd.read_sql(sa.text(f'SELECT * FROM "{form.table}"'), source)
t1 = time.perf_counter()

# pandas transforms: each mapped column converted value by value; a value that does not convert is null
# and puts its row in quarantine
out = pd.DataFrame(index=raw.index)
failed = pd.Series(False, index=raw.index)
for column, element_key, convert in value_converters(form, catalog):
    def safe(v, convert=convert):
        try:
            return convert(None if v is None or v != v else v), False
        except (ValueError, ArithmeticError):
            return None, True
    pairs = raw[column].map(safe)
    out[element_key] = pairs.map(lambda p: p[0])
    failed |= pairs.map(lambda p: p[1])
out["_source_key"] = raw[form.primary_key[0]].astype(str)
t2 = time.perf_counter()

# Great Expectations on pandas: the suite generated from the catalog (expectations on derived cross-rule
# columns left out: the peer has no such columns)
import great_expectations as gx
import great_expectations.expectations as gxe
suite = suite_json(catalog, form)
context = gx.get_context(mode="ephemeral")
asset = context.data_sources.add_pandas("peer").add_dataframe_asset(suite["name"])
batch_def = asset.add_batch_definition_whole_dataframe("batch")
gx_suite = context.suites.add(gx.ExpectationSuite(name=suite["name"]))
by_type = {cls.__name__: cls for cls in vars(gxe).values() if isinstance(cls, type)}
used = 0
for e in suite["expectations"]:
    if e["kwargs"].get("column") not in out.columns:
        continue
    gx_suite.add_expectation(by_type["".join(p.title() for p in e["type"].split("_"))](**e["kwargs"]))
    used += 1
frame = out.reset_index(drop=True)
result = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
    gx_suite, result_format={"result_format": "COMPLETE"})
bad = failed.reset_index(drop=True).copy()
for r in result.results:
    for i in (r.result or {}).get("unexpected_index_list") or []:
        bad.iloc[i if isinstance(i, int) else int(i.get("index", i))] = True

t3 = time.perf_counter()
dest = sa.create_engine(dst)
frame[~bad].to_sql("peer_" + form.table, dest, if_exists="replace", index=False, chunksize=10_000)
quarantine = raw.reset_index(drop=True)[bad].astype(str)
quarantine.to_sql("peer_quarantine_" + form.table, dest, if_exists="replace", index=False, chunksize=10_000)
t4 = time.perf_counter()
print(f"{len(frame):,} rows, {int(bad.sum()):,} quarantined, {used} expectations; seconds: catalog + read_sql "
      f"{t1 - t0:.1f}, map {t2 - t1:.1f}, GX (its import included) {t3 - t2:.1f}, to_sql {t4 - t3:.1f}",
      file=sys.stderr)
'''

STEPS = r'''
import json, sys, time
from datetime import datetime, UTC
from pathlib import Path
from quancheng import pipeline
from quancheng.catalog import load_catalog
from quancheng.sources import Window
system, uri, home, end = sys.argv[1:5]
catalog = load_catalog()
t = [time.perf_counter()]
ref = pipeline.extract(system, Window(None, datetime.fromisoformat(end).replace(tzinfo=UTC)), catalog=catalog,
                       home=Path(home), uri=uri)
t.append(time.perf_counter())
for step in (pipeline.normalize, pipeline.validate, pipeline.publish):
    ref = step(ref, catalog=catalog)
    t.append(time.perf_counter())
names = ("extract", "normalize", "validate", "publish")
print(json.dumps(dict(zip(names, (round(b - a, 2) for a, b in zip(t, t[1:]))))), file=sys.stderr)
'''

IMPORTS = ("import quancheng.pipeline, quancheng.pipeline_commands, adbc_driver_postgresql.dbapi, deltalake; "
           "from quancheng.catalog import current_catalog; current_catalog()")


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://")


def one_form_catalog(src: Path, system: str, form_id: str, out: Path) -> Path:
    """``src`` when ``form_id`` is its system's only form; else a copy in ``out`` without the system's other forms
    (rows dropped from every CSV file with a ``form_id`` column, the other files and ``codes/`` linked)."""
    with (src / "forms.csv").open(encoding="utf-8", newline="") as f:
        others = {r["form_id"] for r in csv.DictReader(f) if r["system_id"] == system and r["form_id"] != form_id}
    if not others:
        return src
    out.mkdir(parents=True)
    for p in src.iterdir():
        header = p.open(encoding="utf-8").readline().strip().split(",") if p.suffix == ".csv" else []
        if "form_id" not in header:
            (out / p.name).symlink_to(p)
            continue
        with p.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        i = header.index("form_id")
        with (out / p.name).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(r for r in rows if not r or r[i] not in others)
    return out


def system_catalog(path: Path, system: str) -> Catalog:
    """The catalog at ``path`` with only ``system`` and its forms: what the seed needs to write that system alone."""
    from quancheng.catalog import load_catalog

    catalog = load_catalog(path)  # a fresh load: no index is built yet from the whole lists
    catalog.systems = [s for s in catalog.systems if s.system_id == system]
    catalog.forms = [f for f in catalog.forms if f.system_id == system]
    return catalog


def calibrate(path: Path, system: str, form_id: str, tmp: Path) -> float:
    """The form's rows per unit of the demo's scale, from a small embedded seed of its system."""
    from quancheng.demo.seed import seed_world

    world = seed_world(system_catalog(path, system), tmp / "calibrate", scale=CALIBRATION_SCALE, seed=7)
    shutil.rmtree(tmp / "calibrate", ignore_errors=True)
    return int(world.forms[form_id]["rows"]) / CALIBRATION_SCALE


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000, help="about this many source rows")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each case's best is reported")
    ap.add_argument("--catalog", default="slice", help="slice (default), full (the project's) or a catalog folder")
    ap.add_argument("--system", default=SYSTEM, help="a PostgreSQL system of the catalog")
    ap.add_argument("--form", default=None, help="the form (source table) measured (default: the system's first)")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)} (the narrow block for "
                                                         "the defaults, the wide block otherwise)")
    args = ap.parse_args()
    if not Path("/usr/bin/time").exists():
        raise SystemExit("needs GNU time (Debian package `time`)")
    sys.path.insert(0, str(ROOT / "include"))
    import sqlalchemy as sa
    from quancheng.catalog import load_catalog
    from quancheng.demo import engines
    from quancheng.demo.seed import seed_world

    system = args.system
    base = Path(CATALOGS.get(args.catalog, args.catalog)).resolve()
    whole = load_catalog(base)
    if whole.system[system].kind != "postgresql":
        raise SystemExit(f"{system} is a {whole.system[system].kind} system: the floor and the peer read PostgreSQL")
    form_id = args.form or whole.forms_of(system)[0].form_id
    narrow = (args.catalog, system, form_id) == ("slice", "amr_enterprise", "amr_enterprise_reg")
    rows: list[tuple[str, float, float, float]] = []
    engines.drop_database("postgresql", f"{PREFIX}{system}")  # a crashed earlier run's
    with tempfile.TemporaryDirectory(prefix="qc_bench_e2e_") as tmp:
        cat_dir = one_form_catalog(base, system, form_id, Path(tmp) / "catalog")
        catalog = load_catalog(cat_dir)
        form = catalog.form[form_id]
        env = {**os.environ, "QUANCHENG_CATALOG": str(cat_dir), "PYTHONPATH": str(ROOT / "include")}
        env.pop("QUANCHENG_SHARED_DB", None)
        try:
            rate = ROWS_PER_SCALE.get(form_id) or calibrate(cat_dir, system, form_id, Path(tmp))
            t0 = time.perf_counter()
            world = seed_world(system_catalog(cat_dir, system), Path(tmp) / "world",
                               scale=max(60, round(args.rows / rate)), engines="services", seed=7, db_prefix=PREFIX)
            src = world.uri(system)
            n = int(world.forms[form.form_id]["rows"])
            print(f"seeded {n:,} rows of {system}.{form.table} in {time.perf_counter() - t0:.0f} s", flush=True)
            load_before = os.getloadavg()
            dst = engines.recreate_database("postgresql", DEST_DB)
            psycopg = {u: psycopg_url(u) for u in (src, dst)}
            end = world.interval["end"][:19]
            cases = {
                "start-up: a process importing what `quancheng run` imports, no work":
                    lambda: timed([sys.executable, "-c", IMPORTS], env),
                "**floor**: ADBC read → Parquet (zstd) + ADBC COPY into the destination, rows untouched":
                    lambda: timed([sys.executable, "-c", FLOOR, src, dst, form.table,
                                   str(Path(tmp) / "floor.parquet")], env),
                "**sync**: `quancheng run` (extract, normalize, validate, publish)":
                    lambda: timed([str(Path(sys.executable).parent / "quancheng"), "run", system, "--uri", src,
                                   "--dir", str(Path(tmp) / "home"), "--end", end],
                                  {**env, "QUANCHENG_SHARED_DB": psycopg[dst]}),
                "**peer**: `pandas.read_sql` → pandas `map` → GX on pandas → `to_sql`":
                    lambda: timed([sys.executable, "-c", PEER, psycopg[src], psycopg[dst], form.form_id,
                                   str(ROOT / "benchmarks"), str(ROOT / "include"), str(cat_dir)], env),
            }
            runs: dict[str, list[tuple[float, float, str]]] = {k: [] for k in cases}
            for i in range(args.repeat):  # rounds interleave the cases, so the machine's load hits all alike
                if i:  # each round from an empty destination and home: every sync is a first, full one
                    engines.recreate_database("postgresql", DEST_DB)
                    shutil.rmtree(Path(tmp) / "home", ignore_errors=True)
                for what, case in cases.items():
                    runs[what].append(case())
                    print(f"round {i + 1}: {what[:40]}: {runs[what][-1][0]:.1f} s", flush=True)
            for what, measured in runs.items():
                wall, rss, note = min(measured)
                rows.append((what, wall, rss, max(m[0] for m in measured)))
            peer_note = note  # the peer's phases in its best round (the last case)
            # where the sync's time goes: the four steps timed in one process (fresh home and shared database)
            steps_db = engines.recreate_database("postgresql", f"{PREFIX}steps")
            steps = subprocess.run([sys.executable, "-c", STEPS, system, src, str(Path(tmp) / "steps"), end],
                                   env={**env, "QUANCHENG_SHARED_DB": psycopg_url(steps_db)},
                                   capture_output=True, text=True, check=True).stderr.strip().splitlines()[-1]
            with sa.create_engine(psycopg[dst], poolclass=sa.pool.NullPool).connect() as c:
                counts = {t: c.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                          for t in sa.inspect(c).get_table_names()}
        finally:
            engines.drop_database("postgresql", DEST_DB)
            engines.drop_database("postgresql", f"{PREFIX}steps")
            engines.drop_database("postgresql", f"{PREFIX}{system}")
    floor, sync, peer = rows[1][1], rows[2][1], rows[3][1]
    load = os.getloadavg()
    block = "measured" if narrow else "measured wide"
    columns = len(catalog.fields_of(form.form_id))
    mapped = len({m.column for m in catalog.mappings_of(form.form_id)})
    dropped = len(whole.forms_of(system)) - 1 if cat_dir != base else 0
    what_catalog = "" if narrow else (
        f"form `{form.form_id}` of the {args.catalog} catalog"
        + (f" without the system's {dropped} other form(s)" if dropped else "") + ", ")
    lines = [
        f"<!-- {block}: start -->",
        f"Command: `PYTHONPATH=include .venv/bin/python benchmarks/end_to_end.py {' '.join(sys.argv[1:])}`",
        f"({n:,} source rows of `{system}.{form.table}`, {what_catalog}{columns} columns"
        + ("" if narrow else f" ({mapped} mapped)")
        + f"; {os.cpu_count()} cores, load average at the end {load[0]:.2f}"
        + ("" if narrow else f" (1/5/15 min: before the rounds {'/'.join(f'{x:.2f}' for x in load_before)}, "
           f"after {'/'.join(f'{x:.2f}' for x in load)})") + ")", "",
        f"| case | wall s (best of {args.repeat}) | slowest | peak RSS MB |", "|---|---:|---:|---:|",
        *[f"| {what} | {w:.1f} | {worst:.1f} | {r:.0f} |" for what, w, r, worst in rows], "",
        f"- sync / floor: **{sync / floor:.2f}×** (goal ≤ 1.5×: {'met' if sync <= 1.5 * floor else 'not met'})",
        f"- peer / sync: **{peer / sync:.1f}×** (goal ≥ 10×: {'met' if peer >= 10 * sync else 'not met'})",
        f"- the sync's steps, timed in one process (seconds): {steps}",
        f"- the peer's phases in its best round: {peer_note}",
        "- tables in the destination afterwards: "
        + ", ".join(f"`{t}` {k:,}" for t, k in sorted(counts.items()) if not t.startswith("_")),
        f"<!-- {block}: end -->"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        start, end_mark = f"<!-- {block}: start -->", f"<!-- {block}: end -->"
        old = RESULTS.read_text() if RESULTS.exists() else \
            "# End to end: a full sync vs the I/O floor vs the typical pipeline\n\n"
        if start in old:  # replace this block only: the other one stays as measured
            head, tail = old.split(start)[0], old.split(end_mark)[1]
        elif "\n## Reading it" in old:  # a new block goes after the others, before the reading
            before, after = old.split("\n## Reading it", 1)
            head, tail = before + "\n", "\n\n## Reading it" + after
        else:
            head, tail = old.rstrip("\n") + "\n\n", "\n"
        RESULTS.write_text(head + text + tail, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
