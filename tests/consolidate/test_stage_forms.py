"""Stage forms: rows per project per stage, values and conflicts checked against a plain-Python oracle
of the catalog rule (authority system first, else most recent; NFKC/whitespace-insensitive comparison)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from issue6_builders import system_table
from quancheng.consolidate.stage_forms import (
    CONFLICTS_ORDER,
    build_stage_forms,
    project_element,
    stage_dataset_id,
    stage_elements,
)

P = [f"2019-370102-47-01-00000{i}" for i in range(6)]
SH = ZoneInfo("Asia/Shanghai")
T1 = datetime(2026, 3, 2, tzinfo=UTC)


def _ndrc() -> list[dict[str, Any]]:
    upd = datetime(2026, 3, 1, 8, 0)  # local time, i.e. 2026-03-01 00:00 UTC
    return [
        {"project_code": P[1], "project_name": "济南项目一", "construction_unit_name": "山东恒达建设有限公司",
         "total_investment": Decimal("1000.00"), "source_updated_at": upd, "_source_key": P[1]},
        {"project_code": P[2], "project_name": "济南项目二", "construction_unit_name": "甲公司",
         "source_updated_at": datetime(2026, 2, 1, 9, 0), "_source_key": P[2]},
        {"project_code": P[3], "project_name": "济南项目三", "source_updated_at": upd, "_source_key": P[3]},
        {"project_code": "２０１９－３７０１０２－４７－０１－００００００", "project_name": "项目零",
         "_source_key": "x0"},
        {"project_code": None, "project_name": "没有代码", "_source_key": "x-none"},
    ]


def _hcb() -> list[dict[str, Any]]:
    return [
        {"project_code": P[1].replace("-", ""), "project_name": "济南项目一", "construction_unit_name": "恒达建设",
         "contract_price": Decimal("500.00"), "_source_key": "permit-1a"},
        {"project_code": P[1], "project_name": "济南项目一", "contract_price": Decimal("600.00"),
         "_source_key": "permit-1b", "_extracted_at": T1 + timedelta(days=1)},
        {"project_code": P[2], "project_name": "济南项目２", "construction_unit_name": "乙公司",
         "_source_key": "permit-2"},
        {"project_code": P[3], "project_name": "济南项目三\u3000", "_source_key": "permit-3"},
        {"project_code": P[5], "project_name": "新项目五", "_source_key": "permit-5"},
    ]


@pytest.fixture
def datasets(slice_catalog):  # type: ignore[no-untyped-def]
    return {
        "ndrc_investment.ndrc_filing": system_table(slice_catalog, "ndrc_filing", _ndrc()),
        "hcb_construction_permit.hcb_permit": system_table(slice_catalog, "hcb_permit", _hcb(), extracted_at=T1),
    }


def _key(v: str | None) -> str | None:
    if v is None:
        return None
    v = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", v).upper())
    return f"{v[:4]}-{v[4:10]}-{v[10:12]}-{v[12:14]}-{v[14:]}" if len(v) == 20 else v or None


def _cmp(v: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", v)) if isinstance(v, str) else str(v)


def oracle(datasets: dict[str, pa.Table], catalog) -> tuple[dict, set]:  # type: ignore[no-untyped-def]
    """(project, element key) -> winning (system, value, rule); and the set of losing candidates."""
    cands: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for table in datasets.values():
        for r in table.to_pylist():
            k = _key(r["project_code"])
            if k is None:
                continue
            upd = r.get("source_updated_at")
            as_of = upd.replace(tzinfo=SH).astimezone(UTC) if upd else r["_extracted_at"]
            for col, v in r.items():
                if col.startswith("_") or col == "project_code" or v is None:
                    continue
                cands.setdefault((k, col), []).append({"system": r["_source_system"], "key": r["_source_key"],
                                                       "value": v, "as_of": as_of})
    winners, losers = {}, set()
    for (k, col), cs in cands.items():
        auth = catalog.element_by_key[col].authority_system
        best = sorted(cs, key=lambda c: (c["system"] != auth, -c["as_of"].timestamp(), c["system"], c["key"]))[0]
        rule = "authority_system" if best["system"] == auth else "most_recent"
        winners[(k, col)] = (best["system"], best["value"], rule)
        for c in cs:
            if _cmp(c["value"]) != _cmp(best["value"]):
                losers.add((k, col, c["system"], c["key"], best["system"], rule))
    return winners, losers


def test_rows_per_stage_are_the_projects_that_reached_it(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    result = build_stage_forms(datasets, slice_catalog, batch_id="t")
    pk = project_element(slice_catalog).key
    for stage in slice_catalog.stages:
        forms = {f"{f.system_id}.{f.form_id}" for f in slice_catalog.forms if f.stage_id == stage.stage_id}
        expected = {_key(v) for ds, t in datasets.items() if ds in forms for v in t[pk].to_pylist()} - {None}
        rows = result.forms[stage_dataset_id(stage.stage_id)][pk].to_pylist()
        assert sorted(rows) == sorted(expected), stage.stage_id
        assert len(rows) == len(set(rows))  # one row per project per stage


def test_values_follow_the_catalog_rule(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    result = build_stage_forms(datasets, slice_catalog, batch_id="t")
    winners, _ = oracle(datasets, slice_catalog)
    pk = project_element(slice_catalog).key
    checked = 0
    for stage in slice_catalog.stages:
        table = result.forms[stage_dataset_id(stage.stage_id)]
        prov = {(r["project_code"], r["element_key"]): r
                for r in result.provenance[f"stage.{stage.stage_id}.provenance"].to_pylist()}
        members = [e.key for e in stage_elements(slice_catalog, stage.stage_id)[1:]]
        assert table.column_names[: 1 + len(members)] == [pk, *members]
        for row in table.to_pylist():
            for col in members:
                want = winners.get((row[pk], col))
                assert row[col] == (want[1] if want else None), (row[pk], col)
                if want:
                    assert (prov[(row[pk], col)]["system_id"], prov[(row[pk], col)]["rule"]) == (want[0], want[2])
                    checked += 1
                else:
                    assert (row[pk], col) not in prov
    assert checked > 0


def test_conflicts_keep_every_losing_value(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    result = build_stage_forms(datasets, slice_catalog, batch_id="t")
    _, losers = oracle(datasets, slice_catalog)
    got = {(r["project_code"], r["element_key"], r["system_id"], r["source_key"], r["winner_system"], r["rule"])
           for r in result.conflicts.to_pylist()}
    assert got == losers
    assert {r[5] for r in losers} == {"authority_system", "most_recent"}  # both rules are exercised
    same = [r for r in result.conflicts.to_pylist() if r["same_system"]]
    assert all(r["system_id"] == r["winner_system"] for r in same) and same


def test_rows_without_a_project_code_are_counted_not_dropped_silently(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    result = build_stage_forms(datasets, slice_catalog, batch_id="t")
    for ds, table in datasets.items():
        assert result.unmatched[ds] == table["project_code"].null_count


def test_result_does_not_depend_on_input_order(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    a = build_stage_forms(datasets, slice_catalog, batch_id="t")
    shuffled = {k: datasets[k].take(list(reversed(range(datasets[k].num_rows)))) for k in reversed(list(datasets))}
    b = build_stage_forms(shuffled, slice_catalog, batch_id="t")
    assert all(a.forms[k].equals(b.forms[k]) for k in a.forms)
    assert a.conflicts.equals(b.conflicts)
    assert all(a.provenance[k].equals(b.provenance[k]) for k in a.provenance)


def test_losers_of_one_source_key_in_two_tables_of_a_system_keep_one_order(full_catalog):  # type: ignore[no-untyped-def]
    """Two forms of one system keyed by the project code (the investment system's approval and government
    approval) both lose under one (project, element, system, source key): their order, and so the conflicts'
    content hash, must not depend on the order the datasets come in."""
    newer, older = datetime(2026, 3, 1, 8, 0), datetime(2026, 2, 1, 8, 0)
    both = {f"ndrc_investment.{form}": system_table(full_catalog, form, [
        {"project_code": P[1], "project_name": name, "source_updated_at": at, "_source_key": P[1]}])
        for form, name, at in (("ndrc_filing", "济南项目一", newer), ("ndrc_approval", "济南项目一（核准）", older),
                               ("ndrc_gov_approval", "济南项目一（审批）", older))}
    a = build_stage_forms(both, full_catalog, batch_id="t")
    b = build_stage_forms(dict(reversed(list(both.items()))), full_catalog, batch_id="t")
    rows = a.conflicts.to_pylist()
    assert len({(r["project_code"], r["element_id"], r["system_id"], r["source_key"]) for r in rows}) < len(rows)
    assert len({tuple(r[k] for k in CONFLICTS_ORDER) for r in rows}) == len(rows)  # the order is total
    assert a.conflicts.equals(b.conflicts)


def test_missing_required_lists_required_elements_without_value(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    result = build_stage_forms(datasets, slice_catalog, batch_id="t")
    for stage in slice_catalog.stages:
        required = [e.key for e in stage_elements(slice_catalog, stage.stage_id)[1:] if stage.stage_id in e.required_in]
        for row in result.forms[stage_dataset_id(stage.stage_id)].to_pylist():
            missing = [k for k in required if row[k] is None]
            assert row["_missing_required"] == "|".join(missing)


def test_a_column_of_the_wrong_type_is_named(datasets, slice_catalog):  # type: ignore[no-untyped-def]
    from quancheng.errors import QuanchengError

    bad = datasets["ndrc_investment.ndrc_filing"]
    i = bad.column_names.index("total_investment")
    bad = bad.set_column(i, "total_investment", pa.array(["不详"] * bad.num_rows))
    with pytest.raises(QuanchengError, match=r"ndrc_investment\.ndrc_filing.*total_investment"):
        build_stage_forms({**datasets, "ndrc_investment.ndrc_filing": bad}, slice_catalog, batch_id="t")
