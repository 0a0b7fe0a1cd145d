"""Who is asking: password logins (argon2), a trusted proxy's header, signed session cookies, CSRF tokens
and per-user rate limits.

A session is a cookie ``user|expiry|csrf`` signed with HMAC-SHA256 under ``OPINIONWATCH_WEB_SECRET`` (from
the environment only). Without that variable each process makes a random key: logins then last until the
process restarts and do not carry between several ``web`` processes, which the log says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.service_settings import WebSettings, WebUser

log = logging.getLogger(__name__)
SECRET_VARIABLE = "OPINIONWATCH_WEB_SECRET"
COOKIE = "ow_session"
HASHER = PasswordHasher()
DUMMY_HASH = HASHER.hash("an unused password, so that unknown users take as long as known ones")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@dataclass(frozen=True)
class Session:
    user: str
    expires: int
    csrf: str


class Sessions:
    def __init__(self, settings: WebSettings, secret: str | None = None) -> None:
        self.settings = settings
        given = secret if secret is not None else os.environ.get(SECRET_VARIABLE)
        if not given:
            log.warning(
                "no %s: logins last until this process restarts and are not shared between web processes",
                SECRET_VARIABLE,
            )
            given = secrets.token_urlsafe(32)
        self.key = hashlib.sha256(given.encode("utf-8")).digest()
        self.users = {user.name: user for user in settings.users}

    def check_password(self, name: str, password: str) -> WebUser | None:
        """The user whose password this is; the same work is done for an unknown name."""
        user = self.users.get(name)
        stored = user.password_hash if user is not None and user.password_hash else DUMMY_HASH
        try:
            HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return user if user is not None and user.password_hash else None

    def issue(self, user: str, now: datetime) -> tuple[str, Session]:
        expires = int((now + timedelta(hours=self.settings.session_hours)).timestamp())
        session = Session(user, expires, secrets.token_urlsafe(24))
        payload = f"{user}|{expires}|{session.csrf}".encode()
        signature = hmac.new(self.key, payload, hashlib.sha256).digest()
        token = (
            base64.urlsafe_b64encode(payload).decode() + "." + base64.urlsafe_b64encode(signature).decode()
        )
        return token, session

    def read(self, token: str | None, now: datetime) -> Session | None:
        """The session a cookie holds; ``None`` if it is missing, forged, expired or its user is gone."""
        if not token or "." not in token:
            return None
        encoded, _, signed = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded.encode())
            signature = base64.urlsafe_b64decode(signed.encode())
        except ValueError:
            return None
        if not hmac.compare_digest(hmac.new(self.key, payload, hashlib.sha256).digest(), signature):
            return None
        user, expires, csrf = payload.decode("utf-8", "replace").split("|", 2)
        if int(expires) < now.timestamp() or user not in self.users:
            return None
        return Session(user, int(expires), csrf)

    def proxy_csrf(self, user: str) -> str:
        """The CSRF token of a user who came in through the trusted proxy (their browser sends the proxy's
        login with every request, so unsafe requests still need a token the page alone knows)."""
        return hmac.new(self.key, f"csrf|{user}".encode(), hashlib.sha256).hexdigest()[:32]

    def trusted_user(self, client: str | None, headers: dict[str, str]) -> str | None:
        """The user a trusted reverse proxy vouches for, if this request came through one."""
        header = self.settings.trusted_header
        if not header or client not in self.settings.trusted_proxies:
            return None
        name = headers.get(header.lower(), "").strip()
        return name if name in self.users else None


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no open redirects)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


class RateLimiter:
    """At most ``per_minute`` requests per key in any sliding minute (per process)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self.lock:
            times = self.seen.setdefault(key, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True
