"""``quancheng run``: one system's sync in this process, without a scheduler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click


@click.command()
@click.argument("system_id")
@click.option("--start", type=click.DateTime(), default=None, help="Window start (default: from the beginning).")
@click.option("--end", type=click.DateTime(), default=None, help="Window end (default: now).")
@click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
              show_default=True, help="Home folder of staging, state and shared data.")
@click.option("--uri", default=None, help="Connection URI (default: $AIRFLOW_CONN_<CONN_ID>).")
@click.option("--rebuild", is_flag=True, help="Read the source whole from the beginning and replace the system's "
                                              "datasets (after a lost published version); no --start.")
def run(system_id: str, start: datetime | None, end: datetime | None, home: Path, uri: str | None,
        rebuild: bool) -> None:
    """Extract, normalize, validate and publish SYSTEM_ID for the window [start, end)."""
    from quancheng.catalog import load_catalog
    from quancheng.pipeline import run_system, totals
    from quancheng.sources import Window

    end = (end or datetime.now(UTC)).replace(tzinfo=end.tzinfo if end and end.tzinfo else UTC)
    start = start.replace(tzinfo=UTC) if start and not start.tzinfo else start
    ref = run_system(system_id, Window(start, end), catalog=load_catalog(), home=home.resolve(), uri=uri,
                     rebuild=rebuild)
    click.echo(json.dumps({"batch_id": ref["batch_id"], **totals(ref), "published": ref["published"]},
                          ensure_ascii=False, indent=2))
