"""A browsable reference of the registry for analysts: static HTML (with a search box) or Markdown.

For every element: meaning, type and format, unit, code list, sharing type, personal-information
class, the systems that feed it and the datasets that carry it (dataset id ``<system_id>.<form_id>``).
The HTML is one self-contained page: plain JavaScript filters the table, nothing loads from a CDN.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Literal

from quancheng.catalog.light import dataset_id
from quancheng.catalog.loader import Catalog
from quancheng.catalog.models import Element

DocFormat = Literal["html", "md"]
SHARE_ZH = {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}


def element_stages(catalog: Catalog) -> dict[str, list[str]]:
    """element_id -> names of the stage forms holding it, in stage order, ``*`` where it is required."""
    held: dict[str, set[str]] = {}
    for m in catalog.mappings:
        if m.form_id in catalog.form:
            held.setdefault(m.element_id, set()).add(catalog.form[m.form_id].stage_id)
    out = {}
    for e in catalog.elements:
        out[e.element_id] = [s.name_zh + ("*" if s.stage_id in e.required_in else "")
                             for s in sorted(catalog.stages, key=lambda s: s.order)
                             if s.stage_id in held.get(e.element_id, set())]
    return out


def element_sources(catalog: Catalog) -> dict[str, tuple[list[str], list[str]]]:
    """element_id -> (systems that feed it, datasets that carry it), each sorted."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for m in catalog.mappings:
        form = catalog.form.get(m.form_id)
        if form is None:
            continue
        systems, datasets = out.setdefault(m.element_id, (set(), set()))
        systems.add(form.system_id)
        datasets.add(dataset_id(form))
    return {k: (sorted(s), sorted(d)) for k, (s, d) in out.items()}


def _type(e: Element) -> str:
    return e.data_type + (f" {e.format}" if e.format else "") + (f" ({e.unit})" if e.unit else "")


def _code(e: Element) -> str:
    return f"{e.code_list} {e.code_list_version}".strip() if e.code_list else ""


def render_markdown(catalog: Catalog) -> str:
    src = element_sources(catalog)
    stages = element_stages(catalog)
    lines = ["# 数据元目录 Data element registry", "",
             f"{len(catalog.elements)} elements, {len(catalog.systems)} systems, {len(catalog.forms)} source forms.",
             "Stages: the stage forms holding the element, * where it is required.", "",
             "| id | key | 中文名称 | definition | type | code list | sharing | stages | systems | datasets |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in catalog.elements:
        systems, datasets = src.get(e.element_id, ([], []))
        cells = [e.element_id, f"`{e.key}`", e.name_zh, e.definition, _type(e), _code(e),
                 SHARE_ZH[e.share_type], ", ".join(stages[e.element_id]), ", ".join(systems), ", ".join(datasets)]
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
    stages = element_stages(catalog)
    rows = []
    for e in catalog.elements:
        systems, datasets = src.get(e.element_id, ([], []))
        search = " ".join([e.element_id, e.key, e.name_zh, e.name_en, *e.synonyms, *systems]).lower()
        names = (f"{html.escape(e.name_zh)}<br><small>{html.escape(e.name_en)}</small>"
                 + (f"<br><small class=syn>{html.escape('、'.join(e.synonyms))}</small>" if e.synonyms else ""))
        cells = [html.escape(e.element_id), html.escape(e.key), names, html.escape(e.definition),
                 html.escape(_type(e)), html.escape(_code(e)),
                 html.escape(f"{SHARE_ZH[e.share_type]} ({e.pi_class})"),
                 "<br>".join(html.escape(s) for s in stages[e.element_id]),
                 "<br>".join(html.escape(s) for s in systems), "<br>".join(html.escape(d) for d in datasets)]
        tds = "".join(f"<td>{c}</td>" for c in cells)
        rows.append(f'<tr id="{e.element_id}" data-search="{html.escape(search, quote=True)}">{tds}</tr>')
    head = "".join(f"<th>{h}</th>" for h in ["id", "key", "名称 / 同义名称", "定义", "类型/格式", "代码集",
                                                "共享类型", "阶段（*必填）", "来源系统", "共享数据集"])
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>泉城共享交换 数据元目录</title>
<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 5px;vertical-align:top}} th{{background:#eee;position:sticky;top:0}}
td:nth-child(2){{min-width:9em;max-width:14em;overflow-wrap:anywhere}} td:nth-child(3){{min-width:10em}}
td:nth-child(8){{white-space:nowrap}}
td:nth-child(4){{min-width:18em}} .syn{{color:#666}}
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
