"""The search page's JSON API over real HTTP on loopback, against the news world's real installation."""

from __future__ import annotations

import csv
import io
import os
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from markupsafe import escape

from config.settings import Settings
from opinionwatch.web.app import create_app
from opinionwatch.web.auth import RateLimiter, safe_next
from opinionwatch.web.results import timeline
from opinionwatch.web.state import WebState
from tests.conftest import ARTIFACTS
from tests.loopback import free_port, wait_for
from tests.web_site import (
    HOSTILE_TITLE,
    PASSWORD,
    Site,
    logged_in,
    prepare,
    raise_alert,
    serve,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, world_env: dict[str, str]) -> Iterator[Site]:
    settings = prepare(tmp_path_factory.mktemp("web"), world_env)
    yield from serve(settings)


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    session = logged_in(site)
    yield session
    session.close()


def test_nothing_is_shown_without_a_login(site: Site) -> None:
    with httpx.Client(base_url=site.url) as anonymous:
        assert anonymous.get("/api/search", params={"q": "NovaMart"}).status_code == 401
        page = anonymous.get("/?q=NovaMart")
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
        wrong = anonymous.post("/login", data={"name": "pr-lead", "password": "guess", "next": "/"})
        assert wrong.status_code == 303 and "failed=1" in wrong.headers["location"]
        assert "set-cookie" not in wrong.headers
        unknown = anonymous.post("/login", data={"name": "nobody", "password": PASSWORD})
        assert "failed=1" in unknown.headers["location"]
        passwordless = anonymous.post("/login", data={"name": "proxied", "password": ""})
        assert passwordless.status_code in (303, 422) and "set-cookie" not in passwordless.headers


def test_the_session_cookie_is_http_only_and_redirects_stay_on_the_site(site: Site) -> None:
    with httpx.Client(base_url=site.url) as browser:
        answer = browser.post(
            "/login", data={"name": "pr-lead", "password": PASSWORD, "next": "//evil.example/x"}
        )
        assert answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
        assert browser.get("/api/me").json()["name"] == "pr-lead"
        forged = browser.cookies["ow_session"][:-4] + "AAAA"
        browser.cookies.set("ow_session", forged)
        assert browser.get("/api/me").status_code == 401
    for target, expected in (("/?q=a", "/?q=a"), ("https://evil.example", "/"), ("/\\evil", "/"), ("", "/")):
        assert safe_next(target) == expected


def test_over_tls_the_session_cookie_is_secure(site: Site, tmp_path: Path) -> None:
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0 and not os.environ.get("CI"):
        pytest.skip(f"openssl could not make a certificate: {made.stderr.strip()[:200]}")
    assert made.returncode == 0, made.stderr
    port = free_port()
    config = uvicorn.Config(
        create_app(site.services, secret="a test secret"), host="127.0.0.1", port=port, log_level="warning",
        ssl_keyfile=str(key), ssl_certfile=str(certificate),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        trust = ssl.create_default_context(cafile=str(certificate))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust, timeout=30) as browser:
            answer = wait_for(lambda: browser.post("/login", data={"name": "pr-lead", "password": PASSWORD}))
            assert "secure" in answer.headers["set-cookie"].lower()
            assert browser.get("/api/me").json()["name"] == "pr-lead"
        with pytest.raises(httpx.TransportError):  # no plain http on the TLS port: no cookie in clear
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_trusted_proxy_header_logs_in_but_posts_still_need_the_token(site: Site) -> None:
    with httpx.Client(base_url=site.url, headers={"X-Forwarded-User": "proxied"}) as proxied:
        me = proxied.get("/api/me").json()
        assert me["name"] == "proxied"
        assert proxied.post("/api/language", json={"language": "zh"}).status_code == 403
        answer = proxied.post("/api/language", json={"language": "zh"}, headers={"X-CSRF-Token": me["csrf"]})
        assert answer.status_code == 200
    with httpx.Client(base_url=site.url, headers={"X-Forwarded-User": "somebody-else"}) as stranger:
        assert stranger.get("/api/me").status_code == 401


def test_search_folds_reprints_into_one_story_with_facets_and_a_timeline(client: httpx.Client) -> None:
    found = client.get("/api/search", params={"q": "NovaMart recall", "period": "all"}).json()
    assert found["total"] >= 4
    top = found["stories"][0]
    assert "recall" in top["item"]["title"].lower()
    assert top["reprints"] >= 2 and top["sites"] >= 3 and len(top["members"]) == top["reprints"] + 1
    assert len({s["story_id"] for s in found["stories"]}) == len(found["stories"])
    assert "<mark>" in top["highlights"]["title"][0]
    assert {"source", "language", "watchlists", "sentiment", "risk"} <= set(found["facets"])
    days = found["timeline"]
    assert days and sum(d["negative"] + d["neutral"] + d["positive"] for d in days) == found["total"]


def test_chinese_search_and_stories_across_languages(client: httpx.Client) -> None:
    found = client.get("/api/search", params={"q": "诺瓦商城", "period": "all"}).json()
    assert found["total"] >= 2 and found["stories"][0]["item"]["language"] == "zh"
    both = [s for s in found["stories"] if len(s["languages"]) > 1]
    assert both, "the recall story is told in English and Chinese and is one story"


def test_filters_narrow_the_result_set(client: httpx.Client) -> None:
    everything = client.get("/api/search", params={"q": "NovaMart", "period": "all"}).json()
    sources = dict(everything["facets"]["source"])
    source = max(sources, key=lambda s: sources[s])
    one = client.get("/api/search", params={"q": "NovaMart", "period": "all", "source": source}).json()
    assert one["total"] == sources[source]
    assert all(s["item"]["source"] == source for s in one["stories"])
    zh = client.get("/api/search", params={"q": "NovaMart OR 诺瓦商城", "period": "all", "lang": "zh"}).json()
    assert zh["total"] and all(s["item"]["language"] == "zh" for s in zh["stories"])
    empty = client.get(
        "/api/search",
        params={"q": "NovaMart", "period": "custom", "since": "2001-01-01", "until": "2001-01-31"},
    ).json()
    assert empty["total"] == 0 and empty["stories"] == []
    bad = client.get("/api/search", params={"q": "NovaMart AND ("})
    assert bad.status_code == 422 and "query" in bad.text


def test_more_like_this_finds_other_stories(client: httpx.Client) -> None:
    top = client.get("/api/search", params={"q": "NovaMart recall", "period": "all"}).json()["stories"][0]
    similar = client.get(f"/api/similar/{top['item']['id']}").json()
    assert similar and all(s["story_id"] != top["story_id"] for s in similar)
    assert client.get("/api/similar/no-such-item").status_code == 404


def test_feedback_needs_the_csrf_token_and_is_reported_by_the_command(
    client: httpx.Client, site: Site
) -> None:
    from typer.testing import CliRunner

    from opinionwatch.cli import app

    item = client.get("/api/search", params={"q": "NovaMart", "period": "all"}).json()["stories"][0]["item"]
    body = {"item_id": item["id"], "kind": "not_relevant", "note": "about the river, not the shop"}
    refused = client.post("/api/feedback", json=body, headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403
    assert client.post("/api/feedback", json=body).json()["item_id"] == item["id"]
    assert client.post("/api/feedback", json={**body, "kind": "bogus"}).status_code == 422
    config = site.data.parent / "opinionwatch.yaml"
    report = CliRunner().invoke(app, ["feedback", "--json", "--config", str(config)], env=dict(os.environ))
    assert report.exit_code == 0, report.output
    assert item["title"] in report.output and "about the river" in report.output


def test_export_gives_every_matching_item_as_csv_and_json(client: httpx.Client) -> None:
    params = {"q": "NovaMart", "period": "all"}
    total = client.get("/api/search", params=params).json()["total"]
    exported = client.get("/api/export", params={**params, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == total and all(row["url"] for row in rows)
    hostile = [row for row in rows if row["id"] == "hostile-1"]
    assert hostile and hostile[0]["title"] == HOSTILE_TITLE
    as_json = client.get("/api/export", params={**params, "format": "json"}).json()
    assert sorted(r["id"] for r in as_json) == sorted(r["id"] for r in rows)


def test_saved_searches_belong_to_their_user_and_become_config(client: httpx.Client, site: Site) -> None:
    params = {"q": "NovaMart AND recall", "lang": ["en"], "period": "30d"}
    saved = client.post("/api/saved", json={"name": "Recall watch", "params": params}).json()
    assert client.post("/api/saved", json={"name": "Recall watch", "params": params}).status_code == 409
    assert [s["name"] for s in client.get("/api/saved").json()] == ["Recall watch"]
    other = logged_in(site, "analyst")
    assert other.get("/api/saved").json() == []
    assert other.get(f"/api/saved/{saved['id']}/config").status_code == 404
    other.close()
    snippet = yaml.safe_load(client.get(f"/api/saved/{saved['id']}/config").text)
    merged = site.settings.model_dump(mode="json", exclude={"web"})
    merged["watchlists"] += snippet["watchlists"]
    merged["alerts"] = {"rules": snippet["alerts"]["rules"]}
    checked = Settings.model_validate(merged)  # the snippet is valid config
    assert checked.watchlists[-1].query == '(NovaMart AND recall) AND (lang:"en")'
    assert client.delete(f"/api/saved/{saved['id']}").json() == {"deleted": True}


def test_alerts_are_acknowledged_and_resolved_on_the_same_records(client: httpx.Client, site: Site) -> None:
    open_alerts = client.get("/api/alerts", params={"state": "open"}).json()
    alert = next(a for a in open_alerts if a["key"] == "test:novamart-risk")
    acknowledged = client.post(f"/api/alerts/{alert['id']}/acknowledge").json()
    assert acknowledged["state"] == "acknowledged" and acknowledged["acknowledged_by"] == "pr-lead"
    assert site.services.alerts.get(alert["id"]).state == "acknowledged"
    assert client.post(f"/api/alerts/{alert['id']}/acknowledge").status_code == 409
    assert client.post(f"/api/alerts/{alert['id']}/resolve").json()["state"] == "resolved"
    site.services.alerts.db.execute("UPDATE alerts SET state = 'open' WHERE id = ?", (alert["id"],))
    site.services.alerts.db.commit()


def test_the_alerts_page_says_alerts_in_the_readers_language(site: Site) -> None:
    from digests.alert_rules import WORDING
    from tests.web_site import raise_alert

    title = WORDING["title_negative"].format(watchlist="NovaMart")
    raise_alert(site.services, key="test:novamart-turn", title=title)
    with httpx.Client(base_url=site.url, headers={"X-Forwarded-User": "proxied"}) as reader:
        me = reader.get("/api/me").json()
        reader.post("/api/language", json={"language": "zh"}, headers={"X-CSRF-Token": me["csrf"]})
        page = reader.get("/alerts").text
    assert "NovaMart：报道转为负面" in page and title not in page
    assert " · 风险 · 严重 · " in page  # its kind and severity too
    assert "`recall` in the title on 4 sites" in page  # written otherwise: shown as it is


def test_topics_have_labels_sizes_and_open_their_stories(client: httpx.Client) -> None:
    topics = client.get("/api/topics").json()
    assert topics["enabled"] and topics["topics"]
    first = topics["topics"][0]
    assert first["label"] and first["stories"] >= 1
    found = client.get("/api/search", params={"topic": str(first["id"]), "period": "all"}).json()
    assert found["total"] >= first["stories"]
    assert all(s["item"]["topic_id"] == str(first["id"]) for s in found["stories"])
    toned = [topic for topic in topics["topics"] if topic["sentiment"].get("negative")]
    assert toned, topics["topics"]  # each topic's items of the day, counted by sentiment
    page = client.get("/topics").text
    row = page[page.index(f'data-topic="{toned[0]["id"]}"') :]
    assert f"{toned[0]['sentiment']['negative']} negative</span>" in row[: row.index("</tr>")]


def test_topic_lineage_names_its_topics_and_speaks_the_readers_language(
    client: httpx.Client, site: Site
) -> None:
    topics = {topic["id"]: topic["label"] for topic in client.get("/api/topics").json()["topics"]}
    page = client.get("/topics").text
    lineage = page[page.index('<ul class="lineage">') :]
    first = lineage[: lineage.index("</li>")]
    assert 'data-kind="new"' in first and " · New · " in first  # the first fit: every topic is new
    shown = first[first.index('href="/?topic=') :]
    topic_id = int(shown[len('href="/?topic=') : shown.index("&")])
    assert f">{escape(topics[topic_id])}</a>" in first  # its label, not its number
    with httpx.Client(base_url=site.url, headers={"X-Forwarded-User": "proxied"}) as reader:
        me = reader.get("/api/me").json()
        reader.post("/api/language", json={"language": "zh"}, headers={"X-CSRF-Token": me["csrf"]})
        chinese = reader.get("/topics").text
    assert " · 新话题 · " in chinese and " · New · " not in chinese


def test_a_topic_is_named_by_the_label_it_had_on_the_day() -> None:
    from nlp.topic_state import TopicRecord, TopicState

    day = date(2026, 11, 9)
    topic = TopicRecord(
        id=3, label="food, crisis", title="t", born=day, last_active=day,
        labels=[(day, "wheat, exports"), (day + timedelta(days=4), "food, crisis")],
    )  # fmt: skip
    assert topic.label_on(day - timedelta(days=1)) == "wheat, exports"  # before it was born: its first
    assert topic.label_on(day + timedelta(days=3)) == "wheat, exports"
    assert topic.label_on(day + timedelta(days=4)) == "food, crisis"
    assert TopicRecord(id=4, label="solar", title="t", born=day, last_active=day).label_on(day) == "solar"
    state = TopicState(topics={3: topic})
    merge_day = day + timedelta(days=4)
    assert state.label_of(3, merge_day) == "food, crisis"
    assert state.label_of(3, merge_day, before=True) == "wheat, exports"  # a parent, as it was
    assert state.label_of(9, merge_day) == "#9"


def test_pages_render_hostile_items_inert(client: httpx.Client) -> None:
    page = client.get("/", params={"q": "hostile", "period": "all"})
    assert page.status_code == 200
    assert "<script>window.hostile" not in page.text and "&lt;script&gt;" in page.text
    assert 'href="javascript:' not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in ("/topics", "/alerts", "/saved", "/api/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_a_cross_site_post_is_refused(client: httpx.Client) -> None:
    answer = client.post("/api/language", json={"language": "en"}, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403


def test_the_rate_limit_counts_a_sliding_minute() -> None:
    moments = iter([0.0, 1.0, 2.0, 30.0, 61.5])
    limiter = RateLimiter(3, clock=lambda: next(moments))
    assert [limiter.allow("u") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("u")  # the first request has left the window


def test_the_timeline_fills_empty_days_and_turns_weekly_over_long_spans() -> None:
    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=UTC)

    days = timeline({"negative": [(at("2026-11-02"), 2)], "neutral": [(at("2026-11-04"), 5)]})
    assert [(d["day"], d["days"], d["negative"], d["neutral"]) for d in days] == [
        ("2026-11-02", 1, 2, 0), ("2026-11-03", 1, 0, 0), ("2026-11-04", 1, 0, 5),
    ]  # fmt: skip
    long = timeline({"positive": [(at("2026-01-01"), 1), (at("2026-01-04"), 1), (at("2026-11-04"), 3)]})
    assert long[0] == {"day": "2025-12-29", "days": 7, "negative": 0, "neutral": 0, "positive": 2}
    assert long[-1]["day"] == "2026-11-02" and long[-1]["positive"] == 3
    assert all(date.fromisoformat(d["day"]).weekday() == 0 for d in long) and len(long) == 45


def test_every_api_operation_answers_within_its_spec(site: Site) -> None:
    """schemathesis: generated requests against the OpenAPI spec; no server errors, answers as documented."""
    import schemathesis

    session = logged_in(site)
    token, cookie = session.headers["X-CSRF-Token"], session.cookies["ow_session"]
    session.close()
    schema = schemathesis.openapi.from_url(f"{site.url}/api/openapi.json")
    calls: list[str] = []
    for operation in schema.get_all_operations():
        _fuzz(operation.ok(), {"X-CSRF-Token": token}, {"ow_session": cookie}, calls)
    assert len(set(calls)) >= 12 and len(calls) >= 12 * 5


def _fuzz(operation: Any, headers: dict[str, str], cookies: dict[str, str], calls: list[str]) -> None:
    """Hypothesis over one operation's generated requests (derandomized, so CI sees the same cases)."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def no_server_error(case: Any) -> None:
        response = case.call(headers=headers, cookies=cookies)
        assert response.status_code < 500, f"{operation.label}: {response.status_code} {response.text[:200]}"
        calls.append(operation.label)

    no_server_error()


def test_a_person_uses_the_page_in_chromium(chromium: Any, site: Site) -> None:
    """Log in, search in English and Chinese, filter, expand reprints, open a topic, acknowledge an alert,
    export CSV, switch the interface to Chinese; hostile items stay inert. Screenshots as artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    preferences = WebState(site.data / "web.sqlite")
    preferences.set_language("pr-lead", "en")  # other tests (schemathesis) may have switched it
    preferences.close()
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{site.url}/?q=NovaMart")
    page.fill("input[name=name]", "pr-lead")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#q")
    page.goto(f"{site.url}/?q=NovaMart+recall&period=all")
    first = page.locator(".story").first
    assert "recall" in first.locator("h2").inner_text().lower()
    first.locator("details.members summary").click()
    assert first.locator("details.members li").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "web-search-en.png"), full_page=True)
    source_link = page.locator(".facet[data-facet=source] a").first
    source = source_link.get_attribute("data-value")
    source_link.click()
    page.wait_for_url(f"**source={source}**")
    assert page.locator(".story").count() >= 1
    first = page.locator(".story").first
    first.locator("button.similar").click()
    page.wait_for_selector(".similar-list:not([hidden]) li")
    first.locator("button.feedback[data-kind=not_relevant]").click()
    page.wait_for_selector(".done:not([hidden])")
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename.endswith(".csv")
    page.goto(f"{site.url}/?period=all")  # a new search, without the source filter
    page.fill("#q", "诺瓦商城")
    page.click("#go")
    page.wait_for_url("**q=%E8%AF%BA**")
    assert page.locator(".story").count() >= 1 and "诺瓦" in page.locator(".story h2").first.inner_text()
    page.goto(f"{site.url}/?q=hostile&period=all")
    assert page.evaluate("window.hostile") is None and not dialogs
    assert page.locator(".story h2 a").first.get_attribute("href") == "#"
    assert "<script>" in page.locator(".story h2").first.inner_text()  # shown as text
    page.goto(f"{site.url}/topics")
    page.locator("a.topic-link").first.click()
    page.wait_for_selector(".story")
    raise_alert(site.services, key="test:browser", title="Browser alert to acknowledge")
    page.goto(f"{site.url}/alerts")
    alert = page.locator("li.alert", has_text="Browser alert to acknowledge")
    alert.locator("button.ack").click()
    page.wait_for_url("**/alerts")
    assert site.services.alerts.list("acknowledged")
    page.click("#switch-language")
    page.wait_for_selector("text=预警")
    page.goto(f"{site.url}/?q=NovaMart&period=all")
    assert page.locator("#go").inner_text() == "搜索"
    page.screenshot(path=str(ARTIFACTS / "web-search-zh.png"), full_page=True)
    context.close()


def test_several_worker_processes_share_one_address_and_the_logins(
    site: Site, world_env: dict[str, str]
) -> None:
    port = free_port()
    config = site.data.parent / "opinionwatch.yaml"
    command = [sys.executable, "-m", "opinionwatch.cli", "web", "--config", str(config)]
    environment = {k: v for k, v in world_env.items() if k != "OPINIONWATCH_WEB_SECRET"}
    server = subprocess.Popen(
        [*command, "--address", f"127.0.0.1:{port}", "--workers", "2"], env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        login = wait_for(lambda: httpx.post(f"{url}/login", data={"name": "pr-lead", "password": PASSWORD}))
        assert login.status_code == 303
        assert len(_workers(server.pid)) == 2, "two worker processes serve the address"
        for _ in range(12):  # fresh connections, taken by whichever worker accepts first
            with httpx.Client(base_url=url, cookies=login.cookies) as fresh:
                found = fresh.get("/api/search", params={"q": "NovaMart", "period": "all"})
                assert found.status_code == 200 and found.json()["total"] > 0
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert not _workers(server.pid), "the workers stop with the server"


def _workers(pid: int) -> list[Path]:
    """uvicorn's worker processes under ``pid`` (not multiprocessing's resource tracker)."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (process / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(process)
    return found


def test_sort_by_reach_puts_the_widest_stories_first(client: httpx.Client, site: Site) -> None:
    found = client.get(
        "/api/search", params={"q": "NovaMart OR 诺瓦商城", "period": "all", "sort": "reach"}
    ).json()
    stories = [s["story_id"] for s in found["stories"]]
    reach = site.services.signals.reach(stories)
    sites = [reach[s].sites if s in reach else 1.0 for s in stories]
    assert len(stories) >= 3 and sites == sorted(sites, reverse=True) and sites[0] > sites[-1]


def test_times_say_utc_and_an_undated_item_says_so(client: httpx.Client, site: Site) -> None:
    from index.base import IndexDoc
    from index.embedded import EmbeddedIndex

    seen = datetime(2026, 12, 5, 9, 6, tzinfo=UTC)
    index = EmbeddedIndex(site.settings.index_dir)
    index.upsert(
        [IndexDoc(id="undated-1", url="https://archive.example/old", source="harbor-daily", domain="archive.example",
                  kind="article", title="Quarrybrook archive note", body="An old page without a date.",
                  published=seen, language="en", watchlists=(), story_id="undated-1", date_precision="none")]
    )  # fmt: skip
    index.close()
    page = client.get("/", params={"q": "Quarrybrook", "period": "all"}).text
    shown = re.search(r'<span class="undated">([^<]*)</span>', page)  # in the user's language
    assert shown and shown.group(1) in (
        "undated, first seen 2026-12-05 09:06 UTC",
        "未注明日期，首次发现于 2026-12-05 09:06 UTC",
    )
    dated = client.get("/", params={"q": "NovaMart", "period": "all"}).text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", dated)


def test_the_watchlist_facet_shows_titles_and_filters_by_name(client: httpx.Client) -> None:
    page = client.get("/", params={"q": "NovaMart", "period": "all"}).text
    assert 'data-value="novamart">NovaMart (our company)</a>' in page  # demo.yaml's title
    filtered = client.get("/api/search", params={"q": "NovaMart", "period": "all", "watchlist": "novamart"})
    assert filtered.status_code == 200 and filtered.json()["total"] > 0


def test_the_topic_facet_shows_labels_and_filters_by_id(client: httpx.Client) -> None:
    topic = client.get("/api/topics").json()["topics"][0]
    page = client.get("/", params={"topic": str(topic["id"]), "period": "all"}).text
    assert f'data-value="{topic["id"]}">{escape(topic["label"])}</a>' in page


def test_a_result_says_why_it_is_risky_and_its_tone_toward_each_entity(
    client: httpx.Client, site: Site
) -> None:
    preferences = WebState(site.data / "web.sqlite")
    preferences.set_language("pr-lead", "en")  # other tests may have switched it
    preferences.close()
    found = client.get("/api/search", params={"q": '"power banks"', "period": "all"}).json()
    item = found["stories"][0]["item"]
    assert {"watchlist", "entity", "label", "confidence"} <= set(item["entity_sentiments"][0])
    page = client.get("/", params={"q": '"power banks"', "period": "all"}).text
    why = re.findall(r'<p class="why">(.*?)</p>', page, re.S)
    assert why and any("negative toward NovaMart" in line for line in why), why
    assert any(escape(item["risk_reasons"][0]) in line for line in why), why
    assert not any("negative toward NovaMart (" in line for line in why), why  # the tone, said once
    preferences = WebState(site.data / "web.sqlite")
    preferences.set_language("pr-lead", "zh")
    preferences.close()
    try:
        chinese = client.get("/", params={"q": '"power banks"', "period": "all"}).text
    finally:
        preferences = WebState(site.data / "web.sqlite")
        preferences.set_language("pr-lead", "en")
        preferences.close()
    why = re.findall(r'<p class="why">(.*?)</p>', chinese, re.S)
    assert any("对NovaMart负面" in line and "标题含「" in line for line in why), why  # reasons in Chinese too
    assert not any("toward product_safety" in line for line in why)  # a query watchlist by its title
    level = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}[item["risk"]]
    assert f'<span class="risk {item["risk"]}">风险: {level}</span>' in chinese  # the level in Chinese too
    assert f'data-value="{item["risk"]}">{level}</a>' in chinese  # and in its facet
    assert f'<span class="risk {item["risk"]}">Risk: {item["risk"]}</span>' in page
