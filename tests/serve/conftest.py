"""Fixtures for the data-service tests.

Two homes, both built without Airflow:
- ``grants_home``: the extended slice catalog (every sharing type: 无条件共享, 有条件共享 with a grant by name
  and a grant of all conditional elements, 不予共享) with small system datasets shaped exactly as the
  pipeline publishes them (the sharing tests' builders), then sharing and consolidation;
- ``demo_home``: the demo world of the slice catalog, seeded and run through the real pipeline
  (extract, normalize, validate, publish) and consolidation, for the prefill and the real server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from serve_kit import TEST_KEY  # the departments and key_for live there too

# the dataset builders live beside the consolidation tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "consolidate"))



@pytest.fixture(scope="session")
def catalog_path(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    from issue6_builders import extended_catalog

    tmp = tmp_path_factory.mktemp("catalog")
    extended_catalog(tmp)
    return tmp / "catalog"


@pytest.fixture(scope="session")
def catalog(catalog_path):  # type: ignore[no-untyped-def]
    from quancheng.catalog import load_catalog

    return load_catalog(catalog_path)


@pytest.fixture(scope="session")
def grants_world_builder() -> Callable[..., None]:
    """:func:`build_grants_world` as a fixture: a test module cannot import it from ``conftest`` under xdist,
    where another folder's conftest may be the one of that name already imported."""
    return build_grants_world


def build_grants_world(store: Any, catalog: Any, *, role_prefix: str | None = None) -> None:
    """The sharing tests' world (:func:`issue6_builders.build_grants_world`) under this folder's test key."""
    from issue6_builders import build_grants_world as build

    build(store, catalog, key=TEST_KEY, role_prefix=role_prefix)


@pytest.fixture(scope="module")
def grants_home(catalog, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    from quancheng.publish.store import SharedStore

    home = tmp_path_factory.mktemp("grants_home")
    build_grants_world(SharedStore(home, sql_url=f"sqlite:///{home / 'shared' / 'exchange.db'}"), catalog)
    return home


@pytest.fixture(scope="module")
def demo_home(slice_catalog, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The slice catalog's demo world, seeded and synced in-process, then shared and consolidated."""
    from quancheng import pipeline
    from quancheng.consolidate.run import (
        publish_enterprise_master,
        publish_materials,
        publish_stage_forms,
        share_system_datasets,
    )
    from quancheng.demo.run import _ceil_to_day, served_world
    from quancheng.demo.seed import seed_world
    from quancheng.publish.store import SharedStore
    from quancheng.sources import Window

    mp = pytest.MonkeyPatch()
    mp.setenv("QC_TOKENIZATION_KEY", TEST_KEY)
    home = tmp_path_factory.mktemp("demo_home")
    seeded = seed_world(slice_catalog, home / "world", scale=60, seed=7)
    end = _ceil_to_day(datetime.fromisoformat(seeded.interval["end"]))
    with served_world(home / "world", seeded.to_dict()) as uris:
        for sid, info in seeded.systems.items():
            pipeline.run_system(sid, Window(None, end), catalog=slice_catalog, home=home,
                                uri=uris.get(sid, info["uri"]))
    store = SharedStore(home, sql_url=f"sqlite:///{home / 'shared' / 'exchange.db'}")
    for step in (share_system_datasets, publish_stage_forms, publish_enterprise_master, publish_materials):
        step(store, slice_catalog)
    mp.undo()
    return home


Api = Callable[[str], Any]


@pytest.fixture
def api_factory(monkeypatch) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """``api_factory(home, catalog, rate=...)`` -> (TestClient, app); closed at the end of the test."""
    from fastapi.testclient import TestClient
    from quancheng.serve.app import create_app

    monkeypatch.delenv("QUANCHENG_SHARED_DB", raising=False)
    opened: list[Any] = []

    def make(home: Path, catalog: Any, **kw: Any) -> tuple[Any, Any]:
        app = create_app(home, catalog, auth_ttl=0.0, **kw)
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, app

    yield make
    for c in opened:
        c.__exit__(None, None, None)
