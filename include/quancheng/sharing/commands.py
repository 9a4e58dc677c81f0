"""``quancheng sharing``: show and apply the PostgreSQL access the catalog calls for; scan for clear IDs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from quancheng.sharing.postgres import DEFAULT_PREFIX


@click.group()
def sharing() -> None:
    """Sharing rules: roles, schemas and grants from the catalog; the clear-ID scan."""


@sharing.command()
@click.option("--catalog", "catalog_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Catalog folder (default: $QUANCHENG_CATALOG or the project's own).")
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="Prefix of every role name.")
def plan(catalog_path: Path | None, prefix: str) -> None:
    """Print the SQL that creates the roles, schemas and grants (nothing is run)."""
    from quancheng.catalog import load_catalog
    from quancheng.sharing.postgres import plan_access

    for stmt in plan_access(load_catalog(catalog_path), prefix):
        click.echo(stmt + ";")


@sharing.command()
@click.option("--url", default=lambda: os.environ.get("QUANCHENG_SHARED_DB", ""),
              help="PostgreSQL URL of the shared database (default: $QUANCHENG_SHARED_DB).")
@click.option("--catalog", "catalog_path", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True)
def apply(url: str, catalog_path: Path | None, prefix: str) -> None:
    """Create or update the roles, schemas and grants in PostgreSQL (idempotent)."""
    from quancheng.catalog import load_catalog
    from quancheng.errors import QuanchengError
    from quancheng.sharing.postgres import apply_access

    if not url.startswith(("postgresql", "postgres")):
        raise QuanchengError(f"sharing rules are enforced in PostgreSQL; got {url or 'no URL'!r} "
                             "(pass --url postgresql://... or set QUANCHENG_SHARED_DB)")
    n = apply_access(url, load_catalog(catalog_path), prefix)
    click.echo(f"applied {n} statements")


@sharing.command()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Exchange home (default: $QUANCHENG_HOME or ./work).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding.")
def scan(home: Path | None, as_json: bool) -> None:
    """Scan every open and department table (Parquet) for clear ID numbers; exit 1 if any is found.

    A department's column of an element its grant names one by one is expected to be clear and not reported.
    """
    import pyarrow.parquet as pq

    from quancheng.catalog import load_catalog
    from quancheng.pipeline import default_home
    from quancheng.sharing.rules import department_audience, explicitly_granted
    from quancheng.sharing.scan import clear_id_numbers

    catalog = load_catalog()
    root = (home or default_home()) / "shared" / "areas"
    named = {department_audience(d).schema: explicitly_granted(catalog, d)
             for d in {g.department_en for g in catalog.grants}}
    findings = []
    for path in sorted(root.glob("*/*/data.parquet")):
        area = path.parent.parent.name
        if area.startswith("src_"):
            continue  # a system's own area holds clear values by design
        for column, value in clear_id_numbers(pq.read_table(path), catalog):
            if column not in named.get(area, set()):  # a grant that names the element gives it in clear
                findings.append({"area": area, "dataset": path.parent.name, "column": column,
                                 "value": value[:6] + "…"})
    for f in findings:
        click.echo(json.dumps(f, ensure_ascii=False) if as_json else f"{f['area']}/{f['dataset']}: {f['column']}")
    if not as_json:
        click.echo(f"{len(findings)} clear ID number(s) in open and department tables under {root}")
    raise SystemExit(1 if findings else 0)
