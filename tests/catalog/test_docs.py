"""``quancheng catalog docs``: a static reference every analyst can search, with each element's sources."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from paths import FULL, SLICE
from quancheng.catalog import load_catalog
from quancheng.catalog.docs import element_sources
from quancheng.cli import cli


def test_html_lists_each_element_with_its_systems_and_datasets(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["catalog", "docs", "--catalog", str(FULL), "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    cat = load_catalog(FULL)
    el = cat.element_by_key["construction_permit_no"]
    systems, datasets = element_sources(cat)[el.element_id]
    row = re.search(rf'<tr id="{el.element_id}".*?</tr>', page, re.S)
    assert row, "every element has its own row"
    for name in [*systems, *datasets, el.name_zh, el.definition, "有条件共享" if el.share_type == "conditional"
                 else "无条件共享"]:
        assert name in row.group(0)
    assert page.count("<tr id=") == len(cat.elements)
    assert '<input id="q" type="search"' in page
    assert "<script src" not in page and "http" not in page.split("<script>")[1], "no CDN, plain JS"


def test_markdown_has_one_row_per_element(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["catalog", "docs", "--catalog", str(SLICE), "--out", str(tmp_path),
                                   "--format", "md"])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "elements.md").read_text(encoding="utf-8")
    cat = load_catalog(SLICE)
    assert sum(1 for line in text.splitlines() if line.startswith("| DE")) == len(cat.elements)
    assert "| DE00010 | `construction_permit_no` |" in text
    assert "hcb_construction_permit.hcb_permit" in text  # the dataset id (system.form), not the source table


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (["catalog"], ["catalog", "check"], ["catalog", "stats"], ["catalog", "docs"]):
        out = runner.invoke(cli, [*args, "--help"])
        assert out.exit_code == 0 and "--help" in out.output
        if len(args) > 1:
            assert "--catalog" in out.output
