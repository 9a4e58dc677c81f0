"""``quancheng datasets``: every shared dataset with its kind, location, rows and content hash."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
              show_default=True, help="Home folder of the shared data.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def datasets(home: Path, as_json: bool) -> None:
    """List every shared dataset: kind, Parquet location, SQL table, rows, content hash, last batch."""
    from quancheng.publish.store import SharedStore

    rows = SharedStore(home.resolve()).datasets()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{len(rows)} shared datasets")
    for c in ("dataset_id", "kind", "rows", "content_hash", "sql_table", "last_batch"):
        t.add_column(c, justify="right" if c == "rows" else "left")
    for r in rows:
        t.add_row(*(str(r[c]) for c in ("dataset_id", "kind", "rows", "content_hash", "sql_table", "last_batch")))
    Console().print(t)
