"""Pictures as inline SVG text (no scripts, no CDN): trend sparklines and the system -> element -> dataset flow.

Every label is XML-escaped; full names go in ``<title>`` elements so a hover shows what a box cuts off.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

SHARE_COLOURS = {"unconditional": "#2f855a", "conditional": "#b7791f", "none": "#c53030"}


def text_width(text: str, size: float = 12) -> float:
    """Rough rendered width: wide (CJK, full-width) characters take a full em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


def clip(text: str, width: float, size: float = 12) -> str:
    """``text`` cut with an ellipsis so it fits ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    out = ""
    for c in text:
        if text_width(out + c + "…", size) > width:
            break
        out += c
    return out + "…"


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 28,
              threshold: float | None = None, label: str = "", percent: bool = True) -> str:
    """A line of ``values`` (None is a gap), a dashed threshold line, and the last point marked.

    The vertical scale covers the values and the threshold, so a rate over threshold sits above the line.
    """
    nums = [v for v in values if v is not None]

    def fmt(v: float) -> str:
        return f"{v:.1%}" if percent else f"{v:g}"

    title = label or ("no batches with rows yet" if not nums else
                      f"{len(nums)} batches, last {fmt(nums[-1])}, max {fmt(max(nums))}")
    head = (f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')
    if not nums:
        return head + f'<line x1="2" y1="{height - 2}" x2="{width - 2}" y2="{height - 2}" stroke="#cbd5e0"/></svg>'
    top = max([*nums, threshold or 0.0]) or 1.0
    pad = 3.0
    n = len(values)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)
        return round(x, 1), round(height - pad - (height - 2 * pad) * v / top, 1)

    parts = [head]
    if threshold is not None:
        _, ty = xy(0, threshold)
        parts.append(f'<line x1="0" y1="{ty}" x2="{width}" y2="{ty}" stroke="#c53030" stroke-dasharray="3 2" '
                     f'stroke-width="1"/>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x, y = xy(i, v)
        segment.append(f"{x},{y}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline fill="none" stroke="#2b6cb0" stroke-width="1.5" points="{" ".join(seg)}"/>')
    last_i = max(i for i, v in enumerate(values) if v is not None)
    lx, ly = xy(last_i, nums[-1])
    over = threshold is not None and nums[-1] > threshold
    parts.append(f'<circle cx="{lx}" cy="{ly}" r="2.5" fill="{"#c53030" if over else "#2b6cb0"}"/>')
    return "".join(parts) + "</svg>"


@dataclass(frozen=True)
class Node:
    """A box in the flow picture: its label, the hover text, a link and a colour."""

    label: str
    title: str = ""
    href: str = ""
    colour: str = "#2b6cb0"
    dashed: bool = False


def flow(systems: Sequence[Node], element: Node, datasets: Sequence[Node], *,
         widths: tuple[int, int, int] = (230, 250, 330), gap: int = 80, row_h: int = 38) -> str:
    """Systems on the left feed the element in the middle, which the datasets on the right carry."""
    rows = max(len(systems), len(datasets), 1)
    height = rows * row_h + 16
    width = sum(widths) + 2 * gap + 8
    cols = (4, 4 + widths[0] + gap, 4 + widths[0] + widths[1] + 2 * gap)
    bh = row_h - 10

    def y_of(i: int, n: int) -> float:
        return 8 + (height - 16) * (i + 0.5) / max(n, 1) - bh / 2

    def box(node: Node, x: float, y: float, role: str, box_w: int) -> str:
        tip = escape(node.title or node.label)
        dash = ' stroke-dasharray="4 3"' if node.dashed else ""
        inner = (f'<rect x="{x}" y="{y:.1f}" width="{box_w}" height="{bh}" rx="6" fill="#fff" '
                 f'stroke="{node.colour}" stroke-width="1.5"{dash}/>'
                 f'<text x="{x + 8}" y="{y + bh / 2 + 4:.1f}" font-size="12" fill="#1a202c">'
                 f'{escape(clip(node.label, box_w - 16))}</text>')
        body = f'<g class="node {role}"><title>{tip}</title>{inner}</g>'
        return f'<a href="{escape(node.href)}">{body}</a>' if node.href else body

    def edge(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
        mx = (x1 + x2) / 2
        return (f'<path d="M{x1},{y1:.1f} C{mx},{y1:.1f} {mx},{y2:.1f} {x2},{y2:.1f}" fill="none" '
                f'stroke="{colour}" stroke-width="1.5" marker-end="url(#arrow)"/>')

    ey = y_of(0, 1)
    parts = [f'<svg class="flow" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(element.label)}: '
             f'{len(systems)} systems, {len(datasets)} datasets">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#718096"/></marker></defs>']
    for i in range(len(systems)):
        y = y_of(i, len(systems))
        parts.append(edge(cols[0] + widths[0], y + bh / 2, cols[1], ey + bh / 2, "#a0aec0"))
    for i in range(len(datasets)):
        y = y_of(i, len(datasets))
        parts.append(edge(cols[1] + widths[1], ey + bh / 2, cols[2], y + bh / 2, "#a0aec0"))
    parts += [box(s, cols[0], y_of(i, len(systems)), "system", widths[0]) for i, s in enumerate(systems)]
    parts.append(box(element, cols[1], ey, "element", widths[1]))
    parts += [box(d, cols[2], y_of(i, len(datasets)), "dataset", widths[2]) for i, d in enumerate(datasets)]
    return "".join(parts) + "</svg>"
