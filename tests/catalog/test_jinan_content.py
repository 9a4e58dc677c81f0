"""The shipped Jinan catalog reads like real forms: tests on the data, which people edit by hand.

These are the realism rules the retired generator (removed from tools/, see include/catalog/README.md)
used to build in; they hold for the shipped content and are checked here on the files themselves.
Rules that any catalog must follow are ``quancheng catalog check`` rules instead.
"""

from __future__ import annotations

import re

from paths import FULL, ROOT
from quancheng.catalog import load_catalog


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


def test_the_full_catalog_keeps_every_slice_form_field_and_mapping() -> None:
    """Code written against the slice (ids, columns, transforms) keeps working on the full catalog."""
    from paths import SLICE

    small, full = load_catalog(SLICE), load_catalog(FULL)
    for s in small.systems:
        f = full.system[s.system_id]
        assert (f.kind, f.extract_mode, f.conn_id) == (s.kind, s.extract_mode, s.conn_id)
    for form in small.forms:
        f = full.form[form.form_id]
        assert (f.system_id, f.table, f.stage_id, f.primary_key, f.updated_column) == (
            form.system_id, form.table, form.stage_id, form.primary_key, form.updated_column)
    fields = {(x.form_id, x.column): x for x in full.fields}
    for x in small.fields:
        y = fields[(x.form_id, x.column)]
        assert (y.native_type, y.unit, y.code_list, y.packed_sep) == (x.native_type, x.unit, x.code_list,
                                                                      x.packed_sep)
    mappings = {(m.form_id, m.column, m.element_id): m for m in full.mappings}
    for m in small.mappings:
        assert (mappings[(m.form_id, m.column, m.element_id)].transform,
                mappings[(m.form_id, m.column, m.element_id)].part) == (m.transform, m.part)
    for e in small.elements:
        assert full.element[e.element_id].key == e.key, "slice element ids are stable"


def test_code_lists_cite_where_their_codes_come_from() -> None:
    """A list that says its values are the forms' option values has each one (but 其他) in
    reference/form_fields.csv; a list whose source is a reference file has each of its codes in it
    (GB/T 4754 excepted: its undivided groups are not in the file, the source says so)."""
    cat = load_catalog(FULL)
    forms_text = (ROOT / "reference" / "form_fields.csv").read_text(encoding="utf-8")
    for cl in cat.code_lists:
        assert cl.source and "shared/reference" not in cl.source, cl.code_list_id
        codes = cat.codes_by_list[cl.code_list_id]
        if cl.source.startswith("local: values seen in the forms' option lists"):
            missing = [c.name_zh for c in codes if c.name_zh != "其他" and c.name_zh not in forms_text]
            assert not missing, f"{cl.code_list_id}: {missing} are not in reference/form_fields.csv"
        elif cl.source.startswith("reference/") and cl.code_list_id != "gb4754":
            text = (ROOT / cl.source.split()[0].rstrip(",")).read_text(encoding="utf-8")
            assert all(c.code in text for c in codes), cl.code_list_id

