"""What every request of the web app reaches: the installation's services (read-only), the web state,
sessions and rate limits, and the user a request comes from."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from fastapi import HTTPException, Request

from index.base import SearchRequest
from nlp.topic_state import STATE_FILE, TopicRecord, TopicState
from opinionwatch.digesting import topic_state
from opinionwatch.web.auth import COOKIE, RateLimiter, Sessions
from opinionwatch.web.results import ResultPage, SearchParams, search_page
from opinionwatch.web.state import WebState
from opinionwatch.wiring import Services

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class User:
    name: str
    language: str
    csrf: str
    """The token unsafe requests must carry (form field ``csrf`` or header ``X-CSRF-Token``)."""


class WebContext:
    def __init__(self, services: Services, sessions: Sessions, state: WebState) -> None:
        self.services, self.sessions, self.state = services, sessions, state
        self.settings = services.settings
        self.limiter = RateLimiter(self.settings.web.requests_per_minute)
        self.stores_lock = threading.Lock()
        """The story and alert stores are used by one thread at a time."""
        self._labels_lock = threading.Lock()
        self._labels: tuple[tuple[int, int] | None, dict[str, str]] = (None, {})

    def now(self) -> datetime:
        return self.services.clock.now()

    def features(self) -> dict[str, bool]:
        """What is built and switched on: the page shows only these."""
        settings = self.settings
        return {
            "topics": settings.topics.enabled,
            "sentiment": settings.sentiment.enabled,
            "risk": settings.risk.enabled,
            "alerts": settings.alerts.enabled,
        }

    def name_of(self, request: Request) -> str | None:
        """Who a request comes from (signed cookie, else the trusted proxy's header); no database read."""
        session = self.sessions.read(request.cookies.get(COOKIE), self.now())
        return session.user if session else self._proxied(request)

    def _proxied(self, request: Request) -> str | None:
        client = request.client.host if request.client else None
        return self.sessions.trusted_user(client, dict(request.headers))

    def user_of(self, request: Request) -> User | None:
        session = self.sessions.read(request.cookies.get(COOKIE), self.now())
        name = session.user if session else self._proxied(request)
        if name is None:
            return None
        configured = self.sessions.users[name]
        language = self.state.language(name) or configured.language
        return User(name, language, session.csrf if session else self.sessions.proxy_csrf(name))

    def require(self, request: Request) -> User:
        user = self.user_of(request)
        if user is None:
            raise HTTPException(401, "log in first (POST /login, or through the trusted proxy)")
        if request.method in UNSAFE:
            sent = request.headers.get("x-csrf-token") or getattr(request.state, "form_csrf", "")
            if sent != user.csrf:
                raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        return user

    def search(self, params: SearchParams) -> ResultPage:
        return search_page(self.services.index, self, params, self.now())

    def member_rows(self, story_ids: list[str]) -> dict[str, list[tuple]]:
        with self.stores_lock:
            return self.services.stories.member_rows(story_ids)

    def reach_sites(self, story_ids: list[str]) -> dict[str, float]:
        with self.stores_lock:
            return {story: reach.sites for story, reach in self.services.signals.reach(story_ids).items()}

    def similar(self, item_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """Items nearest in meaning to ``item_id`` (its stored vector), other stories only."""
        with self.stores_lock:
            found = self.services.stories.texts_and_vectors([item_id])
            if item_id not in found:
                raise HTTPException(404, f"no stored vector for item {item_id!r}")
            vector = np.asarray(found[item_id][3], dtype=np.float32)
        hits = self.services.index.search(SearchRequest(vector=vector, limit=limit * 3)).hits
        own = {str(h.doc.get("story_id")) for h in hits if h.id == item_id}
        chosen: dict[str, dict[str, Any]] = {}
        for hit in hits:
            key = str(hit.doc.get("story_id") or hit.id)
            if hit.id != item_id and key not in own and key not in chosen:
                chosen[key] = {**public_doc(hit.doc), "score": round(hit.score, 4)}
        return list(chosen.values())[:limit]

    def window_start(self, latest: date) -> date:
        """The first day of the topic window that ends on ``latest``."""
        return latest - timedelta(days=self.settings.topics.window_days - 1)

    def topics(self) -> tuple[TopicState | None, list[TopicRecord]]:
        if not self.settings.topics.enabled:
            return None, []
        state = topic_state(self.services)
        if state is None:
            return None, []
        latest = state.fits[-1] if state.fits else None
        active = state.active()
        active.sort(key=lambda t: -(t.days[latest].stories if latest in t.days else 0))
        return state, active

    def topic_labels(self) -> dict[str, str]:
        """Each topic's label by id (the topic facet shows them). The state is read again only after a fit
        has rewritten it (its file's modification time or size changed), not on every search."""
        if not self.settings.topics.enabled:
            return {}
        try:
            found = (self.services.topics_dir / STATE_FILE).stat()
        except OSError:
            return {}
        version = (found.st_mtime_ns, found.st_size)
        with self._labels_lock:
            if self._labels[0] != version:
                state = topic_state(self.services)
                labels = {str(topic.id): topic.label for topic in state.topics.values()} if state else {}
                self._labels = (version, labels)
            return self._labels[1]

    def item(self, item_id: str) -> dict[str, Any]:
        quoted = item_id.replace('"', "")
        hits = self.services.index.search(SearchRequest(query=f'id:"{quoted}"', limit=1)).hits
        if not hits:
            raise HTTPException(404, f"no item {item_id!r} in the index")
        return hits[0].doc


PUBLIC_FIELDS = (
    "id", "url", "title", "source", "outlet", "domain", "language", "published", "date_precision",
    "watchlists", "story_id", "topic_id", "topic_label", "sentiment", "entity_sentiments", "risk",
    "risk_points", "risk_reasons", "matched",
)  # fmt: skip


def public_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields of an item the API gives (not its whole body)."""
    return {name: doc[name] for name in PUBLIC_FIELDS if name in doc}
