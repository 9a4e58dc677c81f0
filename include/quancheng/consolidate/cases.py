"""The case record: every approval item's case (受理, 审批决定 …), from every form that records one.

A form listed in ``service_items.csv`` records the cases of one approval item (环评审批, 施工许可 …): its
case fields feed the case record's elements (``filled_by == "office"``: 申请日期, 受理日期, 办件编号,
审批决定日期, 审批意见, 审批结论, 有效期至, 审批机关). The one-window system records cases of every item,
each row with its own 事项编码 and 事项名称 (elements of the same record). :func:`build_cases` unions them
into one table, one row per source row:

- ``item_id`` and ``item_name_zh``: the catalog's item of the form (null for the one-window system's rows,
  which name their item in ``service_item_code`` / ``service_item_name``);
- ``project_code`` when the form carries the project code (enterprise registration does not);
- ``dataset_id``, ``_source_system``, ``_source_table`` and ``_source_key``: where the row lives;
- one column per case element, typed as the registry says, null where a form does not record it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from quancheng.catalog import Catalog
from quancheng.catalog.light import dataset_id
from quancheng.catalog.models import Element, SourceForm
from quancheng.consolidate.stage_forms import project_element
from quancheng.normalize.types import arrow_type
from quancheng.publish.store import KEY

CASES_DATASET = "cases.approval"
SOURCE = ["_source_system", "_source_table", KEY]  # the system dataset's own provenance columns
HEAD = pa.schema([("item_id", pa.string()), ("item_name_zh", pa.string()), ("project_code", pa.string()),
                  ("dataset_id", pa.string())] + [(c, pa.string()) for c in SOURCE])
CASES_ORDER = ["dataset_id", KEY]  # the published order: by dataset, then source key


def case_elements(catalog: Catalog) -> list[Element]:
    """The case record's elements that some form feeds, in catalog order."""
    fed = {m.element_id for m in catalog.mappings}
    return [e for e in catalog.elements if e.filled_by == "office" and e.element_id in fed]


def case_forms(catalog: Catalog) -> list[SourceForm]:
    """The forms that record cases (feed a case element), in catalog order."""
    office = {e.element_id for e in case_elements(catalog)}
    return [f for f in catalog.forms if any(m.element_id in office for m in catalog.mappings_of(f.form_id))]


def schema(catalog: Catalog) -> pa.Schema:
    return pa.schema(list(HEAD) + [pa.field(e.key, arrow_type(e)) for e in case_elements(catalog)])


def case_columns(catalog: Catalog) -> list[str]:
    """Every column of a system dataset the case record may take: the project code, the provenance columns
    and the case elements (each form's dataset has some of them: :func:`columns_read`)."""
    keys = [project_element(catalog).key, *SOURCE] + [e.key for e in case_elements(catalog)]
    return list(dict.fromkeys(keys))


def columns_read(catalog: Catalog, form: SourceForm, wanted: list[str]) -> list[str]:
    """The columns of ``form``'s dataset the case record takes, of ``wanted`` (:func:`case_columns`)."""
    own = {e.key for e in catalog.elements_of(form.form_id)} | set(SOURCE)
    return [k for k in wanted if k in own]


def build_cases(datasets: Mapping[str, pa.Table], catalog: Catalog) -> pa.Table:
    """One row per source row of every case form whose dataset is in ``datasets`` (see the module docstring)."""
    out = schema(catalog)
    pk = project_element(catalog).key
    parts = []
    for form in case_forms(catalog):
        ds = dataset_id(form)
        table = datasets.get(ds)
        if table is None or table.num_rows == 0:
            continue
        n = table.num_rows
        item = catalog.item_of_form.get(form.form_id)
        fixed = {"item_id": item.item_id if item else None, "item_name_zh": item.name_zh if item else None,
                 "dataset_id": ds}
        cols = []
        for f in out:
            if f.name in fixed:
                cols.append(pa.nulls(n, f.type) if fixed[f.name] is None else pa.array([fixed[f.name]] * n, f.type))
            elif f.name == "project_code":
                cols.append(table[pk].cast(f.type) if pk in table.column_names else pa.nulls(n, f.type))
            elif f.name in table.column_names:
                cols.append(table[f.name].cast(f.type))
            else:
                cols.append(pa.nulls(n, f.type))
        parts.append(pa.Table.from_arrays(cols, schema=out))
    if not parts:
        return out.empty_table()
    return pa.concat_tables(parts).combine_chunks()
