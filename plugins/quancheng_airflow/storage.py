"""Where a task keeps staging and the shared datasets: the Airflow connection ``quancheng_storage``.

Every DAG's tasks run :func:`use_storage_connection` before they execute (``pre_execute`` in their default
arguments). With the connection, an ``aws`` connection whose extra holds ``base_url``
(``s3://bucket/prefix``) beside the usual ``endpoint_url`` / ``region_name`` and whose login and password
are the access key id and secret, the task's process is pointed at that bucket
(:func:`quancheng.objectstore.storage_env`); without it the task keeps the environment's storage
(``$QUANCHENG_STORAGE_URL``, else the local folder). The credentials live in Airflow's connection store
(or its secrets backend), never in the repository. A connection that cannot be used fails the task before
it starts, naming the connection: a task that silently fell back to its local disk would hide its output
from the other workers.
"""

from __future__ import annotations

import os
from typing import Any

STORAGE_CONN_ID = "quancheng_storage"
AWS_NAMES = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_SESSION_TOKEN")


def use_storage_connection(context: Any = None, conn_id: str = STORAGE_CONN_ID) -> str | None:
    """Point this task process at the connection's storage; its base URL, or None without the connection."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from quancheng.errors import QuanchengError
    from quancheng.objectstore import storage_env, storage_from_connection

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    extra = conn.extra_dejson
    base = extra.get("base_url")
    if not base:
        raise QuanchengError(f"Airflow connection {conn_id!r} has no base_url in its extra (fix: add "
                             f'"base_url": "s3://bucket/prefix", or delete the connection to use the local folder)')
    storage = storage_from_connection(extra, base=str(base), login=conn.login, password=conn.password)
    for name in AWS_NAMES:  # only what the connection says: no endpoint or key left from the worker's environment
        os.environ.pop(name, None)
    os.environ.update(storage_env(storage))
    return storage.base
