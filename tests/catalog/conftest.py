"""Fixtures for the catalog tests: writable copies of the slice and full catalogs (see tests/catalog_files.py).

Broken catalogs are built in ``tmp_path`` from a clean copy; each edit returns the line it touched
so a test can assert the ``file:line`` the check reports.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from catalog_files import CatalogFiles
from paths import FULL, SLICE


@pytest.fixture
def slice_copy(tmp_path: Path) -> CatalogFiles:
    dst = tmp_path / "catalog"
    shutil.copytree(SLICE, dst)
    return CatalogFiles(dst)


@pytest.fixture
def full_copy(tmp_path: Path) -> CatalogFiles:
    dst = tmp_path / "catalog"
    shutil.copytree(FULL, dst)
    return CatalogFiles(dst)
