"""Tiny local servers that record what the notifiers send: a webhook endpoint and an SMTP server."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (url, received JSON bodies) of a local endpoint that answers 200 to every POST."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append({"path": self.path, "json": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/exchange", received
    finally:
        server.shutdown()


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Yield (port, received messages) of a minimal SMTP server (no TLS, no auth)."""
    received: list[dict[str, Any]] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            msg: dict[str, Any] = {"rcpt": []}
            self.wfile.write(b"220 localhost ready\r\n")
            while line := self.rfile.readline():
                cmd = line.decode().strip()
                verb = cmd.split(" ", 1)[0].split(":", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
                elif verb == "MAIL":
                    msg["from"] = cmd
                    self.wfile.write(b"250 ok\r\n")
                elif verb == "RCPT":
                    msg["rcpt"].append(cmd)
                    self.wfile.write(b"250 ok\r\n")
                elif verb == "DATA":
                    self.wfile.write(b"354 go on\r\n")
                    data = b""
                    while not data.endswith(b"\r\n.\r\n"):
                        data += self.rfile.readline()
                    msg["data"] = data.decode("utf-8", "replace")
                    received.append(msg)
                    msg = {"rcpt": []}
                    self.wfile.write(b"250 queued\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
