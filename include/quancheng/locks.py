"""Per-system locks: one writer of a system's staging and shared datasets at a time, and a clear message
naming the run that holds the lock when a second one arrives.

What is protected, and how:
- **Staging.** Every extract writes a fresh attempt folder ``staging/<system>/<batch>/<attempt>/`` (the
  attempt id carries the time and the pid) and the later steps of that run read and write only there, so
  a second run of the same batch can never remove or overwrite files another run is still reading (the
  old ``rmtree`` of a shared batch folder did: ``Parquet magic bytes not found in footer``). Older attempts
  of the batch are pruned by the next extract only once they are published or a day old.
- **Extract and publish.** Both take the system's lock. Extract reads the snapshot state that publish
  advances, and publish is a read-merge-write of the system's datasets, so two of them interleaved would
  lose an update. ``quancheng run`` holds the lock for the whole run (the steps re-enter it), so a second
  ``quancheng run`` of the same system, or an Airflow extract or publish, fails at once naming it.
  Airflow runs the four steps as separate processes and a process-bound lock cannot span them; within
  Airflow a DAG's own runs never overlap (``max_active_runs=1``), and normalize and validate only touch
  their own attempt folder, so they run unlocked.
- **Waiting.** ``wait`` seconds (0: fail at once) polls the lock; after that :class:`SystemBusy` says who
  holds it: system, batch, step, host, pid and start time.

Backends, chosen by the shared database (``$QUANCHENG_SHARED_DB``):
- embedded (SQLite): ``flock`` on ``<home>/locks/<system>.lock``; the file holds the holder as JSON. The
  kernel releases the lock when the process dies, so a killed run never leaves a stale lock (only its
  text, which the next holder overwrites).
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept open while
  the lock is held (released by the server when that session ends, also on process death), with the
  holder in the ``_exchange_locks`` table. Works across hosts sharing the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from quancheng.errors import QuanchengError

Step = Literal["run", "extract", "publish", "maintain"]

LOCKS_TABLE = "_exchange_locks"
ADVISORY_CLASS = 0x5143  # "QC": the first key of every quancheng advisory lock, the system's crc the second
POLL_SECONDS = 0.2

_held: dict[str, int] = {}  # lock key -> depth, so ``quancheng run`` re-enters the lock in its steps


@dataclass(frozen=True)
class Holder:
    """Who holds (or asks for) a system's lock."""

    system_id: str
    batch_id: str
    step: str
    host: str
    pid: int
    started_at: str

    @classmethod
    def me(cls, system_id: str, batch_id: str, step: str) -> Holder:
        return cls(system_id, batch_id, step, socket.gethostname(), os.getpid(),
                   datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return (f"batch {self.batch_id} ({self.step}) on host {self.host}, pid {self.pid}, "
                f"started {self.started_at}")


class SystemBusy(QuanchengError):
    """Another run of the same system holds its lock."""

    def __init__(self, system_id: str, holder: Holder | None, waited: float):
        self.system_id, self.holder = system_id, holder
        who = holder.describe() if holder else "a run whose details are not readable yet"
        waited_txt = f" after waiting {waited:g} s" if waited else ""
        super().__init__(
            f"system {system_id!r} is already being synced by {who}; this run stopped{waited_txt} and left "
            f"its staging and the shared datasets untouched (fix: let that run finish, then run again, or "
            f"queue behind it with `quancheng run --wait SECONDS`, in Airflow the Variable "
            f"quancheng_lock_wait_seconds)")


def backend_for(sql_url: str | None) -> Literal["file", "postgresql"]:
    url = sql_url or os.environ.get("QUANCHENG_SHARED_DB") or "sqlite:"
    return "postgresql" if url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres") else "file"


@contextlib.contextmanager
def system_lock(system_id: str, *, home: Path, batch_id: str, step: Step, sql_url: str | None = None,
                wait: float = 0) -> Iterator[Holder]:
    """Hold ``system_id``'s lock for the block, waiting up to ``wait`` seconds; else :class:`SystemBusy`."""
    url = sql_url or os.environ.get("QUANCHENG_SHARED_DB")
    backend = backend_for(url)
    key = f"{backend}:{url if backend == 'postgresql' else Path(home).resolve()}:{system_id}"
    me = Holder.me(system_id, batch_id, step)
    if _held.get(key):
        _held[key] += 1
        try:
            yield me
        finally:
            _held[key] -= 1
        return
    lock = _PgLock(str(url), system_id) if backend == "postgresql" else _FileLock(Path(home), system_id)
    deadline = time.monotonic() + wait
    while not lock.try_acquire(me):
        if time.monotonic() >= deadline:
            holder = lock.holder()
            lock.close()
            raise SystemBusy(system_id, holder, wait)
        time.sleep(POLL_SECONDS)
    _held[key] = 1
    try:
        yield me
    finally:
        _held.pop(key, None)
        lock.release()


def _holder_from(data: dict[str, Any] | None) -> Holder | None:
    if not data:
        return None
    try:
        return Holder(**{k: data[k] for k in Holder.__dataclass_fields__})
    except (KeyError, TypeError):
        return None


class _FileLock:
    """``flock`` on ``<home>/locks/<system>.lock`` (the lock dies with the process)."""

    def __init__(self, home: Path, system_id: str):
        from quancheng.safepath import safe_path

        self.path = safe_path(home, "locks", f"{system_id}.lock", what="system id")  # before anything is made
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # never unlinked: another process may be blocked on this very inode
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def try_acquire(self, me: Holder) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(asdict(me)).encode(), 0)
        return True

    def holder(self) -> Holder | None:
        # the holder writes its details just after taking the lock: give it a moment to finish
        for _ in range(10):
            try:
                found = _holder_from(json.loads(self.path.read_text() or "null"))
            except (OSError, json.JSONDecodeError):
                found = None
            if found:
                return found
            time.sleep(0.05)
        return None

    def release(self) -> None:
        os.ftruncate(self.fd, 0)
        self.close()  # closing the descriptor drops the flock

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _PgLock:
    """A session advisory lock in the shared PostgreSQL database, its holder in ``_exchange_locks``."""

    def __init__(self, url: str, system_id: str):
        import sqlalchemy as sa

        self.sa = sa
        self.system_id = system_id
        self.objid = zlib.crc32(system_id.encode()) - 2**31  # signed int4
        scheme, rest = url.split("://", 1)
        if "+" not in scheme:  # psycopg (3) is the driver this project installs
            url = f"postgresql+psycopg://{rest}"
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # two first-ever lockers may both create the table: the loser's unique violation means it exists
        with contextlib.suppress(sa.exc.IntegrityError):
            self.conn.execute(sa.text(
                f"CREATE TABLE IF NOT EXISTS {LOCKS_TABLE} (system_id VARCHAR(100) PRIMARY KEY, "
                "batch_id VARCHAR(200), step VARCHAR(20), host VARCHAR(200), pid INTEGER, started_at VARCHAR(40))"))

    def try_acquire(self, me: Holder) -> bool:
        sa = self.sa
        got = self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:c, :o)"),
                                {"c": ADVISORY_CLASS, "o": self.objid}).scalar_one()
        if got:
            self.conn.execute(sa.text(
                f"INSERT INTO {LOCKS_TABLE} VALUES (:system_id, :batch_id, :step, :host, :pid, :started_at) "
                "ON CONFLICT (system_id) DO UPDATE SET batch_id = excluded.batch_id, step = excluded.step, "
                "host = excluded.host, pid = excluded.pid, started_at = excluded.started_at"), asdict(me))
        return bool(got)

    def holder(self) -> Holder | None:
        for _ in range(10):  # as for the file lock: the holder writes its row just after locking
            row = self.conn.execute(self.sa.text(f"SELECT * FROM {LOCKS_TABLE} WHERE system_id = :s"),
                                    {"s": self.system_id}).mappings().first()
            if row:
                return _holder_from(dict(row))
            time.sleep(0.05)
        return None

    def release(self) -> None:
        try:
            self.conn.execute(self.sa.text(f"DELETE FROM {LOCKS_TABLE} WHERE system_id = :s"),
                              {"s": self.system_id})
            self.conn.execute(self.sa.text("SELECT pg_advisory_unlock(:c, :o)"),
                              {"c": ADVISORY_CLASS, "o": self.objid})
        finally:
            self.close()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
