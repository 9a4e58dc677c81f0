"""The demo's JSON HTTP API: serves the ``http`` systems' tables from the world's Parquet files.

``serve(world_dir, port=0)`` runs a threaded stdlib HTTP server in the background and yields its base URL
(``http://127.0.0.1:<port>``); a system's URI is ``<base>/<system_id>``. Endpoints, paging and the
429 + ``Retry-After`` rate limit are those :mod:`quancheng.sources.http` documents. Each table is
re-read when its file changes (``demo advance`` rewrites it), so the service never needs a restart.
Rows are served in file order; ``updated_since`` / ``updated_before`` filter on the form's update column.
``<table>/keys?columns=a,b`` pages through the named key columns of every row (delete reconciliation).

Run it alone with ``python -m quancheng.demo.api WORLD_DIR --port 8765``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from quancheng.demo.engines import api_path, to_json_value
from quancheng.sources.http import MAX_PAGE_SIZE


class _RateLimit:
    """At most ``limit`` requests per ``per_s`` seconds (fixed window), shared by all clients."""

    def __init__(self, limit: int | None, per_s: float):
        self.limit, self.per_s = limit, per_s
        self.window_start, self.count = time.monotonic(), 0
        self.lock = threading.Lock()

    def wait_time(self) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        if not self.limit:
            return 0.0
        with self.lock:
            now = time.monotonic()
            if now - self.window_start >= self.per_s:
                self.window_start, self.count = now, 0
            if self.count < self.limit:
                self.count += 1
                return 0.0
            return self.per_s - (now - self.window_start)


class _Tables:
    """Parquet tables cached by path and modification time."""

    def __init__(self, world_dir: Path):
        self.world_dir = world_dir
        self.cache: dict[Path, tuple[float, pa.Table]] = {}
        self.lock = threading.Lock()
        self._meta: tuple[float, dict[tuple[str, str], str]] = (-1.0, {})

    def updated_column(self, system_id: str, table: str) -> str:
        """The table's update column, from ``api/tables.json`` (re-read when it changes)."""
        meta = self.world_dir / "api" / "tables.json"
        mtime = meta.stat().st_mtime if meta.is_file() else 0.0
        with self.lock:
            if mtime != self._meta[0]:
                self._meta = (mtime, _updated_columns(self.world_dir))
            return self._meta[1].get((system_id, table), "")

    def get(self, system_id: str, table: str) -> pa.Table | None:
        import pyarrow.parquet as pq

        path = api_path(self.world_dir, system_id, table)
        if not path.is_file():
            return None
        mtime = path.stat().st_mtime
        with self.lock:
            hit = self.cache.get(path)
            if hit and hit[0] == mtime:
                return hit[1]
            data = pq.read_table(path)
            self.cache[path] = (mtime, data)
            return data


def _updated_columns(world_dir: Path) -> dict[tuple[str, str], str]:
    meta = world_dir / "api" / "tables.json"
    if not meta.is_file():
        return {}
    raw = json.loads(meta.read_text(encoding="utf-8"))
    return {(r["system_id"], r["table"]): r["updated_column"] for r in raw}


def _handler(tables: _Tables, limit: _RateLimit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the demo prints its own progress

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, ensure_ascii=False, default=to_json_value).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            wait = limit.wait_time()
            if wait > 0:
                self._send(429, {"error": "rate limited"}, {"Retry-After": str(max(1, math.ceil(wait)))})
                return
            parts = urlsplit(self.path)
            segs = [unquote(s) for s in parts.path.strip("/").split("/") if s]
            if len(segs) not in (2, 3) or (len(segs) == 3 and segs[2] not in ("schema", "keys")):
                self._send(404, {"error": "use /<system_id>/<table>[/schema|/keys]"})
                return
            data = tables.get(segs[0], segs[1])
            if data is None:
                self._send(404, {"error": f"unknown table {segs[0]}/{segs[1]}"})
                return
            if len(segs) == 3 and segs[2] == "schema":
                self._send(200, {"columns": data.column_names})
                return
            query = parse_qs(parts.query)
            updated = tables.updated_column(segs[0], segs[1])
            if len(segs) == 3:  # keys: only the named columns, every row
                columns = [c for c in query.get("columns", [""])[0].split(",") if c]
                unknown = [c for c in columns if c not in data.column_names]
                if not columns or unknown:
                    self._send(400, {"error": f"columns= must name key columns of the table; unknown {unknown}"})
                    return
                data, updated = data.select(columns), ""
                query = {k: v for k, v in query.items() if k in ("page", "page_size")}
            try:
                self._send(200, self._page(data, updated, query))
            except ValueError as exc:
                self._send(400, {"error": str(exc)})

        @staticmethod
        def _page(data: pa.Table, updated: str, query: dict[str, list[str]]) -> dict[str, object]:
            page = int(query.get("page", ["1"])[0])
            size = min(int(query.get("page_size", ["100"])[0]), MAX_PAGE_SIZE)
            if page < 1 or size < 1:
                raise ValueError("page and page_size must be positive")
            if updated and updated in data.column_names:
                stamps = pc.cast(data[updated], pa.timestamp("us"))
                mask = None
                if "updated_before" in query:
                    before = pa.scalar(datetime.fromisoformat(query["updated_before"][0]), pa.timestamp("us"))
                    mask = pc.less(stamps, before)
                if "updated_since" in query:
                    since = pa.scalar(datetime.fromisoformat(query["updated_since"][0]), pa.timestamp("us"))
                    ge = pc.greater_equal(stamps, since)
                    mask = ge if mask is None else pc.and_kleene(mask, ge)
                elif mask is not None:
                    mask = pc.or_kleene(mask, pc.is_null(stamps))
                if mask is not None:
                    data = data.filter(pc.fill_null(mask, False))
            total = data.num_rows
            items = data.slice((page - 1) * size, size).to_pylist()
            more = page * size < total
            return {"items": items, "page": page, "page_size": size, "total": total,
                    "next_page": page + 1 if more else None}

    return Handler


@contextmanager
def serve(world_dir: Path, port: int = 0, *, rate_limit: int | None = None,
          per_seconds: float = 1.0) -> Iterator[str]:
    """Serve the world's API tables; yields the base URL. ``rate_limit``: requests per ``per_seconds``."""
    server = ThreadingHTTPServer(("127.0.0.1", port),
                                 _handler(_Tables(Path(world_dir)), _RateLimit(rate_limit, per_seconds)))
    server.daemon_threads = True
    # a short poll interval: shutdown() waits up to one interval, and tests start many servers
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="quancheng-demo-api",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve a demo world's JSON API systems.")
    parser.add_argument("world_dir", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per second (default: none)")
    args = parser.parse_args()
    with serve(args.world_dir, args.port, rate_limit=args.rate_limit) as base:
        print(f"serving {args.world_dir} at {base} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
