"""Publication: shared datasets as Delta Lake tables and SQL tables, atomic and idempotent, with a registry."""

from quancheng.publish.store import Published, SharedStore, content_hash

__all__ = ["Published", "SharedStore", "content_hash"]
