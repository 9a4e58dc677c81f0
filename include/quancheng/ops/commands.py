"""``quancheng status``: the latest state of every system, coloured, in one table (``--json`` for scripts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from quancheng.ops.health import ALERTING, SystemHealth, most_severe_first

COLOURS = {"ok": "green", "late": "yellow", "quarantine": "yellow", "stale": "red", "incomplete": "red",
           "failed": "red", "never": "bright_black"}
BARS = "▁▂▃▄▅▆▇█"
WIDE = 150  # below this many terminal columns: system, state, age and counts; the reasons follow the table
COLUMNS = [("system", "left", True), ("kind", "left", False), ("state", "left", True), ("age / limit", "right", True),
           ("last run", "left", False), ("published", "right", True), ("quarantine / max", "right", True),
           ("trend", "left", False), ("reason", "left", False)]


def spark(values: list[float | None]) -> str:
    """A text sparkline of quarantine rates (a gap where a batch extracted nothing)."""
    nums = [v for v in values if v is not None]
    if not nums:
        return ""
    top = max(nums) or 1.0
    return "".join(" " if v is None else BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1)))] for v in values)


def _age(h: SystemHealth, sep: str = " / ") -> str:
    if h.age_hours is None:
        return "never"
    return f"{h.age_hours:.1f} h{sep}{h.freshness_hours:g} h"


def _rate(h: SystemHealth, sep: str = " / ") -> str:
    if h.quarantine_rate is None:
        return "–"
    return f"{h.quarantine_rate:.1%}{sep}{h.quarantine_threshold:.0%}"


@click.command()
@click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
              show_default=True, help="Home folder of the exchange (run records and shared data).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (systems, datasets, counts) instead of a table.")
@click.option("--check", is_flag=True, help="Exit 1 when any system failed, is half-published (incomplete), is "
                                            "stale or is over its quarantine threshold (for monitoring scripts).")
def status(home: Path, as_json: bool, check: bool) -> None:
    """Show every system's latest state: last success, freshness against its schedule and limit,
    failure reason and quarantine rate against its threshold."""
    from quancheng.catalog import load_catalog
    from quancheng.ops.overview import build_overview

    ov = build_overview(home, load_catalog(), datetime.now(UTC))
    alerting = [h for h in ov.systems if any(i.kind in ALERTING for i in h.issues)]
    if as_json:
        click.echo(json.dumps(ov.to_json(), ensure_ascii=False, indent=2))
        _exit(check and bool(alerting))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= WIDE
    sep = " / " if wide else "/"
    t = Table(title=f"Quancheng Exchange: {len(ov.systems)} systems at {ov.now:%Y-%m-%d %H:%M} UTC",
              caption=None if wide else f"kind, last run and trend need {WIDE} columns (or use --json)")
    shown = [(c, just) for c, just, always in COLUMNS if wide or always]
    for col, just in shown:
        t.add_column(col, justify=just, no_wrap=col != "reason")  # type: ignore[arg-type]
    for h in most_severe_first(ov.systems):
        colour = COLOURS[h.state]
        last = h.last_run
        cells = {
            "system": f"{h.system_id}\n[dim]{h.name_zh}[/dim]" if wide else h.system_id, "kind": h.kind,
            "state": f"[{colour}]{h.state}[/{colour}]", "age / limit": _age(h, sep),
            "last run": f"{last['status']} {last['finished_at']:%m-%d %H:%M}" if last else "–",
            "published": str(last["published"]) if last else "–", "quarantine / max": _rate(h, sep),
            "trend": spark([p.rate for p in h.trend]), "reason": f"[{colour}]{h.reason}[/{colour}]" if h.reason else "",
        }
        t.add_row(*(cells[c] for c, _ in shown))
    console.print(t)
    if not wide:
        for h in most_severe_first(ov.systems):
            if h.reason:
                console.print(f"[{COLOURS[h.state]}]{h.system_id}[/{COLOURS[h.state]}]: {h.reason}")
    counts = ", ".join(f"[{COLOURS[s]}]{n} {s}[/{COLOURS[s]}]" for s, n in ov.counts.items() if n)
    console.print(f"{counts}; {len(ov.datasets)} shared datasets (quancheng datasets --dir {home})")
    if ov.unknown_systems:
        console.print(f"[yellow]run records of systems not in the catalog: {', '.join(ov.unknown_systems)}[/yellow]")
    _exit(check and bool(alerting))


def _exit(alerting: bool) -> None:
    """Exit 1 for ``--check`` when something alerts (raised, so it works inside and outside standalone mode)."""
    if alerting:
        raise click.exceptions.Exit(1)
