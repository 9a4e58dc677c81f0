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
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources.base import Source, Window, redact, register
from quancheng.sources.types import conform, native_schema, rechunk

MAX_PAGE_SIZE = 1000
MAX_RETRIES = 8
MAX_RETRY_AFTER_S = 30.0
TIMEOUT_S = 30.0


@register
class HttpSource(Source):
    """A department's JSON API, paged, with rate limits."""

    kind: ClassVar[str] = "http"

    def _get(self, form: SourceForm, path: str, params: dict[str, Any] | None = None) -> Any:
        url = self.uri.rstrip("/") + "/" + quote(path) + ("?" + urlencode(params) if params else "")
        for _attempt in range(MAX_RETRIES + 1):
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
                    return json.loads(resp.read().decode("utf-8"))
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

    def _down(self, form: SourceForm, reason: object) -> SourceUnavailable:
        return SourceUnavailable(self.system.system_id, form.table, f"API unavailable: {redact(str(reason))}")

    def live_columns(self, form: SourceForm) -> list[str]:
        try:
            body = self._get(form, f"{form.table}/schema")
        except _NotFound:
            return []
        return [str(c) for c in body["columns"]]

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
            items = body["items"]
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
