"""Shared fixtures: the local news world over real HTTP, settings pointing at it, the real model."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from config.loader import load_settings  # noqa: E402
from config.settings import Settings  # noqa: E402
from nlp.embed import SentenceTransformerEmbedder  # noqa: E402
from opinionwatch.newsworld import NewsWorldServer, World, build_world, environment  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "demo.yaml"
WORLD_TODAY = date(2026, 11, 23)


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
    text = re.sub(r"(?m)^data_dir:.*$", f"data_dir: {data_dir}", DEMO_CONFIG.read_text("utf-8"))
    path = folder / "opinionwatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def demo_settings(tmp_path: Path, world_env: dict[str, str]) -> Settings:
    return load_settings(DEMO_CONFIG, environ=world_env, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    from config.settings import EmbeddingSettings

    return SentenceTransformerEmbedder(EmbeddingSettings())
