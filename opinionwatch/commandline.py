"""What every command shares: the --config option, loading the settings, and expected errors turned
into one clear line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from elasticsearch import ApiError, TransportError
from rich.console import Console

from config.loader import ConfigError, load_settings, resolve_config_path
from config.settings import Settings
from crawlers.run import CrawlError
from digests.alert_store import AlertError
from digests.mail import MailError
from index.base import IndexError_
from nlp.embed import EmbeddingError
from nlp.model_build import ModelBuildError
from nlp.query import QuerySyntaxError
from nlp.sentiment_model import SentimentModelError
from nlp.topic_state import TopicStateError
from opinionwatch import logs
from opinionwatch.runlock import RunLockError

errors = Console(stderr=True, soft_wrap=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config (default ./opinionwatch.yaml or $OPINIONWATCH_CONFIG)."),
]
KNOWN_ERRORS = (
    ConfigError,
    CrawlError,
    IndexError_,
    EmbeddingError,
    ModelBuildError,
    QuerySyntaxError,
    TopicStateError,
    SentimentModelError,
    RunLockError,
    MailError,
    AlertError,
    ValueError,
    KeyError,
    ApiError,
    TransportError,
)


@contextmanager
def failures() -> Iterator[None]:
    """Turn expected errors into one clear line on stderr and exit code 1 (no traceback)."""
    try:
        yield
    except KNOWN_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        errors.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def command_settings(config: Path | None) -> Settings:
    """Load the settings a command was pointed at, and set up logging from them."""
    settings = load_settings(resolve_config_path(config))
    logs.configure(settings.log.level, settings.log.format)
    return settings
