"""Load ``airflow_settings.yaml`` into the Airflow metadata database of ``$AIRFLOW_HOME``.

What ``astro dev object import`` does for an Astro project, for the demo's own Airflow: every declared
pool, variable and connection is created or updated (nothing else is touched). ``tools/run_dags.py``
calls :func:`apply_settings` after migrating the database; ``quancheng demo standalone`` runs this
script (with ``--migrate``) before ``airflow standalone``.

Usage: python tools/load_settings.py [--migrate] [--home DEMO_HOME] [FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def apply_settings(path: Path | None = None, home: Path | None = None) -> dict[str, list[str]]:
    """Create or update the file's pools, variables and connections; the names of each written."""
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from quancheng.airflow_settings import SETTINGS_FILE, load_settings

    settings = load_settings(path or SETTINGS_FILE)
    home = home or Path(os.environ.get("QUANCHENG_HOME", "work")).resolve()
    uris = settings.connection_uris(home)
    with create_session() as session:
        for pool in settings.pools:
            Pool.create_or_update_pool(pool.name, pool.slots, pool.description, include_deferred=False,
                                       session=session)
        for key, value in settings.variables.items():
            Variable.set(key, value, session=session)
        for c in settings.connections:
            conn = _connection(c, uris.get(c["conn_id"]))
            session.query(Connection).filter(Connection.conn_id == conn.conn_id).delete()
            session.add(conn)
    return {"pools": [p.name for p in settings.pools], "variables": sorted(settings.variables),
            "connections": [c["conn_id"] for c in settings.connections]}


def _connection(c: dict[str, Any], uri: str | None) -> Any:
    from airflow.models.connection import Connection

    if uri:
        return Connection(conn_id=c["conn_id"], uri=uri)
    extra = c.get("conn_extra")
    return Connection(conn_id=c["conn_id"], conn_type=c["conn_type"], host=c.get("conn_host"),
                      schema=c.get("conn_schema"), login=c.get("conn_login"), password=c.get("conn_password"),
                      port=c.get("conn_port"), extra=json.dumps(extra) if isinstance(extra, dict) else extra)


def use_wal() -> None:
    """On a SQLite metadata database, switch to write-ahead logging (it stays set in the file): readers
    (the API server answering the UI and the tasks) no longer block the scheduler's writes, nor it them."""
    import sqlite3

    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60)) as db:
            db.execute("PRAGMA journal_mode=WAL")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path, default=None, help="settings file (default: the repository's)")
    ap.add_argument("--home", type=Path, default=None, help="demo folder that fills {home} in connection URIs")
    ap.add_argument("--migrate", action="store_true", help="create or upgrade the metadata database first")
    args = ap.parse_args()
    if args.migrate:
        from airflow.utils.db import upgradedb

        upgradedb()
        use_wal()
    print(json.dumps(apply_settings(args.file, args.home)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
