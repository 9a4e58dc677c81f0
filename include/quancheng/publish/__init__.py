"""Publication: shared datasets in Parquet and SQL, atomic and idempotent, with a registry."""

from quancheng.publish.store import Published, SharedStore, content_hash, merge_by_key

__all__ = ["Published", "SharedStore", "content_hash", "merge_by_key"]
