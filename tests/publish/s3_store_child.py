"""The shared store with its Delta tables on an S3 bucket, run as a child process by ``test_store_on_s3``;
prints one JSON line.

A child for the reason ``s3_child.py`` gives (delta-rs on S3 may abort at interpreter exit): the result is
printed and flushed, then the process leaves with ``os._exit``, 0 when the work succeeded, 1 with the
traceback on stderr when it did not. The SQL copy is a SQLite file the parent reads itself.

Usage: ``python s3_store_child.py '<json>'`` where the JSON has ``home``, ``sql_url``, ``base``
(``s3://bucket/prefix``), ``storage_options`` and ``batches`` (each ``id``, ``upserts``, ``deleted``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import pyarrow as pa

DS = "ndrc_investment.ndrc_filing"
BEHIND = "hcb_construction_permit.hcb_permit"  # its SQL table is left behind the Delta table, then caught up
FULL = "master.enterprise"  # built in full: publish (overwrite), not merge
SCHEMA = pa.schema([("_source_key", pa.string()), ("project_name", pa.string()), ("total_investment", pa.int64())])


def table(rows: list[list[Any]]) -> pa.Table:
    return pa.table([pa.array(c, f.type) for c, f in zip(zip(*rows, strict=True), SCHEMA, strict=True)]
                    if rows else [pa.array([], f.type) for f in SCHEMA], schema=SCHEMA)


def plain(t: pa.Table | None) -> list[list[Any]] | None:
    """A table's rows in key order as lists (JSON-ready); None stays None."""
    if t is None:
        return None
    return [list(r.values()) for r in t.select(SCHEMA.names).sort_by("_source_key").to_pylist()]


def published(p: Any) -> dict[str, Any]:
    return {"version": p.version, "rows": p.rows, "changed": p.changed, "parquet_path": p.parquet_path,
            "content_hash": p.content_hash}


def lifecycle(args: dict[str, Any]) -> dict[str, Any]:
    from pathlib import Path

    from quancheng.errors import QuanchengError
    from quancheng.objectstore import Storage
    from quancheng.publish import delta
    from quancheng.publish.store import SharedStore

    storage = Storage(args["base"], args["storage_options"])
    store = SharedStore(Path(args["home"]), sql_url=args["sql_url"], storage=storage)
    out: dict[str, Any] = {"uri": store.dataset_uri(DS), "location": store.location, "is_local": store.is_local}
    try:
        store.dataset_path(DS)
        out["dataset_path"] = "no error"
    except QuanchengError as e:
        out["dataset_path"] = str(e)
    out["never_published"] = [plain(store.read(DS)), store.history(DS), store.current_digest(DS)]

    merges = [published(store.merge(DS, table(b["upserts"]), pa.array(b["deleted"], pa.string()), kind="system",
                                    batch_id=b["id"])) for b in args["batches"]]
    last = args["batches"][-1]  # the same batch again: nothing changes
    merges.append(published(store.merge(DS, table(last["upserts"]), pa.array(last["deleted"], pa.string()),
                                         kind="system", batch_id=last["id"])))
    out["merges"] = merges
    out["current"] = plain(store.read(DS))
    out["as_of"] = [plain(store.read(DS, as_of=v)) for v in range(len(args["batches"]))]
    out["history"] = [[c.version, c.operation, c.rows_added, c.rows_updated, c.rows_removed, c.batch_id]
                      for c in store.history(DS)]
    out["read_keys"] = plain(store.read_keys(DS, pa.array(["P2", "P4", "P9"], pa.string())))
    out["schema"] = store.schema(DS).names  # type: ignore[union-attr]
    out["digest"] = store.current_digest(DS)

    # a publish killed between the Delta commit and the SQL one: the next merge catches the SQL table up from
    # the change data feed, reading the rows of the keys changed since with read_keys (pyarrow's S3 filesystem)
    first = args["batches"][0]
    store.merge(BEHIND, table(first["upserts"]), pa.array([], pa.string()), kind="system", batch_id="b1")
    delta.merge_batch(store.dataset_uri(BEHIND), table([["P1", "只在Delta", 11]]), pa.array(["P3"], pa.string()),
                      storage_options=store.storage_options)
    out["behind"] = published(store.merge(BEHIND, table([["P7", "新", 70]]), pa.array([], pa.string()),
                                          kind="system", batch_id="b3"))
    out["behind_current"] = plain(store.read(BEHIND))

    full = table([["E1", "甲公司", 1], ["E2", "乙公司", 2]])
    out["full"] = [published(store.publish(FULL, full, kind="master", batch_id="m1")),
                   published(store.publish(FULL, full, kind="master", batch_id="m1"))]
    out["full_current"] = plain(store.read(FULL))

    m = store.maintain(DS, retention_hours=0)
    assert m is not None
    out["maintenance"] = [m.files_compacted, m.files_written, m.files_vacuumed, m.version]
    out["after_maintain"] = plain(store.read(DS))
    out["digest_after_maintain"] = store.current_digest(DS)
    out["registry"] = {d["dataset_id"]: {k: d[k] for k in ("parquet_path", "rows", "content_hash", "version")}
                       for d in store.datasets()}
    out["delta_rows"] = {ds: plain(store.read(ds)) for ds in (DS, BEHIND, FULL)}
    return out


if __name__ == "__main__":
    try:
        print(json.dumps(lifecycle(json.loads(sys.argv[1])), ensure_ascii=False, default=str), flush=True)
    except BaseException:  # noqa: BLE001 - the traceback goes to the test; any failure exits 1
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)
