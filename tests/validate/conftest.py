"""Fixtures for the validation tests: small catalogs built in the test (one form, the elements under test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import Code, CodeList, CrossRule, Element, Mapping, SourceField
from vcatalog import FORM


@pytest.fixture
def make_catalog(slice_catalog: Catalog) -> Callable[..., Catalog]:
    """``make_catalog([(element, transform, field_kw), ...], rules=[...], codes={list_id: [codes]})``."""

    def build(spec: list[tuple[Element, str, dict[str, Any]]], rules: list[CrossRule] | None = None,
              codes: dict[str, list[str]] | None = None) -> Catalog:
        fields = [SourceField(form_id="f", column="id", label_zh="编号", native_type="text",
                              excluded_reason="the source key")]
        mappings = []
        for el, transform, fkw in spec:
            col = fkw.pop("column", el.key.upper())
            if not any(f.column == col for f in fields):
                fields.append(SourceField(form_id="f", column=col, label_zh=el.name_zh, native_type="text", **fkw))
            mappings.append(Mapping(form_id="f", column=col, element_id=el.element_id,
                                    transform=transform, part=fkw.get("part", 0)))  # type: ignore[arg-type]
        lists = [CodeList(code_list_id=k, name_zh=k, name_en=k, version="V1.0") for k in (codes or {})]
        code_rows = [Code(code_list_id=k, code=c, name_zh=f"名{c}") for k, cs in (codes or {}).items() for c in cs]
        base = slice_catalog
        tables = {
            "stages.csv": base.stages, "systems.csv": base.systems, "forms.csv": [FORM], "fields.csv": fields,
            "mappings.csv": mappings, "elements.csv": list(dict.fromkeys(el for el, _, _ in spec)),
            "code_lists.csv": base.code_lists + lists, "crosswalks.csv": base.crosswalks, "units.csv": base.units,
            "materials.csv": [], "rules.csv": rules or [], "grants.csv": [],
        }
        return Catalog(base.root, tables, base.codes + code_rows)

    return build
