"""Charts and pages: well-formed SVG, escaped labels, and pages that say each system's state."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

from quancheng.ops.browser import element_detail, search
from quancheng.ops.overview import build_overview
from quancheng.ops.pages import catalog_page, docs_href, element_page, overview_page
from quancheng.ops.svg import Node, clip, flow, sparkline, text_width

SVG = "{http://www.w3.org/2000/svg}"


def test_sparkline_draws_each_value_and_breaks_at_gaps() -> None:
    root = ET.fromstring(sparkline([0.1, 0.2, None, 0.05, 0.3], threshold=0.25))
    lines = root.findall(f"{SVG}polyline")
    assert [len(pl.get("points", "").split()) for pl in lines] == [2, 2]
    assert root.find(f"{SVG}line") is not None  # the threshold
    assert root.find(f"{SVG}circle").get("fill") == "#c53030"  # the last value is over the threshold


def test_sparkline_without_values_is_a_flat_placeholder() -> None:
    root = ET.fromstring(sparkline([None, None]))
    assert root.find(f"{SVG}polyline") is None and "no batches" in root.findtext(f"{SVG}title", "")


def test_flow_has_a_box_per_node_and_an_edge_per_link() -> None:
    systems = [Node("发展改革委 <投资>"), Node("住建局 & 施工")]
    datasets = [Node("a.b"), Node("c.d"), Node("e.f", dashed=True)]
    root = ET.fromstring(flow(systems, Node("投资项目代码"), datasets))  # parses: labels are escaped
    assert len(root.findall(f".//{SVG}rect")) == len(systems) + 1 + len(datasets)
    assert len(root.findall(f"{SVG}path")) == len(systems) + len(datasets)


def test_clip_fits_width() -> None:
    long = "建设单位统一社会信用代码" * 3
    assert text_width(clip(long, 100)) <= 100 and clip("short", 100) == "short"


class Rows(HTMLParser):
    """Collects the data-* attributes of table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and any(k.startswith("data-") for k, _ in attrs):
            self.rows.append({k: v or "" for k, v in attrs})


def rows_of(html: str) -> list[dict[str, str]]:
    p = Rows()
    p.feed(html)
    return p.rows


def test_overview_page_has_every_system_with_its_state(synced_home, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    home, _ = synced_home
    ov = build_overview(home, slice_catalog, datetime.now(UTC))
    html = overview_page(ov, run_links={"sync__ndrc_investment": "../dags/sync__ndrc_investment/runs/r1"})
    states = {r["data-system"]: r["data-state"] for r in rows_of(html) if "data-system" in r}
    assert states == {h.system_id: h.state for h in ov.systems}
    assert {r["data-dataset"] for r in rows_of(html) if "data-dataset" in r} == {d.dataset_id for d in ov.datasets}
    assert "source is down" in html and 'href="../dags/sync__ndrc_investment/runs/r1"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing loaded from elsewhere


def test_catalog_and_element_pages(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    html = catalog_page("项目统一代码", search(slice_catalog, "项目统一代码"), len(slice_catalog.elements))
    assert next(r["data-element"] for r in rows_of(html)) == "DE00001"
    detail = element_detail(slice_catalog, "DE00001")
    assert detail is not None
    page = element_page(detail)
    assert {r["data-system"] for r in rows_of(page) if "data-system" in r} == set(detail.systems)
    assert '<svg class="flow"' in page and "无条件共享" in page


def test_docs_links_stay_inside_the_home(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "gx" / "docs").mkdir(parents=True)
    (tmp_path / "gx" / "docs" / "index.html").write_text("<html></html>")
    assert docs_href("gx/docs/index.html", tmp_path) == "files/gx/docs/index.html"
    assert docs_href(str(tmp_path / "gx" / "docs" / "index.html"), tmp_path) == "files/gx/docs/index.html"
    assert docs_href("gx/not-built-yet.html", tmp_path) is None
    assert docs_href("/etc/passwd", tmp_path) is None
    assert docs_href("../outside.html", tmp_path) is None
    assert docs_href("https://docs.example/run", tmp_path) == "https://docs.example/run"
    assert docs_href(None, tmp_path) is None


def test_flow_picture_is_capped_but_tables_list_everything(slice_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from quancheng.ops import pages

    monkeypatch.setattr(pages, "FLOW_MAX_NODES", 1)
    detail = element_detail(slice_catalog, "DE00001")
    assert detail is not None and len(detail.systems) > 1
    page = element_page(detail)
    flow_svg = page[page.index('<svg class="flow"'):page.index("</svg>", page.index('<svg class="flow"')) + 6]
    assert f"+{len(detail.systems)} more systems" in flow_svg
    assert {r["data-system"] for r in rows_of(page) if "data-system" in r} == set(detail.systems)
