"""``quancheng datasets``: the shared datasets, their versions, a version's rows, and their upkeep.

- ``quancheng datasets [--json]``: every dataset with kind, location, rows, version and last batch;
- ``quancheng datasets history ID [--json]``: the dataset's versions (time, operation, rows changed, batch);
- ``quancheng datasets read ID [--as-of VERSION|TIME] [--limit N] [--json]``: its rows now or as of then;
- ``quancheng datasets maintain [--retention-hours H]``: compact small files, vacuum old versions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

HOME = click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
                    show_default=True, help="Home folder of the shared data.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _store(home: Path) -> Any:
    from quancheng.publish.store import SharedStore

    return SharedStore(home.resolve())


def _known(store: Any, dataset_id: str) -> None:
    if dataset_id not in {d["dataset_id"] for d in store.datasets()}:
        raise click.ClickException(f"no dataset {dataset_id!r} is published in {store.home} "
                                   "(list them: quancheng datasets)")


@click.group(invoke_without_command=True)
@HOME
@AS_JSON
@click.pass_context
def datasets(ctx: click.Context, home: Path, as_json: bool) -> None:
    """List every shared dataset: kind, location, SQL table, rows, version, last batch.

    Each dataset is a Delta Lake table at its path (polars: ``pl.read_delta(path)``; DuckDB:
    ``delta_scan(path)``), every publish one version; see ``history``, ``read --as-of`` and ``maintain``.
    """
    if ctx.invoked_subcommand is not None:
        return
    rows = _store(home).datasets()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{len(rows)} shared datasets")
    cols = ("dataset_id", "kind", "rows", "version", "content_hash", "sql_table", "last_batch")
    for c in cols:
        t.add_column(c, justify="right" if c in ("rows", "version") else "left")
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r[c]) for c in cols))
    Console().print(t)


@datasets.command()
@click.argument("dataset_id")
@HOME
@AS_JSON
def history(dataset_id: str, home: Path, as_json: bool) -> None:
    """The versions of DATASET_ID, newest first: time (UTC), operation, rows added/updated/removed, batch.

    Any version still listed can be read with ``quancheng datasets read DATASET_ID --as-of VERSION``.
    """
    store = _store(home)
    _known(store, dataset_id)
    commits = store.history(dataset_id)
    if as_json:
        for c in commits:
            click.echo(json.dumps({"version": c.version, "timestamp": c.timestamp.isoformat(),
                                   "operation": c.operation, "rows_added": c.rows_added,
                                   "rows_updated": c.rows_updated, "rows_removed": c.rows_removed,
                                   "batch_id": c.batch_id}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{dataset_id}: {len(commits)} versions")
    for c in ("version", "committed (UTC)", "operation", "added", "updated", "removed", "batch"):
        t.add_column(c, justify="right" if c in ("version", "added", "updated", "removed") else "left")
    for c in commits:
        t.add_row(str(c.version), c.timestamp.strftime("%Y-%m-%d %H:%M:%S"), c.operation, str(c.rows_added),
                  str(c.rows_updated), str(c.rows_removed), c.batch_id)
    Console().print(t)


def parse_as_of(value: str | None) -> int | datetime | None:
    """``--as-of``: a version number, or an ISO time (UTC when it names no zone)."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return int(value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a version number nor an ISO time "
                                 "(e.g. 3, 2026-12-04, 2026-12-04T08:00:00+08:00)", param_hint="--as-of") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@datasets.command()
@click.argument("dataset_id")
@HOME
@click.option("--as-of", "as_of", help="A version number or an ISO time (UTC unless it names a zone).")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Rows to print (0: only the count).")
@AS_JSON
def read(dataset_id: str, home: Path, as_of: str | None, limit: int, as_json: bool) -> None:
    """Print the rows of DATASET_ID now, or as of a version or a time (JSON: one object per line)."""
    store = _store(home)
    _known(store, dataset_id)
    when = parse_as_of(as_of)
    if isinstance(when, int):
        kept = sorted(c.version for c in store.history(dataset_id))
        if when not in kept:
            raise click.ClickException(f"{dataset_id} has no version {when}: the versions in its log are "
                                       f"{kept[0]} to {kept[-1]} (quancheng datasets history {dataset_id})")
    try:
        table = store.read(dataset_id, as_of=when)
    except ValueError as exc:  # a time before the oldest version kept
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - delta-rs: the version's files were vacuumed
        raise click.ClickException(f"{dataset_id} as of {as_of} can no longer be read (maintenance vacuumed "
                                   f"its files): {str(exc).splitlines()[0]}") from None
    assert table is not None
    rows = table.slice(0, limit).to_pylist()
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False, default=str))
        return
    click.echo(f"{dataset_id}{f' as of {as_of}' if as_of else ''}: {table.num_rows} rows")
    for r in rows:
        click.echo(json.dumps(r, ensure_ascii=False, default=str))


@datasets.command()
@HOME
@click.option("--retention-hours", type=click.IntRange(min=0), default=168, show_default=True,
              help="Versions younger than this stay readable as of their time; older files are deleted.")
def maintain(home: Path, retention_hours: int) -> None:
    """Compact every dataset's small files and vacuum files no version within the retention needs (each
    system's datasets under the system's lock, waiting for a running sync)."""
    from quancheng.publish.maintenance import maintain_all

    def show(ds: str, m: Any) -> None:
        click.echo(f"{ds}: compacted {m.files_compacted} file(s) into {m.files_written}, vacuumed "
                   f"{m.files_vacuumed}, version {m.version}")

    done = maintain_all(_store(home), retention_hours, progress=show)
    click.echo(f"{len(done)} dataset(s) maintained (retention {retention_hours} h)")
