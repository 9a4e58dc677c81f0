"""What the data-service tests share besides fixtures: the departments of the grants world and a client
key maker. Test modules import it by this name (importing ``conftest`` finds another folder's under xdist)."""

from __future__ import annotations

from typing import Any

TEST_KEY = "serve-test-key-not-secret-0123456789"
HCB = "Housing and Urban-Rural Development Bureau"  # granted legal_representative by name: clear
NDRC = "Development and Reform Commission"  # granted every conditional element of amr_enterprise: tokens
HRSS = "Human Resources and Social Security Bureau"  # no grant: open copies only
AMR = "Administration for Market Regulation"  # owns amr_enterprise: its own area, clear


def key_for(app: Any, catalog: Any, department: str, name: str | None = None) -> dict[str, str]:
    """Authorization headers of a new client of ``department``."""
    import uuid

    key = app.state.clients.add(name or f"{department[:20]}-{uuid.uuid4().hex[:6]}", department, catalog)
    return {"Authorization": f"Bearer {key}"}
