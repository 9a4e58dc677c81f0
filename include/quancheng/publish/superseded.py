"""Published rows whose newer version in the source was quarantined: flagged, or withdrawn.

When a row already published is updated at the source into a state validation rejects, the batch
quarantines the new version and the merge keeps the old one. Readers must not take that old version
for the current truth without being told. Each system chooses in ``systems.csv`` (``invalid_update``):

- ``flag`` (the default): the old version stays published with ``_superseded_by_quarantine`` true;
  the flag is cleared when a valid version of the key is published (or the key is deleted);
- ``withdraw``: the old version leaves the published dataset; it comes back with the next valid version.

Every system dataset carries the column (false where nothing is pending), right after the provenance
columns, so its schema does not depend on the day's data.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog.models import InvalidUpdate
from quancheng.publish.store import KEY

SUPERSEDED = "_superseded_by_quarantine"


def mark_superseded(merged: pa.Table, quarantined_keys: pa.Array | pa.ChunkedArray,
                    policy: InvalidUpdate) -> pa.Table:
    """``merged`` (the dataset after this batch's valid rows and deletes) with the rows whose key this batch
    quarantined flagged or withdrawn by ``policy``; flags of earlier batches carry over."""
    keys = quarantined_keys.cast(pa.string())
    hit = pc.is_in(merged[KEY], value_set=pa.chunked_array([keys], pa.string()).combine_chunks())
    if policy == "withdraw":
        merged = merged.filter(pc.invert(hit))
        hit = pc.is_in(merged[KEY], value_set=pa.array([], pa.string()))
    earlier = (pc.fill_null(merged[SUPERSEDED], False) if SUPERSEDED in merged.column_names
               else pa.chunked_array([pa.array([False] * merged.num_rows, pa.bool_())]))
    flag = pc.or_(hit, earlier)
    if SUPERSEDED in merged.column_names:
        merged = merged.drop_columns([SUPERSEDED])
    at = next((i for i, name in enumerate(merged.column_names) if not name.startswith("_")), merged.num_columns)
    return merged.add_column(at, pa.field(SUPERSEDED, pa.bool_(), nullable=False), flag)
