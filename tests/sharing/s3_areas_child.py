"""Area copies with their Parquet versions in an S3 bucket, run as a child process by ``test_areas_on_s3``;
prints one JSON line.

A child for the reason ``tests/publish/s3_child.py`` gives (delta-rs on S3 may abort at interpreter exit):
the result is printed and flushed, then the process leaves with ``os._exit``, 0 when the work succeeded, 1
with the traceback on stderr when it did not. The storage comes from ``$QUANCHENG_STORAGE_URL`` and
``$AWS_ENDPOINT_URL`` (set by the parent), as the data service finds it.

Usage: ``python s3_areas_child.py '<json>'`` where the JSON has ``home``, ``sql_url`` (SQLite or
PostgreSQL), ``catalog`` and ``role_prefix`` (PostgreSQL's roles are cluster-wide: one prefix per test).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

DS = "stage.demo_filing"
SCHEMA = pa.schema([("project_code", pa.string()), ("project_name", pa.string()), ("total_investment", pa.int64())])
V1 = [["2024-370102-01-01-000001", "济南项目1", 10], ["2024-370102-01-01-000002", "济南项目2", 20],
      ["2024-370102-01-01-000003", "济南项目3", 30]]
V2 = [["2024-370102-01-01-000001", "济南项目1", 10], ["2024-370102-01-01-000004", "济南项目4", 40]]


def table(rows: list[list[Any]]) -> pa.Table:
    return pa.table([pa.array(c, f.type) for c, f in zip(zip(*rows, strict=True), SCHEMA, strict=True)],
                    schema=SCHEMA)


def plain(copy: Any) -> list[list[Any]]:
    return [list(r.values()) for r in copy.rows(None, SCHEMA.names)]


def published(p: Any) -> dict[str, Any]:
    return {"rows": p.rows, "content_hash": p.content_hash, "parquet_path": p.parquet_path, "changed": p.changed}


def lifecycle(args: dict[str, Any]) -> dict[str, Any]:
    from quancheng.catalog import load_catalog
    from quancheng.publish.delta import Batch
    from quancheng.publish.store import SharedStore
    from quancheng.serve.problems import ApiError
    from quancheng.serve.records import copy_as_of
    from quancheng.serve.service import Service
    from quancheng.sharing.areas import AreaStore, prune_versions
    from quancheng.sharing.remote import AreaObjects, read_version
    from quancheng.sharing.rules import OPEN

    home, catalog = Path(args["home"]), load_catalog(Path(args["catalog"]))
    store = SharedStore(home, sql_url=args["sql_url"])
    areas = AreaStore(store, catalog, role_prefix=args["role_prefix"])
    out: dict[str, Any] = {"base": store.storage.base}

    def publish(rows: Batch | pa.Table, batch: str) -> dict[str, Any]:
        return published(areas.publish(OPEN, DS, rows, kind="stage_form", batch_id=batch,
                                       columns={"project_name": {"name_zh": "项目名称"}}, table_meta={}))

    # version 1 as a batch of two parts (written part by part), version 2 as a table, then version 2 again
    first = table(V1)
    parts = Batch(SCHEMA, lambda: iter([first.slice(0, 2), first.slice(2)]), first.num_rows)
    out["published"] = [publish(parts, "b1")]
    between = datetime.now(UTC)
    time.sleep(0.05)
    out["published"] += [publish(table(V2), "b2"), publish(table(V2), "b2 again")]
    out["listing"] = [{k: r[k] for k in ("schema_name", "dataset_id", "parquet_path", "rows", "content_hash")}
                      for r in areas.listing()]

    # the service's reading code: current, as of the first version (by hash and by time), through the cache
    service = Service(home, catalog, sql_url=args["sql_url"])
    v1, v2 = out["published"][0]["content_hash"], out["published"][1]["content_hash"]
    cache = home / "cache" / "areas" / OPEN.schema / DS
    for name, age in ((".killed.1.dead", 7200), (".under-way.2.live", 0)):  # temporary download folders
        (cache / name).mkdir(parents=True)
        os.utime(cache / name, (time.time() - age, time.time() - age))
    copy = service.cache.get(OPEN.schema, DS)
    assert copy is not None
    out["current"] = [copy.version, plain(copy)]
    out["index"] = copy.find("project_code", V2[1][0])
    older, then = copy_as_of(service, copy, v1)
    out["as_of_hash"] = [older.version, plain(older), then]
    out["as_of_time"] = copy_as_of(service, copy, between.isoformat())[0].version
    out["hot_copies"] = service.hot_copies()
    out["cached"] = sorted(p.name for p in cache.iterdir())
    out["cached_files"] = sorted(p.name for p in (cache / v1).iterdir())

    # a folder a killed writer left (parts, no manifest) is never read as a version
    objects = AreaObjects(store.storage)
    orphan = "0123456789abcdef"
    import pyarrow.parquet as pq

    pq.write_table(table(V1), f"{objects.key(OPEN.schema, DS, orphan)}/part-00000-killed.parquet",
                   filesystem=objects.fs)
    out["orphan"] = [objects.exists(OPEN.schema, DS, orphan),
                     objects.download(OPEN.schema, DS, orphan, home / "cache" / "areas") is None,
                     service.cache.get_version(OPEN.schema, DS, orphan) is None]

    # maintenance: version 1 goes (objects, rows, download); the orphan folder is swept; version 2 stays
    out["pruned"] = prune_versions(store, retention_hours=0, orphan_hours=0)
    out["cached_after_prune"] = sorted(p.name for p in cache.iterdir())
    service.cache._older.clear()  # the copies held in memory: as of version 1 must be answered from the bucket
    try:
        copy_as_of(service, copy, v1)
        out["as_of_pruned"] = "answered"
    except ApiError as e:
        out["as_of_pruned"] = [e.status, e.code, str(e)]
    fresh = Service(home, catalog, sql_url=args["sql_url"]).cache.get(OPEN.schema, DS)
    assert fresh is not None
    out["current_after_prune"] = [fresh.version, plain(fresh)]
    out["v1v2"] = [v1, v2]

    # the clear-ID scan finds the copies in the bucket; the catalog browser reads a Delta schema there
    from quancheng.ops.browser import schema_columns
    from quancheng.sharing.commands import bucket_copies

    out["scan"] = [[a, d, len(read_version(f))] for a, d, f in bucket_copies(store)]
    store.publish("master.enterprise", table(V2), kind="master", batch_id="m1")
    out["schema_columns"] = sorted(schema_columns(store.dataset_uri("master.enterprise"), store.storage_options))
    out["schema_columns_missing"] = sorted(schema_columns(store.dataset_uri("master.none"), store.storage_options))
    out["local_areas"] = sorted(str(p.relative_to(home)) for p in (home / "shared" / "areas").rglob("*"))

    # a day merged into the copy (project 4 renamed, 5 new) by a worker that never read it: the current version
    # comes from the bucket, the merged one goes there
    import shutil

    shutil.rmtree(home / "cache", ignore_errors=True)
    day = table([[V2[1][0], "济南项目4（改）", 41], ["2024-370102-01-01-000005", "济南项目5", 50]])
    merged = areas.merge(OPEN, DS, day, day["project_code"].combine_chunks(), key="project_code", kind="stage_form",
                         batch_id="b3", columns={"project_name": {"name_zh": "项目名称"}}, table_meta={},
                         sort_by=["project_code"])
    assert merged is not None
    out["merged"] = published(merged)
    after = Service(home, catalog, sql_url=args["sql_url"]).cache.get(OPEN.schema, DS)
    assert after is not None
    out["merged_rows"] = [after.version, plain(after)]

    # a department's copy, two versions, then withdrawn: its objects and records go, the open copy stays
    from quancheng.sharing.rules import department_audience

    dept = department_audience("Housing and Urban-Rural Development Bureau")
    for rows, batch in ((table(V1), "d1"), (table(V2), "d2")):
        areas.publish(dept, DS, rows, kind="stage_form", batch_id=batch, columns={}, table_meta={})
    out["dept_before"] = len(AreaObjects(store.storage).files(AreaObjects(store.storage).key(dept.schema, DS)))
    areas.withdraw(dept.schema, DS)
    out["dept_after"] = len(AreaObjects(store.storage).files(AreaObjects(store.storage).key(dept.schema, DS)))
    out["schemas_after_withdrawal"] = sorted({r["schema_name"] for r in areas.listing()})
    return out


if __name__ == "__main__":
    try:
        print(json.dumps(lifecycle(json.loads(sys.argv[1])), ensure_ascii=False, default=str), flush=True)
    except BaseException:  # noqa: BLE001 - the traceback goes to the test; any failure exits 1
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)
