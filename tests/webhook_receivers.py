"""Local incoming-webhook receivers on loopback, one path per platform, each checking its platform's
message shape and signature the way the platform does, answering as it answers, and failing on demand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET = "SEC-test-secret"


class Receivers:
    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.failing: set[str] = set()
        """Paths that answer 500 (or the platform's error)."""
        self.rejected: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


def _check(path: str, query: dict[str, list[str]], headers: Any, raw: bytes) -> str | None:
    """Why the platform would refuse this message, or None."""
    body = json.loads(raw)
    if path == "slack":
        return (
            None
            if isinstance(body.get("text"), str) and body["blocks"][0]["text"]["type"] == "mrkdwn"
            else "shape"
        )
    if path == "feishu":
        key = f"{body.get('timestamp')}\n{SECRET}".encode()
        sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if body.get("sign") != sign:
            return "sign match fail"
        return None if body["msg_type"] == "text" and body["content"]["text"] else "shape"
    if path == "dingtalk":
        stamp = query.get("timestamp", [""])[0]
        digest = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
        if query.get("sign", [""])[0] != base64.b64encode(digest).decode():  # parse_qs decoded it once
            return "sign not match"
        return None if body["msgtype"] == "markdown" and body["markdown"]["title"] else "shape"
    if path == "wecom":
        return None if body["msgtype"] == "markdown" and body["markdown"]["content"] else "shape"
    if path == "webhook":
        stamp, signature = (part.split("=", 1)[1] for part in headers["X-OpinionWatch-Signature"].split(","))
        expected = hmac.new(
            SECRET.encode(),
            stamp.encode() + b"." + json.dumps(body, sort_keys=True, ensure_ascii=False).encode(),
            hashlib.sha256,
        )
        return None if signature == expected.hexdigest() and body["id"] else "signature"
    return "unknown path"


def _answer(path: str, refusal: str | None) -> tuple[int, bytes]:
    if path == "slack":
        return (200, b"ok") if refusal is None else (400, b"invalid_payload")
    if path == "feishu":
        return 200, json.dumps(
            {"code": 0 if refusal is None else 19021, "msg": refusal or "success"}
        ).encode()
    if path in ("dingtalk", "wecom"):
        return 200, json.dumps(
            {"errcode": 0 if refusal is None else 310000, "errmsg": refusal or "ok"}
        ).encode()
    return (200, b"{}") if refusal is None else (400, b"{}")


@contextmanager
def webhook_receivers() -> Iterator[Receivers]:
    receivers = Receivers()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            path = parts.path.strip("/")
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if path in receivers.failing:
                self.send_response(500)
                self.end_headers()
                return
            refusal = _check(path, parse_qs(parts.query), self.headers, raw)
            with receivers.lock:
                if refusal is None:
                    receivers.received.setdefault(path, []).append(json.loads(raw))
                else:
                    receivers.rejected.append((path, refusal))
            status, answer = _answer(path, refusal)
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receivers.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receivers
    finally:
        server.shutdown()
        thread.join()
