"""The per-system lock, with the holder in another real process: a second taker fails at once naming it
(batch, step, host, pid), waits when asked, and gets the lock once the holder finishes or dies; the same
on the embedded home (flock) and on PostgreSQL (advisory lock)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from quancheng.locks import SystemBusy, system_lock

BATCH = "ndrc_investment__origin__20260302T000000"


def hold(home: Path, signal_dir: Path, sql_url: str | None) -> subprocess.Popen[str]:
    """A child process that takes the lock, says so (``held``), and keeps it until ``release`` appears."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from quancheng.locks import system_lock

        with system_lock("ndrc_investment", home=Path({str(home)!r}), batch_id={BATCH!r}, step="publish",
                         sql_url={sql_url!r}):
            Path({str(signal_dir / "held")!r}).touch()
            while not Path({str(signal_dir / "release")!r}).exists():
                time.sleep(0.05)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], text=True, stderr=subprocess.PIPE)
    while not (signal_dir / "held").exists():
        if proc.poll() is not None:
            raise AssertionError(f"lock holder exited early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    return proc


@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "file":
        yield None
        return
    from quancheng.demo import engines

    db = f"qc_test_{uuid.uuid4().hex[:10]}"
    url = engines.recreate_database("postgresql", db)
    yield url
    engines.drop_database("postgresql", db)


def test_second_taker_fails_at_once_naming_the_holder(tmp_path: Path, sql_url: str | None) -> None:
    proc = hold(tmp_path / "home", tmp_path, sql_url)
    try:
        with pytest.raises(SystemBusy) as err, system_lock("ndrc_investment", home=tmp_path / "home",
                                                          batch_id="other", step="run", sql_url=sql_url):
            pass
        msg = str(err.value)
        assert "'ndrc_investment' is already being synced" in msg
        assert BATCH in msg and "(publish)" in msg and f"pid {proc.pid}" in msg and socket.gethostname() in msg
        assert err.value.holder is not None and err.value.holder.pid == proc.pid
        # other systems are not affected
        with system_lock("amr_enterprise", home=tmp_path / "home", batch_id="b", step="run", sql_url=sql_url):
            pass
    finally:
        (tmp_path / "release").touch()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    with system_lock("ndrc_investment", home=tmp_path / "home", batch_id="again", step="run", sql_url=sql_url):
        pass


def test_waiter_gets_the_lock_when_the_holder_finishes(tmp_path: Path, sql_url: str | None) -> None:
    proc = hold(tmp_path / "home", tmp_path, sql_url)
    (tmp_path / "release").touch()  # the holder lets go while we wait for it
    with system_lock("ndrc_investment", home=tmp_path / "home", batch_id="next", step="run", sql_url=sql_url,
                     wait=120) as me:
        assert me.pid == os.getpid()
    proc.wait(timeout=60)


def test_lock_dies_with_its_process(tmp_path: Path, sql_url: str | None) -> None:
    proc = hold(tmp_path / "home", tmp_path, sql_url)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with system_lock("ndrc_investment", home=tmp_path / "home", batch_id="after", step="run", sql_url=sql_url,
                     wait=120):  # a killed session's advisory lock goes when the server notices: allow for it
        pass


def test_lock_is_reentrant_in_one_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with system_lock("ndrc_investment", home=home, batch_id="b", step="run"):
        with system_lock("ndrc_investment", home=home, batch_id="b", step="publish"):
            pass
        with system_lock("ndrc_investment", home=home, batch_id="b", step="publish"):
            pass
    proc = hold(home, tmp_path, None)  # the outer block released it: another process can take it
    (tmp_path / "release").touch()
    proc.wait(timeout=60)
    assert proc.returncode == 0
