"""Every published dataset of a shared store written to local Parquet files, in a child process: how a
test reads back datasets whose Delta tables are on a bucket.

A child for the reason ``tests/publish/s3_child.py`` gives (delta-rs on S3 may abort at interpreter exit):
it prints the dataset ids it wrote as one JSON line and leaves with ``os._exit``, 0 on success, 1 with the
traceback on stderr. The storage and the shared database come from its environment
(``QUANCHENG_STORAGE_URL``, ``AWS_*``, ``QUANCHENG_SHARED_DB``).

Usage: ``python export_child.py HOME OUT``: ``OUT/<dataset id>.parquet`` for each dataset in the registry.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path


def export(home: Path, out: Path) -> list[str]:
    import pyarrow.parquet as pq
    from quancheng.publish.store import SharedStore

    store = SharedStore(home)
    out.mkdir(parents=True, exist_ok=True)
    ids = sorted(str(d["dataset_id"]) for d in store.datasets())
    for ds in ids:
        table = store.read(ds)
        if table is None:
            raise RuntimeError(f"{ds} is in the registry but has no table at {store.location}")
        pq.write_table(table, out / f"{ds}.parquet")
    return ids


if __name__ == "__main__":
    try:
        print(json.dumps(export(Path(sys.argv[1]), Path(sys.argv[2]))), flush=True)
        code = 0
    except BaseException:  # noqa: BLE001 - reported to the parent on stderr
        traceback.print_exc()
        sys.stderr.flush()
        code = 1
    os._exit(code)
