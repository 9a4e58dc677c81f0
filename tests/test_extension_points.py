"""Open extension points (issue 15): a new transform, source kind or cross-field rule kind is one definition
registered by name. The catalog accepts the name only while it is registered (else the load fails at the
row, listing the known names), ``catalog check`` passes, and the pipeline runs it.

Each extension below is defined once; the fixture ``registered`` registers all three for a test's duration.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa
import pytest
from catalog_files import CatalogFiles
from memory_source import MemorySource, ndrc_rows
from paths import SLICE
from quancheng import pipeline
from quancheng.catalog import load_catalog
from quancheng.catalog.check import check
from quancheng.catalog.models import CrossRule, Element, SourceForm
from quancheng.errors import CatalogError
from quancheng.normalize import normalize_form
from quancheng.normalize.base import Outcome
from quancheng.normalize.convert import Sources
from quancheng.normalize.plan import Group
from quancheng.normalize.quantity import UnitTable
from quancheng.normalize.text import normalize_text
from quancheng.normalize.transforms import register_transform
from quancheng.normalize.types import ROW
from quancheng.publish.store import SharedStore
from quancheng.registry import CROSS_RULES, SOURCE_KINDS, TRANSFORMS
from quancheng.runs import totals
from quancheng.sources import Window, open_source
from quancheng.sources.base import Source, register, source_class
from quancheng.validate import validate_form
from quancheng.validate.cross import register_rule, takes

T1 = datetime(2026, 3, 2, tzinfo=UTC)


# --- the extensions ---
def upper(g: Group, src: Sources, units: UnitTable) -> list[Outcome]:
    """Cleaned text (the ``text`` transform's rules) in upper case."""
    o = normalize_text(src.text(g.columns[0]))
    return [Outcome(o.values.str.to_uppercase(), o.codes)]


class ToySource(Source):
    """Rows held in ``tables`` by source table, every row whatever the window."""

    kind = "toy"
    tables: ClassVar[dict[str, pa.Table]] = {}

    def live_columns(self, form: SourceForm) -> list[str]:
        return self.tables[form.table].column_names

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        yield from self.tables[form.table].to_batches(max_chunksize=chunk_rows)

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        yield from self.tables[form.table].select(list(form.primary_key)).to_batches(max_chunksize=chunk_rows)


def differ(rule: CrossRule, elements: tuple[Element, ...], cols: list[pl.Expr]) -> pl.Expr:
    """The two values differ (a project named after its owner is a copying slip)."""
    return cols[0] == cols[1]


@pytest.fixture
def registered() -> Iterator[None]:
    with TRANSFORMS.scoped(), SOURCE_KINDS.scoped(), CROSS_RULES.scoped():
        register_transform("upper")(upper)
        register(ToySource)
        register_rule("differ", fits=takes(2))(differ)
        yield


@pytest.fixture
def files(tmp_path: Path) -> CatalogFiles:
    dst = tmp_path / "catalog"
    shutil.copytree(SLICE, dst)
    return CatalogFiles(dst)


def use_upper(c: CatalogFiles) -> int:
    return c.set("mappings.csv", {"form_id": "ndrc_filing", "column": "XMMC"}, transform="upper")


def use_toy(c: CatalogFiles) -> int:
    return c.set("systems.csv", {"system_id": "ndrc_investment"}, kind="toy")


def use_differ(c: CatalogFiles, elements: str = "DE00002|DE00008") -> int:
    return c.append("rules.csv", {"rule_id": "R009", "kind": "differ", "elements": elements})


@pytest.mark.parametrize(("edit", "file", "message", "builtin"), [
    (use_upper, "mappings.csv", "unknown transform 'upper'", "date_range"),
    (use_toy, "systems.csv", "unknown source kind 'toy'", "postgresql"),
    (use_differ, "rules.csv", "unknown cross-field rule kind 'differ'", "sum_equals"),
], ids=["transform", "kind", "rule"])
def test_a_name_nothing_registered_fails_loading_at_its_row(files: CatalogFiles, edit: Any, file: str, message: str,
                                                            builtin: str) -> None:
    line = edit(files)
    with pytest.raises(CatalogError) as err:
        load_catalog(files.root)
    [problem] = err.value.problems
    assert problem.render().startswith(f"{file}:{line}: ")
    assert message in problem.render()
    assert problem.fix.startswith("use one of ") and builtin in problem.fix


# --- a transform: one function, its table of cases ---
UPPER_CASES = [
    (" shandong  jinan ", "SHANDONG JINAN", None),  # cleaned as ``text`` cleans, then upper-cased
    ("济南ab项目", "济南AB项目", None),
    ("无", None, "placeholder.null"),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "expected", "note"), UPPER_CASES)
def test_a_registered_transform_loads_checks_and_normalizes(registered: None, files: CatalogFiles, raw: str | None,
                                                             expected: str | None, note: str | None) -> None:
    use_upper(files)
    catalog = load_catalog(files.root)
    assert check(catalog) == []
    form = catalog.form["ndrc_filing"]
    batch = ndrc_rows(1).set_column(1, "XMMC", pa.array([raw], pa.string()))
    out = normalize_form(batch, form, catalog)
    assert out.table["project_name"].to_pylist() == [expected]
    notes = [i["code"] for i in out.issues.to_pylist() if i["column"] == "XMMC"]
    assert notes == ([note] if note else [])


# --- a source kind: one class, found by name by the pipeline's source factory ---
def test_a_registered_kind_is_loaded_and_extracted_through_the_pipeline(registered: None, files: CatalogFiles,
                                                                       home: Path) -> None:
    use_toy(files)
    catalog = load_catalog(files.root)
    assert check(catalog) == []
    system = catalog.system["ndrc_investment"]
    assert system.kind == "toy"
    assert isinstance(open_source(system, catalog, "toy://"), ToySource)
    ToySource.tables = {"TZ_XMBA": ndrc_rows(6)}
    ref = pipeline.run_system("ndrc_investment", Window(None, T1), catalog=catalog, home=home, uri="toy://")
    assert totals(ref)["extracted"] == 6 and totals(ref)["valid"] == 6
    published = SharedStore(home).read("ndrc_investment.ndrc_filing")
    assert published is not None
    assert sorted(published["_source_key"].to_pylist()) == sorted(ndrc_rows(6)["XMDM"].to_pylist())


def test_a_kind_of_another_package_is_found_through_its_entry_point(files: CatalogFiles,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="memory", value="memory_source:MemorySource", group="quancheng.source_kinds")
    monkeypatch.setattr("importlib.metadata.entry_points",
                        lambda group: [ep] if group == "quancheng.source_kinds" else [])
    monkeypatch.setattr(SOURCE_KINDS, "_plugins", None)  # read the entry points again, the patched ones
    files.set("systems.csv", {"system_id": "ndrc_investment"}, kind="memory")
    with SOURCE_KINDS.scoped():
        catalog = load_catalog(files.root)
        assert catalog.system["ndrc_investment"].kind == "memory"
        assert source_class("memory") is MemorySource


# --- a cross-field rule kind: one function with its arity ---
def test_a_registered_rule_checks_its_arity_and_quarantines_the_rows_it_fails(registered: None,
                                                                              files: CatalogFiles) -> None:
    line = use_differ(files, "DE00002|DE00008|DE00003")
    problems = check(load_catalog(files.root))
    assert [p.render() for p in problems] == [
        f"rules.csv:{line}: rule R009: differ takes 2 elements, got 3 (fix: list the elements in the rule's order)"]

    files.set("rules.csv", {"rule_id": "R009"}, elements="DE00002|DE00008")
    catalog = load_catalog(files.root)
    assert check(catalog) == []
    form = catalog.form["ndrc_filing"]
    raw = ndrc_rows(4)
    names = raw["XMMC"].to_pylist()
    names[2] = raw["XMDWMC"][2].as_py()  # the project carries its owner's name
    raw = raw.set_column(1, "XMMC", pa.array(names)).append_column(ROW, pa.array(range(4), pa.int64()))
    result = validate_form(normalize_form(raw, form, catalog), raw, form, catalog)
    failed_r009 = [r["_row"] for r in result.quarantine.to_pylist() if '"R009"' in r["reasons"]]
    assert failed_r009 == [2]
    assert result.valid.num_rows + result.quarantine.num_rows == 4
