"""Tokenization: where the key comes from, what happens without one, and how values are normalized."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat

import pyarrow as pa
import pytest
from quancheng.errors import QuanchengError
from quancheng.sharing.tokenize import (
    CONN_ENV,
    DEMO_KEY,
    KEY_ENV,
    TokenizationKeyMissing,
    Tokenizer,
    normalize_value,
    resolve_key,
)

KEY = "k" * 24


@pytest.fixture(autouse=True)
def no_key_in_env(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(CONN_ENV, raising=False)


@pytest.mark.parametrize("conn", [
    f"generic://:{KEY}@",
    json.dumps({"conn_type": "generic", "password": KEY}),
])
def test_key_from_the_airflow_connection_env(monkeypatch, tmp_path, conn: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CONN_ENV, conn)
    assert resolve_key(mode="services", home=tmp_path) == KEY.encode()


def test_explicit_key_wins_over_env(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(KEY_ENV, "e" * 20)
    assert resolve_key(mode="services", home=tmp_path, explicit=KEY) == KEY.encode()
    assert resolve_key(mode="services", home=tmp_path) == b"e" * 20


def test_services_mode_without_a_key_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TokenizationKeyMissing, match="qc_tokenization_key"):
        resolve_key(mode="services", home=tmp_path)
    assert not (tmp_path / DEMO_KEY).exists()


def test_demo_mode_generates_a_private_stable_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = resolve_key(mode="embedded", home=tmp_path)
    assert resolve_key(mode="embedded", home=tmp_path) == first and len(first) >= 32
    assert stat.S_IMODE((tmp_path / DEMO_KEY).stat().st_mode) == 0o600


def test_short_keys_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QuanchengError, match="at least"):
        resolve_key(mode="services", home=tmp_path, explicit="short")


@pytest.mark.parametrize(("value", "how", "normal"), [
    ("0531-88886666", "phone", "053188886666"),
    ("+86 138 0013 8000", "phone", "13800138000"),
    ("８６１３８００１３８０００", "phone", "13800138000"),
    ("37010219800101001x", "identifier", "37010219800101001X"),
    ("370102-19800101-001X", "identifier", "37010219800101001X"),
    (" 张 三\u3000", "text", "张三"),
])
def test_normalization(value: str, how, normal: str) -> None:  # type: ignore[no-untyped-def]
    assert normalize_value(value, how) == normal


def test_token_is_a_keyed_hmac_sha256() -> None:
    tok = Tokenizer(KEY.encode())
    expected = hmac.new(KEY.encode(), "张三".encode(), hashlib.sha256).hexdigest()[:32]
    assert tok.token("张 三") == "tk_" + expected
    assert Tokenizer(b"x" * 24).token("张三") != tok.token("张三")


def test_column_tokens_keep_nulls_and_equal_values() -> None:
    tok = Tokenizer(KEY.encode())
    out = tok.array(pa.chunked_array([["a", None], ["a", "b"]]), "text").to_pylist()
    assert out[1] is None and out[0] == out[2] != out[3]
