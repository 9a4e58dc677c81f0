"""``quancheng ids check VALUE...``: the identifier rules of :mod:`quancheng.ids` on the command line."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from quancheng.ids.scalar import KINDS, IdResult, Kind, check


@click.group()
def ids() -> None:
    """Check and normalise Chinese identifiers (USCC, ID numbers, organisation codes, permits, ...)."""


@ids.command(name="check")
@click.argument("values", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Check as this kind; without it, the first kind the value is valid as is reported.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per value (value, kind, valid, normalized, "
              "reason), one per line.")
def check_cmd(values: tuple[str, ...], kind: Kind | None, as_json: bool) -> None:
    """Check each VALUE; exit 1 when any is invalid.

    \b
    Examples:
      quancheng ids check 91110000600037341L 370802940221002
      quancheng ids check --kind license_no --json 60003734-1
    """
    results: list[IdResult] = [check(v, kind) for v in values]
    for r in results:
        if as_json:
            click.echo(json.dumps(asdict(r), ensure_ascii=False))
        else:
            verdict = click.style("valid", fg="green") if r.valid else click.style("invalid", fg="red")
            extra = f" -> {r.normalized}" if r.valid and r.normalized != r.value else ""
            why = f" ({r.reason})" if r.reason else ""
            click.echo(f"{r.value}\t{r.kind}\t{verdict}{extra}{why}")
    if not all(r.valid for r in results):
        raise SystemExit(1)
