"""Shared test fixtures: the slice catalog, temporary homes, and real-service availability.

Tests that need PostgreSQL or MariaDB use the real servers. Under CI (``CI=true``) an unreachable
server is a failure; elsewhere those tests skip with the reason.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from paths import FULL, IN_CI, SLICE

SERVICES = {"postgres": ("127.0.0.1", 5432), "mariadb": ("127.0.0.1", 3306), "redis": ("127.0.0.1", 6379)}


def service_up(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip service tests when the server is down, except in CI where they must run (and fail)."""
    if IN_CI:
        return
    for name, (host, port) in SERVICES.items():
        marked = [item for item in items if name in item.keywords]
        if marked and not service_up(name):
            for item in marked:
                item.add_marker(pytest.mark.skip(reason=f"{name} is not reachable at {host}:{port}"))


@pytest.fixture(scope="session")
def slice_catalog():  # type: ignore[no-untyped-def]
    from quancheng.catalog import load_catalog

    return load_catalog(SLICE)


@pytest.fixture(scope="session")
def full_catalog():  # type: ignore[no-untyped-def]
    """The project's own catalog (all 35 systems), whatever ``$QUANCHENG_CATALOG`` says."""
    from quancheng.catalog import load_catalog

    return load_catalog(FULL)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h
