"""``quancheng catalog stats``: the reform table, computed from the catalog, checked against the CSV files.

Expected figures are counted here straight from the CSV files (csv module, not the loader). No test pins
the project's own totals: the one comparison with the reform's published figures is
``test_the_jinan_catalog_reproduces_the_reform_s_published_figures``, which reads them from the catalog's
``reform_figures.csv`` (the seed), the only place they are written.
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
from quancheng.catalog.check import check
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
    # the case record (filled_by office) is not among the form elements; a catalog without the column has none
    office = {i for i, r in elements.items() if r.get("filled_by") == "office"}
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
    applied = {k for k, f in forms.items() if f["form_kind"] == "application"}  # data tables are counted apart
    per_stage = {
        s["stage_id"]: {
            "source_forms": sum(1 for k, f in forms.items() if f["stage_id"] == s["stage_id"] and k in applied),
            "source_fields": sum(1 for f in fields
                                 if forms[f["form_id"]]["stage_id"] == s["stage_id"] and f["form_id"] in applied),
            "data_tables": sum(1 for k, f in forms.items() if f["stage_id"] == s["stage_id"] and k not in applied),
            "elements": len({m["element_id"] for m in mappings
                             if forms[m["form_id"]]["stage_id"] == s["stage_id"]} - office),
            "materials_after": sum(1 for (st, _), rows in groups.items()
                                   if st == s["stage_id"] and not all(waived(m) for m in rows)),
        } for s in _read(root, "stages.csv")}
    return {
        "per_stage": per_stage,
        "systems": len(systems),
        "systems_by_kind": dict(sorted(Counter(s["kind"] for s in systems).items())),
        "source_forms": len(applied),
        "stage_forms": len(_read(root, "stages.csv")),
        "source_fields": sum(1 for f in fields if f["form_id"] in applied),
        "data_tables": len(forms) - len(applied),
        "data_table_fields": sum(1 for f in fields if f["form_id"] not in applied),
        "elements": len({m["element_id"] for m in mappings} - office),
        "case_elements": len({m["element_id"] for m in mappings} & office),
        "materials_before": len(_read(root, "materials.csv")),
        "materials_after": sum(1 for rows in groups.values() if not all(waived(m) for m in rows)),
        "materials_merged_in_stage": sum(len(rows) - 1 for rows in groups.values()),
        "materials_waived_by_sharing": sum(1 for rows in groups.values() if all(waived(m) for m in rows)),
    }


@pytest.mark.parametrize("root", [SLICE, FULL], ids=["slice", "full"])
def test_stats_equal_the_counts_taken_from_the_files(root: Path) -> None:
    s = compute(load_catalog(root))
    expected = independent_counts(root)
    per_stage = expected.pop("per_stage")
    assert {k: s[k] for k in expected} == expected
    assert {st: {k: v[k] for k in per_stage[st]} for st, v in s["per_stage"].items()} == per_stage  # type: ignore[index]
    assert s["elements"] + s["case_elements"] == s["registry_elements"], "every active registry element is fed"
    assert sum(v["source_forms"] for v in s["per_stage"].values()) == s["source_forms"]
    assert sum(v["data_tables"] for v in s["per_stage"].values()) == s["data_tables"]
    assert sum(v["source_forms"] + v["data_tables"] for v in s["per_department"].values()) == (
        s["source_forms"] + s["data_tables"])
    assert sum(v["materials_after"] for v in s["per_stage"].values()) == s["materials_after"]
    assert sum(v["systems"] for v in s["per_department"].values()) == s["systems"]


def test_merging_and_waiving_add_up_to_the_reduction() -> None:
    for root in (SLICE, FULL):
        s = compute(load_catalog(root))
        assert s["materials_before"] - s["materials_merged_in_stage"] - s["materials_waived_by_sharing"] == (
            s["materials_after"])
        for v in s["per_stage"].values():
            assert v["materials_before"] - v["materials_merged_in_stage"] - v["materials_waived_by_sharing"] == (
                v["materials_after"])


def test_the_jinan_catalog_reproduces_the_reform_s_published_figures() -> None:
    """The one fidelity test: every seed figure of reform_figures.csv, computed from the shipped catalog.

    When honest content departs from a seed figure, ``catalog stats`` shows the difference; this test then
    names the figure that departs, until ``reform_figures.csv`` records the departure and its reason (the
    catalog's README, "Content review", says more): the catalog must then land exactly there.
    """
    seeds = {r["figure"]: int(r["seed"]) for r in _read(FULL, "reform_figures.csv")}
    s = compute(load_catalog(FULL))
    assert set(seeds) == {"systems", "source_forms", "stage_forms", "source_fields", "elements",
                          "materials_before", "materials_after"}
    assert {k: v["seed"] for k, v in s["seed_figures"].items()} == seeds
    assert {k: v["computed"] for k, v in s["seed_figures"].items()} == {k: s[k] for k in seeds}
    assert {k: v["difference"] for k, v in s["seed_figures"].items() if v["difference"]} == \
        {k: v["explained_difference"] for k, v in s["seed_figures"].items() if v["explained_difference"]}
    readme = (FULL / "README.md").read_text(encoding="utf-8")
    for k, v in s["seed_figures"].items():
        if v["explained_difference"]:
            assert v["explanation"] and k in readme, f"{k}: a departure needs its reason, here and in the README"


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
    for key in ("systems", "systems_by_kind", "source_forms", "stage_forms", "source_fields", "data_tables",
                "data_table_fields", "elements",
                "materials_before", "materials_after", "per_stage", "per_department",
                "materials_merged_in_stage", "materials_waived_by_sharing", "seed_figures"):
        assert key in data
    assert data == json.loads(json.dumps(compute(load_catalog(SLICE)), ensure_ascii=False))
    assert data["seed_figures"] == {}, "the slice has no reform_figures.csv: nothing to compare with"


def test_stats_table_shows_the_reform_figures() -> None:
    out = CliRunner().invoke(cli, ["catalog", "stats", "--catalog", str(SLICE)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    s = compute(load_catalog(SLICE))
    assert "materials" in out.output and f"{s['materials_reduction_pct']}%" in out.output
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in ln.split("│")[1:-1]]
                                              for ln in out.output.splitlines() if ln.count("│") > 2)}
    assert rows["merged within a stage"][2] == str(-s["materials_merged_in_stage"])
    assert rows["waived by shared data"][2] == str(-s["materials_waived_by_sharing"])
    assert rows["data tables (fields)"][0] == f"{s['data_tables']} ({s['data_table_fields']})"


def test_a_data_table_is_counted_apart_from_the_application_forms(full_copy: CatalogFiles) -> None:
    """Turning a data table into an application form moves it and its fields into source_forms/source_fields."""
    before = compute(load_catalog(full_copy.root))
    assert before["data_tables"] == 10
    _, fields = full_copy.rows("fields.csv")
    n = sum(1 for f in fields if f["form_id"] == "tax_credit_rating")
    full_copy.set("forms.csv", {"form_id": "tax_credit_rating"}, form_kind="application")
    after = compute(load_catalog(full_copy.root))
    assert (after["source_forms"], after["source_fields"]) == (before["source_forms"] + 1, before["source_fields"] + n)
    assert (after["data_tables"], after["data_table_fields"]) == (9, before["data_table_fields"] - n)
    assert after["elements"] == before["elements"], "a data table's elements count either way"


def test_stats_table_shows_each_seed_figure_beside_the_computed_one(full_copy: CatalogFiles) -> None:
    """A seed that the content does not meet: the table shows the difference next to the seed figure."""
    full_copy.set("reform_figures.csv", {"figure": "source_forms"}, seed="83")
    s = compute(load_catalog(full_copy.root))
    seed = s["seed_figures"]["source_forms"]
    assert (seed["seed"], seed["computed"], seed["difference"]) == (83, s["source_forms"], s["source_forms"] - 83)
    out = CliRunner().invoke(cli, ["catalog", "stats", "--catalog", str(full_copy.root)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    forms_row = next(ln for ln in out.output.splitlines() if ln.startswith("│ forms "))
    cells = [c.strip() for c in forms_row.split("│")[1:-1]]
    assert cells == ["forms", str(s["source_forms"]), str(s["stage_forms"]), "",
                     f"83 -> {s['seed_figures']['stage_forms']['seed']}", f"{s['source_forms'] - 83:+d}  +0"]


def test_stats_refuses_a_catalog_that_fails_check(slice_copy: CatalogFiles) -> None:
    line = slice_copy.set("forms.csv", {"form_id": "hcb_permit"}, system_id="hcb_nowhere")
    for args in ([], ["--json"]):
        out = CliRunner().invoke(cli, ["catalog", "stats", "--catalog", str(slice_copy.root), *args])
        assert out.exit_code == 1
        assert f"forms.csv:{line}: form 'hcb_permit': unknown system 'hcb_nowhere'" in out.stderr
        assert f"not counting: {len(check(load_catalog(slice_copy.root)))} problem(s)" in out.stderr
        assert out.stdout == "", "no figures from a broken catalog"
