"""The one contract every built-in source kind passes, against the real engines (see conftest.host)."""

from __future__ import annotations

from contract import SourceContract


class TestBuiltinKinds(SourceContract):
    """``host`` is the parametrized fixture of conftest.py: one real engine per built-in kind."""
