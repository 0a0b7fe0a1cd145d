"""The search page (``opinionwatch web``): server-rendered pages over the JSON API's functions.

Pages work without scripts (forms, links, ``<details>`` for a story's versions); ``static/app.js`` adds
feedback, "more like this" and alert buttons through the API. Everything shown is autoescaped; the only
markup taken from data is the highlighter's, which escapes the text and adds ``<mark>`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio.to_thread
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.loader import load_settings, resolve_config_path
from digests.labels import Labels
from digests.render import safe_url, template_environment
from opinionwatch import logs
from opinionwatch.web.api import (
    NewSavedSearch,
    Params,
    api_alert_action,
    api_save,
    context,
    page_json,
    router,
    saved_as_config,
)
from opinionwatch.web.auth import COOKIE, Sessions, safe_next
from opinionwatch.web.context import User, WebContext
from opinionwatch.web.labels import LABELS
from opinionwatch.web.results import PAGE_FACETS, SearchParams, why
from opinionwatch.web.state import WebState
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def app_from_config() -> FastAPI:
    """The app of one ``opinionwatch web`` process, from the config ``$OPINIONWATCH_CONFIG`` names (how
    uvicorn's worker processes build theirs); it closes its services when the process stops."""
    settings = load_settings(resolve_config_path(None))
    logs.configure(settings.log.level, settings.log.format)
    return create_app(Services(settings), close_on_shutdown=True)


def create_app(services: Services, secret: str | None = None, close_on_shutdown: bool = False) -> FastAPI:
    settings = services.settings
    web = WebContext(services, Sessions(settings.web, secret), WebState(settings.data_dir / "web.sqlite"))
    services.index.count()  # open it once here: request threads would each race to open it
    app = FastAPI(
        title="OpinionWatch",
        version="1",
        description="The JSON API of the search page. Log in with `POST /login` (form fields `name`, "
        "`password`); send the session's CSRF token (`GET /api/me`) as `X-CSRF-Token` with every POST or "
        "DELETE.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_lifespan(services, close_on_shutdown),
    )
    app.state.context = web
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = _environment()

    app.add_middleware(Guard, web=web)

    def render(name: str, request: Request, user: User | None, **values: Any) -> HTMLResponse:
        language = user.language if user else _browser_language(request)
        labels = LABELS[language]
        html = templates.get_template(name).render(
            t=labels, user=user, features=web.features(), language=language, request_path=request.url.path,
            **values,
        )  # fmt: skip
        return HTMLResponse(html)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", failed: bool = False) -> HTMLResponse:
        return render("login.html.j2", request, None, next=safe_next(next), failed=failed)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        name: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        user = web.sessions.check_password(name, password)
        if user is None:
            log.info("login refused", extra={"user": name[:64]})
            return RedirectResponse("/login?" + urlencode({"next": safe_next(next), "failed": 1}), 303)
        token, _ = web.sessions.issue(user.name, web.now())
        response = RedirectResponse(safe_next(next), 303)
        response.set_cookie(
            COOKIE, token, max_age=int(settings.web.session_hours * 3600), httponly=True, samesite="lax",
            secure=_is_https(request, settings.web.trusted_proxies), path="/",
        )  # fmt: skip
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(user: FormUser) -> Response:
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, user: PageUser, params: Params) -> HTMLResponse:
        page, titles = web.search(params), web.settings.watchlist_titles()
        return render(
            "search.html.j2", request, user, params=params, page=page_json(page), query=request.url.query,
            facet_names=[f for f in PAGE_FACETS if _shown(f, web.features())], link=_link(request),
            titles={"watchlists": titles, "topic_id": web.topic_labels()},
            why=lambda item: why(item, titles, web.features(), Labels(user.language)),
            peak=max([1] + [d["negative"] + d["neutral"] + d["positive"] for d in page.timeline]),
        )  # fmt: skip

    @app.get("/topics", response_class=HTMLResponse, include_in_schema=False)
    def topics_page(request: Request, user: PageUser) -> HTMLResponse:
        state, active = web.topics()
        latest = state.fits[-1] if state and state.fits else None
        lineage = state.lineage[-30:] if state else []
        since = web.window_start(latest) if latest else None
        return render(
            "topics.html.j2", request, user, topics=active, latest=latest, lineage=lineage, since=since,
            named=state.label_of if state else None,
        )  # fmt: skip

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(request: Request, user: PageUser, state: str = "open") -> HTMLResponse:
        with web.stores_lock:
            alerts = web.services.alerts.list(
                state if state in ("open", "acknowledged", "resolved") else None
            )
        say = Labels(user.language).alert  # titles and reasons in the reader's language
        return render("alerts.html.j2", request, user, alerts=alerts, state=state, say=say)

    @app.post("/alerts/{alert_id}/{action}", include_in_schema=False)
    def alert_form(user: FormUser, alert_id: int, action: str) -> Response:
        if action not in ("acknowledge", "resolve"):
            raise HTTPException(404, "unknown action")
        api_alert_action(web, user, alert_id, action)  # type: ignore[arg-type]
        return RedirectResponse("/alerts", 303)

    @app.get("/saved", response_class=HTMLResponse, include_in_schema=False)
    def saved_page(request: Request, user: PageUser) -> HTMLResponse:
        saved = [
            (s, urlencode(_params_query(s.params), doseq=True), saved_as_config(s.name, s.params))
            for s in web.state.saved_searches(user.name)
        ]
        return render("saved.html.j2", request, user, saved=saved)

    @app.post("/saved", include_in_schema=False)
    def save_form(
        user: FormUser, name: Annotated[str, Form()], query: Annotated[str, Form()] = ""
    ) -> Response:
        params = SearchParams.from_pairs([p for p in parse_qsl(query) if p[0] != "page"])
        api_save(web, user, NewSavedSearch(name=name, params=params))
        return RedirectResponse("/saved", 303)

    @app.post("/language", include_in_schema=False)
    def language_form(
        user: FormUser, language: Annotated[str, Form()], back: Annotated[str, Form()] = "/"
    ) -> Response:
        if language in LABELS:
            web.state.set_language(user.name, language)
        return RedirectResponse(safe_next(back), 303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 303 and error.headers:
            return RedirectResponse(error.headers["Location"], 303)
        return JSONResponse({"detail": error.detail}, error.status_code, error.headers)

    return app


class Guard:
    """Per-user rate limits, same-origin POSTs and the security headers, as a plain ASGI middleware (it
    runs on the event loop's thread: nothing here may wait on a database)."""

    def __init__(self, app: ASGIApp, web: WebContext) -> None:
        self.app, self.web = app, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        request = Request(scope)
        name = self.web.name_of(request)
        key = f"user:{name}" if name else f"address:{request.client.host if request.client else '?'}"
        refusal = None
        if not request.url.path.startswith("/static/") and not self.web.limiter.allow(key):
            refusal = JSONResponse({"detail": "too many requests: wait a minute"}, 429, {"Retry-After": "60"})
        elif request.method == "POST" and not _same_origin(request):
            refusal = JSONResponse({"detail": "cross-site request refused"}, 403)
        await (refusal or self.app)(scope, receive, send_with_headers)


def _lifespan(services: Services, close_on_shutdown: bool) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = services.settings.web.threads
        try:
            yield
        finally:
            if close_on_shutdown:
                services.close()

    return lifespan


def page_user(request: Request) -> User:
    """The user of a page request; without one, a redirect to the login page that comes back here."""
    user = context(request).user_of(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, headers={"Location": "/login?" + urlencode({"next": target})})
    return user


async def form_user(request: Request) -> User:
    """The user of a form post, whose ``csrf`` field must carry their token."""
    form = await request.form()
    request.state.form_csrf = str(form.get("csrf", ""))
    return context(request).require(request)


PageUser = Annotated[User, Depends(page_user)]
FormUser = Annotated[User, Depends(form_user)]


def _environment() -> Environment:
    environment = template_environment("opinionwatch.web")
    environment.filters["safe_url"] = lambda url: safe_url(str(url or "")) or "#"  # links nowhere
    environment.filters["day"] = lambda value: str(value)[:10]
    environment.filters["when"] = utc_minute
    return environment


def utc_minute(value: object) -> str:
    """A stored time, in UTC to the minute, saying so (``2026-12-05 09:06 UTC``): the page has no zone of
    its reader's to show it in."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _shown(facet: str, features: dict[str, bool]) -> bool:
    needs = {"sentiment": "sentiment", "risk": "risk", "topic_id": "topics"}
    return facet not in needs or features[needs[facet]]


def _link(request: Request) -> Any:
    """``link(changes)``: this page's query string with some parameters replaced (or toggled, for lists)."""

    def link(toggle: tuple[str, str] | None = None, **changes: Any) -> str:
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "page"]
        if toggle is not None:
            key, value = toggle
            pairs = (
                [(k, v) for k, v in pairs if (k, v) != toggle] if (key, value) in pairs else [*pairs, toggle]
            )
        pairs += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
        return "/?" + urlencode(pairs)

    return link


def _params_query(params: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        pairs += [(key, str(v)) for v in values if v not in (None, "")]
    return pairs


def _browser_language(request: Request) -> str:
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def _same_origin(request: Request) -> bool:
    """A POST from another site is refused (beside SameSite cookies and CSRF tokens)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _is_https(request: Request, trusted: list[str]) -> bool:
    client = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "") if client in trusted else ""
    return request.url.scheme == "https" or forwarded == "https"
