"""Arrow types of canonical columns, derived from each element's data type and format."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from quancheng.catalog.models import Element, SourceForm

PROVENANCE = {
    "_source_system": pa.string(),
    "_source_table": pa.string(),
    "_source_key": pa.string(),
    "_batch_id": pa.string(),
    "_extracted_at": pa.timestamp("us", tz="UTC"),
}
ROW = "_row"  # position of the row in its raw batch; joins issues and quarantine back to the source

_SCALE = re.compile(r"\.(\d+)$")


def decimal_scale(element: Element) -> int:
    """Scale of a decimal element from its format (``n..18.2`` -> 2); 2 when the format says none."""
    m = _SCALE.search(element.format or "")
    return int(m.group(1)) if m else 2


def arrow_type(element: Element) -> pa.DataType:
    """The Arrow type a canonical column of ``element`` has in every shared dataset."""
    match element.data_type:
        case "string":
            return pa.string()
        case "integer":
            return pa.int64()
        case "decimal":
            return pa.decimal128(20, decimal_scale(element))
        case "date":
            return pa.date32()
        case "datetime":
            return pa.timestamp("us")
        case "boolean":
            return pa.bool_()
    raise AssertionError(element.data_type)


def with_provenance(table: pa.Table, form: SourceForm, batch_id: str = "adhoc",
                    extracted_at: datetime | None = None, first_row: int = 0) -> pa.Table:
    """``table`` (a form's native columns) with the provenance columns in front, as the pipeline adds them;
    ``first_row``: the position of its first row in the whole batch (a part of a batch read in chunks).

    For tests, benchmarks and ad-hoc runs of :func:`quancheng.normalize.normalize_form`; the source key is
    the form's primary key joined with ``|`` (``quancheng.sources.types.source_keys``).
    """
    from quancheng.sources.types import source_keys

    n = table.num_rows
    when = extracted_at or datetime(2000, 1, 1, tzinfo=UTC)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    keys = source_keys(table, form.primary_key) if form.primary_key else pa.array(rows.astype(str))
    prov: dict[str, pa.Array | pa.ChunkedArray] = {
        ROW: pa.array(rows),
        "_source_system": pa.array([form.system_id] * n, pa.string()),
        "_source_table": pa.array([form.table] * n, pa.string()),
        "_source_key": keys,
        "_batch_id": pa.array([batch_id] * n, pa.string()),
        "_extracted_at": pa.array([when] * n, PROVENANCE["_extracted_at"]),
    }
    out = table
    for i, (name, arr) in enumerate(prov.items()):
        out = out.add_column(i, name, arr)
    return out
