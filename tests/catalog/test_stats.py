"""``quancheng catalog stats``: the reform table, computed from the catalog, checked against the CSV files.

Expected figures are counted here straight from the CSV files (csv module, not the loader), so the
only hard-coded numbers are the issue's targets, in ``test_the_full_catalog_meets_the_issue_targets``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from catalog_files import CatalogFiles
from click.testing import CliRunner
from paths import FULL, SLICE
from quancheng.catalog import load_catalog
from quancheng.catalog.stats import compute, is_waived
from quancheng.cli import cli


def _read(root: Path, name: str) -> list[dict[str, str]]:
    with (root / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def independent_counts(root: Path) -> dict[str, object]:
    """The headline figures, counted from the files with the rule in stats.py's docstring."""
    forms = {r["form_id"]: r for r in _read(root, "forms.csv")}
    mappings = _read(root, "mappings.csv")
    elements = {r["element_id"]: r for r in _read(root, "elements.csv")}
    fed: dict[str, set[str]] = {}
    for m in mappings:
        fed.setdefault(forms[m["form_id"]]["system_id"], set()).add(m["element_id"])
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for m in _read(root, "materials.csv"):
        groups.setdefault((forms[m["form_id"]]["stage_id"], m["material_key"]), []).append(m)

    def waived(m: dict[str, str]) -> bool:
        els = [e for e in m["elements"].split("|") if e]
        return (m["kind"] == "issued" and bool(m["issuer_system"])
                and all(e in fed.get(m["issuer_system"], set()) and elements[e]["share_type"] != "none"
                        for e in els))

    systems = _read(root, "systems.csv")
    fields = _read(root, "fields.csv")
    per_stage = {
        s["stage_id"]: {
            "source_forms": sum(1 for f in forms.values() if f["stage_id"] == s["stage_id"]),
            "source_fields": sum(1 for f in fields if forms[f["form_id"]]["stage_id"] == s["stage_id"]),
            "elements": len({m["element_id"] for m in mappings if forms[m["form_id"]]["stage_id"] == s["stage_id"]}),
            "materials_after": sum(1 for (st, _), rows in groups.items()
                                   if st == s["stage_id"] and not all(waived(m) for m in rows)),
        } for s in _read(root, "stages.csv")}
    return {
        "per_stage": per_stage,
        "systems": len(systems),
        "systems_by_kind": dict(sorted(Counter(s["kind"] for s in systems).items())),
        "source_forms": len(forms),
        "stage_forms": len(_read(root, "stages.csv")),
        "source_fields": len(_read(root, "fields.csv")),
        "elements": len({m["element_id"] for m in mappings}),
        "materials_before": len(_read(root, "materials.csv")),
        "materials_after": sum(1 for rows in groups.values() if not all(waived(m) for m in rows)),
    }


@pytest.mark.parametrize("root", [SLICE, FULL], ids=["slice", "full"])
def test_stats_equal_the_counts_taken_from_the_files(root: Path) -> None:
    s = compute(load_catalog(root))
    expected = independent_counts(root)
    per_stage = expected.pop("per_stage")
    assert {k: s[k] for k in expected} == expected
    assert {st: {k: v[k] for k in per_stage[st]} for st, v in s["per_stage"].items()} == per_stage  # type: ignore[index]
    assert s["elements"] == s["registry_elements"], "every active registry element is fed by some field"
    assert sum(v["source_forms"] for v in s["per_stage"].values()) == s["source_forms"]
    assert sum(v["materials_after"] for v in s["per_stage"].values()) == s["materials_after"]
    assert sum(v["systems"] for v in s["per_department"].values()) == s["systems"]


def test_the_full_catalog_meets_the_issue_targets() -> None:
    """Issue 3's own figures: 35 systems; 81 forms -> 4; 1964 fields -> 1131 elements; 511 -> 163 (-68%)."""
    s = compute(load_catalog(FULL))
    assert (s["systems"], s["source_forms"], s["stage_forms"], s["source_fields"], s["elements"],
            s["materials_before"], s["materials_after"]) == (35, 81, 4, 1964, 1131, 511, 163)
    assert s["materials_reduction_pct"] == -68
    assert s["systems_by_kind"] == {"csv": 5, "excel": 3, "http": 4, "mariadb": 6, "postgresql": 8, "sqlite": 9}


def test_removing_the_only_feed_of_an_element_lowers_elements_by_one(full_copy: CatalogFiles) -> None:
    before = compute(load_catalog(full_copy.root))["elements"]
    _, mappings = full_copy.rows("mappings.csv")
    feeds = Counter(m["element_id"] for m in mappings)
    only = next(m for m in mappings if feeds[m["element_id"]] == 1)
    assert full_copy.delete("mappings.csv", {"form_id": only["form_id"], "column": only["column"],
                                             "element_id": only["element_id"]}) == 1
    assert compute(load_catalog(full_copy.root))["elements"] == before - 1


def test_a_shared_source_for_a_material_waives_it(full_copy: CatalogFiles) -> None:
    """Map the elements an issued document carries into its issuer's own form: the document is waived."""
    cat = load_catalog(full_copy.root)
    before = compute(cat)["materials_after"]
    mat = next(m for m in cat.materials if m.kind == "issued" and m.issuer_system and not is_waived(m, cat)
               and all(cat.element[e].share_type != "none" for e in m.elements))
    form = cat.forms_of(mat.issuer_system)[0]
    held = {m.element_id for f in cat.forms_of(mat.issuer_system) for m in cat.mappings_of(f.form_id)}
    for i, e in enumerate(x for x in mat.elements if x not in held):
        column = f"shared_{i}"
        full_copy.append("fields.csv", {"form_id": form.form_id, "column": column, "label_zh": column,
                                        "native_type": "text"})
        full_copy.append("mappings.csv", {"form_id": form.form_id, "column": column, "element_id": e,
                                          "transform": "copy", "part": "0"})
    shared = load_catalog(full_copy.root)
    assert is_waived(next(m for m in shared.materials if m.material_id == mat.material_id), shared)
    assert compute(shared)["materials_after"] < before


def test_stats_json_has_the_issue_keys() -> None:
    out = CliRunner().invoke(cli, ["catalog", "stats", "--json", "--catalog", str(SLICE)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    for key in ("systems", "systems_by_kind", "source_forms", "stage_forms", "source_fields", "elements",
                "materials_before", "materials_after", "per_stage", "per_department"):
        assert key in data
    assert data == json.loads(json.dumps(compute(load_catalog(SLICE)), ensure_ascii=False))


def test_stats_table_shows_the_reform_figures() -> None:
    out = CliRunner().invoke(cli, ["catalog", "stats", "--catalog", str(SLICE)])
    assert out.exit_code == 0, out.output
    s = compute(load_catalog(SLICE))
    assert "materials" in out.output and f"{s['materials_reduction_pct']}%" in out.output
