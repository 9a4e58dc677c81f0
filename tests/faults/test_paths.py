"""Fault injection: ids that would become paths outside the home (issue 17, item 4).

The catalog object is built in Python, so these hold even if the catalog check lets a crafted id through:
the pipeline, the shared store, the sharing areas and the quality reports all refuse before creating or
removing anything, and the folder a crafted id points at (which ``extract`` used to ``rmtree``) survives.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pytest
from memory_source import MemorySource, ndrc_rows, use_memory
from quancheng import pipeline
from quancheng.catalog.loader import Catalog
from quancheng.publish.store import SharedStore
from quancheng.safepath import UnsafePath, inside, safe_path
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.rules import OPEN
from quancheng.sources import Window
from quancheng.validate.gx import gx_report

EVIL = "../../evil'; DROP TABLE x;--"
T1 = datetime(2026, 3, 2, tzinfo=UTC)


def crafted(catalog: Catalog, *, system_id: str = "ndrc_investment", form_id: str = "ndrc_filing") -> Catalog:
    """The slice catalog with the investment system and its filing form renamed, as no catalog check sees it."""
    def sys_rows(rows: list, key: str, old: str, new: str) -> list:  # type: ignore[type-arg]
        return [r.model_copy(update={key: new}) if getattr(r, key) == old else r for r in rows]

    out = copy.copy(catalog)
    for name in [k for k in vars(out) if isinstance(getattr(Catalog, k, None), cached_property)]:
        delattr(out, name)  # indexes built from the old rows
    forms = sys_rows(catalog.forms, "system_id", "ndrc_investment", system_id)
    out.forms = sys_rows(forms, "form_id", "ndrc_filing", form_id)
    out.systems = sys_rows(catalog.systems, "system_id", "ndrc_investment", system_id)
    out.fields = sys_rows(catalog.fields, "form_id", "ndrc_filing", form_id)
    out.mappings = sys_rows(catalog.mappings, "form_id", "ndrc_filing", form_id)
    return out


def tree(root: Path, *, skip: Path) -> set[str]:
    """Every path under ``root`` except those under ``skip`` (what a run may touch outside the home)."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        if d == skip or skip in d.parents:
            dirnames.clear()
            continue
        out |= {str(d / n) for n in dirnames + filenames}
    return out


@pytest.mark.parametrize("part", ["", ".", "..", "../x", "a/b", "a\\b", "nul\0byte", EVIL, "/etc"])
def test_a_part_that_is_no_plain_name_is_refused(tmp_path: Path, part: str) -> None:
    with pytest.raises(UnsafePath, match="refused before creating or removing anything"):
        safe_path(tmp_path, "staging", part)


@pytest.mark.parametrize("part", ["ndrc_investment", "ndrc_investment.ndrc_filing", "quarantine.x",
                                  "ndrc_investment__origin__20260302T000000", ".versions", "项目-1"])
def test_plain_names_pass(tmp_path: Path, part: str) -> None:
    assert safe_path(tmp_path, part) == tmp_path / part


def test_a_symlink_under_the_root_does_not_carry_a_path_out(tmp_path: Path) -> None:
    home, outside = tmp_path / "home", tmp_path / "outside"
    (home / "staging").mkdir(parents=True)
    outside.mkdir()
    (home / "staging" / "ndrc_investment").symlink_to(outside)
    with pytest.raises(UnsafePath, match="resolves to"):
        safe_path(home, "staging", "ndrc_investment", "batch")
    with pytest.raises(UnsafePath):
        inside(home, home / "staging" / "ndrc_investment")


@pytest.mark.parametrize("ids", [{"system_id": EVIL}, {"form_id": EVIL}, {"system_id": ".."},
                                 {"form_id": "../../../../evil_form"}])
def test_a_crafted_id_creates_and_removes_nothing_outside_the_home(slice_catalog, tmp_path: Path, monkeypatch,
                                                                   ids: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    catalog = crafted(slice_catalog, **ids)
    sid = ids.get("system_id", "ndrc_investment")
    use_memory(monkeypatch, catalog, sid)
    MemorySource.tables = {"TZ_XMBA": ndrc_rows(5)}
    home = tmp_path / "a" / "b" / "home"
    home.mkdir(parents=True)
    window = Window(None, T1)
    # the folder the crafted id points at (the one extract used to wipe), with something in it to lose
    victim = Path(os.path.normpath(home / "staging" / sid / pipeline.batch_id_for(sid, window)))
    if not victim.is_relative_to(home):
        victim.mkdir(parents=True, exist_ok=True)
        (victim / "precious.txt").write_text("keep me")
    before = tree(tmp_path, skip=home)

    with pytest.raises(UnsafePath, match="refused before creating or removing anything"):
        pipeline.run_system(sid, window, catalog=catalog, home=home, uri="memory://")

    assert tree(tmp_path, skip=home) == before
    if not victim.is_relative_to(home):
        assert (victim / "precious.txt").read_text() == "keep me"
    assert not (home / "staging").exists()  # refused before the first folder was made


def test_store_refuses_a_crafted_dataset_id(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = SharedStore(home)
    before = tree(tmp_path, skip=home)
    table = pa.table({"_source_key": ["k1"], "v": ["x"]})
    for ds in (EVIL, "..", "a/b"):
        with pytest.raises(UnsafePath):
            store.publish(ds, table, kind="system", batch_id="b1")
        with pytest.raises(UnsafePath):
            store.read(ds)
    assert tree(tmp_path, skip=home) == before
    assert store.datasets() == []  # nothing registered either
    assert not (store.parquet_root / ".versions").exists()


def test_areas_and_quality_refuse_a_crafted_dataset_id(slice_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    areas = AreaStore(SharedStore(home), slice_catalog)
    before = tree(tmp_path, skip=home)
    table = pa.table({"_source_key": ["k1"]})
    with pytest.raises(UnsafePath):
        areas.publish(OPEN, EVIL, table, kind="system", batch_id="b1", columns={}, table_meta={})
    form = slice_catalog.form["ndrc_filing"]
    with pytest.raises(UnsafePath):
        gx_report("..", table, slice_catalog, form, home / "quality", run_name="b1")
    assert tree(tmp_path, skip=home) == before
