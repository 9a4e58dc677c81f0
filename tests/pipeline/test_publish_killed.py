"""A publish killed half-way (SIGKILL in the middle of the SQL swap) leaves the last good version
readable in Parquet and SQL, and the next run completes the publication."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from quancheng.publish.store import SharedStore

DS = "ndrc_investment.ndrc_filing"


def version(n: int) -> pa.Table:
    keys = [f"k{i:04d}" for i in range(n)]
    return pa.table({"_source_key": keys, "project_name": [f"项目{i}" for i in range(n)]})


def sql_rows(store: SharedStore) -> int:
    with store.engine.connect() as c:
        return int(c.execute(sa.text('select count(*) from "ndrc_investment__ndrc_filing"')).scalar_one())


def test_killed_publish_keeps_last_version_and_next_run_completes(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    store.publish(DS, version(10), kind="system", batch_id="b1")
    child = textwrap.dedent(f"""
        import os, signal
        import pyarrow as pa
        from pathlib import Path
        from quancheng.publish.store import SharedStore

        real = SharedStore._adbc
        def adbc_then_die(self):
            conn = real(self)
            ingest = conn.cursor().__class__.adbc_ingest
            class Cursor:
                def __init__(self, cur): self.cur = cur
                def adbc_ingest(self, *a, **k):
                    ingest(self.cur, *a, **k)
                    os.kill(os.getpid(), signal.SIGKILL)  # the side table is loaded, nothing swapped yet
                def __getattr__(self, n): return getattr(self.cur, n)
            class Conn:
                def cursor(self): return Cursor(conn.cursor())
                def __getattr__(self, n): return getattr(conn, n)
            return Conn()
        SharedStore._adbc = adbc_then_die
        t = pa.table({{"_source_key": [f"k{{i:04d}}" for i in range(25)],
                       "project_name": [f"项目{{i}}" for i in range(25)]}})
        SharedStore(Path({str(tmp_path)!r})).publish({DS!r}, t, kind="system", batch_id="b2")
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]

    after_kill = SharedStore(tmp_path)
    assert after_kill.read(DS).num_rows == 10
    assert sql_rows(after_kill) == 10
    assert {d["dataset_id"]: d["last_batch"] for d in after_kill.datasets()}[DS] == "b1"

    done = after_kill.publish(DS, version(25), kind="system", batch_id="b2")
    assert done.changed and done.rows == 25
    assert SharedStore(tmp_path).read(DS).num_rows == 25
    assert sql_rows(after_kill) == 25
