"""Fixtures for the source contract tests (helpers live in source_hosts.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from quancheng.catalog import Catalog
from quancheng.demo import engines
from quancheng.demo.api import serve
from source_hosts import KINDS, Host, kind_param


@pytest.fixture(scope="session")
def catalog(slice_catalog: Catalog) -> Catalog:
    return slice_catalog


@pytest.fixture(params=[kind_param(k) for k in KINDS])
def host(request: pytest.FixtureRequest, catalog: Catalog, tmp_path: Path) -> Iterator[Host]:
    kind = request.param  # server kinds carry their service mark: skipped (or failing, in CI) when down
    with ExitStack() as stack:
        h = Host(kind, catalog, tmp_path, stack)
        if kind == "http":
            h.api_base = stack.enter_context(serve(tmp_path))
        try:
            yield h
        finally:
            for db in h.databases:
                engines.drop_database(kind, db)
