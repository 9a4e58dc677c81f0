"""The demo's closing table: per system rows extracted, published and quarantined, and where data went."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(home: Path, result: Any) -> None:
    """Print one row per system from its latest run record, then where the shared datasets are."""
    from quancheng.publish.store import SharedStore
    from quancheng.runs import latest_runs

    store = SharedStore(home)
    console = Console(width=None if Console().is_terminal else 120)
    table = Table(title="Quancheng Exchange demo: one row per departmental system")
    for col, just in [("system", "left"), ("DAG", "left"), ("extracted", "right"), ("published", "right"),
                      ("quarantined", "right"), ("deleted", "right"), ("seconds", "right")]:
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    totals = [0, 0, 0, 0]
    for r in latest_runs(store):
        state = result.states.get(f"sync__{r['system_id']}", r["status"])
        colour = "green" if state == "success" else "red"
        nums = [r["extracted"], r["published"], r["quarantined"], r["deleted"]]
        totals = [a + b for a, b in zip(totals, nums, strict=True)]
        table.add_row(r["system_id"], f"[{colour}]{state}[/{colour}]", *map(str, nums),
                      str(result.seconds.get(f"sync__{r['system_id']}", "")))
    table.add_row("[b]total[/b]", "", *[f"[b]{n}[/b]" for n in totals], str(result.seconds.get("total", "")))
    console.print(table)
    if len(getattr(result, "days", [])) > 1 or any(d["label"] != "seeded" for d in getattr(result, "days", [])):
        console.print(_days_table(result.days))
    datasets = store.datasets()
    console.print(f"{len(datasets)} shared datasets: Parquet under {store.location}, "
                  f"SQL in {store.sql_url} (list them: quancheng datasets --dir {home})")
    if getattr(result, "data_docs", None):
        console.print(f"Great Expectations Data Docs: {result.data_docs}")
    if result.failed:
        console.print(f"[red]{len(result.failed)} DAG(s) failed: {', '.join(result.failed)}; "
                      f"Airflow log: {home / 'airflow' / 'demo.log'}[/red]")


def _days_table(days: list[dict[str, Any]]) -> Table:
    """One row per interval run: what the day changed in the sources, and what the syncs saw of it."""
    table = Table(title="Day by day: changes applied to the sources, and what the syncs extracted")
    for col in ("interval", "to", "inserts", "updates", "deletes", "extracted", "published", "quarantined",
                "deleted", "failed DAGs"):
        table.add_column(col, justify="left" if col in ("interval", "to") else "right")
    for d in days:
        table.add_row(d["label"], d["end"][:16], *("–" if d.get(k) is None else str(d[k]) for k in (
            "inserts", "updates", "deletes", "extracted", "published", "quarantined", "deleted", "failed")))
    return table
