"""The one way the tests' own HTTP servers run: threaded, on 127.0.0.1, a free port, as a context manager;
and the helpers for servers the tests start in other ways (a free port, waiting for one to answer)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(call: Callable[[], httpx.Response], seconds: float = 120) -> httpx.Response:
    """``call``'s response once a server answers it (it may still be starting)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # resets and hangs are what these servers are for, not news


class LoopbackServer:
    """``with LoopbackServer(Handler) as server: server.url("/path")``; subclasses add their state."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")
