"""A real installation for the web tests: the news world crawled and processed by `opinionwatch run
--once`, topics fitted, an alert raised, a hostile item indexed; the web app served on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
import yaml

from config.loader import load_settings
from config.settings import Settings
from digests.alert_store import Candidate, Evidence
from index.base import IndexDoc
from index.embedded import EmbeddedIndex
from opinionwatch.web.app import create_app
from opinionwatch.web.auth import hash_password
from opinionwatch.wiring import Services
from tests.conftest import WORLD_TODAY, write_demo_config
from tests.loopback import free_port
from tests.test_end_to_end import opinionwatch

PASSWORD = "correct horse battery"
HOSTILE_TITLE = '<script>window.hostile=1</script><img src=x onerror="window.hostile=2"> NovaMart hostile'


@dataclass
class Site:
    url: str
    settings: Settings
    services: Services
    data: Path


def prepare(folder: Path, world_env: dict[str, str]) -> Settings:
    config = write_demo_config(folder, folder / "data")
    done = opinionwatch("run", "--once", "--config", str(config), env=world_env, timeout=600)
    assert done.returncode == 0, done.stderr
    day = WORLD_TODAY.isoformat()
    fitted = opinionwatch("topics", "fit", "--date", day, "--config", str(config), env=world_env)
    assert fitted.returncode == 0, fitted.stderr
    text = config.read_text(encoding="utf-8")
    users = [
        {"name": "pr-lead", "password_hash": hash_password(PASSWORD)},
        {"name": "analyst", "password_hash": hash_password(PASSWORD), "language": "zh"},
        {"name": "proxied"},
    ]
    web = {"users": users, "trusted_header": "X-Forwarded-User", "requests_per_minute": 10_000}
    config.write_text(text + "\n" + yaml.safe_dump({"web": web}), encoding="utf-8")
    settings = load_settings(config, environ=world_env)
    _plant_hostile_item(settings)
    return settings


def _plant_hostile_item(settings: Settings) -> None:
    index = EmbeddedIndex(settings.index_dir)
    index.upsert(
        [
            IndexDoc(
                id="hostile-1", url="javascript:window.hostile=3", source="harbor-daily", domain="evil.example",
                kind="article", title=HOSTILE_TITLE, body="NovaMart \ufffd\ufffd broken bytes Ã© <a href=javascript:x>x</a>",
                published=datetime.now(UTC) - timedelta(hours=1), language="en", watchlists=("novamart",),
                story_id="hostile-1",
            )
        ]
    )  # fmt: skip
    index.close()


def raise_alert(
    services: Services, key: str = "test:novamart-risk", title: str = "NovaMart recall reaches high risk"
) -> int:
    candidate = Candidate(
        key=key, rule="high-risk", kind="risk", severity="critical", subject="novamart", title=title, reason="`recall` in the title on 4 sites",
        first_seen=services.clock.now(), evidence=(Evidence("s1", "NovaMart recalls power banks",
                                                             "http://harbor-daily.test/recall", 4, 4),),
    )  # fmt: skip
    offered = services.alerts.offer(candidate, services.clock.now(), timedelta(hours=1))
    assert offered is not None
    return offered[0].id


def serve(settings: Settings) -> Iterator[Site]:
    services = Services(settings)
    raise_alert(services)
    app = create_app(services, secret="a test secret")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield Site(f"http://127.0.0.1:{port}", settings, services, settings.data_dir)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def logged_in(site: Site, name: str = "pr-lead") -> httpx.Client:
    client = httpx.Client(base_url=site.url, timeout=30)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "next": "/"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    client.headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf"]
    return client
