"""The "publishing" mark: which system is between its first and last dataset swap, and which datasets are ahead.

Each dataset is swapped atomically, a system's batch is not: a publish killed after 1 of N datasets leaves
the system serving a mix of versions. So before the first swap the batch writes one row per dataset into
``_exchange_publishing`` (system, batch, dataset, the content hash it had before), and the transaction that
records the run's success deletes them. While rows remain, the system is *incomplete*: ``quancheng status``
says so, naming the datasets already at the new version (their current Parquet version differs from the
hash noted before) and the ones not yet swapped, until a rerun of the batch completes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from quancheng.publish.store import SharedStore

PUBLISHING_TABLE = "_exchange_publishing"


def publishing_table(md: sa.MetaData | None = None) -> sa.Table:
    md = md or sa.MetaData()
    return sa.Table(
        PUBLISHING_TABLE, md,
        sa.Column("system_id", sa.String(100), primary_key=True),
        sa.Column("dataset_id", sa.String(200), primary_key=True),
        sa.Column("batch_id", sa.String(200), nullable=False),
        sa.Column("hash_before", sa.String(64)),  # null: the dataset had no version before this batch
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class Publishing:
    """A system whose batch began swapping its datasets and has not recorded its success."""

    system_id: str
    batch_id: str
    started_at: datetime | None
    ahead: tuple[str, ...]  # at the batch's new version already
    pending: tuple[str, ...]  # still at the version they had before (or in the middle of their swap)

    def to_json(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "started_at": self.started_at.isoformat() if self.started_at else None,
                "ahead": list(self.ahead), "pending": list(self.pending)}

    @property
    def message(self) -> str:
        ahead = ", ".join(self.ahead) or "none"
        pending = ", ".join(self.pending) or "none"
        return (f"incomplete: publishing batch {self.batch_id} did not finish; at the new version: {ahead}; "
                f"still at the previous one: {pending} (rerun the batch to complete it)")


def _table(store: SharedStore) -> sa.Table:
    t = publishing_table()
    from quancheng.publish.store import create_tables

    create_tables(store.engine, t.metadata)  # several systems' publishes may be the first at once
    return t


def begin(store: SharedStore, system_id: str, batch_id: str, dataset_ids: list[str]) -> None:
    """Mark ``system_id`` as publishing ``batch_id`` into ``dataset_ids`` (replacing an older mark: a rerun)."""
    t = _table(store)
    now = datetime.now(UTC)
    rows = [{"system_id": system_id, "dataset_id": ds, "batch_id": batch_id,
             "hash_before": store.current_digest(ds), "started_at": now} for ds in dataset_ids]
    with store.engine.begin() as c:
        c.execute(t.delete().where(t.c.system_id == system_id))
        if rows:
            c.execute(t.insert(), rows)


def clear(system_id: str) -> Callable[[sa.Connection], None]:
    """A ``then`` for :func:`quancheng.runs.record_run`: delete the mark in the success record's transaction."""
    t = publishing_table()

    def run(conn: sa.Connection) -> None:
        conn.execute(t.delete().where(t.c.system_id == system_id))

    return run


def unfinished(store: SharedStore) -> dict[str, Publishing]:
    """Every system with a publishing mark, with its datasets split into ahead and pending (read-only)."""
    if not sa.inspect(store.engine).has_table(PUBLISHING_TABLE):
        return {}
    t = publishing_table()
    with store.engine.connect() as c:
        rows = c.execute(sa.select(t).order_by(t.c.system_id, t.c.dataset_id)).mappings().all()
    grouped: dict[str, list[Any]] = {}
    for r in rows:
        grouped.setdefault(str(r["system_id"]), []).append(r)
    out: dict[str, Publishing] = {}
    for sid, rs in grouped.items():
        moved = {str(r["dataset_id"]): store.current_digest(str(r["dataset_id"])) != r["hash_before"] for r in rs}
        ahead = tuple(ds for ds, m in moved.items() if m)
        pending = tuple(ds for ds, m in moved.items() if not m)
        started = rs[0]["started_at"]
        if isinstance(started, datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)  # SQLite hands back naive timestamps
        out[sid] = Publishing(sid, str(rs[0]["batch_id"]), started, ahead, pending)
    return out
