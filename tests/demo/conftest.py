"""Fixtures for the demo-world tests: small worlds seeded once per session."""

from __future__ import annotations

import pytest
from quancheng.catalog import Catalog
from quancheng.demo.seed import seed_world
from quancheng.demo.world import World


@pytest.fixture(scope="session")
def world(slice_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> World:
    return seed_world(slice_catalog, tmp_path_factory.mktemp("world"), scale=300, seed=7)
