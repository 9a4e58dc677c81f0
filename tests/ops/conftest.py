"""Fixtures for the ops tests (the data they use is in ``opsdata``)."""

from __future__ import annotations

import pytest
from memory_source import MemorySource, ndrc_rows, use_memory
from opsdata import FAILURE, T0, T1
from quancheng.sources import Window


@pytest.fixture
def synced_home(slice_catalog, home, monkeypatch):  # type: ignore[no-untyped-def]
    from quancheng import pipeline
    from quancheng.steps import record_failure

    use_memory(monkeypatch, slice_catalog, "ndrc_investment")
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(20, bad=3)}
    ref = pipeline.run_system("ndrc_investment", Window(T0, T1), catalog=slice_catalog, home=home, uri="memory://")
    record_failure("hcb_construction_permit", T0, T1, FAILURE, home=str(home))
    return home, ref
