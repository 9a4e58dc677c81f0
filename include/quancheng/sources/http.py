"""JSON HTTP API sources: a department's paged REST endpoint read to its last page.

The API (``http://host:port/<system_id>``, served in the demo by :mod:`quancheng.demo.api`):

- ``GET <base>/<table>/schema`` -> ``{"columns": [...]}`` (404 when the table is unknown);
- ``GET <base>/<table>?page=1&page_size=500[&updated_since=ISO][&updated_before=ISO]`` ->
  ``{"items": [{column: value}, ...], "page": 1, "next_page": 2 | null, "total": n}``; a missing
  ``updated_since`` also returns rows with no timestamp;
- ``GET <base>/<table>/keys?columns=a,b&page=1&page_size=1000`` -> the same page shape, each item holding
  only the named key columns of every row (no window): the key listing for delete reconciliation. An API
  without it (404) is paged through whole instead, keeping only the key columns;
- too many requests are answered ``429`` with ``Retry-After`` (seconds): the client sleeps that long
  (capped) and asks again, up to :data:`MAX_RETRIES` times, then the source is unavailable.

Items are turned into Arrow batches of the native types (:func:`quancheng.sources.types.native_schema`);
decimals travel as JSON numbers or strings and are parsed exactly. Refused connections, time-outs and
server errors raise :class:`SourceUnavailable`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import pyarrow as pa

from quancheng.catalog.models import SourceForm
from quancheng.errors import QuanchengError, SourceError, SourceUnavailable
from quancheng.sources.base import Source, Window, redact, register
from quancheng.sources.types import conform, native_schema, rechunk

MAX_PAGE_SIZE = 1000
MAX_RETRIES = 8
MAX_RETRY_AFTER_S = 30.0
TIMEOUT_S = 30.0  # a socket read that waits longer fails
DEADLINE_ENV = "QUANCHENG_HTTP_DEADLINE"  # seconds a whole request (headers and body) may take
DEFAULT_DEADLINE_S = 300.0


@register
class HttpSource(Source):
    """A department's JSON API, paged, with rate limits.

    Credentials come from the connection: ``http://user:password@host/base`` is sent as HTTP Basic, a
    password with no user (``http://:TOKEN@host/base``) or a ``token`` query parameter as a Bearer token;
    none of them is part of the URLs it requests or names in errors. Each request has an overall deadline
    (``QUANCHENG_HTTP_DEADLINE`` seconds, default 300), so an API that trickles bytes fails instead of
    holding the sync forever.
    """

    kind: ClassVar[str] = "http"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base, self.headers = split_credentials(self.uri)
        self.deadline = deadline_seconds()

    def _get(self, form: SourceForm, path: str, params: dict[str, Any] | None = None) -> Any:
        url = self.base.rstrip("/") + "/" + quote(path) + ("?" + urlencode(params) if params else "")
        for _attempt in range(MAX_RETRIES + 1):
            try:
                body = self._fetch(form, url)
                try:
                    return json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise SourceError(self.system.system_id, form.table,
                                      f"the API answered {url} with something that is not JSON ({exc}); "
                                      "nothing published") from None
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    time.sleep(_retry_after(exc.headers.get("Retry-After")))
                    continue
                if exc.code == 404:
                    raise _NotFound from None
                raise self._down(form, f"HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise self._down(form, getattr(exc, "reason", exc)) from None
        raise self._down(form, f"still rate limited (HTTP 429) after {MAX_RETRIES} retries")

    def _fetch(self, form: SourceForm, url: str) -> bytes:
        """The body of one GET, within the deadline: read as it arrives, so a trickle cannot outlast it."""
        deadline = time.monotonic() + self.deadline
        req = urllib.request.Request(url, headers=self.headers)
        with urllib.request.urlopen(req, timeout=min(TIMEOUT_S, self.deadline)) as resp:
            chunks: list[bytes] = []
            while True:
                if time.monotonic() > deadline:
                    raise self._down(form, f"{url} did not answer in full within {self.deadline:g} s "
                                           f"(the deadline {DEADLINE_ENV})")
                chunk = resp.read1(1 << 16)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

    def _down(self, form: SourceForm, reason: object) -> SourceUnavailable:
        return SourceUnavailable(self.system.system_id, form.table, f"API unavailable: {redact(str(reason))}")

    def live_columns(self, form: SourceForm) -> list[str]:
        try:
            body = self._get(form, f"{form.table}/schema")
        except _NotFound:
            return []
        columns = body.get("columns") if isinstance(body, dict) else None
        if not isinstance(columns, list):
            raise SourceError(self.system.system_id, form.table,
                              f"the API's schema of {form.table} has no 'columns' list; nothing published")
        return [str(c) for c in columns]

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        schema = self.schema(form)
        yield from rechunk(self._pages(form, window, min(chunk_rows, MAX_PAGE_SIZE), schema), chunk_rows)

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """The ``keys`` endpoint, or every page of the table when the API has none (see the module docstring)."""
        full = native_schema(self.catalog, form)
        schema = pa.schema([f for f in full if f.name in form.primary_key])
        size = min(chunk_rows, MAX_PAGE_SIZE)
        try:
            self._get(form, f"{form.table}/keys", {"columns": ",".join(schema.names), "page": 1, "page_size": 1})
        except _NotFound:
            pages = self._pages(form, None, size, schema)
        else:
            pages = self._pages(form, None, size, schema, path=f"{form.table}/keys",
                                extra={"columns": ",".join(schema.names)})
        yield from rechunk(pages, chunk_rows)

    def _pages(self, form: SourceForm, window: Window | None, page_size: int, schema: pa.Schema, *,
               path: str = "", extra: dict[str, str] | None = None) -> Iterator[pa.RecordBatch]:
        params: dict[str, Any] = {"page_size": page_size, **(extra or {})}
        if form.updated_column and window is not None:  # None: every row
            params["updated_before"] = self.local(window.end).isoformat()
            if window.start is not None:
                params["updated_since"] = self.local(window.start).isoformat()
        page: int | None = 1
        while page is not None:
            try:
                body = self._get(form, path or form.table, {**params, "page": page})
            except _NotFound:
                raise SourceError(self.system.system_id, form.table, "the API does not know this table") from None
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceError(self.system.system_id, form.table,
                                  f"the API's page {page} of {path or form.table} has no 'items' list (keys: "
                                  f"{sorted(body)[:8] if isinstance(body, dict) else type(body).__name__}); "
                                  "nothing published")
            if items:
                yield self._batch(items, schema, form)
            page = body.get("next_page")

    def _batch(self, items: list[dict[str, Any]], schema: pa.Schema, form: SourceForm) -> pa.RecordBatch:
        arrays = []
        for field in schema:
            values = [item.get(field.name) for item in items]
            if pa.types.is_string(field.type) or pa.types.is_decimal(field.type) or pa.types.is_temporal(field.type):
                # JSON has no decimals or dates: parse them from text so nothing passes through a float
                arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
            else:
                arrays.append(pa.array(values, field.type))
        raw = pa.RecordBatch.from_arrays(arrays, names=schema.names)
        return conform(raw, schema, self.system.system_id, form.table)


class _NotFound(Exception):
    """HTTP 404 (internal: turned into drift or a clear error by the caller)."""


def _retry_after(header: str | None) -> float:
    try:
        return min(max(float(header or 1), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return 1.0


def split_credentials(uri: str) -> tuple[str, dict[str, str]]:
    """The base URL without credentials, and the ``Authorization`` header they make (none without any)."""
    import base64
    from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    token = next((v for k, v in query if k == "token"), None)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    base = urlunsplit((parts.scheme, netloc, parts.path, urlencode([(k, v) for k, v in query if k != "token"]),
                       ""))
    if user:
        return base, {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    if password or token:
        return base, {"Authorization": f"Bearer {token or password}"}
    return base, {}


def deadline_seconds() -> float:
    """The per-request deadline from ``QUANCHENG_HTTP_DEADLINE`` (seconds), else the default."""
    import os

    raw = os.environ.get(DEADLINE_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_DEADLINE_S
    except ValueError:
        raise QuanchengError(f"{DEADLINE_ENV}={raw!r} is not a number of seconds") from None
    return value if value > 0 else DEFAULT_DEADLINE_S
