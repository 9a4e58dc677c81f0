"""``quancheng serve``: run the data service; manage its clients; read its audit log.

``quancheng serve [--dir HOME] [--host 127.0.0.1] [--port 8000]`` starts the service (uvicorn, one
process) over the home's published datasets; ``serve clients add|revoke|list`` manages the API keys;
``serve audit --since ... [--json]`` prints the calls. Every subcommand takes ``--dir HOME``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

DIR_HELP = "Home folder of the exchange (shared data and database)."


def dir_option(f: Any) -> Any:
    return click.option("--dir", "home", type=click.Path(file_okay=False, path_type=Path), default="work",
                        show_default=True, help=DIR_HELP)(f)


def _engine(home: Path) -> Any:
    from quancheng.errors import QuanchengError
    from quancheng.publish.store import SharedStore

    if not home.is_dir():
        raise QuanchengError(f"no exchange home at {home} (run `make demo`, or pass --dir)")
    return SharedStore(home.resolve()).engine


@click.group(invoke_without_command=True)
@dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--rate-limit", "rate", default=100.0, show_default=True, help="Calls a second per client (burst: 2x).")
@click.option("--warm/--no-warm", default=True, show_default=True,
              help="Read the stage forms, their provenance, conflicts, materials and the enterprise master of every "
                   "area into memory before serving, so no caller waits for a first read.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes sharing the port (each holds its own copies in memory; a client's rate limit "
                   "applies per process).")
@click.pass_context
def serve(ctx: click.Context, home: Path, host: str, port: int, rate: float, warm: bool, workers: int) -> None:
    """Serve the shared datasets, the stage-form prefill and the enterprise master as a JSON API.

    OpenAPI at /openapi.json, interactive docs at /docs. Callers send Authorization: Bearer KEY.
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from quancheng.catalog import load_catalog
    from quancheng.errors import QuanchengError
    from quancheng.serve.app import create_app

    if not (home / "shared").is_dir():
        raise QuanchengError(f"nothing published under {home / 'shared'} (run `make demo` first, or pass --dir)")
    click.echo(f"serving {home.resolve()} on http://{host}:{port} (OpenAPI: /openapi.json, docs: /docs)", err=True)
    if workers > 1:  # each process builds its app from the environment (uvicorn imports it by name)
        import json
        import os

        os.environ[APP_ENV] = json.dumps({"home": str(home.resolve()), "rate": rate, "warm": warm})
        uvicorn.run("quancheng.serve.commands:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", access_log=False)
        return
    app = create_app(home.resolve(), load_catalog(), rate=rate, warm=warm)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


APP_ENV = "QUANCHENG_SERVE_APP"


def app_from_env() -> Any:
    """The app of one ``--workers`` process, configured by the ``serve`` command through :data:`APP_ENV`."""
    import json
    import os

    from quancheng.catalog import load_catalog
    from quancheng.serve.app import create_app

    conf = json.loads(os.environ[APP_ENV])
    return create_app(Path(conf["home"]), load_catalog(), rate=float(conf["rate"]), warm=bool(conf["warm"]))


@serve.group()
def clients() -> None:
    """API keys of the calling departments."""


@clients.command("add")
@click.argument("name")
@click.option("--department", required=True, help="The department (English name, as in systems.csv/grants.csv).")
@dir_option
def add(name: str, department: str, home: Path) -> None:
    """Create a client and print its API key (shown this once; only its hash is stored)."""
    from quancheng.catalog import load_catalog
    from quancheng.serve.clients import ClientStore

    key = ClientStore(_engine(home)).add(name, department, load_catalog())
    click.echo(key)
    click.echo(f"client {name} ({department}) added; keep the key: it cannot be shown again", err=True)


@clients.command("revoke")
@click.argument("name")
@dir_option
def revoke(name: str, home: Path) -> None:
    """Revoke a client's key (calls with it are refused from then on; its audit rows stay)."""
    from quancheng.serve.clients import ClientStore

    ClientStore(_engine(home)).revoke(name)
    click.echo(f"client {name} revoked")


@clients.command("list")
@dir_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per client.")
def list_clients(home: Path, as_json: bool) -> None:
    """Every client: department, key hint, created and revoked times."""
    from quancheng.serve.clients import ClientStore

    for c in ClientStore(_engine(home)).listing():
        if as_json:
            click.echo(json.dumps(c, ensure_ascii=False))
        else:
            state = f"revoked {c['revoked_at']}" if c["revoked_at"] else "active"
            click.echo(f"{c['name']}\t{c['department_en']}\t{c['key_hint']}…\t{state}")


@serve.command()
@dir_option
@click.option("--since", default="24h", show_default=True, help="ISO time (UTC by default) or an age: 15m, 2h, 7d.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per call (or per department).")
@click.option("--by-department", is_flag=True, help="Calls, refusals, errors, rows and p95 latency per department.")
def audit(home: Path, since: str, as_json: bool, by_department: bool) -> None:
    """The calls made to the service since a time: caller, endpoint, dataset, keys, rows, status, latency."""
    from quancheng.serve.audit import parse_since, per_department, read_audit

    calls = read_audit(_engine(home), parse_since(since))
    if by_department:
        for d in per_department(calls):
            click.echo(json.dumps(d, ensure_ascii=False) if as_json else
                       f"{d['department_en']}\tcalls={d['calls']}\trefused={d['refused']}\terrors={d['errors']}\t"
                       f"rows={d['rows']}\tp95={d['p95_ms']} ms")
        return
    for r in calls:
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False))
        else:
            keys = " ".join(f"{k}={v}" for k, v in r["keys"].items())
            click.echo(f"{r['at']}  {r['status']}  {r['client']} ({r['department_en']})  {r['method']} {r['path']}  "
                       f"rows={r['rows']}  {r['latency_ms']:.1f} ms  {keys}  {r['error']}".rstrip())
