"""Shared fixtures: the local news world over real HTTP, settings pointing at it, the real model."""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from config import DEMO_CONFIG, demo_config_text  # noqa: E402
from config.loader import load_settings  # noqa: E402
from config.settings import ElasticsearchSettings, Settings  # noqa: E402
from index.elastic import ElasticsearchIndex  # noqa: E402
from nlp.embed import SentenceTransformerEmbedder  # noqa: E402
from nlp.normalize import content_hash  # noqa: E402
from nlp.records import Item, Mention  # noqa: E402
from opinionwatch.newsworld import NewsWorldServer, World, build_world, environment  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORLD_TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands configure the root logger; put it back so one test's logging never leaks into another."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def make_item(
    key: str,
    text: str,
    when: datetime,
    source: str = "s",
    title: str = "t",
    lang: str = "en",
    mentions: tuple[Mention, ...] = (),
) -> Item:
    """A processed item for tests of the stages after processing (stories, index, digest)."""
    return Item(
        id=key,
        url=f"http://{source}.example/{key}",
        source=source,
        domain=f"{source}.example",
        title=title,
        text=text,
        published=when,
        fetched_at=when,
        language=lang,
        content_hash=content_hash(text),
        mentions=list(mentions),
    )


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(seed=7, today=WORLD_TODAY)


@pytest.fixture(scope="session")
def news_server(world: World) -> Iterator[NewsWorldServer]:
    with NewsWorldServer(world) as server:
        yield server


@pytest.fixture(scope="session")
def world_env(news_server: NewsWorldServer) -> dict[str, str]:
    return {**os.environ, **environment(news_server)}


def write_demo_config(folder: Path, data_dir: Path) -> Path:
    """A copy of config/demo.yaml whose data lives in ``data_dir``."""
    path = folder / "opinionwatch.yaml"
    path.write_text(demo_config_text(data_dir), encoding="utf-8")
    return path


@pytest.fixture
def demo_settings(tmp_path: Path, world_env: dict[str, str]) -> Settings:
    return load_settings(DEMO_CONFIG, environ=world_env, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The default model, multilingual-e5-small, as `make setup` builds it."""
    from config.settings import EmbeddingSettings

    settings = EmbeddingSettings()
    return SentenceTransformerEmbedder(settings, settings.models_dir.expanduser())


@pytest.fixture(scope="session")
def minilm_embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2, shipped by a PyPI package: the English-only choice."""
    from config.settings import EmbeddingSettings

    return SentenceTransformerEmbedder(EmbeddingSettings(model="all-MiniLM-L6-v2"), Path("unused"))


class _Broken(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/robots.txt":
            self.send_response(404)
            self.end_headers()
        elif self.path == "/malformed.xml":
            self._reply(200, b"<rss><channel><item><title>broken")
        elif self.path == "/dead.xml":
            self._reply(500, b"internal error")
        elif self.path == "/mixed.xml" and self.headers.get("If-None-Match") == '"mixed-v1"':
            self._reply(304, b"")  # a client that kept the validators despite a page to retry would stop here
        elif self.path == "/mixed.xml":
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            items = "".join(
                f"<item><title>{name} page</title><link>{host}/{name}.html</link><description>{name} summary "
                f"text about NovaMart</description><pubDate>Sun, 22 Nov 2026 03:00:00 GMT</pubDate></item>"
                for name in ("ok", "flaky")
            )
            feed = f"<rss version='2.0'><channel><title>m</title>{items}</channel></rss>".encode()
            self._reply(200, feed, etag='"mixed-v1"')
        elif self.path == "/ok.html":
            self._reply(
                200,
                b"<html><body><article><p>"
                + b"A full NovaMart article paragraph. " * 20
                + b"</p></article></body></html>",
                "text/html; charset=utf-8",
            )
        elif self.path == "/flaky.html":
            self._reply(503, b"try later")
        else:
            self._reply(404, b"no")

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/octet-stream",
        etag: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def broken_server() -> Iterator[str]:
    with LoopbackServer(_Broken) as server:
        yield server.base


ES_SCRIPT = REPO / "scripts" / "elasticsearch"
MISSING_PREREQUISITES = 3  # the script's exit code when Java 21+, Maven or unzip is missing


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    """A real Elasticsearch node: $OPINIONWATCH_ES_URL, or one started by scripts/elasticsearch.

    On CI the node must start; elsewhere missing Java/Maven skips these tests with the reason.
    """
    if os.environ.get("OPINIONWATCH_ES_URL"):
        yield os.environ["OPINIONWATCH_ES_URL"]
        return
    started = subprocess.run(
        [str(ES_SCRIPT), "start"], capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode == MISSING_PREREQUISITES and not os.environ.get("CI"):
        pytest.skip(f"Elasticsearch tests need Java 21+, Maven and unzip: {started.stderr.strip()}")
    if started.returncode != 0:
        pytest.fail(f"scripts/elasticsearch start failed ({started.returncode}):\n{started.stderr}")
    url = subprocess.run([str(ES_SCRIPT), "url"], capture_output=True, text=True, check=True).stdout.strip()
    yield url


@contextmanager
def fresh_elasticsearch_index(
    url: str, state_dir: Path, prefix: str | None = None
) -> Iterator[ElasticsearchIndex]:
    """An ElasticsearchIndex with its own prefix, removed (indices and template) afterwards."""
    prefix = prefix or f"test-{uuid.uuid4().hex[:10]}"
    settings = ElasticsearchSettings(backend="elasticsearch", url=url, index_prefix=prefix, replicas=0)
    index = ElasticsearchIndex(settings, state_dir / "es-state")
    try:
        yield index
    finally:
        index.drop()
        index.close()


CHROMIUM = Path(os.environ.get("OPINIONWATCH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("OPINIONWATCH_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))
"""Screenshots of the browser tests (gitignored)."""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no browser download). On CI it must be there
    (`scripts/chromium install`); elsewhere its absence skips the browser tests with the reason.

    Per module: Playwright's sync API keeps an event loop running in the main thread while it is open,
    and later tests that call ``asyncio.run`` would fail."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the browser tests need Playwright's Python package: make setup"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    if not CHROMIUM.exists():
        reason = f"the browser tests need Chromium at {CHROMIUM}: scripts/chromium install"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()
