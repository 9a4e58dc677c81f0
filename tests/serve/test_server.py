"""The service as it runs for real: ``quancheng serve`` as its own process on a free loopback port,
called over HTTP, and its OpenAPI description checked against its answers (schemathesis contract tests)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from paths import ROOT, SLICE
from quancheng.publish.store import SharedStore
from quancheng.serve.audit import read_audit
from quancheng.serve.clients import ClientStore
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)


@dataclass(frozen=True)
class Server:
    url: str
    headers: dict[str, str]
    home: Path
    started: datetime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_home, slice_catalog) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    started = datetime.now(UTC)
    store = SharedStore(demo_home, sql_url=f"sqlite:///{demo_home / 'shared' / 'exchange.db'}")
    key = ClientStore(store.engine).add(f"uvicorn-{os.getpid()}", "Development and Reform Commission", slice_catalog)
    port = free_port()
    env = {**os.environ, "QUANCHENG_CATALOG": str(SLICE), "PYTHONPATH": str(ROOT / "include")}
    env.pop("QUANCHENG_SHARED_DB", None)
    proc = subprocess.Popen([sys.executable, "-m", "quancheng.cli", "serve", "--dir", str(demo_home), "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                proc.kill()
                pytest.fail(f"quancheng serve did not start: {out[-2000:]}")
            time.sleep(0.2)
    try:
        yield Server(url, {"Authorization": f"Bearer {key}"}, demo_home, started)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _get(server: Server, path: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    req = urllib.request.Request(server.url + path, headers=server.headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_prefill_over_http_and_audited(server: Server) -> None:
    project = pq.read_table(server.home / "shared" / "areas" / "shared_open" / "stage.s3_construction" /
                            "data.parquet", columns=["project_code"])["project_code"][0].as_py()
    status, body = _get(server, f"/v1/prefill/s3_construction/{project}")
    assert status == 200 and body["project_code"] == project and body["elements"]
    status, body = _get(server, "/v1/enterprises/91370100MA3C4X0C0X")
    assert status == 422 and body["error"]["check"].startswith("uscc.")
    engine = SharedStore(server.home, sql_url=f"sqlite:///{server.home / 'shared' / 'exchange.db'}").engine
    deadline = time.monotonic() + 20  # the server writes its audit rows in the background
    while True:
        calls = [c for c in read_audit(engine, server.started) if c["client"].startswith("uvicorn-")]
        if len(calls) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(c["endpoint"], c["status"]) for c in calls[:2]] == [
        ("/v1/prefill/{stage_id}/{project_code}", 200), ("/v1/enterprises/{uscc}", 422)]


def test_answers_match_the_openapi_description(server: Server) -> None:
    """Generated calls to every operation of /openapi.json: no 5xx, and every answer (status, content
    type, body) as the description says. Generated through hypothesis directly: schemathesis's pytest
    plugin does not load under this pytest."""
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=server.url, headers=server.headers, checks=checks)

        call()
    # generated path parameters rarely name a real project: check real 200 answers against the description too
    project = pq.read_table(server.home / "shared" / "areas" / "shared_open" / "stage.s3_construction" /
                            "data.parquet", columns=["project_code"])["project_code"][0].as_py()
    master = pq.read_table(server.home / "shared" / "areas" / "shared_open" / "master.enterprise" / "data.parquet",
                           columns=["enterprise_uscc"])["enterprise_uscc"].drop_null()[0].as_py()
    real = {"/v1/prefill/{stage_id}/{project_code}": ({"stage_id": "s3_construction", "project_code": project}, {}),
            "/v1/enterprises/{uscc}": ({"uscc": master}, {}),
            "/v1/datasets/{dataset_id}": ({"dataset_id": "stage.s3_construction"}, {}),
            "/v1/datasets/{dataset_id}/records": ({"dataset_id": "stage.s3_construction"}, {"key": project}),
            "/v1/datasets": ({}, {}), "/health": ({}, {})}
    for operation in operations:
        path_parameters, query = real[operation.path]
        response = operation.Case(path_parameters=path_parameters, query=query).call_and_validate(
            base_url=server.url, headers=server.headers, checks=checks)
        assert response.status_code == 200, (operation.path, response.text[:300])
