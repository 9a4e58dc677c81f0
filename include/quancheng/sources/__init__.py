"""Sources: read departmental systems (SQL databases, file drops, HTTP APIs) into Arrow."""

from quancheng.sources.base import Source, Window, open_source, register, source_class, source_kinds

__all__ = ["Source", "Window", "open_source", "register", "source_class", "source_kinds"]
