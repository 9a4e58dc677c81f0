"""Keyed-hash tokens for personal information: shared schemas join on them, nobody can reverse them.

A token is ``tk_`` + the first 32 hex digits (128 bits) of HMAC-SHA256(key, normalized value). The
value is normalized first, so one person's number written two ways yields one token:
- telephone numbers (element key with ``phone``/``mobile``/``tel``/``fax``, or 电话/手机/传真 in the
  name): digits only, a leading ``86`` country code dropped from 13-digit numbers;
- identifiers and numbers (an ``identifier_kind``, or a 号码/代码 representation): NFKC, upper-case,
  whitespace and hyphens removed;
- anything else (names): NFKC, whitespace removed;
- a source key (``key``) is normalized as text but hashed in a domain of its own (``source_key`` and a NUL
  before the value): a key identifies a record, not a person, so its token never equals the token of a
  value, and a serial key ``1`` tokenized in one dataset cannot be matched to a clear ``1`` in another.

A mixed identifier column (``identifier_kind`` ``license_no``, a 证件号码 that holds an organisation's code or a
natural person's ID number) is personal because of the people in it, and only their values are tokenized:
a value that is a valid USCC or organisation code (:func:`organisation_id`) names an organisation and stays
clear, so it still joins with the same code in clear elsewhere and its token cannot be joined back to it.

The key never lives in the repository. :func:`resolve_key` takes it, in order, from the caller (the
DAG passes the password of the Airflow connection ``qc_tokenization_key``), ``$QC_TOKENIZATION_KEY``, or
``$AIRFLOW_CONN_QC_TOKENIZATION_KEY`` (URI or JSON form, the password). In services mode a missing key
is an error; in embedded (demo) mode a random key is generated once under ``<home>/.secrets/`` so reruns
give the same tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog.models import Element
from quancheng.errors import QuanchengError

Mode = Literal["embedded", "services"]
Normalization = Literal["phone", "identifier", "text", "key"]

CONN_ID = "qc_tokenization_key"
KEY_ENV = "QC_TOKENIZATION_KEY"
CONN_ENV = "AIRFLOW_CONN_QC_TOKENIZATION_KEY"
DEMO_KEY = Path(".secrets") / "qc_tokenization_key"
MIN_KEY_CHARS = 16
PREFIX = "tk_"
KEY_DOMAIN = b"source_key\x00"  # source-key tokens live apart from value tokens


class TokenizationKeyMissing(QuanchengError):
    """Services mode without a key: personal information cannot be shared."""


def _from_conn_env(raw: str) -> str | None:
    raw = raw.strip()
    if raw.startswith("{"):
        pw = json.loads(raw).get("password")
        return str(pw) if pw else None
    pw = urlsplit(raw).password
    return unquote(pw) if pw else None


def resolve_key(*, mode: Mode, home: Path, explicit: str | None = None) -> bytes:
    """The tokenization key (see the module docstring for where it comes from)."""
    key = explicit or os.environ.get(KEY_ENV) or (_from_conn_env(os.environ[CONN_ENV]) if CONN_ENV in os.environ
                                                  else None)
    if key:
        if len(key) < MIN_KEY_CHARS:
            raise QuanchengError(f"the tokenization key is {len(key)} characters long; use at least {MIN_KEY_CHARS} "
                                 f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
        return key.encode()
    if mode == "services":
        raise TokenizationKeyMissing(
            f"no tokenization key: create the Airflow connection {CONN_ID!r} with the key as its password "
            f"(or set {KEY_ENV}); personal information is not shared without it")
    path = Path(home) / DEMO_KEY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        os.replace(tmp, path)  # two tasks racing keep one key: the loser's replace writes an equal-length key
    return path.read_text().strip().encode()


def normalization(element: Element) -> Normalization:
    key = element.key.lower()
    if re.search(r"phone|mobile|(^|_)tel(_|$)|fax", key) or re.search("电话|手机|传真", element.name_zh):
        return "phone"
    if element.identifier_kind or element.representation_term in ("号码", "代码"):
        return "identifier"
    return "text"


def normalize_value(value: str, how: Normalization) -> str:
    v = unicodedata.normalize("NFKC", value)
    if how == "phone":
        digits = re.sub(r"\D", "", v)
        return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    v = re.sub(r"\s+", "", v)
    if how == "identifier":
        v = v.replace("-", "").upper()
    return v


MIXED_KINDS = frozenset({"license_no"})  # identifier kinds whose values are an organisation's or a person's


def organisation_id(value: str) -> bool:
    """True when ``value`` is a valid USCC or organisation code (never a person's number)."""
    from quancheng.ids.scalar import check_org_code, check_uscc

    return bool(check_uscc(value).valid or check_org_code(value).valid)


class Tokenizer:
    """HMAC-SHA256 tokens under one key."""

    def __init__(self, key: bytes):
        if len(key) < MIN_KEY_CHARS:
            raise QuanchengError(f"tokenization key too short ({len(key)} bytes; at least {MIN_KEY_CHARS})")
        self._key = key

    def token(self, value: str, how: Normalization = "text") -> str:
        message = normalize_value(value, how).encode()
        if how == "key":
            message = KEY_DOMAIN + message
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return PREFIX + digest[:32]

    def token_or_organisation(self, value: str, how: Normalization, mixed: bool) -> str:
        """The token of ``value``, or ``value`` itself in a mixed column when it is an organisation's code."""
        return value if mixed and organisation_id(value) else self.token(value, how)

    def array(self, values: pa.Array | pa.ChunkedArray, how: Normalization, *, mixed: bool = False) -> pa.Array:
        """Tokens of a column (nulls stay null); each distinct value is hashed once. ``mixed``: a mixed
        identifier column, whose organisation codes stay clear (see the module docstring)."""
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        text = pc.cast(arr, pa.string()) if not pa.types.is_string(arr.type) else arr
        uniq = pc.unique(text).drop_null()
        tokens = pa.array([self.token_or_organisation(v, how, mixed) for v in uniq.to_pylist()], pa.string())
        out: pa.Array = pc.take(tokens, pc.index_in(text, value_set=uniq))
        return out
