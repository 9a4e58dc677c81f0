"""A browsable reference of the registry for analysts: static HTML (with a search box) or Markdown.

For every element: meaning, type and format, unit, code list, sharing type, personal-information
class, the systems that feed it and the datasets that carry it (dataset id ``<system_id>.<table>``).
The HTML is one self-contained page: plain JavaScript filters the table, nothing loads from a CDN.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Literal

from quancheng.catalog.loader import Catalog
from quancheng.catalog.models import Element

DocFormat = Literal["html", "md"]
SHARE_ZH = {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}


def element_sources(catalog: Catalog) -> dict[str, tuple[list[str], list[str]]]:
    """element_id -> (systems that feed it, datasets that carry it), each sorted."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for m in catalog.mappings:
        form = catalog.form.get(m.form_id)
        if form is None:
            continue
        systems, datasets = out.setdefault(m.element_id, (set(), set()))
        systems.add(form.system_id)
        datasets.add(f"{form.system_id}.{form.table}")
    return {k: (sorted(s), sorted(d)) for k, (s, d) in out.items()}


def _type(e: Element) -> str:
    return e.data_type + (f" {e.format}" if e.format else "") + (f" ({e.unit})" if e.unit else "")


def _code(e: Element) -> str:
    return f"{e.code_list} {e.code_list_version}".strip() if e.code_list else ""


def render_markdown(catalog: Catalog) -> str:
    src = element_sources(catalog)
    lines = ["# 数据元目录 Data element registry", "",
             f"{len(catalog.elements)} elements, {len(catalog.systems)} systems, {len(catalog.forms)} source forms.",
             "", "| id | key | 中文名称 | definition | type | code list | sharing | systems | datasets |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in catalog.elements:
        systems, datasets = src.get(e.element_id, ([], []))
        cells = [e.element_id, f"`{e.key}`", e.name_zh, e.definition, _type(e), _code(e),
                 SHARE_ZH[e.share_type], ", ".join(systems), ", ".join(datasets)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


_SCRIPT = """
const box = document.getElementById('q');
box.addEventListener('input', () => {
  const q = box.value.trim().toLowerCase();
  let shown = 0;
  for (const row of document.querySelectorAll('#elements tbody tr')) {
    const hit = !q || row.dataset.search.includes(q);
    row.hidden = !hit;
    if (hit) shown++;
  }
  document.getElementById('count').textContent = shown;
});
"""


def render_html(catalog: Catalog) -> str:
    src = element_sources(catalog)
    rows = []
    for e in catalog.elements:
        systems, datasets = src.get(e.element_id, ([], []))
        search = " ".join([e.element_id, e.key, e.name_zh, e.name_en, *e.synonyms, *systems]).lower()
        cells = [e.element_id, e.key, f"{e.name_zh}<br><small>{html.escape(e.name_en)}</small>", e.definition,
                 _type(e), _code(e), f"{SHARE_ZH[e.share_type]} ({e.pi_class})", "<br>".join(systems),
                 "<br>".join(datasets)]
        tds = "".join(f"<td>{c if i in (2, 7, 8) else html.escape(c)}</td>" for i, c in enumerate(cells))
        rows.append(f'<tr id="{e.element_id}" data-search="{html.escape(search, quote=True)}">{tds}</tr>')
    head = "".join(f"<th>{h}</th>" for h in ["id", "key", "名称", "定义", "类型/格式", "代码集", "共享类型",
                                                "来源系统", "共享数据集"])
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>泉城共享交换 数据元目录</title>
<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 5px;vertical-align:top}} th{{background:#eee;position:sticky;top:0}}
input{{font-size:16px;width:30em;padding:4px}}</style></head><body>
<h1>数据元目录 Data element registry</h1>
<p>{len(catalog.elements)} elements · {len(catalog.systems)} systems · {len(catalog.forms)} source forms ·
shown: <span id="count">{len(catalog.elements)}</span></p>
<p><input id="q" type="search" placeholder="搜索 中文名、英文名、同义名称、系统 / search"></p>
<table id="elements"><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table><script>{_SCRIPT}</script></body></html>
"""


def write_docs(catalog: Catalog, out: Path, fmt: DocFormat = "html") -> Path:
    """Write ``index.html`` or ``elements.md`` into ``out``; return the file written."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("index.html" if fmt == "html" else "elements.md")
    path.write_text(render_html(catalog) if fmt == "html" else render_markdown(catalog), encoding="utf-8")
    return path
