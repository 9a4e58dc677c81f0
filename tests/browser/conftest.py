"""A real exchange behind ``airflow standalone``, for the browser tests and the lineage/alert checks.

``site`` (one per module): seed the full catalog's demo world (all 35 systems, small), break one source
(rename a mapped column of one SQLite system, as a department changing its schema would), run every sync
DAG and ``ops__freshness`` through Airflow (``dag.test``, the demo's own runner) with OpenLineage on the
console transport and the alert connection pointing at a local webhook, then start ``quancheng demo
standalone`` (``airflow standalone``: scheduler, DAG processor, triggerer and the API server with this
repo's plugins) over the same folder, as ``make standalone`` does after ``make demo``.

Browser tests need Chromium from Debian's packages (``apt-get install chromium``); without it they skip
with that reason, except under CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from exchange_site import CHROMIUM, SCALE, Site, break_one_source, environ, free_port, wait_for
from paths import FULL as CATALOG
from paths import IN_CI


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium (apt-get install chromium)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests when Chromium is missing, except in CI where they must run (and fail)."""
    if CHROMIUM or IN_CI:
        return
    skip = pytest.mark.skip(reason="chromium is not installed (Debian: apt-get install chromium); "
                                   "browser tests run wherever it is, and always in CI")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from quancheng.catalog import load_catalog
    from quancheng.demo.run import _world_dict, run_demo
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world
    from servers import webhook

    home = tmp_path_factory.mktemp("exchange")
    catalog = load_catalog(CATALOG)
    seed_world(catalog, home / "world", scale=SCALE, engines="embedded", seed=7)  # type: ignore[arg-type]
    world = _world_dict(load_world(home / "world"))
    system_id, table, column = break_one_source(catalog, world)
    port = free_port()
    server_log = home / "standalone.log"
    server: dict[str, subprocess.Popen[bytes]] = {}
    with webhook() as (hook_url, received), environ(
        QUANCHENG_CATALOG=str(CATALOG),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps({"type": "console"}),
        AIRFLOW__OPENLINEAGE__EXTRACTORS="quancheng_airflow.lineage.SyncTaskExtractor",
        AIRFLOW__CORE__MAX_TASK_RETRY_DELAY="1",  # retries still happen, a second apart
        AIRFLOW_CONN_QUANCHENG_ALERTS=json.dumps({"conn_type": "http", "host": hook_url}),
    ):
        dag_ids = [f"sync__{s.system_id}" for s in catalog.systems] + ["ops__freshness"]
        try:
            result = run_demo(home, dag_ids=dag_ids)
            # what a user does after the demo (`make standalone`), logged in as admin without a password
            env = {**os.environ, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
            server["proc"] = subprocess.Popen(
                [str(Path(sys.executable).parent / "quancheng"), "demo", "standalone", "--dir", str(home),
                 "--port", str(port)], env=env, stdout=server_log.open("wb"), stderr=subprocess.STDOUT,
                start_new_session=True)
            url = f"http://127.0.0.1:{port}"
            wait_for(f"{url}/exchange/api/status", server["proc"], server_log)
            yield Site(home, url, system_id, table, column, result.states, received,
                       home / "airflow" / "demo.log", server_log)
        finally:
            if "proc" in server:
                os.killpg(server["proc"].pid, 15)
                server["proc"].wait(timeout=60)
