"""The committed catalog is exactly what tools/generate_catalog writes, and its content reads like real forms."""

from __future__ import annotations

import re
import subprocess
import sys

from catalog_files import FULL, ROOT
from quancheng.catalog import load_catalog


def test_committed_catalog_matches_the_generator() -> None:
    run = subprocess.run([sys.executable, "-m", "tools.generate_catalog", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_names_are_real_labels_not_placeholders() -> None:
    cat = load_catalog(FULL)
    placeholder = re.compile(r"(字段|field|col)_?\d+", re.I)
    for f in cat.fields:
        assert not placeholder.search(f.label_zh) and not placeholder.search(f.column), f
        assert re.search(r"[\u4e00-\u9fff]", f.label_zh), f"{f.form_id}.{f.column} has a Chinese label"
    for e in cat.elements:
        assert re.search(r"[\u4e00-\u9fff]", e.name_zh) and e.definition and e.name_en, e.element_id


def test_native_columns_follow_each_system_style() -> None:
    """Pinyin initials, English snake case, camelCase and Chinese labels all occur, per system."""
    cat = load_catalog(FULL)
    styles = {
        "pinyin": re.compile(r"^[A-Z][A-Z0-9]*$"),
        "snake": re.compile(r"^[a-z][a-z0-9_]*_[a-z0-9_]+$"),
        "camel": re.compile(r"^[a-z]+[A-Z][A-Za-z0-9]*$"),
        "label": re.compile(r"^[\u4e00-\u9fff]"),
    }
    seen = {name: {f.form_id for f in cat.fields if rx.match(f.column)} for name, rx in styles.items()}
    assert all(seen.values()), {k: len(v) for k, v in seen.items()}
    for f in cat.fields:
        system = cat.system[cat.form[f.form_id].system_id]
        if system.kind in ("csv", "excel"):
            assert styles["label"].match(f.column), f"file drop {system.system_id} uses Chinese labels: {f.column}"


def test_every_form_carries_a_matching_key() -> None:
    """Consolidation matches on 投资项目代码, entity systems on the enterprise's credit code."""
    cat = load_catalog(FULL)
    keys = {e.element_id for e in cat.elements if e.identifier_kind in ("project_code", "uscc")}
    for form in cat.forms:
        assert keys & {m.element_id for m in cat.mappings_of(form.form_id)}, form.form_id
