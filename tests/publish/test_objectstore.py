"""quancheng.objectstore: storage by URL (a local folder or an S3 bucket)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quancheng.objectstore import Storage, StorageError, storage_from_connection
from quancheng.safepath import UnsafePath

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
