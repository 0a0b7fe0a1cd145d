"""Expected errors become one clear line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from elasticsearch import ApiError, TransportError
from rich.console import Console

from config.loader import ConfigError
from crawlers.run import CrawlError
from digests.mail import MailError
from index.base import IndexError_
from nlp.embed import EmbeddingError
from nlp.query import QuerySyntaxError

errors = Console(stderr=True, soft_wrap=True)
KNOWN_ERRORS = (
    ConfigError,
    CrawlError,
    IndexError_,
    EmbeddingError,
    QuerySyntaxError,
    MailError,
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
