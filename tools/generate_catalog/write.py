"""Render the built catalog as CSV text (header = the models' field order) and count it."""

from __future__ import annotations

import csv
import io

from tools.generate_catalog.build import FORMS, build

# the reform's own figures; the generator refuses to write a catalog that misses them
TARGETS = {"systems": 35, "source_forms": 81, "source_fields": 1964, "elements": 1131, "materials_before": 511}

HEADERS = {
    "stages.csv": ["stage_id", "order", "name_zh", "name_en"],
    "systems.csv": ["system_id", "name_zh", "name_en", "department_zh", "department_en", "holds", "stages", "kind",
                    "conn_id", "schedule", "extract_mode", "freshness_hours", "quarantine_threshold",
                    "reference_id"],
    "forms.csv": ["form_id", "system_id", "name_zh", "name_en", "table", "stage_id", "primary_key",
                  "updated_column"],
    "fields.csv": ["form_id", "column", "label_zh", "native_type", "unit", "code_list", "packed_sep",
                   "excluded_reason"],
    "mappings.csv": ["form_id", "column", "element_id", "transform", "part", "unit"],
    "elements.csv": ["element_id", "key", "name_zh", "name_en", "definition", "object_class", "property",
                     "representation_term", "data_type", "format", "max_length", "unit", "code_list",
                     "code_list_version", "identifier_kind", "min_value", "max_value", "version", "status",
                     "pi_class", "share_type", "synonyms", "required_in", "authority_system"],
    "code_lists.csv": ["code_list_id", "name_zh", "name_en", "version", "standard", "source"],
    "crosswalks.csv": ["crosswalk_id", "system_id", "code_list_id", "native_value", "code"],
    "units.csv": ["unit", "dimension", "canonical", "factor_num", "factor_den"],
    "materials.csv": ["material_id", "material_key", "name_zh", "kind", "form_id", "issuer_system", "elements"],
    "rules.csv": ["rule_id", "kind", "elements", "tolerance", "message_zh"],
    "grants.csv": ["department_en", "system_id", "elements"],
}
CODE_HEADER = ["code", "name_zh", "parent", "valid_from", "valid_to", "successor"]


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
    for s in ("s1_project_land", "s2_engineering", "s3_construction", "s4_acceptance"):
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
