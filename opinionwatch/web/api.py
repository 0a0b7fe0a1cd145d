"""The JSON API (``/api``): what the page's scripts call, documented by the OpenAPI spec at
``/api/openapi.json``."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from digests.alert_store import AlertError
from opinionwatch.web.context import User, WebContext, public_doc
from opinionwatch.web.results import EXPORT_FIELDS, ResultPage, SearchParams, export_rows
from opinionwatch.web.state import FEEDBACK_KINDS, WebStateError


def context(request: Request) -> WebContext:
    return request.app.state.context


def current_user(request: Request, web: Annotated[WebContext, Depends(context)]) -> User:
    return web.require(request)


def search_params(request: Request) -> SearchParams:
    """Search parameters from the query string (lists as repeated keys: ``lang=en&lang=zh``)."""
    try:
        return SearchParams.from_pairs(request.query_params.multi_items())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "search"
        raise HTTPException(422, f"{where}: {first['msg']}") from None


Web = Annotated[WebContext, Depends(context)]
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Me = Annotated[User, Depends(current_user)]
Params = Annotated[SearchParams, Depends(search_params)]
router = APIRouter(prefix="/api")


def page_json(page: ResultPage) -> dict[str, Any]:
    return {
        "total": page.total,
        "page": page.page,
        "more": page.more,
        "stories": [
            {
                "story_id": row.story_id,
                "item": public_doc(row.hit),
                "score": round(row.score, 4),
                "highlights": row.highlights,
                "reprints": row.reprints,
                "sites": row.sites,
                "languages": row.languages,
                "members": [{**asdict(m), "published": m.published.isoformat()} for m in row.members],
            }
            for row in page.rows
        ],
        "facets": {name: [[value, count] for value, count in values] for name, values in page.facets.items()},
        "timeline": page.timeline,
    }


@router.get("/search", summary="Stories matching a search, with facets and a timeline")
def api_search(
    web: Web,
    user: Me,
    params: Params,
    q: Annotated[str, Query(max_length=2000)] = "",
    period: Literal["24h", "7d", "30d", "90d", "all", "custom"] = "7d",
    sort: Literal["relevance", "date", "reach"] = "relevance",
    page: Annotated[int, Query(ge=1, le=50)] = 1,
) -> dict[str, Any]:
    return page_json(web.search(params))


@router.get("/similar/{item_id}", summary="Items nearest in meaning to one item, other stories only")
def api_similar(web: Web, user: Me, item_id: str) -> list[dict[str, Any]]:
    return web.similar(item_id)


@router.get("/me", summary="Who is logged in, their language, and what the page shows")
def api_me(web: Web, user: Me) -> dict[str, Any]:
    return {"name": user.name, "language": user.language, "csrf": user.csrf, "features": web.features()}


class LanguageChoice(BaseModel):
    language: Literal["en", "zh"]


@router.post("/language", summary="Choose the interface language")
def api_language(web: Web, user: Me, choice: LanguageChoice) -> dict[str, str]:
    web.state.set_language(user.name, choice.language)
    return {"language": choice.language}


@router.get("/topics", summary="Today's topics: labels, sizes, window sentiment, trends, signals, lineage")
def api_topics(web: Web, user: Me) -> dict[str, Any]:
    state, active = web.topics()
    if state is None:
        return {"enabled": web.settings.topics.enabled, "topics": [], "lineage": []}
    latest = state.fits[-1] if state.fits else None
    return {
        "enabled": True,
        "fitted": latest.isoformat() if latest else None,
        "topics": [
            {
                "id": t.id,
                "label": t.label,
                "title": t.title,
                "keywords": t.keywords,
                "stories": t.days[latest].stories if latest in t.days else len(t.stories),
                "sentiment": t.sentiment_from(web.window_start(latest)) if latest else {},
                "signal": t.signals[latest].signal if latest in t.signals else None,
                "trend": t.signals[latest].trend if latest in t.signals else None,
                "born": t.born.isoformat(),
            }
            for t in active
        ],
        "lineage": [record.model_dump(mode="json") for record in state.lineage],
    }


@router.get("/alerts", summary="Alerts, newest first")
def api_alerts(
    web: Web, user: Me, state: Literal["open", "acknowledged", "resolved"] | None = None
) -> list[dict[str, Any]]:
    with web.stores_lock:
        return [alert.as_json() for alert in web.services.alerts.list(state)]


@router.post("/alerts/{alert_id}/{action}", summary="Acknowledge or resolve an alert")
def api_alert_action(
    web: Web, user: Me, alert_id: RecordId, action: Literal["acknowledge", "resolve"]
) -> dict[str, Any]:
    with web.stores_lock:
        store = web.services.alerts
        try:
            move = store.acknowledge if action == "acknowledge" else store.resolve
            return move(alert_id, user.name, web.now()).as_json()
        except AlertError as error:
            raise HTTPException(409, str(error)) from None


class NewSavedSearch(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    params: SearchParams


@router.get("/saved", summary="Your saved searches")
def api_saved(web: Web, user: Me) -> list[dict[str, Any]]:
    return [saved_json(s) for s in web.state.saved_searches(user.name)]


@router.post("/saved", summary="Save a search")
def api_save(web: Web, user: Me, new: NewSavedSearch) -> dict[str, Any]:
    try:
        saved = web.state.save_search(user.name, new.name, new.params.model_dump(mode="json"), web.now())
    except WebStateError as error:
        raise HTTPException(409, str(error)) from None
    return saved_json(saved)


@router.delete("/saved/{search_id}", summary="Delete a saved search")
def api_delete_saved(web: Web, user: Me, search_id: RecordId) -> dict[str, bool]:
    try:
        web.state.delete_search(user.name, search_id)
    except WebStateError as error:
        raise HTTPException(404, str(error)) from None
    return {"deleted": True}


@router.get("/saved/{search_id}/config", summary="A saved search as a watchlist, alert rule and digest team")
def api_saved_config(web: Web, user: Me, search_id: RecordId) -> Response:
    try:
        saved = web.state.saved_search(user.name, search_id)
    except WebStateError as error:
        raise HTTPException(404, str(error)) from None
    return Response(saved_as_config(saved.name, saved.params), media_type="text/yaml; charset=utf-8")


def saved_json(saved: Any) -> dict[str, Any]:
    return {"id": saved.id, "name": saved.name, "params": saved.params, "created": saved.created.isoformat()}


def saved_as_config(name: str, params: dict[str, Any]) -> str:
    """The YAML to add to the config so that a saved search becomes a watchlist with an alert rule and a
    digest section (a query watchlist matches at collection time; filters other than the query are kept
    as query fields where the query language has them)."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40] or "saved"
    clauses = [f"({params['q']})"] if params.get("q") else []
    for field, key in (("source", "source"), ("lang", "lang"), ("domain", "domain")):
        values = params.get(key) or []
        if values:
            clauses.append("(" + " OR ".join(f'{field}:"{v}"' for v in values) + ")")
    snippet = {
        "watchlists": [
            {"name": slug, "kind": "other", "title": name, "query": " AND ".join(clauses) or None}
        ],
        "alerts": {"rules": [{"name": f"{slug}-volume", "kind": "volume", "watchlists": [slug]}]},
        "teams": [{"name": "YOUR-TEAM", "watchlists": ["...its watchlists...", slug]}],
    }
    return yaml.safe_dump(snippet, allow_unicode=True, sort_keys=False)


class NewFeedback(BaseModel):
    item_id: str = Field(min_length=1, max_length=200)
    kind: Literal["not_relevant", "wrong_sentiment", "wrong_risk", "other"]
    watchlist: str = Field(default="", max_length=100)
    note: str = Field(default="", max_length=2000)


@router.post("/feedback", summary="Feedback on an item (not relevant, wrong sentiment, ...)")
def api_feedback(web: Web, user: Me, feedback: NewFeedback) -> dict[str, Any]:
    assert feedback.kind in FEEDBACK_KINDS
    item = public_doc(web.item(feedback.item_id))
    stored = web.state.add_feedback(
        user.name, item, feedback.kind, feedback.watchlist, feedback.note, web.now()
    )
    return {"id": stored.id, "item_id": stored.item_id, "kind": stored.kind}


@router.get("/export", summary="Every matching item (up to web.export_limit) as CSV or JSON")
def api_export(web: Web, user: Me, params: Params, format: Literal["csv", "json"] = "csv") -> Response:
    rows = export_rows(web.services.index, params, web.now(), web.settings.web.export_limit)
    stamp = web.now().strftime("%Y%m%d-%H%M")
    if format == "json":
        body, media = json.dumps(rows, ensure_ascii=False, default=str), "application/json"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS))
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
        body, media = "\ufeff" + out.getvalue(), "text/csv; charset=utf-8"
    disposition = f'attachment; filename="opinionwatch-{stamp}.{format}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


def _csv_safe(value: Any) -> Any:
    """Cells that a spreadsheet would run as a formula start with a quote mark."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value
