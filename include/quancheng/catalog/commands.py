"""``quancheng catalog``: check, count and document the catalog."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from quancheng.catalog.loader import load_catalog

CATALOG_OPT = click.option("--catalog", "catalog_path", type=click.Path(file_okay=False, path_type=Path),
                           default=None, help="Catalog folder (default: $QUANCHENG_CATALOG or the project's).")


@click.group()
def catalog() -> None:
    """Check, count and document the catalog (systems, forms, fields, elements, materials)."""


@catalog.command()
@CATALOG_OPT
def check(catalog_path: Path | None) -> None:
    """Check that every reference resolves and every field is mapped or excluded.

    Prints each problem as FILE:LINE: what is wrong (fix: how to fix it). Exits 0 only when clean,
    1 when there are problems (2 when the files do not even load).
    """
    from quancheng.catalog.check import check as run_check

    cat = load_catalog(catalog_path)
    problems = run_check(cat)
    for p in problems:
        click.echo(p.render())
    if problems:
        click.secho(f"{len(problems)} problem(s) in {cat.root}", fg="red", err=True)
        sys.exit(1)
    data = sum(1 for f in cat.forms if f.form_kind == "data")
    click.secho(f"catalog {cat.root} is clean: {len(cat.systems)} systems, {len(cat.forms) - data} forms and "
                f"{data} data tables, {len(cat.fields)} fields, {len(cat.elements)} elements", fg="green")


@catalog.command()
@CATALOG_OPT
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (keys systems, "
              "systems_by_kind, source_forms, stage_forms, source_fields, data_tables, data_table_fields, elements, "
              "case_elements, case_items, materials_before, materials_after, materials_merged_in_stage, "
              "materials_waived_by_sharing, per_stage, per_department, seed_figures).")
def stats(catalog_path: Path | None, as_json: bool) -> None:
    """The reform table: systems, forms -> stage forms, fields -> elements, materials before -> after.

    Counts only a catalog that passes `quancheng catalog check` (figures of a broken catalog would
    mislead): otherwise prints its problems and exits 1. Beside each computed figure it shows the
    reform's published (seed) figure from reform_figures.csv, when the catalog has one, and the difference.
    """
    from quancheng.catalog.check import check as run_check
    from quancheng.catalog.stats import compute

    cat = load_catalog(catalog_path)
    problems = run_check(cat)
    if problems:
        for p in problems[:20]:
            click.echo(p.render(), err=True)
        more = " (first 20 shown)" if len(problems) > 20 else ""
        click.secho(f"not counting: {len(problems)} problem(s) in {cat.root}{more}; "
                    "fix them (quancheng catalog check lists them all) and run stats again", fg="red", err=True)
        sys.exit(1)
    s = compute(cat)
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    _print_tables(s)


def _print_tables(s: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    seed = s["seed_figures"]

    def seeded(key: str) -> str:
        return str(seed[key]["seed"]) if key in seed else ""

    def diff(*keys: str) -> str:
        return "  ".join(f"{seed[k]['difference']:+d}" for k in keys if k in seed)

    t = Table(title="泉城共享交换 reform table (computed from the catalog)")
    for h in ("", "before", "after", "change", "seed figure (before -> after)", "computed - seed"):
        t.add_column(h, justify="right" if h else "left")
    t.add_row("systems", str(s["systems"]), "", ", ".join(f"{k} {v}" for k, v in s["systems_by_kind"].items()),
              seeded("systems"), diff("systems"))
    t.add_row("forms", str(s["source_forms"]), str(s["stage_forms"]), "",
              _pair(seeded("source_forms"), seeded("stage_forms")), diff("source_forms", "stage_forms"))
    t.add_row("fields -> elements", str(s["source_fields"]), str(s["elements"]), "",
              _pair(seeded("source_fields"), seeded("elements")), diff("source_fields", "elements"))
    if s["case_elements"]:
        t.add_row("  case record (not form elements)", "", str(s["case_elements"]),
                  f"{s['case_items']} items", "", "")
    t.add_row("data tables (fields)", f"{s['data_tables']} ({s['data_table_fields']})", "",
              "synced, not counted", "", "")
    t.add_row("materials", str(s["materials_before"]), str(s["materials_after"]), f"{s['materials_reduction_pct']}%",
              _pair(seeded("materials_before"), seeded("materials_after")),
              diff("materials_before", "materials_after"))
    t.add_row("  merged within a stage", "", "", str(-s["materials_merged_in_stage"]), "", "")
    t.add_row("  waived by shared data", "", "", str(-s["materials_waived_by_sharing"]), "", "")
    con.print(t)
    for k, v in seed.items():
        if v["difference"] or v["explained_difference"]:
            unexplained = v["difference"] - v["explained_difference"]
            con.print(f"{k}: computed {v['computed']}, seed {v['seed']} ({v['difference']:+d}): "
                      + (v["explanation"] or "not explained") + (f"; {unexplained:+d} unexplained" if unexplained
                                                                 else ""))
    ts = Table(title="per stage")
    for h in ("stage", "forms", "fields", "data tables", "elements", "required", "materials before", "merged",
              "waived", "after"):
        ts.add_column(h)
    for sid, v in s["per_stage"].items():
        ts.add_row(f"{sid} {v['name_zh']}", *(str(v[k]) for k in ("source_forms", "source_fields", "data_tables",
                                                                   "elements", "required_elements", "materials_before",
                                                                   "materials_merged_in_stage",
                                                                   "materials_waived_by_sharing",
                                                                   "materials_after")))
    con.print(ts)
    td = Table(title="per department")
    for h in ("department", "systems", "forms", "fields", "data tables", "elements fed", "materials asked"):
        td.add_column(h)
    for d, v in s["per_department"].items():
        td.add_row(d, *(str(v[k]) for k in ("systems", "source_forms", "source_fields", "data_tables", "elements",
                                             "materials_asked")))
    con.print(td)


def _pair(before: str, after: str) -> str:
    return f"{before} -> {after}" if before and after else before or after


@catalog.command()
@CATALOG_OPT
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("catalog-docs"),
              show_default=True, help="Folder to write into.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True,
              help="html: one page with a search box (no CDN); md: one Markdown table.")
def docs(catalog_path: Path | None, out: Path, fmt: str) -> None:
    """Write the element reference: meaning, type, code list, sharing, feeding systems and datasets."""
    from quancheng.catalog.docs import write_docs

    path = write_docs(load_catalog(catalog_path), out, "html" if fmt == "html" else "md")
    click.echo(f"wrote {path}")
