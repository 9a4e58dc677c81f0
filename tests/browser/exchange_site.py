"""Helpers for the browser tests: headless Chromium, and the exchange site the module fixture builds."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paths import ROOT

SCALE = 20  # rows per first-stage form ~ 0.74 x SCALE: enough for every system to publish, cheap to sync
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
sys.path.insert(0, str(ROOT / "tests" / "ops"))  # the recording webhook lives beside the notifier tests


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with a fresh profile."""
    if not CHROMIUM:
        raise RuntimeError("chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=True)


def dump_dom(url: str) -> str:
    """The DOM of ``url`` after it rendered (scripts run, iframes not included)."""
    return chromium("--dump-dom", "--virtual-time-budget=5000", url).stdout


@dataclass
class Site:
    """What the module fixture built: where it is, what was broken, and what Airflow emitted."""

    home: Path
    url: str
    broken_system: str
    broken_table: str
    broken_column: str
    states: dict[str, str]
    webhook: list[dict[str, Any]]
    log: Path
    server_log: Path
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def environ(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def break_one_source(catalog: Any, world: dict[str, Any]) -> tuple[str, str, str]:
    """Rename a mapped, non-key column in the first SQLite system: the next sync must fail on drift."""
    for system_id, info in world["systems"].items():
        if info["kind"] != "sqlite":
            continue
        form = catalog.forms_of(system_id)[0]
        mapped = {m.column for m in catalog.mappings_of(form.form_id)}
        column = next(f.column for f in catalog.fields_of(form.form_id)
                      if f.column in mapped and f.column not in form.primary_key and f.column != form.updated_column)
        with sqlite3.connect(info["uri"].removeprefix("sqlite:///")) as db:
            db.execute(f'ALTER TABLE "{form.table}" RENAME COLUMN "{column}" TO "{column}_v2"')
        return system_id, form.table, column
    raise AssertionError("the demo world has no SQLite system to break")


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Airflow server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


