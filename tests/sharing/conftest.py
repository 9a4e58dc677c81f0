"""Fixtures for the sharing tests: the extended slice catalog (personal information, a not-shared
element, grants) and a tokenizer under a fixed test key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the dataset builders live beside the consolidation tests; both areas use them
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "consolidate"))

TEST_KEY = "test-key-not-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def catalog(tmp_path_factory):  # type: ignore[no-untyped-def]
    from issue6_builders import extended_catalog

    return extended_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="session")
def tokenizer():  # type: ignore[no-untyped-def]
    from quancheng.sharing.tokenize import Tokenizer

    return Tokenizer(TEST_KEY.encode())
