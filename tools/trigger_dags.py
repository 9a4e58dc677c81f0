"""Unpause DAGs and trigger runs straight in the Airflow metadata database of ``$AIRFLOW__DATABASE__...``,
all in one transaction, without the REST API.

Why not the REST API on a SQLite metadata database: its mutating endpoints write an audit-log row in an
``async`` FastAPI dependency with a blocking ``session.commit()`` on the API server's event loop. When a
task's execution-API call (run in a worker thread) holds SQLite's one write lock and waits for that event
loop to commit, the two wait on each other until the busy timeout: the API server freezes, tasks' calls
time out, and the trigger answers 500 (py-spy: ``log_action`` in ``airflow/api_fastapi/logging/
decorators.py`` waiting in ``do_execute`` on the main thread). Triggering from this separate process
writes no audit row and waits for the lock like any other writer. ``quancheng demo cluster --executor
local`` uses it; on PostgreSQL the REST API is used.

Usage: python tools/trigger_dags.py --logical-date ISO [--conf JSON] [--unpause DAG_ID ...] DAG_ID ...
Prints ``{dag_id: run_id}`` of the triggered runs as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--logical-date", required=True, help="ISO datetime: the end of the runs' interval")
    ap.add_argument("--conf", default="{}", help="JSON conf of every run")
    ap.add_argument("--run-prefix", default="demo", help="run ids are PREFIX__LOGICAL_DATE")
    ap.add_argument("--unpause", nargs="*", default=[], help="DAGs only unpaused (e.g. the Asset-scheduled ones)")
    ap.add_argument("dag_ids", nargs="+", help="DAGs unpaused and triggered")
    args = ap.parse_args()

    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import select

    logical_date = datetime.fromisoformat(args.logical_date)
    run_id = f"{args.run_prefix}__{args.logical_date}"
    wanted = set(args.unpause) | set(args.dag_ids)
    with create_session() as session:
        found = {m.dag_id: m for m in session.scalars(select(DagModel).where(DagModel.dag_id.in_(wanted)))}
        missing = sorted(wanted - set(found))
        if missing:
            print(f"not in the metadata database (not parsed yet?): {', '.join(missing)}", file=sys.stderr)
            return 2
        for model in found.values():
            model.is_paused = False
        for dag_id in args.dag_ids:
            trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.CLI, run_id=run_id, logical_date=logical_date,
                        # as the REST API does: the interval is the one ending at the logical date, not now
                        run_after=logical_date, conf=json.loads(args.conf), replace_microseconds=False,
                        session=session)
    print(json.dumps({d: run_id for d in args.dag_ids}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
