"""quancheng.objectstore: storage by URL (a local folder or an S3 bucket), and Delta datasets on a real
S3-compatible store (SeaweedFS, started by ``tests/seaweed.py``).

The S3 tests run delta-rs in child processes (``s3_child.py`` says why) and check their JSON results.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT
from quancheng.objectstore import Storage, StorageError, storage_from_connection
from quancheng.safepath import UnsafePath
from seaweed import SeaweedS3, bucket_keys, seaweed_s3

CHILD = Path(__file__).with_name("s3_child.py")
BASE_OPTIONS = {"AWS_REGION": "us-east-1", "aws_conditional_put": "etag"}
BAD_IDS = ["", ".", "..", "a/b", "../evil", "a\\b", "a\0b"]


# --- Storage from the environment ------------------------------------------------------------------------

def test_default_is_the_local_shared_folder(home: Path) -> None:
    st = Storage.from_env(home, env={})
    assert st.base == str((home / "shared" / "parquet").resolve())
    assert st.is_local and st.storage_options == {}
    assert st.uri("projects") == str(home.resolve() / "shared" / "parquet" / "projects")


def test_a_local_folder_url(tmp_path: Path, home: Path) -> None:
    st = Storage.from_env(home, env={"QUANCHENG_STORAGE_URL": str(tmp_path / "datasets")})
    assert st.is_local and st.base == str((tmp_path / "datasets").resolve()) and st.storage_options == {}


def test_s3_url_with_endpoint_and_keys(home: Path) -> None:
    env = {"QUANCHENG_STORAGE_URL": "s3://quancheng-shared/exchange/datasets/", "AWS_ENDPOINT_URL": "http://10.0.0.5:8333/",
           "AWS_ACCESS_KEY_ID": "AKEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "AWS_REGION": "cn-east-1"}
    st = Storage.from_env(home, env=env)
    assert not st.is_local
    assert st.base == "s3://quancheng-shared/exchange/datasets"
    assert st.uri("projects") == "s3://quancheng-shared/exchange/datasets/projects"
    assert st.storage_options == {"AWS_REGION": "cn-east-1", "aws_conditional_put": "etag",
                                  "AWS_ENDPOINT_URL": "http://10.0.0.5:8333", "AWS_ALLOW_HTTP": "true",
                                  "AWS_ACCESS_KEY_ID": "AKEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
    assert "not-a-real-secret" not in repr(st) and "AKEXAMPLE" in repr(st)


@pytest.mark.parametrize(("env", "expected"), [
    ({}, {**BASE_OPTIONS, "AWS_SKIP_SIGNATURE": "true"}),  # AWS itself, anonymous
    ({"AWS_ENDPOINT_URL": "https://s3.example.cn"},
     {**BASE_OPTIONS, "AWS_ENDPOINT_URL": "https://s3.example.cn", "AWS_SKIP_SIGNATURE": "true"}),
    ({"AWS_DEFAULT_REGION": "ap-east-1"}, {**BASE_OPTIONS, "AWS_REGION": "ap-east-1", "AWS_SKIP_SIGNATURE": "true"}),
    ({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"},
     {**BASE_OPTIONS, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}),
])
def test_s3_options(home: Path, env: dict[str, str], expected: dict[str, str]) -> None:
    st = Storage.from_env(home, env={"QUANCHENG_STORAGE_URL": "s3://quancheng-shared", **env})
    assert st.base == "s3://quancheng-shared" and st.uri("ds") == "s3://quancheng-shared/ds"
    assert st.storage_options == expected


@pytest.mark.parametrize(("env", "message"), [
    ({"QUANCHENG_STORAGE_URL": "gs://bucket/x"}, "scheme 'gs' is not supported"),
    ({"QUANCHENG_STORAGE_URL": "s3://ab"}, "not a valid S3 bucket name"),
    ({"QUANCHENG_STORAGE_URL": "s3://Quancheng"}, "not a valid S3 bucket name"),
    ({"QUANCHENG_STORAGE_URL": "s3://quan..cheng"}, "not a valid S3 bucket name"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/a/../b"}, "prefix part '..' is not a plain name"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/a//b"}, "prefix part '' is not a plain name"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/x", "AWS_ACCESS_KEY_ID": "k"}, "without a secret access key"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/x", "AWS_SECRET_ACCESS_KEY": "s"}, "without a access key id"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/x", "AWS_ENDPOINT_URL": "127.0.0.1:8333"}, "not an http"),
    ({"QUANCHENG_STORAGE_URL": "s3://quancheng/x", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}, "unset it"),
])
def test_unusable_settings_are_refused_with_the_fix(home: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(StorageError, match=re.escape(message)) as e:
        Storage.from_env(home, env=env)
    assert "fix:" in str(e.value)


@pytest.mark.parametrize("dataset_id", BAD_IDS)
@pytest.mark.parametrize("base", ["local", "s3://quancheng-shared/exchange"])
def test_bad_dataset_ids_are_refused(tmp_path: Path, base: str, dataset_id: str) -> None:
    st = Storage(str(tmp_path) if base == "local" else base)
    with pytest.raises(UnsafePath, match="dataset id"):
        st.uri(dataset_id)


def test_s3_dataset_id_that_would_need_escaping_is_refused() -> None:
    with pytest.raises(StorageError, match="would have to escape"):
        Storage("s3://quancheng-shared").uri("项目 2024")


def test_local_id_through_a_planted_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "escape").symlink_to(tmp_path)
    with pytest.raises(UnsafePath, match="resolves to"):
        Storage(str(tmp_path / "shared")).uri("escape")


def test_storage_built_directly_checks_its_url() -> None:
    with pytest.raises(StorageError, match="bucket name"):
        Storage("s3://B/x")
    with pytest.raises(StorageError, match="scheme 'gs' is not supported"):
        Storage("gs://quancheng/x")


# --- Storage from an Airflow connection -------------------------------------------------------------------

def test_airflow_aws_connection() -> None:
    extra = {"endpoint_url": "http://seaweed.internal:8333", "region_name": "cn-north-1"}
    st = storage_from_connection(extra, base="s3://quancheng-shared/exchange", login="AK", password="SK")
    assert st.base == "s3://quancheng-shared/exchange"
    assert st.storage_options == {"AWS_REGION": "cn-north-1", "aws_conditional_put": "etag",
                                  "AWS_ENDPOINT_URL": "http://seaweed.internal:8333", "AWS_ALLOW_HTTP": "true",
                                  "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
    assert st == Storage.from_env("unused", env={
        "QUANCHENG_STORAGE_URL": "s3://quancheng-shared/exchange", "AWS_ENDPOINT_URL": "http://seaweed.internal:8333",
        "AWS_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"})


def test_airflow_connection_s3_service_endpoint_wins_and_no_login_is_anonymous() -> None:
    extra = {"endpoint_url": "https://sts.example", "service_config": {"s3": {"endpoint_url": "https://s3.example"}},
             "aws_session_token": "ignored without keys"}
    st = storage_from_connection(extra, base="s3://quancheng-shared", login=None, password="")
    assert st.storage_options == {**BASE_OPTIONS, "AWS_ENDPOINT_URL": "https://s3.example",
                                  "AWS_SKIP_SIGNATURE": "true"}
    with pytest.raises(StorageError, match="Airflow connection: a access key id without"):
        storage_from_connection({}, base="s3://quancheng-shared", login="AK")


# --- Delta datasets on a real S3 store (SeaweedFS) --------------------------------------------------------

def row(key: str, name: str, investment: int, start: str = "2024-03-01") -> dict[str, Any]:
    return {"_source_key": key, "project_name": name, "total_investment": investment, "start_date": start}


BATCH_1 = [row("P1", "济南项目1", 10), row("P2", "济南项目2", 20), row("P3", "济南项目3", 30),
           row("P4", "济南项目4", 40, "2024-12-31")]
# P1 equal to the current row (not an update), P2 changed, P5 new; P3 deleted, P9 never existed
BATCH_2 = [row("P1", "济南项目1", 10), row("P2", "济南项目2（改）", 25), row("P5", "济南项目5", 50)]
AFTER_2 = [BATCH_1[0], BATCH_2[1], BATCH_1[3], BATCH_2[2]]


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    with seaweed_s3() as server:
        yield server


@pytest.fixture
def storage(seaweed: SeaweedS3, home: Path) -> Storage:
    """Storage on the bucket, under a prefix of its own, configured as a deployment would be."""
    prefix = f"t{time.monotonic_ns()}"
    return Storage.from_env(home, env={"QUANCHENG_STORAGE_URL": f"s3://{seaweed.bucket}/{prefix}",
                                       "AWS_ENDPOINT_URL": seaweed.endpoint})


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")])}


def run_child(args: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps(args)], capture_output=True, text=True,
                          env=child_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result



@pytest.mark.xdist_group("seaweed")
def test_dataset_lifecycle_on_s3(seaweed: SeaweedS3, storage: Storage) -> None:
    uri = storage.uri("projects")
    got = run_child({"command": "lifecycle", "uri": uri, "storage_options": storage.storage_options, "batches": [
        {"id": "b1", "upserts": BATCH_1, "deleted": []},
        {"id": "b2", "upserts": BATCH_2, "deleted": ["P3", "P9"]}]})

    assert got["versions"] == [0, 1]
    assert got["current"] == AFTER_2
    assert got["as_of"] == [BATCH_1, AFTER_2]
    assert got["history"] == [[1, "MERGE", 1, 1, 1], [0, "WRITE", 4, 0, 0]]
    assert got["changes"] == [[1, "delete", "P3"], [1, "insert", "P5"], [1, "update_postimage", "P2"],
                              [1, "update_preimage", "P2"]]
    assert got["column_meta"] == {"project_name": {"name_zh": "项目名称", "name_en": "project name"}}
    # maintain: nothing to compact (one file), the first version's file and the change file vacuumed
    assert got["maintenance"] == [0, 0, 2, 3]
    assert got["after_maintain"] == {"history": [[3, "VACUUM END"], [2, "VACUUM START"], [1, "MERGE"], [0, "WRITE"]],
                                     "current": AFTER_2}
    assert got["first_version_after_vacuum"] == "FileNotFoundError"  # retention 0: only the current version stays

    log = uri.removeprefix(f"s3://{seaweed.bucket}/") + "/_delta_log/"
    keys = bucket_keys(seaweed, log)
    assert {log + f"{v:020d}.json" for v in range(4)} <= set(keys)
    assert log + "_last_checkpoint" in keys  # the checkpoint maintain wrote is in the bucket


@pytest.mark.xdist_group("seaweed")
def test_concurrent_writers_never_lose_a_commit(seaweed: SeaweedS3, storage: Storage) -> None:
    """Three writers merge into one table at the same moment: each either commits its own version or fails
    with a commit conflict; the log has no gap or overwrite and the table holds exactly the winners' rows."""
    uri, opts = storage.uri("contested"), storage.storage_options
    base = row("P0", "基础", 0)
    assert run_child({"command": "write", "uri": uri, "storage_options": opts, "rows": [base]}) == {"version": 0}

    writers = [row(f"W{i}", f"并发{i}", i) for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [subprocess.Popen([sys.executable, str(CHILD), json.dumps(
            {"command": "write", "uri": uri, "storage_options": opts, "rows": [w], "go": str(go)})],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()) for w in writers]
        try:
            for p in procs:  # every writer has imported delta-rs and built its batch
                assert p.stdout is not None and json.loads(p.stdout.readline()) == {"ready": True}
            go.touch()
            results = []
            for p in procs:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err[-3000:]
                results.append(json.loads(out.splitlines()[-1]))
        finally:
            for p in procs:
                p.kill()

    won = sorted(r["version"] for r in results if "version" in r)
    lost = [r for r in results if "version" not in r]
    assert won == list(range(1, len(won) + 1)) and won  # distinct versions, no gap, at least one winner
    for r in lost:
        assert r["error"] == "CommitFailedError" and "concurrent" in r["message"], r
    winners = sorted([w for w, r in zip(writers, results, strict=True) if "version" in r],
                     key=lambda w: w["_source_key"])
    state = run_child({"command": "inspect", "uri": uri, "storage_options": opts})
    assert state["history"] == [[v, "MERGE"] for v in reversed(won)] + [[0, "WRITE"]]
    assert state["current"] == [base, *winners]
    # and the log still takes the next commit
    late = row("P9", "之后", 9)
    assert run_child({"command": "write", "uri": uri, "storage_options": opts, "rows": [late]}) == {
        "version": len(won) + 1}

