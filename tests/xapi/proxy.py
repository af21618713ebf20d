"""A real HTTP server placed in front of the real LRS to inject faults.

Why not a mock: the worker must meet real sockets — a refused connection, a read that times
out, a 429 with ``Retry-After``, an LRS that stored a batch whose answer never arrived. The
proxy forwards to the Node LRS unless a queued :class:`Fault` says otherwise, and records the
statement ids of every POST so tests can count what was sent.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Fault:
    """What to do with the next POST: answer ``status`` without forwarding, and/or wait."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    delay: float = 0.0
    """Seconds to wait before acting (forwarding or answering)."""
    delay_after_forward: float = 0.0
    """Seconds to wait after the LRS answered, before answering the client."""
    trickle: bool = False
    """Send ``status`` and headers at once, then the body one byte at a time, never ending."""
    on_byte: Callable[[], None] | None = None
    """Called after each trickled byte: a test's clock moves with the trickle, not with time."""
    trickle_interval: float = 0.02
    """Pause between trickled bytes (pacing only: no test outcome depends on it)."""


class FaultProxy:
    """Forwards ``/xAPI/...`` to the upstream LRS, applying queued faults to POSTs."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.faults: deque[Fault] = deque()
        self.default_fault: Fault | None = None
        self.required_authorization: str | None = None
        self.posted_ids: list[list[str]] = []
        self.versions: list[str | None] = []
        """The ``X-Experience-API-Version`` of every request, in order."""
        self.forwarded_posts = 0
        self.trickling = threading.Event()
        """Set once a trickled answer has sent its first byte."""
        self.trickle_ended = threading.Event()
        """Set when a trickled answer ends (the client closed the connection)."""
        self.closing = threading.Event()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                proxy._handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                proxy._handle(self, self.rfile.read(length))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/xAPI/"

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def post_count(self) -> int:
        with self.lock:
            return len(self.posted_ids)

    def sent_ids(self) -> list[str]:
        """Every statement id POSTed, in order, with repetitions."""
        with self.lock:
            return [sid for batch in self.posted_ids for sid in batch]

    def _handle(self, request: BaseHTTPRequestHandler, body: bytes | None) -> None:
        fault: Fault | None = None
        with self.lock:
            self.versions.append(request.headers.get("X-Experience-API-Version"))
        if body is not None:
            try:
                ids = [str(item.get("id")) for item in json.loads(body)]
            except (ValueError, AttributeError, TypeError):
                ids = []
            with self.lock:
                self.posted_ids.append(ids)
                fault = self.faults.popleft() if self.faults else self.default_fault
        if self.required_authorization is not None and (
            request.headers.get("Authorization") != self.required_authorization
        ):
            fault = Fault(status=401, body='{"message":"Unauthorised"}')
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.trickle:
            self._trickle(request, fault)
            return
        if fault is not None and fault.status is not None:
            self._answer(request, fault.status, fault.headers, fault.body.encode())
            return
        status, headers, payload = self._forward(request, body)
        if body is not None:
            with self.lock:
                self.forwarded_posts += 1
        if fault is not None and fault.delay_after_forward:
            time.sleep(fault.delay_after_forward)
        self._answer(request, status, headers, payload)

    def _forward(
        self, request: BaseHTTPRequestHandler, body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            headers = {
                key: value
                for key, value in request.headers.items()
                if key.lower() not in HOP_BY_HOP
            }
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {
                key: value for key, value in response.getheaders() if key.lower() not in HOP_BY_HOP
            }
            return response.status, kept, payload
        finally:
            connection.close()

    def _trickle(self, request: BaseHTTPRequestHandler, fault: Fault) -> None:
        """Headers now, then a byte at a time until the client hangs up or the proxy stops."""
        try:
            request.send_response(fault.status or 200)
            request.send_header("Content-Type", "application/json")
            for key, value in fault.headers.items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(10_000_000))
            request.end_headers()
            request.wfile.flush()
            while not self.closing.is_set():
                request.wfile.write(b" ")
                request.wfile.flush()
                self.trickling.set()
                if fault.on_byte is not None:
                    fault.on_byte()
                self.closing.wait(fault.trickle_interval)
        except OSError:
            pass  # the client gave up: what a trickle is for
        finally:
            self.trickle_ended.set()
            request.close_connection = True

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes
    ) -> None:
        try:
            request.send_response(status)
            for key, value in headers.items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) or was killed: nothing to answer
