"""Benchmark: the mapping assistant with each of the 35 systems held out of the catalog, against the obvious
alternatives, in one run.

For each system in turn its fields' mappings and the synonyms only it contributed are removed
(:mod:`quancheng.onboard.heldout`); every field is then matched from what introspection gives (label, column
name, native type, the form's and system's names; no sample values, which the catalog does not hold). Scored
over fields whose true element exists (top-1, top-3) and over the fields the catalog excludes ("new element"
precision and recall). Side by side, with the same held-out knowledge:

- ``exact label``: the element whose name, synonym or known field label equals the normalized label;
- ``fuzzy label``: the element whose names share the most character bigrams with the label (Dice), what a
  generic string matcher does;
- ``assistant``: :class:`quancheng.onboard.suggest.Knowledge` (label, pinyin, English tokens, context, siblings).

Reproduce: .venv/bin/python benchmarks/onboard_suggest.py [--write benchmarks/results/onboard_suggest.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from quancheng.catalog.loader import Catalog, load_catalog  # noqa: E402
from quancheng.onboard.heldout import Score, fields_of_system, hold_out  # noqa: E402
from quancheng.onboard.suggest import Knowledge  # noqa: E402
from quancheng.onboard.text import bigrams, dice, split_label  # noqa: E402

NEW_BELOW = 0.5  # the fuzzy baseline's "new element" threshold, the assistant's own


def baseline(catalog: Catalog, system_id: str, fuzzy: bool) -> Score:
    """Label-only matching with the held-out knowledge: exact, or best bigram overlap."""
    know = Knowledge(catalog, hold_out=system_id)
    labels: dict[str, set[str]] = defaultdict(set)
    for eid, names in know.names.items():
        for lab in names.labels:
            labels[lab].add(eid)
    grams = {lab: bigrams(lab) for lab in labels}
    truth: dict[tuple[str, str], set[str]] = defaultdict(set)
    excluded = set()
    for form in catalog.forms_of(system_id):
        for m in catalog.mappings_of(form.form_id):
            truth[(form.table, m.column)].add(m.element_id)
        excluded |= {(form.table, f.column) for f in catalog.fields_of(form.form_id) if f.excluded_reason}
    s = Score()
    for f in fields_of_system(catalog, system_id):
        core = split_label(f.label, know.units)[0]
        ranked: list[tuple[float, str]] = []
        if core in labels:
            ranked = [(1.0, eid) for eid in sorted(labels[core])]
        elif fuzzy:
            g = bigrams(core)
            best: dict[str, float] = {}
            for lab, lg in grams.items():
                d = dice(g, lg)
                if d > 0:
                    for eid in labels[lab]:
                        best[eid] = max(best.get(eid, 0.0), d)
            ranked = sorted(((v, k) for k, v in best.items()), key=lambda t: (-t[0], t[1]))
        new = not ranked or ranked[0][0] < NEW_BELOW
        ids = [eid for _, eid in ranked[:3]]
        key = (f.table, f.column)
        s.fields += 1
        s.new_said += new
        if key in excluded:
            s.new_true += 1
            s.new_hit += new
        if key in truth:
            s.mapped += 1
            s.top1 += bool(ids) and ids[0] in truth[key] and not new
            s.top3 += bool(set(ids) & truth[key])
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=None, help="catalog folder (default: the project's)")
    ap.add_argument("--write", type=Path, default=None, help="also write the results as Markdown here")
    args = ap.parse_args()
    catalog = load_catalog(args.catalog)
    systems = [s.system_id for s in catalog.systems]
    totals: dict[str, Score] = {}
    seconds: dict[str, float] = {}
    per_system: dict[str, Score] = {}
    for name in ("exact label", "fuzzy label", "assistant"):
        total = Score()
        t0 = time.perf_counter()
        for sid in systems:
            if name == "assistant":
                score, _ = hold_out(catalog, sid)
                per_system[sid] = score
            else:
                score = baseline(catalog, sid, fuzzy=name == "fuzzy label")
            total.add(score)
        seconds[name] = time.perf_counter() - t0
        totals[name] = total
        print(f"{name}: top-1 {total.top1_rate:.3f}, top-3 {total.top3_rate:.3f}, new element precision "
              f"{total.new_precision:.2f} recall {total.new_recall:.2f}, {seconds[name]:.1f} s", flush=True)
    a = totals["assistant"]
    lines = [
        "# Mapping assistant, each system held out",
        "",
        "Reproduce: `.venv/bin/python benchmarks/onboard_suggest.py --write benchmarks/results/onboard_suggest.md`",
        f"({len(systems)} systems, {a.fields} fields, {a.mapped} with a true element, {a.new_true} excluded by the "
        "catalog; each system held out in turn: its mappings and the synonyms only it contributed removed).",
        "",
        "| method | top-1 | top-3 | new element precision | new element recall | seconds (all 35 held out) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in totals.items():
        lines.append(f"| {name} | {s.top1_rate:.3f} | {s.top3_rate:.3f} | {s.new_precision:.2f} | "
                     f"{s.new_recall:.2f} | {seconds[name]:.1f} |")
    lines += ["", f"Transform right where top-1 is right: {a.transform_ok / max(a.top1, 1):.3f}.", "",
              "| system | fields with an element | top-1 | top-3 |", "|---|---:|---:|---:|"]
    for sid, s in per_system.items():
        lines.append(f"| {sid} | {s.mapped} | {s.top1_rate:.2f} | {s.top3_rate:.2f} |")
    lines += ["", "Misses of the assistant, first 25 (form.column, label: wanted -> proposed):", ""]
    for _sid, col, label, want, got in a.misses[:25]:
        names = " / ".join(catalog.element[w].name_zh for w in want.split("|"))
        lines.append(f"- `{col}` {label}: {names} -> {catalog.element[got].name_zh if got in catalog.element else got}")
    text = "\n".join(lines) + "\n"
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
