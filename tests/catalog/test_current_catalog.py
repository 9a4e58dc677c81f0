"""``current_catalog``: one load per process while the catalog's files are unchanged, a fresh one after."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from paths import SLICE
from quancheng.catalog import current_catalog


def test_shared_while_unchanged_reloaded_after_an_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(SLICE, root)
    monkeypatch.setenv("QUANCHENG_CATALOG", str(root))
    first = current_catalog()
    assert current_catalog() is first
    systems = root / "systems.csv"
    text = systems.read_text(encoding="utf-8")
    systems.write_text(text.replace(first.systems[0].name_zh, first.systems[0].name_zh + "（新）", 1),
                       encoding="utf-8")
    st = systems.stat()
    os.utime(systems, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a coarse clock still sees the edit
    second = current_catalog()
    assert second is not first
    assert second.systems[0].name_zh == first.systems[0].name_zh + "（新）"
