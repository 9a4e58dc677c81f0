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
@click.option("--allow-mass-delete", is_flag=True, default=False,
              help="Publish a batch that deletes more than the system's max_delete_share of a dataset.")
@click.option("--wait", "lock_wait", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Seconds to wait while another run of the same system holds its lock (0: fail at once).")
def run(system_id: str, start: datetime | None, end: datetime | None, home: Path, uri: str | None,
        rebuild: bool, allow_mass_delete: bool, lock_wait: float) -> None:
    """Extract, normalize, validate and publish SYSTEM_ID for the window [start, end).

    A failure is recorded like the DAG's (batch id and cause), so ``quancheng status`` shows it; a run
    refused because another run of the system holds its lock is not (it changed nothing).
    """
    from quancheng.catalog import load_catalog
    from quancheng.pipeline import batch_id_for, run_system, totals
    from quancheng.sources import Window

    end = (end or datetime.now(UTC)).replace(tzinfo=end.tzinfo if end and end.tzinfo else UTC)
    start = start.replace(tzinfo=UTC) if start and not start.tzinfo else start
    if start is not None and start >= end:
        raise click.BadParameter(f"the window's end {end.isoformat()} is not after its start {start.isoformat()}",
                                 param_hint="--end")
    from quancheng.locks import SystemBusy

    catalog = load_catalog()
    window = Window(start, end)
    try:
        ref = run_system(system_id, window, catalog=catalog, home=home.resolve(), uri=uri, rebuild=rebuild,
                         allow_mass_delete=allow_mass_delete, lock_wait=lock_wait)
    except SystemBusy:
        raise
    except Exception as exc:  # recorded, then raised on: the CLI still prints it and exits non-zero
        if system_id in catalog.system:  # an unknown (or crafted) id gets no run record
            _record_failure(system_id, start, end, batch_id_for(system_id, window), str(exc), home.resolve())
        raise
    click.echo(json.dumps({"batch_id": ref["batch_id"], **totals(ref), "published": ref["published"]},
                          ensure_ascii=False, indent=2))


def _record_failure(system_id: str, start: datetime | None, end: datetime, batch_id: str, error: str,
                    home: Path) -> None:
    """Record the failed run; if even that fails (the shared database is down), say so and let the run's own
    error be the one reported."""
    from quancheng.steps import record_failure

    try:
        record_failure(system_id, start, end, error, home=str(home), batch_id=batch_id)
    except Exception as exc:  # noqa: BLE001 - reported on stderr; the run's error is raised by the caller
        click.secho(f"warning: the failure could not be recorded for `quancheng status`: {str(exc).splitlines()[0]}",
                    fg="yellow", err=True)
