"""Benchmark: a sync costs what changed (issue 12). One system, its full sync, then days of 1 %, 0.1 % and 0 %.

The slice catalog's investment system (``ndrc_investment``, table ``TZ_XMBA``, update column ``GXSJ``) on a
SQLite source of ``--rows`` filings, synced into the embedded store with the real CLI, each run its own
process (``quancheng run``), timed from outside with its peak RSS (``wait4``):

1. the full sync of every row;
2. a day on which 1 % of the rows changed (name and update time), then the same day run again (a rerun);
3. a day with 0.1 % changed;
4. a day with nothing changed;
   (the changed rows of 2 and 3 are every 100th or 1,000th: spread over every file of the Delta table, the
   dearest case for a copy-on-write merge) then a day on which the newest 1 % changed (the last rows by
   project code, as a day's updates cluster on recent projects: they fall in few files);
5. the import floor: a process that imports what ``quancheng run`` imports and loads the catalog, and does
   nothing else: what "beyond imports" is measured against.

``--days 30`` then runs that many more days, the newest 1 % and a spread 0.1 % changed by turns: whether a
day's cost and memory stay flat as the tables' versions and the log grow (every 10th day and the medians).
``--memory 250000,1000000,4000000`` adds full syncs of those sizes (peak RSS: flat or not).
``--quarantine 4000000`` adds full syncs of that size with one row in ten refused (peak RSS of a large quarantine).
``--snapshot 1000000,4000000`` adds the same table as a snapshot form (no update column, so every sync reads
it whole and compares it with the last snapshot): its first sync, then a day with 1 % changed (the comparison).

Reproduce: .venv/bin/python benchmarks/incremental.py --rows 1000000 --memory 250000,1000000,4000000 --write
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
SLICE = ROOT / "tests" / "fixtures" / "slice_catalog"
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results" / "incremental.md"
SYSTEM = "ndrc_investment"
FIRST_DAY = date(2026, 3, 1)


def units(n: int) -> tuple[list[str], list[str]]:
    """``n`` construction units: names and valid credit codes (the first is the one every filing names by
    default)."""
    from stdnum.cn import uscc

    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    names, codes = ["山东某某建设有限公司"], ["913701007874076393"]
    for j in range(1, n):
        body = f"{j:08d}"
        r = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
        head = "91370100" + body + ("X" if r == 10 else "0" if r == 11 else str(r))
        names.append(f"山东某某{j}建设有限公司")
        codes.append(head + uscc.calc_check_digit(head))
    return names, codes


def filings(n: int, refused_every: int = 0, unit_count: int = 1) -> pa.Table:
    """``n`` investment filings (vectorized: a million in about a second), valid except every
    ``refused_every``-th, whose project code the rules refuse (quarantined), naming ``unit_count``
    construction units (drawn at random)."""
    rng = np.random.default_rng(12)
    i = np.arange(n)
    # valid 投资项目代码 (every row valid, so the run measures the published path): a million serial numbers
    # per value of the code's fourth segment (01, 02, ...)
    segment = np.char.zfill((i // 1_000_000 + 1).astype(str), 2)
    code = np.char.add(np.char.add(np.char.add("2019-370102-47-", segment), "-"),
                       np.char.zfill((i % 1_000_000).astype(str), 6))
    if refused_every:
        code = np.where(i % refused_every == 0, np.char.add("X", code), code)
    names, codes = units(unit_count)
    which = rng.integers(0, unit_count, n) if unit_count > 1 else np.zeros(n, dtype=np.int64)
    return pa.table({
        "XMDM": code, "XMMC": np.char.add("济南项目", i.astype(str)), "JSXZ": rng.choice(["新建", "扩建", "改建"], n),
        "JSDD": rng.choice(["370102", "370103", "370112", "370104"], n),
        "ZTZ": np.round(rng.uniform(100, 90_000, n), 2), "ZYDMJ": np.round(rng.uniform(1, 500, n), 2),
        "NKGSJ": pa.array(["2019-11-21"] * n),
        "XMDWMC": pa.array(names).take(pa.array(which)), "XMDWZJHM": pa.array(codes).take(pa.array(which)),
        **{c: pa.array([v] * n) for c, v in (("GXSJ", f"{FIRST_DAY - timedelta(days=1)} 08:00:00"), ("BZ", ""))},
    })


def make_source(db: Path, n: int, refused_every: int = 0, unit_count: int = 1) -> None:
    import adbc_driver_sqlite.dbapi as sq

    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE TZ_XMBA (XMDM TEXT PRIMARY KEY, XMMC TEXT, JSXZ TEXT, JSDD TEXT, ZTZ NUMERIC, "
                  "ZYDMJ NUMERIC, NKGSJ TEXT, XMDWMC TEXT, XMDWZJHM TEXT, GXSJ DATETIME, BZ TEXT)")
        c.execute("CREATE INDEX tz_gxsj ON TZ_XMBA (GXSJ)")
    t = filings(n, refused_every, unit_count)
    with sq.connect(str(db)) as conn:
        for start in range(0, n, 500_000):
            conn.cursor().adbc_ingest("TZ_XMBA", t.slice(start, 500_000), mode="append")
        conn.commit()


def change(db: Path, every: int, day: date, *, newest: bool = False) -> int:
    """Rename one filing in ``every`` (0: none) and stamp it with ``day``; how many changed. ``newest``: the
    same number of filings, the newest ones (the last rows, the highest project codes) instead of spread."""
    if every == 0:
        return 0
    which = (f"rowid > (SELECT max(rowid) FROM TZ_XMBA) - (SELECT count(*) FROM TZ_XMBA) / {every}" if newest
             else f"rowid % {every} = 0")
    with sqlite3.connect(db) as c:
        # the day's mark replaces an earlier one, so a filing changed on many days keeps a name of one length
        cur = c.execute(f"UPDATE TZ_XMBA SET XMMC = substr(XMMC, 1, instr(XMMC || '（', '（') - 1) || "
                        f"'（变更{day:%m%d}）', GXSJ = '{day} 09:00:00' WHERE {which}")
        return cur.rowcount


def snapshot_catalog(folder: Path) -> Path:
    """The slice catalog with the filing table as a snapshot form (its update column dropped)."""
    import shutil

    shutil.copytree(SLICE, folder)
    forms = folder / "forms.csv"
    lines = forms.read_text(encoding="utf-8").splitlines()
    forms.write_text("\n".join(line.replace(",XMDM,GXSJ,", ",XMDM,,") if line.startswith("ndrc_filing,") else line
                               for line in lines) + "\n", encoding="utf-8")
    return folder


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process (:func:`timed_note`)."""
    wall, rss, _ = timed_note(cmd, env)
    return wall, rss


def timed_note(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and last line on stderr of one process, measured by GNU time around it:
    ``wait4``'s maxrss of a child of this process would count the pages it shared with this one (a large
    source table) before exec."""
    if not Path("/usr/bin/time").exists():  # no GNU time (Debian package ``time``): wait4, with the caveat above
        t = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} ... failed")
        return time.perf_counter() - t, usage.ru_maxrss / 1024, ""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} ... failed: {proc.stderr.decode()[-3000:]}")
        note = (proc.stderr.decode().strip().splitlines() or [""])[-1]
        return wall, int(out.read().split()[-1]) / 1024, note


def run(home: Path, db: Path, end: date, env: dict[str, str], *, daily: bool = True) -> tuple[float, float]:
    """``quancheng run`` of the day before ``end`` (``daily``, as the DAG's daily interval) or of
    everything up to it."""
    window = ["--start", str(end - timedelta(days=1))] if daily else []
    return timed([str(BIN / "quancheng"), "run", SYSTEM, "--uri", f"sqlite:///{db}", "--dir", str(home),
                  *window, "--end", str(end)], env)


IMPORTS = ("import quancheng.pipeline, quancheng.pipeline_commands, adbc_driver_sqlite.dbapi, deltalake; "
           "from quancheng.catalog import current_catalog; "
           "current_catalog()")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=0, help="then this many more days, the newest 1 %% and a spread "
                                                         "0.1 %% changed by turns (flat or not)")
    ap.add_argument("--memory", default="", help="comma-separated sizes for full syncs (peak RSS)")
    ap.add_argument("--quarantine", default="", help="comma-separated sizes for full syncs with one row in ten "
                                                     "refused")
    ap.add_argument("--snapshot", default="", help="comma-separated sizes for a snapshot form's first sync and "
                                                   "its next day (1 %% changed)")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--block", default="", help="with --write, the results block to write (default: the main one; "
                                                "e.g. 10m for another size's, kept beside it)")
    args = ap.parse_args()
    env = {**os.environ, "QUANCHENG_CATALOG": str(SLICE), "PYTHONPATH": str(ROOT / "include")}
    env.pop("QUANCHENG_SHARED_DB", None)
    lines: list[str] = []

    def row(what: str, changed: int | str, wall: float, rss: float, full: float | None = None) -> None:
        share = f"{wall / full:.1%}" if full else ""
        lines.append(f"| {what} | {changed:,} | {wall:.2f} | {share} | {rss:.0f} |" if isinstance(changed, int)
                     else f"| {what} | {changed} | {wall:.2f} | {share} | {rss:.0f} |")
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory(prefix="qc_incr_") as tmp:
        db, home = Path(tmp) / "ndrc.db", Path(tmp) / "home"
        make_source(db, args.rows)
        imports, imports_rss = timed([sys.executable, "-c", IMPORTS], env)
        row("import floor (imports + catalog, no work)", "-", imports, imports_rss)
        full, rss = run(home, db, FIRST_DAY, env, daily=False)
        row(f"full sync ({args.rows:,} rows)", args.rows, full, rss)
        day = FIRST_DAY
        for label, every, newest in (("1 %", 100, False), ("1 % again (rerun)", -1, False), ("0.1 %", 1000, False),
                                     ("0 %", 0, False), ("1 %, the newest filings,", 100, True)):
            if every != -1:
                day += timedelta(days=1)
                n = change(db, every, day - timedelta(days=1), newest=newest)
            wall, rss = run(home, db, day, env)
            row(f"a day with {label} changed", n, wall, rss, full)
        series: dict[str, list[tuple[float, float]]] = {"the newest 1 %": [], "a spread 0.1 %": []}
        for k in range(1, args.days + 1):
            day += timedelta(days=1)
            label = "the newest 1 %" if k % 2 else "a spread 0.1 %"
            n = change(db, 100 if k % 2 else 1000, day - timedelta(days=1), newest=bool(k % 2))
            wall, rss = run(home, db, day, env)
            series[label].append((wall, rss))
            if k % 10 == 0 or k in (1, 2):
                row(f"later day {k}, {label} changed", n, wall, rss, full)
        for label, runs in series.items():
            if runs:
                row(f"later days, {label} changed: median of {len(runs)}", "-",
                    float(np.median([w for w, _ in runs])), float(np.median([r for _, r in runs])), full)

        def full_syncs(sizes: str, title: str, label: str, refused_every: int = 0) -> None:
            """A full sync of a fresh source of each size (peak RSS: flat or not)."""
            if sizes:
                lines.extend(["", f"| {title} | rows | wall s | | peak RSS MB |", "|---|---:|---:|---:|---:|"])
            for size in (int(s) for s in sizes.split(",") if s):
                fdb, fhome = Path(tmp) / f"f{size}.db", Path(tmp) / f"f{size}-{refused_every}"
                make_source(fdb, size, refused_every)
                wall, rss = run(fhome, fdb, FIRST_DAY, env, daily=False)
                lines.append(f"| {label.format(refused=size // max(1, refused_every))} | {size:,} | {wall:.2f} | | "
                             f"{rss:.0f} |")
                print(lines[-1], flush=True)
                fdb.unlink()

        full_syncs(args.memory, "memory: full sync of a fresh source", "full sync, memory")
        full_syncs(args.quarantine, "a large quarantine: full sync, one row in ten refused",
                   "full sync, {refused:,} rows quarantined", refused_every=10)
        snapshots = [int(s) for s in args.snapshot.split(",") if s]
        if snapshots:
            lines += ["", "| snapshot form (no update column) | rows | wall s | | peak RSS MB |",
                      "|---|---:|---:|---:|---:|"]
            senv = {**env, "QUANCHENG_CATALOG": str(snapshot_catalog(Path(tmp) / "snapshot_catalog"))}
        for size in snapshots:
            sdb, shome = Path(tmp) / f"s{size}.db", Path(tmp) / f"s{size}"
            make_source(sdb, size)
            for what, day in (("first sync", FIRST_DAY), ("next day, 1 % changed", FIRST_DAY + timedelta(days=1))):
                if day != FIRST_DAY:
                    change(sdb, 100, FIRST_DAY)
                wall, rss = run(shome, sdb, day, senv, daily=day != FIRST_DAY)
                lines.append(f"| snapshot form, {what} | {size:,} | {wall:.2f} | | {rss:.0f} |")
                print(lines[-1], flush=True)
            sdb.unlink()
    if args.write:
        start, end = (f"<!-- measured{' ' + args.block if args.block else ''}: {m} -->" for m in ("start", "end"))
        old = RESULTS.read_text() if RESULTS.exists() else "# Incremental syncs\n\n## Reading it\n"
        if start not in old:  # a new block goes before the reading of the blocks
            at = old.index("## Reading it") if "## Reading it" in old else len(old)
            old = old[:at] + f"{start}{end}\n\n" + old[at:]
        head, tail = old.split(start)[0], old.split(end)[1]
        load = os.getloadavg()
        body = [start,
                f"Command: `.venv/bin/python benchmarks/incremental.py {' '.join(sys.argv[1:])}`",
                f"(load average at the end {load[0]:.2f}, {os.cpu_count()} cores)", "",
                "| run | rows changed | wall s | of the full sync | peak RSS MB |", "|---|---:|---:|---:|---:|",
                *lines, end]
        RESULTS.write_text(head + "\n".join(body) + tail)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
