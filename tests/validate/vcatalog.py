"""Helpers for the validation tests: a one-form catalog built in the test, and raw batches for it."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from quancheng.catalog.models import Element, SourceForm
from quancheng.normalize.types import with_provenance

FORM = SourceForm(form_id="f", system_id="ndrc_investment", name_zh="测试表", name_en="Test form", table="T",
                  stage_id="s1_project_land", form_kind="application", primary_key=("id",))


def element(key: str, data_type: str = "string", **kw: Any) -> Element:
    defaults = {"name_zh": key, "name_en": key, "definition": key, "object_class": "测试", "property": key,
                "representation_term": "名称"}
    return Element(element_id=f"E_{key}", key=key, data_type=data_type, **{**defaults, **kw})  # type: ignore[arg-type]


def raw_batch(columns: dict[str, list[Any]]) -> pa.Table:
    n = len(next(iter(columns.values())))
    native = pa.table({"id": [str(i) for i in range(n)], **columns})
    return with_provenance(native, FORM, batch_id="b1")
