"""Delta work on an S3 bucket, run as a child process by ``test_objectstore``; prints one JSON line.

Why a child: a process that used delta-rs on S3 has been seen to abort at interpreter exit ("terminate called
without an active exception", from native threads torn down during finalization), which would fail or kill
the pytest process. So the pytest process never touches S3 through delta-rs: each child prints its result,
flushes, and leaves with ``os._exit`` (no interpreter finalization), 0 when the work succeeded, 1 with the
traceback on stderr when it did not.

Usage: ``python s3_child.py '<json>'`` where the JSON has ``command`` (``lifecycle``, ``write`` or
``inspect``), ``uri``, ``storage_options`` and the command's arguments.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

SCHEMA = pa.schema([("_source_key", pa.string()), ("project_name", pa.string()),
                    ("total_investment", pa.int64()), ("start_date", pa.date32())])
META = {"project_name": {"name_zh": "项目名称", "name_en": "project name"}}


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as the test gives them (dates as ISO text) in the dataset's schema."""
    return pa.Table.from_pylist([{**r, "start_date": date.fromisoformat(r["start_date"])} for r in rows],
                                schema=SCHEMA)


def plain(t: pa.Table) -> list[dict[str, Any]]:
    """A table's rows in key order, dates as ISO text (JSON-ready)."""
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
            for r in t.select(SCHEMA.names).sort_by("_source_key").to_pylist()]


def lifecycle(uri: str, opts: dict[str, str], batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge each batch, then read current and as of each version, history, changes; maintain; read again."""
    from quancheng.publish import delta

    versions = [delta.merge_batch(uri, table(b["upserts"]), pa.array(b["deleted"], pa.string()), metadata=META,
                                  commit_info={"batch": b["id"]}, storage_options=opts) for b in batches]
    log = delta.history(uri, storage_options=opts)
    changed = delta.changes(uri, since_version=0, storage_options=opts)
    out: dict[str, Any] = {
        "versions": versions,
        "current": plain(delta.read(uri, storage_options=opts)),
        "as_of": [plain(delta.read(uri, as_of=v, storage_options=opts)) for v in versions],
        "history": [[c.version, c.operation, c.rows_added, c.rows_updated, c.rows_removed] for c in log],
        "changes": sorted([v, k, key] for v, k, key in zip(changed["_commit_version"].to_pylist(),
                                                            changed["_change_type"].to_pylist(),
                                                            changed["_source_key"].to_pylist(), strict=True)),
        "column_meta": delta.column_meta(uri, storage_options=opts),
    }
    done = delta.maintain(uri, retention_hours=0, storage_options=opts)
    out["maintenance"] = [done.files_compacted, done.files_written, done.files_vacuumed, done.version]
    out["after_maintain"] = inspect(uri, opts)
    try:
        delta.read(uri, as_of=versions[0], storage_options=opts)
        out["first_version_after_vacuum"] = "readable"
    except Exception as e:  # noqa: BLE001 - reported to the test, which says what it expects
        out["first_version_after_vacuum"] = type(e).__name__
    return out


def write(uri: str, opts: dict[str, str], rows: list[dict[str, Any]], go: str | None) -> dict[str, Any]:
    """Merge ``rows`` once ``go`` exists (so several writers start together); the version, or the error."""
    from quancheng.publish import delta

    batch = table(rows)
    if go:
        print(json.dumps({"ready": True}), flush=True)
        while not Path(go).exists():
            time.sleep(0.001)
    try:
        return {"version": delta.merge_batch(uri, batch, pa.array([], pa.string()), storage_options=opts)}
    except Exception as e:  # noqa: BLE001 - a commit conflict is an outcome the test checks, not a crash
        return {"error": type(e).__name__, "message": str(e)[:500]}


def inspect(uri: str, opts: dict[str, str]) -> dict[str, Any]:
    """The table's history (version, operation) and current rows."""
    from quancheng.publish import delta

    return {"history": [[c.version, c.operation] for c in delta.history(uri, storage_options=opts)],
            "current": plain(delta.read(uri, storage_options=opts))}


def main(args: dict[str, Any]) -> dict[str, Any]:
    uri, opts = args["uri"], args["storage_options"]
    if args["command"] == "lifecycle":
        return lifecycle(uri, opts, args["batches"])
    if args["command"] == "write":
        return write(uri, opts, args["rows"], args.get("go"))
    return inspect(uri, opts)


if __name__ == "__main__":
    try:
        print(json.dumps(main(json.loads(sys.argv[1])), ensure_ascii=False), flush=True)
    except BaseException:  # noqa: BLE001 - the traceback goes to the test; any failure exits 1
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)
