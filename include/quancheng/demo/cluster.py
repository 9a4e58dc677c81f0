"""The demo on a real Airflow scheduler: the CeleryExecutor with N workers, or the LocalExecutor.

What a city runs when ``dag.test`` in one process is not enough, here as local processes so it can be
tried and tested on one machine. Both executors share the components and their management: scheduler,
DAG processor and API server (Airflow 3's tasks report to its execution API), each an ``airflow``
command in a child process with its log under ``<home>/cluster/logs``; the DAGs, ``airflow_settings.yaml``
and the catalog are the same as for the embedded demo.

- **celery**: Redis is the Celery broker, PostgreSQL the Airflow metadata database and the Celery result
  backend. Each worker subscribes to queues (the catalog's ``queue`` column routes a heavy system's tasks
  to a queue of its own) and runs in its own working folder with its own name, which Airflow records as
  the task instance's hostname.
- **local**: the scheduler runs the tasks itself (LocalExecutor, up to ``parallelism`` at once) and the
  metadata database is SQLite under ``<home>/cluster/airflow`` (what ``airflow standalone`` runs); no
  server is needed beyond this machine. Queues are ignored.

Shared-nothing (``own_homes``, what ``quancheng demo cluster --object-store`` runs): each worker has its own
empty ``QUANCHENG_HOME`` and the only shared state is PostgreSQL (Airflow's metadata and the shared SQL
database), Redis and a bucket (SeaweedFS, :mod:`quancheng.demo.seaweed`), which the tasks reach through the
Airflow connection ``quancheng_storage`` (:func:`shared_nothing_env`): datasets, staging, snapshot state and
GX results live there (:mod:`quancheng.bucket`), so the workers could be on different hosts. Without it the
workers share the demo folder's ``QUANCHENG_HOME`` (one host).

Service addresses come from the environment (``QUANCHENG_CLUSTER_DB``, ``QUANCHENG_CLUSTER_BROKER``),
defaulting to the local PostgreSQL and Redis with no password; nothing secret is written to the repo.
The JWT secret the components share is generated per demo folder under ``<home>/.secrets``.
This module never imports Airflow: every component is an ``airflow`` command in a child process.
Triggering every sync at once and reading what ran is :mod:`quancheng.demo.cluster_run`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from quancheng.errors import QuanchengError
from quancheng.sharing.tokenize import CONN_ENV, KEY_ENV

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/quancheng_airflow"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_SHARED_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"  # the shared database's, with --object-store
DEMO_BUCKET = "quancheng-exchange"
DB_ENV, BROKER_ENV = "QUANCHENG_CLUSTER_DB", "QUANCHENG_CLUSTER_BROKER"
DEFAULT_QUEUE = "default"
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"  # written by the API server at its first start
Executor = Literal["celery", "local"]


@dataclass(frozen=True)
class ClusterSpec:
    """Where the cluster keeps its state, which executor runs the tasks, and how many at once.

    ``workers`` and ``concurrency`` (tasks per worker) are the CeleryExecutor's; ``parallelism`` is the
    LocalExecutor's (tasks the scheduler runs at once). ``metadata_url`` defaults to the PostgreSQL of
    ``QUANCHENG_CLUSTER_DB`` for celery and to SQLite under the cluster folder for local. ``own_homes``: each
    worker gets its own ``QUANCHENG_HOME`` (``<cluster>/<worker>/home``), for storage on a bucket."""

    home: Path
    workers: int = 2
    concurrency: int = 1
    port: int = 8080
    metadata_url: str = ""
    broker_url: str = field(default_factory=lambda: os.environ.get(BROKER_ENV, DEFAULT_BROKER))
    queues: tuple[str, ...] = (DEFAULT_QUEUE,)
    heartbeat_timeout: int = 120
    executor: Executor = "celery"
    parallelism: int = 16
    own_homes: bool = False

    def __post_init__(self) -> None:
        if not self.metadata_url:
            url = (f"sqlite:///{self.folder.resolve() / 'airflow' / 'airflow.db'}" if self.executor == "local"
                   else os.environ.get(DB_ENV, DEFAULT_DB))
            object.__setattr__(self, "metadata_url", url)

    @property
    def key_prefix(self) -> str:
        """This deployment's prefix for its Redis keys (one per demo folder)."""
        import hashlib

        return "qc" + hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:10]

    @property
    def folder(self) -> Path:
        return self.home / "cluster"

    def worker_name(self, i: int) -> str:
        return f"worker{i}"

    def worker_home(self, i: int) -> Path:
        """Worker ``i``'s own ``QUANCHENG_HOME`` (with ``own_homes``)."""
        return self.folder / self.worker_name(i) / "home"


def cluster_env(base: dict[str, str], spec: ClusterSpec) -> dict[str, str]:
    """The demo's Airflow environment turned into this deployment's (its executor, metadata database ...)."""
    env = dict(base)
    env.update({
        "AIRFLOW_HOME": str(spec.folder / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": spec.metadata_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{spec.port}/execution/",
        "AIRFLOW__API__PORT": str(spec.port),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(spec.home, "cluster_jwt"),
        "AIRFLOW__API__SECRET_KEY": _secret(spec.home, "cluster_api"),
        "AIRFLOW__API__EXPOSE_STACKTRACE": "True",  # a local demo: an API error names its cause to the caller
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(spec.folder / "logs" / "tasks"),
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "3600",  # the DAG folder does not change in a demo
        # a worker that dies is noticed within this many seconds and its task retried on another
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(spec.heartbeat_timeout),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), base.get("PATH", "")]),
    })
    if not ({KEY_ENV, CONN_ENV} & set(base)):
        # one key for the deployment, as a city keeps it in Airflow's connection store (generated per demo
        # folder, never in the repository): workers with folders of their own have no shared demo key file, and
        # with PostgreSQL as the shared database the key is required
        env[CONN_ENV] = json.dumps({"conn_type": "generic", "password": _secret(spec.home, "tokenization_key")})
    if spec.executor == "local":
        from quancheng.demo.run import SQLITE_CONNECT_ARGS_OPTION

        env.update({
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(spec.parallelism),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": SQLITE_CONNECT_ARGS_OPTION,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": SQLITE_CONNECT_ARGS_OPTION,
        })
        return env
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
        env.pop(key, None)  # SQLite's (a busy timeout): psycopg knows no such option
    backend = spec.metadata_url if spec.metadata_url.startswith("db+") else "db+" + spec.metadata_url
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        # psycopg 3 is async too: without this Airflow derives an asyncpg URL, a driver we do not install
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": spec.metadata_url,
        "AIRFLOW__CELERY__BROKER_URL": spec.broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(spec.concurrency),
        # several clusters may share one Redis (a test beside a demo): each keeps its queues under its own prefix
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"{spec.key_prefix}:",
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",  # longer than any sync task
    })
    return env


def _secret(home: Path, name: str) -> str:
    path = home / ".secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_database(url: str, what: str = "the cluster's metadata database") -> None:
    """Create ``what`` on its PostgreSQL server if it is missing (the server must be up)."""
    u = sa.make_url(url)
    if not u.drivername.startswith("postgresql"):
        return
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as c:
            if not c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": u.database}).first():
                c.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    except sa.exc.OperationalError as exc:
        raise QuanchengError(f"{what} at {u.render_as_string(hide_password=True)} "
                             f"is not reachable: {str(exc.orig).strip().splitlines()[0]}") from None
    finally:
        admin.dispose()


def prepare(spec: ClusterSpec, env: dict[str, str], repo: Path) -> None:
    """Migrate the metadata database and load ``airflow_settings.yaml`` (pools, variables) into it."""
    ensure_database(spec.metadata_url)
    (spec.folder / "logs").mkdir(parents=True, exist_ok=True)
    (spec.folder / "airflow").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, str(repo / "tools" / "load_settings.py"), "--migrate",
                           "--home", str(spec.home)], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise QuanchengError("preparing the cluster's metadata database failed: "
                             f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")


@dataclass
class Cluster:
    """The running components, their logs, and the metadata database to ask about runs."""

    spec: ClusterSpec
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str | None = None

    def start(self, name: str, args: list[str], *, cwd: Path | None = None,
              extra_env: dict[str, str] | None = None) -> None:
        log = (self.spec.folder / "logs" / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), *args], env={**self.env, **(extra_env or {})},
            cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise QuanchengError("cluster component(s) stopped: " + ", ".join(
                f"{n} (exit {rc}; see {self.spec.folder / 'logs' / (n + '.log')})" for n, rc in dead.items()))

    def stop(self, name: str | None = None, sig: int = signal.SIGTERM) -> None:
        for n, p in list(self.procs.items()):
            if name in (None, n) and p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, sig)
        for n, p in list(self.procs.items()):
            if name in (None, n):
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
                    p.wait()

    def kill(self, name: str) -> None:
        """Kill a component and everything it started at once (SIGKILL), as a host that dies would."""
        p = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
        """The current state of one task instance (its latest try)."""
        return next((t for t in self.task_hosts() if (t["dag_id"], t["run_id"], t["task_id"]) ==
                     (dag_id, run_id, task_id)), None)

    def wait_healthy(self, timeout: float = 180) -> None:
        """Until the API server answers its health check (the workers' tasks talk to it)."""
        url = f"http://127.0.0.1:{self.spec.port}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
            time.sleep(1)
        raise QuanchengError(f"the cluster's API server did not answer {url} within {timeout:.0f} s")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A call to Airflow's REST API as the demo's admin (its password is the one Airflow generated)."""
        if self._token is None:
            passwords = json.loads((self.spec.folder / "airflow" / PASSWORD_FILE).read_text())
            login = _http("POST", self._url("/auth/token"), {"username": "admin", "password": passwords["admin"]})
            self._token = str(login["access_token"])
        return _http(method, self._url(path), body, token=self._token)

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.spec.port}{path}"

    def wait_dags(self, dag_ids: list[str], timeout: float = 300) -> None:
        """Until the DAG processor has parsed and stored every DAG in ``dag_ids``."""
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while missing:
            self.check_alive()
            known = {d["dag_id"] for d in self.api("GET", "/api/v2/dags?limit=1000")["dags"]}
            missing -= known
            if missing and time.monotonic() > deadline:
                raise QuanchengError(f"the DAG processor has not parsed {sorted(missing)[:5]} "
                                     f"after {timeout:.0f} s; see {self.spec.folder / 'logs' / 'dag-processor.log'}")
            if missing:
                time.sleep(2)

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str, conf: dict[str, Any], run_id: str | None = None) -> str:
        """Unpause and trigger a DAG for the interval ending at ``logical_date``; the run id. An interval that
        already ran (in an earlier start of this cluster: Airflow keeps one run per logical date) is run again
        by clearing that run, Airflow's own rerun; it keeps the conf it was triggered with."""
        self.unpause(dag_id)
        ran = self.query("SELECT run_id FROM dag_run WHERE dag_id = :d AND logical_date = :t",
                         {"d": dag_id, "t": datetime.fromisoformat(logical_date)})
        if ran and run_id is None:
            earlier = str(ran[0]["run_id"])
            self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns/{earlier}/clear", {"dry_run": False})
            return earlier
        run_id = run_id or f"{run_prefix()}__{logical_date}"
        self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                 {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf})
        return run_id

    def trigger_all(self, dag_ids: list[str], logical_date: str, conf: dict[str, Any], *,
                    unpause: tuple[str, ...] = ()) -> dict[str, str]:
        """Unpause ``unpause`` and trigger every one of ``dag_ids`` for the interval ending at ``logical_date``;
        ``{dag_id: run_id}``. On a SQLite metadata database all in one transaction from a separate process
        (``tools/trigger_dags.py``, which says why the REST API deadlocks there); else through the REST API."""
        if not self.spec.metadata_url.startswith("sqlite"):
            for d in unpause:
                self.unpause(d)
            return {d: self.trigger(d, logical_date, conf) for d in dag_ids}
        from quancheng.demo.run import REPO

        done = subprocess.run([sys.executable, str(REPO / "tools" / "trigger_dags.py"), "--logical-date", logical_date,
                               "--conf", json.dumps(conf), "--run-prefix", run_prefix(), "--unpause", *unpause, "--",
                               *dag_ids],
                              env=self.env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise QuanchengError("triggering the DAGs failed: "
                                 f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")
        return {str(k): str(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a query on the cluster's metadata database (Airflow's own tables)."""
        # on SQLite a reader waits out a writer's commit instead of failing with "database is locked"
        args = {"timeout": 60} if self.spec.metadata_url.startswith("sqlite") else {}
        eng = sa.create_engine(self.spec.metadata_url, poolclass=sa.pool.NullPool, connect_args=args)
        try:
            with eng.connect() as c:
                return [dict(r) for r in c.execute(sa.text(sql), params or {}).mappings()]
        finally:
            eng.dispose()

    def run_states(self, runs: dict[str, str]) -> dict[str, str]:
        """The state of each ``{dag_id: run_id}``."""
        rows = self.query("SELECT dag_id, run_id, state FROM dag_run")
        found = {(r["dag_id"], r["run_id"]): r["state"] for r in rows}
        return {d: str(found.get((d, r), "missing")) for d, r in runs.items()}

    def wait_runs(self, runs: dict[str, str], timeout: float) -> dict[str, str]:
        """Until every run has finished (or ``timeout``); the final states."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.run_states(runs)
            if all(s in ("success", "failed") for s in states.values()) or time.monotonic() > deadline:
                return states
            self.check_alive()
            time.sleep(2)

    def wait_downstream(self, dag_ids: tuple[str, ...], timeout: float) -> dict[str, list[str]]:
        """Until each Asset-scheduled DAG has run and none has a run still going; the states of their runs."""
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            rows = [(r["dag_id"], r["state"]) for r in self.query("SELECT dag_id, state FROM dag_run")]
            states = {d: [str(s) for dd, s in rows if dd == d] for d in dag_ids}
            busy = any(str(s) not in TERMINAL for _, s in rows)
            if (not busy and all(states.values())) or time.monotonic() > deadline:
                return states
            self.check_alive()
            time.sleep(3)

    def task_hosts(self) -> list[dict[str, Any]]:
        """Which worker ran each task instance (Airflow records the worker's name as the hostname), and when."""
        return self.query("SELECT dag_id, run_id, task_id, try_number, state, hostname, queue, start_date, "
                          "end_date FROM task_instance ORDER BY dag_id, task_id")


@contextlib.contextmanager
def running_cluster(spec: ClusterSpec, env: dict[str, str], repo: Path) -> Iterator[Cluster]:
    """Start every component, wait for the API server, and stop them all on the way out."""
    env = cluster_env(env, spec)
    prepare(spec, env, repo)
    cluster = Cluster(spec, env)
    try:
        cluster.start("api-server", ["api-server", "--port", str(spec.port)])
        cluster.start("scheduler", ["scheduler"])
        cluster.start("dag-processor", ["dag-processor"])
        for i in range(1, spec.workers + 1 if spec.executor == "celery" else 1):
            start_worker(cluster, i)
        cluster.wait_healthy()
        yield cluster
    finally:
        cluster.stop()


def start_worker(cluster: Cluster, i: int) -> None:
    """Worker ``i``: its own working folder and name, subscribed to every queue of the catalog."""
    spec = cluster.spec
    name = spec.worker_name(i)
    folder = spec.folder / name
    folder.mkdir(parents=True, exist_ok=True)
    own = {"QUANCHENG_HOME": str(spec.worker_home(i))} if spec.own_homes else {}
    cluster.start(name, ["celery", "worker", "--concurrency", str(spec.concurrency), "--queues",
                         ",".join(spec.queues), "--celery-hostname", f"{name}@{socket.gethostname()}"],
                  cwd=folder, extra_env={"QUANCHENG_WORKER": name, "HOSTNAME": name, **own,
                                         "AIRFLOW__CORE__HOSTNAME_CALLABLE": "quancheng.demo.cluster.worker_hostname"})


@contextlib.contextmanager
def object_store_services(spec: ClusterSpec, *, enabled: bool = True) -> Iterator[dict[str, str]]:
    """For a shared-nothing demo: SeaweedFS running with its data under ``<cluster>/seaweed`` (kept for the
    next start) and the shared SQL database on PostgreSQL (``$QUANCHENG_SHARED_DB``, else a database of this
    demo folder's own on the local server, created if missing); yields :func:`shared_nothing_env`. Yields
    nothing to add when not ``enabled``."""
    if not enabled:
        yield {}
        return
    from quancheng.demo.seaweed import running_seaweed

    shared = os.environ.get("QUANCHENG_SHARED_DB") or f"{DEFAULT_SHARED_SERVER}/quancheng_shared_{spec.key_prefix}"
    ensure_database(shared, "the shared SQL database")
    with running_seaweed(DEMO_BUCKET, spec.folder / "seaweed") as s3:
        yield shared_nothing_env(s3.endpoint, s3.bucket, shared)


def shared_nothing_env(endpoint: str, bucket: str, shared_db: str, prefix: str = "exchange") -> dict[str, str]:
    """What every component needs when workers share nothing but the services: the Airflow connection
    ``quancheng_storage`` to ``s3://<bucket>/<prefix>`` (anonymous, as the demo's SeaweedFS allows; a city
    stores its keys as the connection's login and password, in Airflow's connection store) and the shared SQL
    database. Refused unless the database is PostgreSQL: a SQLite file is one host's."""
    if not shared_db.startswith(("postgresql", "postgres")):
        raise QuanchengError(f"workers that share no disk need a shared SQL database on a server, not {shared_db!r} "
                             f"(fix: set QUANCHENG_SHARED_DB=postgresql://...)")
    conn = {"conn_type": "aws", "extra": {"base_url": f"s3://{bucket}/{prefix}", "endpoint_url": endpoint}}
    return {"AIRFLOW_CONN_QUANCHENG_STORAGE": json.dumps(conn), "QUANCHENG_SHARED_DB": shared_db}


def run_prefix() -> str:
    """The prefix of the run ids a demo triggers: the time of the trigger, so the same interval can run again in a
    later start of the cluster (its metadata database keeps the earlier runs, and a run id is unique per DAG)."""
    return f"demo_{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def worker_hostname() -> str:
    """What Airflow records as the hostname of a task's worker: the demo worker's name, else the host's."""
    return os.environ.get("QUANCHENG_WORKER") or socket.getfqdn()


def _http(method: str, url: str, body: dict[str, Any] | None = None, *, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise QuanchengError(f"Airflow API {method} {url} answered {exc.code}: {detail}") from None


TERMINAL = ("success", "failed")
