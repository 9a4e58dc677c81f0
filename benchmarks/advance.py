"""Benchmark: a day of demo changes (``quancheng demo advance``) at scale, and the key comparison that made it slow.

1. The key filter of one form, side by side in one run: numpy ``isin`` on object arrays (what ``demo advance``
   did) against Arrow's hash-set ``pc.is_in`` (what it does), for a form of ``--rows`` keys and 5 % fresh ones.
2. The whole day: seeds a world at ``--scale`` in a temporary folder (unless ``--world`` names one), then times
   ``advance_world`` with ``fraction`` 0.05 and reports inserts, updates, deletes, seconds and peak RSS.

Reproduce: .venv/bin/python benchmarks/advance.py --rows 400000 --scale 13622
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))


def key_filter(rows: int) -> dict[str, float]:
    current = pa.array([f"2019-370102-47-01-{i:08d}" for i in range(rows)])
    fresh = pa.array([f"2019-370102-47-01-{i:08d}" for i in range(rows - rows // 20, rows + rows // 20)])
    t = time.perf_counter()
    keep_np = ~np.isin(np.asarray(fresh.to_pylist(), dtype=object), np.asarray(current.to_pylist(), dtype=object))
    numpy_s = time.perf_counter() - t
    t = time.perf_counter()
    keep_arrow = pc.invert(pc.is_in(fresh, value_set=current))
    arrow_s = time.perf_counter() - t
    assert keep_np.tolist() == keep_arrow.to_pylist()
    return {"numpy_isin_object": numpy_s, "arrow_is_in": arrow_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000, help="keys of the form in the key-filter comparison")
    ap.add_argument("--scale", type=int, default=13_622, help="demo world scale for the whole day")
    ap.add_argument("--world", type=Path, default=None, help="an existing world folder to advance instead")
    args = ap.parse_args()
    k = key_filter(args.rows)
    print(f"key filter, {args.rows:,} keys, {args.rows // 10:,} fresh: numpy isin (object) "
          f"{k['numpy_isin_object']:.2f} s, Arrow is_in {k['arrow_is_in']:.3f} s", flush=True)
    from quancheng.catalog import load_catalog
    from quancheng.demo.advance import advance_world
    from quancheng.demo.seed import seed_world

    with tempfile.TemporaryDirectory(prefix="qc_advance_") as tmp:
        world = args.world
        if world is None:
            world = Path(tmp) / "world"
            seed_world(load_catalog(), world, scale=args.scale, seed=7)
        t = time.perf_counter()
        r = advance_world(world, seed=8, fraction=0.05)
        seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"demo advance, scale {args.scale:,}: {r['inserts']:,} inserts, {r['updates']:,} updates, "
          f"{r['deletes']:,} deletes in {seconds:.1f} s, peak RSS {rss:,.0f} MiB (seed included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
