"""Arrow types of canonical columns, derived from each element's data type and format."""

from __future__ import annotations

import re

import pyarrow as pa

from quancheng.catalog.models import Element

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
