"""The catalog browser: search by any name an element goes by; where an element comes from and goes to."""

from __future__ import annotations

import pytest
from quancheng.ops.browser import element_detail, fold, search


@pytest.mark.parametrize(("query", "element_id", "field", "rank"), [
    ("投资项目代码", "DE00001", "name_zh", 0),       # Chinese name
    ("项目统一代码", "DE00001", "synonym", 0),       # Chinese synonym
    ("xmdm", "DE00001", "synonym", 0),              # pinyin initials, any case
    ("ＸＭＤＭ", "DE00001", "synonym", 0),           # full-width
    ("Building area", "DE00012", "name_en", 0),     # English name
    ("building_area", "DE00012", "key", 0),         # canonical column
    ("法人代表", "DE00022", "synonym", 0),
    ("计划开工", "DE00007", "synonym", 1),           # prefix of a synonym
    ("ZYDMJ", "DE00006", "synonym", 0),
])
def test_search_finds_by_any_name(slice_catalog, query, element_id, field, rank) -> None:  # type: ignore[no-untyped-def]
    hits = search(slice_catalog, query)
    top = hits[0]
    assert (top.element_id, top.matched_field, top.rank) == (element_id, field, rank)


def test_search_ranks_exact_before_partial_and_covers_every_containing_name(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    hits = search(slice_catalog, "面积")
    expected = {e.element_id for e in slice_catalog.elements
                if any("面积" in n for n in (e.name_zh, *e.synonyms))}
    assert expected <= {h.element_id for h in hits}
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)


def test_source_field_labels_rank_below_own_names(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    label = next(f for f in slice_catalog.fields if f.label_zh == "合同价格(万元)")
    hits = search(slice_catalog, label.label_zh)
    assert hits and hits[0].matched_field == "field_label" and hits[0].rank == 1


@pytest.mark.parametrize("query", ["", "   ", "无此数据元", "zzzz"])
def test_search_without_match_is_empty(slice_catalog, query: str) -> None:  # type: ignore[no-untyped-def]
    assert search(slice_catalog, query) == []


def test_fold() -> None:
    assert fold("  Ｂｕｉｌｄｉｎｇ\u3000Area ") == "building area"


def test_element_detail_lists_feeding_systems_and_datasets(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    eid = "DE00001"
    d = element_detail(slice_catalog, eid)
    assert d is not None
    forms = [slice_catalog.form[m.form_id] for m in slice_catalog.mappings if m.element_id == eid]
    assert set(d.systems) == {f.system_id for f in forms}
    assert {c.dataset_id for c in d.datasets} == {f"{f.system_id}.{f.form_id}" for f in forms}
    assert not any(c.published for c in d.datasets)
    assert d.share_label == "无条件共享"
    assert element_detail(slice_catalog, "DE99999") is None


def test_conditional_element_names_granted_departments(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    d = element_detail(slice_catalog, "DE00022")
    assert d is not None and d.share_label == "有条件共享"
    assert d.granted_to == tuple(sorted({g.department_en for g in slice_catalog.grants}))


def test_published_and_consolidated_carriers(synced_home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    from quancheng.publish.store import SharedStore

    home, _ = synced_home
    registry = SharedStore(home).datasets()
    registry.append({"dataset_id": "stage.s1_project_land", "kind": "stage_form", "rows": 7,
                     "parquet_path": "/nowhere"})
    columns = {"/nowhere": {"project_code", "project_name"}}
    d = element_detail(slice_catalog, "DE00001", registry, columns_of=lambda p: columns.get(p, set()))
    assert d is not None
    carriers = {c.dataset_id: c for c in d.datasets}
    assert carriers["ndrc_investment.ndrc_filing"].published
    published = SharedStore(home).read("ndrc_investment.ndrc_filing")
    assert carriers["ndrc_investment.ndrc_filing"].rows == published.num_rows
    assert carriers["stage.s1_project_land"].kind == "stage_form"
    other = element_detail(slice_catalog, "DE00023", registry, columns_of=lambda p: columns.get(p, set()))
    assert other is not None and "stage.s1_project_land" not in {c.dataset_id for c in other.datasets}
