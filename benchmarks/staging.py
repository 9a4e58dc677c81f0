"""Benchmark: the staging parts a sync's steps hand each other, Parquet (what they were) vs Arrow IPC.

Each step of a sync writes its output as parts of 100,000 rows and the next step reads them back
(:mod:`quancheng.parts`). One run, on the same parts of a real form (default the full catalog's
``amr_enterprise_reg``: 35 source columns and the provenance columns, rendered by the demo world's
generator with its dirt, as ``normalize_validate.py`` makes its batch), three parts as the steps stage
them: ``raw`` (the source text), ``normalized`` (typed canonical columns) and ``valid`` (what publish
reads). Each format writes and reads every part; the best of ``--repeat`` rounds, wall seconds, and the
file's size:

1. Parquet with snappy (pyarrow's default; the parts were written so before);
2. Parquet with zstd (what the shared datasets use);
3. Arrow IPC uncompressed;
4. Arrow IPC with LZ4 frames (:mod:`quancheng.parts`, the choice);
5. Arrow IPC with zstd.

Reproduce: PYTHONPATH=include .venv/bin/python benchmarks/staging.py --write
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT / "benchmarks")]
RESULTS = ROOT / "benchmarks" / "results" / "staging.md"


def ipc_writer(compression: str | None) -> Callable[[pa.Table, str], None]:
    options = pa.ipc.IpcWriteOptions(compression=compression)

    def write(table: pa.Table, path: str) -> None:
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as w:
            w.write_table(table)
    return write


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--form", default="amr_enterprise_reg", help="a form of the project's catalog")
    ap.add_argument("--rows", type=int, default=100_000, help="rows of a part (a sync's chunk)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()
    from normalize_validate import make_batch  # the benchmarks folder is not a package
    from quancheng import parts
    from quancheng.catalog import load_catalog
    from quancheng.normalize import normalize_form
    from quancheng.validate import validate_form

    catalog = load_catalog(ROOT / "include" / "catalog")
    form = catalog.form[args.form]
    raw = make_batch(catalog, form, args.rows)
    norm = normalize_form(raw, form, catalog)
    valid = validate_form(norm, raw, form, catalog).valid
    stages = {"raw": raw, "normalized": norm.table, "valid": valid}
    def ipc_read(path: str) -> pa.Table:  # any compression: the IPC reader reads what the file says
        return parts.read(Path(path))

    formats: dict[str, tuple[Callable[[pa.Table, str], None], Callable[[str], pa.Table]]] = {
        "Parquet, snappy (before)": (lambda t, p: pq.write_table(t, p), pq.read_table),
        "Parquet, zstd": (lambda t, p: pq.write_table(t, p, compression="zstd"), pq.read_table),
        "Arrow IPC, uncompressed": (ipc_writer(None), ipc_read),
        "**Arrow IPC, LZ4 (`quancheng.parts`)**": (lambda t, p: parts.write(Path(p), t), ipc_read),
        "Arrow IPC, zstd": (ipc_writer("zstd"), ipc_read),
    }
    rows: list[str] = []
    totals: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="qc_bench_staging_") as tmp:
        for stage, table in stages.items():
            for name, (write, read) in formats.items():
                path = str(Path(tmp) / "part")
                w = r = float("inf")
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    write(table, path)
                    t1 = time.perf_counter()
                    back = read(path)
                    t2 = time.perf_counter()
                    w, r = min(w, t1 - t0), min(r, t2 - t1)
                if not back.equals(table):
                    raise SystemExit(f"{name}: {stage} did not read back equal")
                size = os.path.getsize(path) / 2**20
                total = totals.setdefault(name, [0.0, 0.0, 0.0])
                total[0], total[1], total[2] = total[0] + w, total[1] + r, total[2] + size
                rows.append(f"| {stage} | {name} | {w:.3f} | {r:.3f} | {size:.1f} |")
                print(rows[-1], flush=True)
    load = os.getloadavg()
    lines = [
        f"Command: `PYTHONPATH=include .venv/bin/python benchmarks/staging.py --form {args.form} "
        f"--rows {args.rows} --repeat {args.repeat}{' --write' if args.write else ''}`",
        f"(form `{args.form}`: {raw.num_columns} raw columns, {norm.table.num_columns} normalized, "
        f"{valid.num_rows:,} of {raw.num_rows:,} rows valid; best of {args.repeat}; 2 cores, load average at the "
        f"end {load[0]:.2f})",
        "",
        "| part | format | write s | read s | MB |",
        "|---|---|---:|---:|---:|",
        *rows,
        "",
        "| format | write s, three parts | read s, three parts | MB, three parts |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {w:.3f} | {r:.3f} | {mb:.1f} |" for name, (w, r, mb) in totals.items()),
    ]
    print("\n".join(lines[-len(totals) - 2:]))
    if args.write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Staging parts\n\n"
        start, end = "<!-- measured: start -->", "<!-- measured: end -->"
        block = "\n".join([start, *lines, end])
        if start in text:
            text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
        else:
            text += block + "\n"
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
