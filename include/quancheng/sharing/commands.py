"""``quancheng sharing``: show and apply the PostgreSQL access the catalog calls for; scan for clear IDs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quancheng.sharing.postgres import DEFAULT_PREFIX

if TYPE_CHECKING:
    from quancheng.publish.store import SharedStore


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
    from quancheng.objectstore import Storage
    from quancheng.pipeline import default_home
    from quancheng.publish.store import SharedStore
    from quancheng.sharing.remote import PREFIX, read_version
    from quancheng.sharing.rules import department_audience, explicitly_granted
    from quancheng.sharing.scan import clear_id_numbers

    catalog = load_catalog()
    home = home or default_home()
    root = home / "shared" / "areas"
    named = {department_audience(d).schema: explicitly_granted(catalog, d)
             for d in {g.department_en for g in catalog.grants}}
    storage = Storage.from_env(home)
    copies = ([(path.parent.parent.name, path.parent.name, path) for path in sorted(root.glob("*/*/data.parquet"))]
              if storage.is_local else bucket_copies(SharedStore(home, storage=storage)))
    where = root if storage.is_local else f"{storage.base}/{PREFIX}"
    findings = []
    for area, dataset, path in copies:
        if area.startswith("src_"):
            continue  # a system's own area holds clear values by design
        table = pq.read_table(path) if storage.is_local else read_version(path)
        for column, value in clear_id_numbers(table, catalog):
            if column not in named.get(area, set()):  # a grant that names the element gives it in clear
                findings.append({"area": area, "dataset": dataset, "column": column, "value": value[:6] + "…"})
    for f in findings:
        click.echo(json.dumps(f, ensure_ascii=False) if as_json else f"{f['area']}/{f['dataset']}: {f['column']}")
    if not as_json:
        click.echo(f"{len(findings)} clear ID number(s) in open and department tables under {where}")
    raise SystemExit(1 if findings else 0)


def bucket_copies(store: SharedStore) -> list[tuple[str, str, Path]]:
    """(area, dataset, local folder) of every area copy's current version in the store's bucket, each downloaded
    once into ``<home>/cache/areas`` (a version recorded as current but missing there is an error naming it)."""
    from quancheng.errors import QuanchengError
    from quancheng.sharing.areas import current_copies
    from quancheng.sharing.remote import AreaObjects

    objects = AreaObjects(store.storage)
    out = []
    for (area, dataset), digest in sorted(current_copies(store.engine).items()):
        if area.startswith("src_"):
            continue
        folder = objects.download(area, dataset, digest, store.home / "cache" / "areas")
        if folder is None:
            raise QuanchengError(f"area copy {area}.{dataset}: version {digest} is recorded as current but "
                                 f"{objects.uri(area, dataset, digest)} has no complete version (fix: publish the "
                                 "copy again)")
        out.append((area, dataset, folder))
    return out
