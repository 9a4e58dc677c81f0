"""The shared store with its Delta tables on a real S3 store (SeaweedFS, ``tests/seaweed.py``): merges,
reruns, reads current and as of a version, history, the SQL copy catching up, publish and maintain; and the
local default unchanged.

The S3 work runs in a child process (``s3_store_child.py``; ``s3_child.py`` says why); the SQL copy is a
SQLite file in the test's folder, read here and compared with the Delta content the child reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from paths import ROOT
from quancheng.errors import QuanchengError
from quancheng.objectstore import Storage
from quancheng.publish.store import KEY, SharedStore, sql_name
from seaweed import SeaweedS3, bucket_keys, seaweed_s3

CHILD = Path(__file__).with_name("s3_store_child.py")
DS, BEHIND, FULL = "ndrc_investment.ndrc_filing", "hcb_construction_permit.hcb_permit", "master.enterprise"

BATCH_1 = [["P1", "济南项目1", 10], ["P2", "济南项目2", 20], ["P3", "济南项目3", 30], ["P4", "济南项目4", 40]]
# P1 equal to the current row (not an update), P2 changed, P5 new; P3 deleted, P9 never existed
BATCH_2 = [["P1", "济南项目1", 10], ["P2", "济南项目2（改）", 25], ["P5", "济南项目5", 50]]
AFTER_2 = [BATCH_1[0], BATCH_2[1], BATCH_1[3], BATCH_2[2]]


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    with seaweed_s3() as server:
        yield server


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")])}



def sql_rows(sql_url: str, dataset_id: str) -> list[list[Any]]:
    engine = sa.create_engine(sql_url, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        return sorted(list(r) for r in c.execute(sa.text(
            f'SELECT "{KEY}", project_name, total_investment FROM "{sql_name(dataset_id)}"')))


@pytest.mark.xdist_group("seaweed")
def test_shared_store_on_s3(seaweed: SeaweedS3, home: Path, tmp_path: Path) -> None:
    prefix = f"store{time.monotonic_ns()}"
    storage = Storage.from_env(home, env={"QUANCHENG_STORAGE_URL": f"s3://{seaweed.bucket}/{prefix}",
                                          "AWS_ENDPOINT_URL": seaweed.endpoint})
    sql_url = f"sqlite:///{tmp_path / 'exchange.db'}"
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps({
        "home": str(home), "sql_url": sql_url, "base": storage.base, "storage_options": storage.storage_options,
        "batches": [{"id": "b1", "upserts": BATCH_1, "deleted": []},
                    {"id": "b2", "upserts": BATCH_2, "deleted": ["P3", "P9"]}]})],
        capture_output=True, text=True, env=child_env(), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.splitlines()[-1])

    uri = f"s3://{seaweed.bucket}/{prefix}/{DS}"
    assert (got["uri"], got["location"], got["is_local"]) == (uri, f"s3://{seaweed.bucket}/{prefix}", False)
    assert "no local path" in got["dataset_path"] and "fix:" in got["dataset_path"]
    assert got["never_published"] == [None, [], None]

    # first batch creates the table, the second is one merge, the rerun commits nothing
    assert [[m["version"], m["rows"], m["changed"]] for m in got["merges"]] == [[0, 4, True], [1, 4, True],
                                                                                [1, 4, False]]
    assert {m["parquet_path"] for m in got["merges"]} == {uri}
    assert got["current"] == AFTER_2
    assert got["as_of"] == [BATCH_1, AFTER_2]
    assert got["history"] == [[1, "MERGE", 1, 1, 1, "b2"], [0, "WRITE", 4, 0, 0, "b1"]]
    assert got["read_keys"] == [BATCH_2[1], BATCH_1[3]]  # P9 has no row
    assert got["schema"] == [KEY, "project_name", "total_investment"]
    assert got["digest"] == "v1"

    # the SQL table left behind one Delta commit (P1 changed, P3 deleted) caught up with the next batch
    assert got["behind"]["version"] == 2 and got["behind"]["changed"]
    assert got["behind_current"] == [["P1", "只在Delta", 11], BATCH_1[1], BATCH_1[3], ["P7", "新", 70]]

    # a dataset built in full: the second publish of the same content changes nothing
    assert [[p["version"], p["rows"], p["changed"]] for p in got["full"]] == [[0, 2, True], [0, 2, False]]
    assert got["full_current"] == [["E1", "甲公司", 1], ["E2", "乙公司", 2]]

    # maintain: vacuum (retention 0) keeps the content; the registry follows the version
    assert got["maintenance"][3] > 1 and got["after_maintain"] == AFTER_2
    assert got["digest_after_maintain"] == f"v{got['maintenance'][3]}"
    assert got["registry"][DS] == {"parquet_path": uri, "rows": 4, "content_hash": "v1",
                                   "version": got["maintenance"][3]}
    assert got["registry"][BEHIND]["parquet_path"] == f"s3://{seaweed.bucket}/{prefix}/{BEHIND}"
    assert got["registry"][FULL]["parquet_path"] == f"s3://{seaweed.bucket}/{prefix}/{FULL}"

    # the SQL copy equals the Delta content, dataset by dataset
    for ds in (DS, BEHIND, FULL):
        assert sql_rows(sql_url, ds) == got["delta_rows"][ds], ds

    # the tables are in the bucket, and nothing was written to the local default folder
    keys = bucket_keys(seaweed, f"{prefix}/{DS}/_delta_log/")
    assert f"{prefix}/{DS}/_delta_log/{0:020d}.json" in keys and f"{prefix}/{DS}/_delta_log/_last_checkpoint" in keys
    assert not (home / "shared" / "parquet").exists()


def test_local_default_is_unchanged(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANCHENG_STORAGE_URL", raising=False)
    store = SharedStore(home)
    assert store.is_local and store.storage_options == {}
    assert store.parquet_root == home / "shared" / "parquet" and store.location == str(home / "shared" / "parquet")
    assert store.dataset_path(DS) == home / "shared" / "parquet" / DS
    assert store.dataset_uri(DS) == str(home / "shared" / "parquet" / DS)
    p = store.merge(DS, pa.table({KEY: ["P1"], "project_name": ["甲"], "total_investment": [1]}),
                    pa.array([], pa.string()), kind="system", batch_id="b1")
    assert p.parquet_path == str(home / "shared" / "parquet" / DS)
    assert store.datasets()[0]["parquet_path"] == p.parquet_path
    assert (home / "shared" / "parquet" / DS / "_delta_log").is_dir()


def test_a_local_storage_url_moves_the_tables(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANCHENG_STORAGE_URL", str(tmp_path / "datasets"))
    store = SharedStore(home)
    assert store.dataset_path(DS) == (tmp_path / "datasets").resolve() / DS
    store.merge(DS, pa.table({KEY: ["P1"]}), pa.array([], pa.string()), kind="system", batch_id="b1")
    assert ((tmp_path / "datasets").resolve() / DS / "_delta_log").is_dir()
    assert not (home / "shared" / "parquet" / DS).exists()


def test_an_s3_store_refuses_local_paths_with_the_fix(home: Path) -> None:
    store = SharedStore(home, storage=Storage("s3://quancheng-shared/exchange"))
    assert store.dataset_uri(DS) == f"s3://quancheng-shared/exchange/{DS}" and not store.is_local
    with pytest.raises(QuanchengError, match=r"no local path.*fix:"):
        store.dataset_path(DS)
    with pytest.raises(QuanchengError, match=r"object store.*fix:"):
        _ = store.parquet_root
