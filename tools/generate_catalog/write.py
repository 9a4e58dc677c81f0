"""Render the built catalog as CSV text (header = the models' field order) and count it."""

from __future__ import annotations

import csv
import io

from quancheng.catalog.loader import FILES
from quancheng.catalog.models import Code

from tools.generate_catalog.build import FORMS, build
from tools.generate_catalog.spec import STAGES

# the reform's own figures; the generator refuses to write a catalog that misses them
TARGETS = {"systems": 35, "source_forms": 81, "source_fields": 1964, "elements": 1131, "materials_before": 511}

# the loader's models define the columns and their order: generator and loader cannot drift apart
HEADERS = {name: [f for f in model.model_fields if f != "line"] for name, model in FILES.items()}
CODE_HEADER = [f for f in Code.model_fields if f not in ("line", "code_list_id")]


def _csv(header: list[str], rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def render() -> tuple[dict[str, str], dict[str, int]]:
    """File name -> CSV text, and the headline counts."""
    built = build()
    files = {name: _csv(HEADERS[name], rows) for name, rows in built.files.items()}
    for cl, rows in built.codes.items():
        files[f"codes/{cl}.csv"] = _csv(CODE_HEADER, rows)  # type: ignore[arg-type]
    counts = {"systems": len(built.files["systems.csv"]), "source_forms": len(built.files["forms.csv"]),
              "source_fields": len(built.files["fields.csv"]), "elements": len(built.files["elements.csv"]),
              "materials_before": len(built.files["materials.csv"]),
              "excluded_fields": sum(1 for f in built.files["fields.csv"] if f["excluded_reason"]),
              "mappings": len(built.files["mappings.csv"])}
    for s in STAGES:
        counts[f"forms_{s}"] = sum(1 for f in FORMS if f.stage == s)
    return files, counts


def summary(counts: dict[str, int]) -> str:
    return "  ".join(f"{k}={v}" + (f"/{TARGETS[k]}" if k in TARGETS else "") for k, v in counts.items())


def refresh_pinyin() -> None:
    """Collect every label the forms use and rebuild the pinyin table (needs pypinyin)."""
    from tools.generate_catalog import build as b
    from tools.generate_catalog.extras import EXTRA
    from tools.generate_catalog.naming import compute_initials, save_pinyin

    pool = b.element_pool()
    labels: set[str] = {"更新时间"}
    for form in FORMS:
        for x in [*form.fields, *EXTRA.get(form.form_id, [])]:
            if isinstance(x, str):
                labels.add(pool[x].name_zh)
            else:
                labels.add(x.label or (pool[x.elements[0]].name_zh if x.elements else ""))
    labels.discard("")
    save_pinyin(compute_initials(labels))
    b._PINYIN.clear()
