"""HTTP front: POST /info and POST /exchange on a standard-library threading server."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hlrebal.sim.simulator import Simulator

MAX_BODY = 10 * 1024 * 1024


class SimServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its simulator."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """One request: read, count, apply faults and latency, process, answer."""

    server: SimServer
    protocol_version = "HTTP/1.0"  # one request per connection: a dropped answer never poisons a pool

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._send(404, "text/plain", b"Not Found")

    def do_POST(self) -> None:
        path = self.path.rstrip("/")
        endpoint = {"/info": "info", "/exchange": "exchange"}.get(path)
        if endpoint is None:
            self._send(404, "text/plain", b"Not Found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, "text/plain", b"Payload Too Large")
            return
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        sim = self.server.sim
        fault, delay = sim._begin(endpoint, body)
        if delay > 0:
            time.sleep(delay)
        try:
            if fault is not None and fault.when == "before":
                self._fault(fault)
                return
            status, payload = sim._process(endpoint, body)
            if fault is not None:
                self._fault(fault)
                return
            if isinstance(payload, str) and status != 200:
                self._send(status, "text/plain", payload.encode())
            else:
                self._send(status, "application/json", json.dumps(payload).encode())
        finally:
            sim._end()

    def _fault(self, fault: Any) -> None:
        if fault.kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(fault.status, "text/plain", fault.body.encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
