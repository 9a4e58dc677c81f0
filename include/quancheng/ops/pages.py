"""The Exchange view's HTML pages, rendered from the overview and the catalog browser (no scripts, no CDN).

All pages live one level under the app's prefix (``/exchange/``, ``/exchange/catalog``, ``/exchange/element``)
so every link is relative: ``catalog`` stays inside the app and ``../dags/...`` reaches Airflow's own UI,
behind any proxy prefix. Links to Airflow open in the top window because the view is shown in an iframe.
Rows carry ``data-system``/``data-state`` attributes so tests and scripts can read the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from quancheng.catalog.docs import SHARE_ZH as SHARE_LABELS
from quancheng.ops.browser import ElementDetail, Feed, Hit
from quancheng.ops.health import SEVERITY, DatasetHealth, SystemHealth, most_severe_first
from quancheng.ops.overview import Overview
from quancheng.ops.svg import SHARE_COLOURS, Node, flow, sparkline

LOCAL = ZoneInfo("Asia/Shanghai")
STATE_COLOURS = {"ok": "#2f855a", "late": "#b7791f", "quarantine": "#b7791f", "stale": "#c53030",
                 "incomplete": "#c53030", "failed": "#c53030", "never": "#718096"}
STATE_ZH = {"ok": "正常", "late": "延迟", "quarantine": "隔离率超限", "stale": "数据过期", "incomplete": "发布未完成",
            "failed": "失败", "never": "未运行"}
CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
margin:0;color:#1a202c;background:#f7fafc;font-size:14px}
header{background:#1a365d;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header a{color:#bee3f8;text-decoration:none}header a.on{color:#fff;font-weight:600}
main{padding:14px 20px}table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:18px}
th,td{border-bottom:1px solid #e2e8f0;padding:5px 8px;text-align:left;vertical-align:middle}
th{background:#edf2f7;font-weight:600;font-size:13px}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-size:12px;white-space:nowrap}
.chips{display:flex;gap:10px;margin:4px 0 14px}.chip{background:#fff;border-radius:8px;padding:6px 12px;
border-left:5px solid #718096}.chip b{font-size:18px;margin-right:4px}.dim{color:#718096;font-size:12px}
.reason{color:#c53030;max-width:420px}form input[type=search]{font-size:15px;padding:6px 10px;width:360px}
dl.attrs{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;background:#fff;padding:10px 14px}
dl.attrs dt{color:#4a5568}td.nw,td.num{white-space:nowrap}a{color:#2b6cb0}h2{font-size:16px;margin:18px 0 8px}
"""


def local_time(dt: datetime | None) -> str:
    return dt.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if dt else "–"


def badge(state: str, text: str | None = None) -> str:
    colour = STATE_COLOURS.get(state, "#718096")
    label = text or f"{STATE_ZH.get(state, state)} {state}"
    return f'<span class="badge state-{escape(state)}" style="background:{colour}">{escape(label)}</span>'


def layout(title: str, body: str, *, active: str, refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    tabs = "".join(f'<a href="{href}" class="{"on" if key == active else ""}">{label}</a>'
                   for key, href, label in [("ops", "./", "运行状态 Systems &amp; datasets"),
                                            ("catalog", "catalog", "数据元目录 Catalog")])
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">{meta}<title>{escape(title)}</title>'
            f'<style>{CSS}</style></head><body><header><h1>泉城共享交换 Quancheng Exchange</h1>{tabs}</header>'
            f'<main>{body}</main></body></html>')


def docs_href(path: str | None, home: Path) -> str | None:
    """A link to a run's Data Docs: URLs as they are, existing files under the home through the app's
    ``files/`` route (the site is built once per run, so a batch's page may not exist yet)."""
    if not path:
        return None
    if path.startswith(("http://", "https://")):
        return path
    p = Path(path)
    p = p if p.is_absolute() else home / p
    try:
        rel = p.resolve().relative_to(home.resolve())
    except ValueError:
        return None
    return "files/" + rel.as_posix() if p.is_file() else None


def _system_row(h: SystemHealth, run_links: Mapping[str, str], home: Path) -> str:
    last = h.last_run
    run_href = run_links.get(h.dag_id, f"../dags/{h.dag_id}")
    docs = docs_href(h.data_docs, home)
    links = f'<a href="{escape(run_href)}" target="_top">DAG run</a>'
    if docs:
        links += f' · <a href="{escape(docs)}" target="_blank">Data Docs</a>'
    rate = "–" if h.quarantine_rate is None else f"{h.quarantine_rate:.1%}"
    reasons = ", ".join(f"{rule}: {n}" for rule, n in sorted(h.reasons.items(), key=lambda kv: -kv[1])) or "no reasons"
    fresh = "never" if h.age_hours is None else f"{h.age_hours:.1f} h"
    trend = sparkline([p.rate for p in h.trend], threshold=h.quarantine_threshold)
    rows_trend = sparkline([float(p.published) if p.status == "success" else None for p in h.trend], width=70,
                           height=18, percent=False, label=f"rows published per batch, last {len(h.trend)} runs")
    last_txt = f"{escape(last['status'])} {local_time(last['finished_at'])[5:]}" if last else "–"
    window = escape(str(last["window_end"]))[:10] if last else ""
    return (f'<tr data-system="{escape(h.system_id)}" data-state="{escape(h.state)}">'
            f'<td><b>{escape(h.name_zh)}</b><br><span class="dim">{escape(h.system_id)} · '
            f'{escape(h.department_zh)} · {escape(h.kind)}</span></td>'
            f'<td>{badge(h.state)}</td>'
            f'<td class="num">{fresh}<br><span class="dim">limit {h.freshness_hours:g} h · {escape(h.schedule)}'
            f'</span></td>'
            f'<td class="nw">{last_txt}<br><span class="dim">data to {window}</span></td>'
            f'<td class="num">{last["published"] if last else "–"} {rows_trend}<br><span class="dim">'
            f'{last["quarantined"] if last else "–"} quarantined</span></td>'
            f'<td class="num" title="{escape(reasons)}">{rate}<br><span class="dim">threshold '
            f'{h.quarantine_threshold:.0%}</span></td>'
            f'<td>{trend}</td><td class="reason" title="{escape(h.error or h.reason)}">{escape(h.reason)}</td>'
            f'<td class="nw">{links}</td></tr>')


def _dataset_row(d: DatasetHealth) -> str:
    rate = "–" if d.quarantine_rate is None else f"{d.quarantine_rate:.1%}"
    age = "–" if d.age_hours is None else f"{d.age_hours:.1f} h"
    systems = ", ".join(d.systems[:4]) + (f" +{len(d.systems) - 4}" if len(d.systems) > 4 else "")
    worst = next((s for s in SEVERITY if s in d.system_states), "ok")
    upstream = badge(worst, f"upstream {worst}") if worst != "ok" else ""
    trend = sparkline([p.rate for p in d.trend]) if d.trend else ""
    return (f'<tr data-dataset="{escape(d.dataset_id)}" data-state="{d.state}"><td><b>{escape(d.dataset_id)}</b>'
            f'<br><span class="dim">{escape(d.sql_table)}</span></td><td>{escape(d.kind)}</td>'
            f'<td>{badge(d.state)} {upstream}</td><td class="num">{age}<br><span class="dim">limit '
            f'{d.freshness_hours:g} h</span></td><td class="num">{d.rows}</td><td class="num">{rate}</td>'
            f'<td>{trend}</td><td>{escape(local_time(d.updated_at))}<br><span class="dim">'
            f'{escape(d.last_batch)}</span></td><td class="dim">{escape(systems)}</td></tr>')


def overview_page(ov: Overview, *, run_links: Mapping[str, str] | None = None) -> str:
    """Every system and shared dataset: state, freshness, last run, quarantine rate and its trend, links."""
    chips = "".join(f'<div class="chip" style="border-color:{STATE_COLOURS[s]}" data-count="{s}"><b>{n}</b>'
                    f'{STATE_ZH[s]} {s}</div>' for s, n in ov.counts.items())
    sys_head = "".join(f"<th>{h}</th>" for h in ["系统 System", "状态 State", "距上次成功 Since last success",
                                                  "上次运行 Last run", "发布 Published", "隔离率 Quarantine",
                                                  "趋势 Trend", "原因 Reason", "链接 Links"])
    ds_head = "".join(f"<th>{h}</th>" for h in ["数据集 Dataset", "类型 Kind", "状态 State", "新鲜度 Age",
                                                 "行数 Rows", "隔离率 Quarantine", "趋势 Trend",
                                                 "更新 Updated / batch", "来源系统 Fed by"])
    rows = "".join(_system_row(h, run_links or {}, ov.home) for h in most_severe_first(ov.systems))
    ds_rows = "".join(_dataset_row(d) for d in ov.datasets) or '<tr><td colspan="9">nothing published yet</td></tr>'
    body = (f'<div class="chips">{chips}</div><p class="dim">{len(ov.systems)} systems, {len(ov.datasets)} shared '
            f'datasets · as of {local_time(ov.now)} (Asia/Shanghai) · home {escape(str(ov.home))} · '
            f'<a href="api/status">JSON</a></p>'
            f'<h2>部门系统 Departmental systems</h2><table id="systems"><tr>{sys_head}</tr>{rows}</table>'
            f'<h2>共享数据集 Shared datasets</h2><table id="datasets"><tr>{ds_head}</tr>{ds_rows}</table>')
    return layout("Exchange · 运行状态", body, active="ops", refresh=60)


def catalog_page(query: str, hits: Sequence[Hit], n_elements: int) -> str:
    """The search box and the elements it found, each saying which of its names matched."""
    form = (f'<form method="get" action="catalog"><input type="search" name="q" value="{escape(query)}" '
            f'placeholder="中文名、英文名或同义词 Chinese or English name, synonym" autofocus> '
            f'<button type="submit">搜索 Search</button></form>')
    if not query:
        return layout("Exchange · 数据元目录", form + f'<p class="dim">{n_elements} data elements. Try 项目代码, '
                      f'building area, 证照号码.</p>', active="catalog")
    items = "".join(
        f'<tr data-element="{escape(h.element_id)}"><td><a href="element?id={escape(h.element_id)}">'
        f'{escape(h.name_zh)}</a><br><span class="dim">{escape(h.name_en)}</span></td>'
        f'<td>{escape(h.element_id)}<br><span class="dim">{escape(h.key)}</span></td>'
        f'<td>{escape(h.matched_name)} <span class="dim">({escape(h.matched_field)})</span></td>'
        f'<td>{_share_badge(h.share_type)}</td></tr>' for h in hits)
    head = "<tr><th>数据元 Element</th><th>标识 Id</th><th>匹配 Matched</th><th>共享类型 Sharing</th></tr>"
    result = (f'<p id="hits" data-count="{len(hits)}">{len(hits)} element(s) match “{escape(query)}”</p>'
              f'<table id="results">{head}{items}</table>') if hits else \
        f'<p id="hits" data-count="0">No element matches “{escape(query)}”.</p>'
    return layout(f"Exchange · {query}", form + result, active="catalog")


def _share_badge(share_type: str) -> str:
    colour = SHARE_COLOURS.get(share_type, "#718096")
    return (f'<span class="badge share-{escape(share_type)}" style="background:{colour}">'
            f'{escape(SHARE_LABELS.get(share_type, share_type))}</span>')


def element_page(d: ElementDetail) -> str:
    """One element: its attributes, sharing type, the systems feeding it, the datasets carrying it, the flow."""
    e = d.element
    attrs = [("标识 Id", e["element_id"]), ("列名 Column", e["key"]), ("中文名称", e["name_zh"]),
             ("English name", e["name_en"]), ("定义 Definition", e["definition"]),
             ("数据类型 Type", f'{e["data_type"]} {e["format"]}'.strip()), ("计量单位 Unit", e["unit"] or "–"),
             ("值域 Code list", f'{e["code_list"]} {e["code_list_version"]}'.strip() or "–"),
             ("个人信息 PI", d.pi_label), ("同义词 Synonyms", "、".join(e["synonyms"]) or "–"),
             ("必填环节 Required in", "、".join(d.stages) or "–"), ("版本 Version", f'{e["version"]} {e["status"]}')]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in attrs)
    share = _share_badge(e["share_type"])
    if d.granted_to:
        share += f' <span class="dim">granted to: {escape(", ".join(d.granted_to))}</span>'
    dl += f"<dt>共享类型 Sharing</dt><dd id=\"share\">{share}</dd>"
    colour = SHARE_COLOURS.get(e["share_type"], "#718096")
    systems = [Node(f.system_name_zh, f"{f.system_id}: {f.form_name_zh} · {f.table}.{f.column} ({f.label_zh})")
               for f in _one_per_system(d)]
    first = sorted(d.datasets, key=lambda c: (c.kind == "system", not c.published, c.dataset_id))
    datasets = [Node(c.dataset_id, f"{c.kind}, {c.rows if c.rows is not None else 'not published yet'} rows",
                     colour="#2c7a7b" if c.published else "#a0aec0", dashed=not c.published) for c in first]
    picture = flow(_capped(systems, "systems"),
                   Node(f'{e["name_zh"]} {e["element_id"]}', f'{e["name_en"]} ({e["key"]})', colour=colour),
                   _capped(datasets, "datasets"))
    feeds = "".join(f'<tr data-system="{escape(f.system_id)}"><td>{escape(f.system_name_zh)}<br>'
                    f'<span class="dim">{escape(f.system_id)} · {escape(f.department_zh)}</span></td>'
                    f'<td>{escape(f.form_name_zh)}<br><span class="dim">{escape(f.table)}</span></td>'
                    f'<td>{escape(f.column)}<br><span class="dim">{escape(f.label_zh)}</span></td>'
                    f'<td>{escape(f.transform)}</td></tr>' for f in d.feeds)
    carriers = "".join(f'<tr data-dataset="{escape(c.dataset_id)}"><td>{escape(c.dataset_id)}</td>'
                       f'<td>{escape(c.kind)}</td><td>{escape(c.column)}</td><td class="num">'
                       f'{c.rows if c.rows is not None else "not published yet"}</td></tr>' for c in d.datasets)
    body = (f'<h2>{escape(e["name_zh"])} <span class="dim">{escape(e["name_en"])}</span></h2>'
            f'<dl class="attrs">{dl}</dl><h2>流向 Flow: system → element → dataset</h2>{picture}'
            f'<h2>来源系统 Fed by {len(d.systems)} system(s)</h2><table id="feeds"><tr><th>系统 System</th>'
            f'<th>表单 Form</th><th>源字段 Column</th><th>转换 Transform</th></tr>{feeds}</table>'
            f'<h2>承载数据集 Carried by {len(d.datasets)} dataset(s)</h2><table id="carriers"><tr><th>数据集 Dataset'
            f'</th><th>类型 Kind</th><th>列 Column</th><th>行数 Rows</th></tr>{carriers}</table>')
    return layout(f"Exchange · {e['name_zh']}", body, active="catalog")


FLOW_MAX_NODES = 12  # per side; the tables below the picture list every one


def _capped(nodes: list[Node], what: str) -> list[Node]:
    """At most FLOW_MAX_NODES boxes: the rest summed up in one last box, so the picture stays readable."""
    if len(nodes) <= FLOW_MAX_NODES:
        return nodes
    rest = nodes[FLOW_MAX_NODES - 1:]
    return [*nodes[:FLOW_MAX_NODES - 1], Node(f"+{len(rest)} more {what}", ", ".join(n.label for n in rest),
                                              colour="#718096", dashed=True)]


def _one_per_system(d: ElementDetail) -> list[Feed]:
    seen: dict[str, Feed] = {}
    for f in d.feeds:
        seen.setdefault(f.system_id, f)
    return list(seen.values())


def not_found_page(what: str) -> str:
    return layout("Exchange · not found", f"<p>{escape(what)}</p>", active="catalog")
