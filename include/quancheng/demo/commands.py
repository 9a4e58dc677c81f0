"""``quancheng demo``: seed the demo world, change it, run it through Airflow, open the UI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

DIR_OPTION = click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
                          show_default=True, help="Demo folder: world, Airflow home, staging and shared data.")



def world_options(f: Any) -> Any:
    """--scale, --engines, --seed, --db-prefix and --yes: what world to seed (shared by ``run`` and ``seed``)."""
    f = click.option("--yes", "assume_yes", is_flag=True,
                     help="With --engines services: drop, without asking, the databases an earlier seed of this "
                          "folder created.")(f)
    f = click.option("--db-prefix", default="qc_", show_default=True,
                     help="With --engines services: each PostgreSQL or MariaDB system's database is "
                          "PREFIX<system_id>.")(f)
    f = click.option("--seed", default=7, show_default=True,
                     help="Random seed: the same seed gives the same world.")(f)
    f = click.option("--engines", type=click.Choice(["embedded", "services"]), default="embedded",
                     show_default=True,
                     help="embedded: SQLite, file drops and a local API; services: PostgreSQL and MariaDB too.")(f)
    return click.option("--scale", default=200, show_default=True, type=click.IntRange(min=1),
                        help="Size of the world: a form gets about 0.74 x SCALE rows "
                             "(10 M rows in all: --scale 136000).")(f)


@click.group()
def demo() -> None:
    """Seed, change and run the demo world of departmental systems."""


@demo.command()
@DIR_OPTION
@world_options
@click.option("--reseed", is_flag=True, help="Seed again even if the folder already has a world.")
@click.option("--only", multiple=True, metavar="SYSTEM_ID", help="Run only these systems (repeatable).")
@click.option("--days", default=0, show_default=True, type=click.IntRange(0, 365),
              help="After the intervals not yet run, apply this many days of changes (demo advance), "
                   "running each day's interval after it.")
@click.option("--fraction", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="With --days: share of rows inserted, updated or deleted each day.")
def run(home: Path, scale: int, engines: str, seed: int, db_prefix: str, assume_yes: bool, reseed: bool,
        only: tuple[str, ...], days: int, fraction: float) -> int:
    """Seed the systems, run every sync DAG through Airflow, and print what each published.

    Each interval not yet run is run in order: the seeded interval first (a full refresh), then each day of
    changes `demo advance` applied since; with nothing new, the last interval is run again. Exits non-zero
    if any DAG failed.
    """
    from quancheng.catalog import load_catalog
    from quancheng.demo.report import print_summary
    from quancheng.demo.run import run_demo
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    replace = False
    if reseed or not (home / "world" / "world.json").exists():
        replace = confirm_drops(load_catalog(), home, engines, db_prefix, assume_yes)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        seeding = progress.add_task("seeding systems", total=None)
        running = progress.add_task("starting Airflow", total=None)

        def on_seed(label: str, done: int, total: int) -> None:
            progress.update(seeding, description=f"seeding {label}", completed=done, total=total)

        def on_event(e: dict[str, Any]) -> None:
            ev = e.get("event")
            if ev == "imported":
                progress.update(running, description=f"Airflow imported ({e['seconds']} s)")
            elif ev == "parsed":
                progress.update(running, total=len(e["dags"]), completed=0, description="running DAGs")
            elif ev == "start":
                progress.update(running, description=f"running {e['dag_id']}")
            elif ev == "interval":
                progress.update(running, description=f"interval {e['label']} (to {e['end']})")
            elif ev == "advanced":
                console.print(f"advanced a day ({e['start']} → {e['end']}): {e['inserts']} inserts, "
                              f"{e['updates']} updates, {e['deletes']} deletes")
            elif ev == "end":
                progress.update(running, completed=e["index"])
                if e["state"] != "success":
                    console.print(f"[red]✗ {e['dag_id']}: {e['state']}[/red]")

        result = run_demo(home, scale=scale, engines=engines, seed=seed, reseed=reseed,
                          dag_ids=[f"sync__{s}" for s in only] or None, on_event=on_event, on_seed=on_seed,
                          days=days, fraction=fraction, db_prefix=db_prefix, replace_databases=replace)
        progress.update(seeding, description="seeded", completed=1, total=1)
    print_summary(home.resolve(), result)
    return 1 if result.failed else 0


@demo.command()
@DIR_OPTION
@world_options
def seed(home: Path, scale: int, engines: str, seed: int, db_prefix: str, assume_yes: bool) -> None:
    """Generate every system's native tables (with dirt and its manifest) into DIR/world.

    With --engines services, the PostgreSQL and MariaDB systems get databases PREFIX<system_id> on the local
    servers. Seeding again drops only the databases this folder's earlier seed created (recorded in
    world.json), after asking (or with --yes); an existing database it did not create stops the seed.
    """
    from quancheng.catalog import load_catalog
    from quancheng.demo.seed import seed_world
    from rich.progress import Progress

    catalog = load_catalog()
    replace = confirm_drops(catalog, home, engines, db_prefix, assume_yes)
    with Progress() as progress:
        task = progress.add_task("seeding", total=None)

        def on_seed(label: str, done: int, total: int) -> None:
            progress.update(task, description=f"seeding {label}", completed=done, total=total)

        seed_world(catalog, home / "world", scale=scale, engines=engines, seed=seed,  # type: ignore[arg-type]
                   progress=on_seed, db_prefix=db_prefix, replace_databases=replace)
    click.echo(f"world written to {home / 'world'}")


def confirm_drops(catalog: Any, home: Path, engines: str, db_prefix: str, assume_yes: bool) -> bool:
    """Say which databases seeding would drop and get a yes (``--yes``, or the user on a terminal)."""
    from quancheng.demo.seed import databases_to_drop, service_databases

    existing = databases_to_drop(home.resolve() / "world", service_databases(catalog, engines, db_prefix))  # type: ignore[arg-type]
    if not existing:
        return False
    names = ", ".join(f"{d['engine']} {d['name']}" for d in existing)
    click.echo(f"seeding again drops {len(existing)} database(s) this folder's earlier seed created: {names}",
               err=True)
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise click.UsageError("refusing to drop databases without a confirmation: add --yes")
    if not click.confirm("drop them?", default=False):
        raise click.Abort
    return True


@demo.command()
@DIR_OPTION
@click.option("--seed", default=8, show_default=True, help="Random seed for the changes.")
@click.option("--fraction", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Share of rows inserted, updated or deleted, in (0, 1].")
def advance(home: Path, seed: int, fraction: float) -> None:
    """Apply inserts, updates and deletes to the sources, as a day of work would."""
    import json

    from quancheng.demo.advance import advance_world

    click.echo(json.dumps(advance_world(home / "world", seed=seed, fraction=fraction), ensure_ascii=False, indent=2))


@demo.command()
@DIR_OPTION
@click.option("--port", default=8080, show_default=True, help="Port of Airflow's API server and UI.")
def standalone(home: Path, port: int) -> None:
    """Start `airflow standalone` (scheduler, API server, UI) over the demo folder."""
    from quancheng.demo.run import REPO, _world_dict, airflow_env, served_world
    from quancheng.demo.world import load_world
    from quancheng.errors import QuanchengError

    home = home.resolve()
    world = _world_dict(load_world(home / "world"))
    with served_world(home / "world", world) as uris:
        env = airflow_env(home, world, uris)
        env["AIRFLOW__API__PORT"] = str(port)
        click.echo(f"Airflow UI on http://127.0.0.1:{port} (login shown in the log below); Ctrl-C stops it")
        bin_dir = Path(sys.executable).parent
        # standalone starts its scheduler, API server ... as `airflow <command>` found on PATH: this venv's
        env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
        # the pools and variables of airflow_settings.yaml, as `astro dev object import` would load them
        loaded = subprocess.run([sys.executable, str(REPO / "tools" / "load_settings.py"), "--migrate",
                                 "--home", str(home)], env=env, capture_output=True, text=True, check=False)
        if loaded.returncode:
            raise QuanchengError(f"loading airflow_settings.yaml into {env['AIRFLOW_HOME']} failed: "
                                 f"{(loaded.stderr.strip().splitlines() or ['no output'])[-1]}")
        subprocess.run([str(bin_dir / "airflow"), "standalone"], env=env, check=False)


@demo.command()
@DIR_OPTION
@click.option("--executor", type=click.Choice(["celery", "local"]), default="celery", show_default=True,
              help="celery: Redis, PostgreSQL and N workers; local: the scheduler runs the tasks itself "
                   "(LocalExecutor, SQLite metadata database under DIR/cluster/airflow, no servers needed).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Celery workers to start, each in its own folder (celery only).")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Tasks each worker runs at once (celery only).")
@click.option("--parallelism", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Tasks the scheduler runs at once (local only).")
@click.option("--port", default=8080, show_default=True, help="Port of Airflow's API server and UI.")
@click.option("--only", multiple=True, metavar="SYSTEM_ID", help="Sync only these systems (repeatable).")
@click.option("--timeout", default=3600, show_default=True, type=click.IntRange(60),
              help="Seconds to wait for the syncs and consolidation.")
@click.option("--object-store", is_flag=True,
              help="Shared-nothing (celery only): start SeaweedFS (from its pip package) with its data under "
                   "DIR/cluster/seaweed and give each worker its own empty folder; datasets, staging, snapshot "
                   "state and GX results go to its bucket (the Airflow connection quancheng_storage), the shared "
                   "SQL database is PostgreSQL ($QUANCHENG_SHARED_DB, default a database of this folder's own "
                   "on the local server).")
@click.option("--keep-running", is_flag=True, help="After the run, keep the cluster up until Ctrl-C.")
def cluster(home: Path, executor: str, workers: int, concurrency: int, parallelism: int, port: int,
            only: tuple[str, ...], timeout: int, object_store: bool, keep_running: bool) -> int:
    """Run the demo on a real Airflow scheduler: scheduler, DAG processor, API server (and N workers).

    With the CeleryExecutor (the default) Redis is the broker, PostgreSQL the metadata database and result
    backend (QUANCHENG_CLUSTER_BROKER, QUANCHENG_CLUSTER_DB; default the local servers); with --executor
    local the scheduler runs up to --parallelism tasks itself on a SQLite metadata database. Seeds the
    world first if DIR has none, triggers every system's sync at once for the seeded interval, waits for
    sharing and consolidation, and prints which worker ran what and how many syncs overlapped. Logs under
    DIR/cluster/logs.
    """
    import json
    from datetime import datetime

    import sqlalchemy as sa
    from quancheng.catalog import load_catalog
    from quancheng.demo.cluster import DEFAULT_QUEUE, ClusterSpec, object_store_services, running_cluster
    from quancheng.demo.cluster_run import sync_everything
    from quancheng.demo.run import REPO, _ceil_to_day, _world_dict, airflow_env, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.demo.world import load_world
    from quancheng.errors import QuanchengError

    home = home.resolve()
    catalog = load_catalog()
    unknown = sorted(set(only) - {s.system_id for s in catalog.systems})
    if unknown:
        raise click.BadParameter(f"not in the catalog: {', '.join(unknown)}", param_hint="--only")
    if not (home / "world" / "world.json").exists():
        click.echo(f"seeding the demo world into {home / 'world'}")
        seed_world(catalog, home / "world")
    world = _world_dict(load_world(home / "world"))
    systems = [s.system_id for s in catalog.systems if not only or s.system_id in only]
    queues = tuple(sorted({DEFAULT_QUEUE, *(s.queue for s in catalog.systems)}))
    if object_store and executor == "local":
        raise click.BadParameter("needs --executor celery (workers with folders of their own)",
                                 param_hint="--object-store")
    spec = ClusterSpec(home, workers=workers, concurrency=concurrency, port=port, queues=queues,
                       executor="local" if executor == "local" else "celery", parallelism=parallelism,
                       own_homes=object_store)
    end = _ceil_to_day(datetime.fromisoformat(world["interval"]["end"])).isoformat()
    with served_world(home / "world", world) as uris, object_store_services(spec, enabled=object_store) as shared, \
            running_cluster(spec, {**airflow_env(home, world, uris), **shared}, REPO) as c:
        runs_on = (f"LocalExecutor, {parallelism} task(s) at once" if spec.executor == "local"
                   else f"{workers} worker(s) on queues {', '.join(queues)}")
        click.echo(f"cluster up: {runs_on}; "
                   f"UI http://127.0.0.1:{port} (admin password in {spec.folder / 'airflow'})")
        if object_store:
            click.echo(f"shared-nothing: workers in {spec.folder}/worker*/home; bucket "
                       f"{json.loads(shared['AIRFLOW_CONN_QUANCHENG_STORAGE'])['extra']['base_url']} (SeaweedFS, "
                       f"data in {spec.folder / 'seaweed'}); shared database "
                       f"{sa.make_url(shared['QUANCHENG_SHARED_DB']).render_as_string(hide_password=True)}")
        run = sync_everything(c, systems, end, timeout=timeout,
                              on_event=lambda e: click.echo(f"triggered {len(e['dags'])} sync DAG(s)"))
        for dag_id, state in sorted(run.states.items()):
            click.echo(f"  {dag_id:<45} {state}")
        for dag_id, states in run.downstream.items():
            click.echo(f"  {dag_id:<45} {', '.join(states) or 'did not run'}")
        overlap = run.overlap()
        click.echo("tasks per worker: " + ", ".join(f"{w} {n}" for w, n in sorted(run.workers().items())) +
                   f"; at most {overlap['runs']} sync run(s) and {overlap['tasks']} sync task(s) at once; "
                   f"{run.seconds:.0f} s")
        if keep_running:
            click.echo("cluster running; Ctrl-C stops it")
            try:
                while True:
                    c.check_alive()
                    time.sleep(5)
            except KeyboardInterrupt:
                pass
    if run.failed:
        raise QuanchengError(f"{len(run.failed)} DAG(s) did not succeed: {', '.join(run.failed)}; "
                             f"task logs under {spec.folder / 'logs'}")
    return 0
