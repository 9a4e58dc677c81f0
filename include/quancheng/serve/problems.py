"""The errors the API answers with: a status, a machine-readable code, one clear sentence, never a trace.

Every refusal is raised as :class:`ApiError` and rendered as
``{"error": {"status": 422, "code": "invalid_key", "message": "...", ...}}``; the extra fields name the
failed check (``check``: e.g. ``uscc.checksum`` from :mod:`quancheng.ids`), the parameter, or the limit.
"""

from __future__ import annotations

from typing import Any, Literal

from quancheng.ids import Kind, check

Code = Literal["unauthorized", "forbidden", "not_found", "invalid_key", "invalid_parameter", "page_too_large",
               "rate_limited", "internal", "version_not_kept"]


class ApiError(Exception):
    """A refusal the caller caused (4xx) or an outage (5xx), said in one sentence."""

    def __init__(self, status: int, code: Code, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"status": self.status, "code": self.code, "message": self.message, **self.extra}}


def checked_id(value: str, kind: Kind, parameter: str) -> str:
    """``value`` normalized as an identifier of ``kind``, or a 422 naming the check that failed."""
    r = check(value, kind)
    if not r.valid or r.normalized is None:
        reason = r.reason or "invalid"
        shown = value if len(value) <= 64 else value[:64] + "…"
        raise ApiError(422, "invalid_key", f"{parameter} {shown!r} is not a valid {kind}: check {reason} failed",
                       check=reason if "." in reason else f"{kind}.{reason}", parameter=parameter)
    return r.normalized
