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

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog.models import InvalidUpdate
from quancheng.publish.delta import Batch
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


def superseded_batch(valid: Batch, deleted: pa.Array, quarantined_keys: pa.Array | pa.ChunkedArray,
                     policy: InvalidUpdate,
                     published: Callable[[pa.Array], pa.Table | None]) -> tuple[Batch, pa.Array]:
    """The merge that :func:`mark_superseded` describes, as a batch: (upserts, deleted keys).

    ``valid`` rows go in with the flag cleared (part by part); the published rows of keys this batch
    quarantined (``published(keys)``, None before the first publish) are upserted again flagged (``flag``)
    or their keys deleted (``withdraw``); flags of earlier batches stay on the rows the batch does not touch.
    """
    none = pa.array([], pa.string())
    upserts = valid.map(lambda t: mark_superseded(t, none, policy))
    keys = pc.unique(quarantined_keys.cast(pa.string()) if isinstance(quarantined_keys, pa.Array)
                     else quarantined_keys.combine_chunks().cast(pa.string()))
    current = published(keys) if len(keys) else None
    if current is None or current.num_rows == 0:
        return upserts, deleted
    if policy == "withdraw":
        return upserts, pa.concat_arrays([deleted.cast(pa.string()), current[KEY].combine_chunks().cast(pa.string())])
    flagged = current.set_column(current.schema.get_field_index(SUPERSEDED), SUPERSEDED,
                                 pa.array([True] * current.num_rows, pa.bool_())) \
        if SUPERSEDED in current.column_names else mark_superseded(current, keys, policy)
    return upserts.then(flagged), deleted
