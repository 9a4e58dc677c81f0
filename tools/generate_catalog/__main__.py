"""Write the catalog: ``python -m tools.generate_catalog [--out include/catalog] [--check] [--refresh-pinyin]``.

``--check`` writes nothing and exits 1 when the committed files differ from what the generator
produces (run it in CI to keep data and generator in step). ``--refresh-pinyin`` rebuilds the
pinyin-initials table (needs pypinyin) before writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.generate_catalog.write import TARGETS, render, summary

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.generate_catalog", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "include" / "catalog", help="catalog folder to write")
    ap.add_argument("--check", action="store_true", help="only compare with the files on disk")
    ap.add_argument("--refresh-pinyin", action="store_true", help="rebuild pinyin_initials.json with pypinyin")
    ap.add_argument("--no-targets", action="store_true", help="write even when the counts miss the targets")
    args = ap.parse_args(argv)
    if args.refresh_pinyin:
        from tools.generate_catalog.write import refresh_pinyin
        refresh_pinyin()
    files, counts = render()
    print(summary(counts))
    misses = {k: (counts[k], v) for k, v in TARGETS.items() if counts[k] != v}
    if misses and not args.no_targets:
        print(f"targets missed (got, want): {misses}", file=sys.stderr)
        return 1
    if args.check:
        stale = [n for n, text in files.items() if not (args.out / n).exists()
                 or (args.out / n).read_text(encoding="utf-8") != text]
        extra = [str(p.relative_to(args.out)) for p in args.out.rglob("*.csv")
                 if str(p.relative_to(args.out)) not in files]
        if stale or extra:
            print(f"catalog is stale: {stale + extra}; run python -m tools.generate_catalog", file=sys.stderr)
            return 1
        return 0
    for p in args.out.rglob("*.csv"):
        if str(p.relative_to(args.out)) not in files:
            p.unlink()
    for name, text in files.items():
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
