"""Build the stages once from the settings and hand them down (no globals, no module-level clients)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from config.settings import Settings
from crawlers.state import CrawlState
from digests.alert_store import AlertStore
from digests.channels import WebhookNotifier
from digests.history import DigestHistory
from digests.mail import CHANNEL as EMAIL
from digests.mail import SmtpNotifier
from digests.outbox import Notifier, Outbox, RetryPolicy
from index.base import Index
from index.factory import open_index
from nlp.embed import CachedEmbedder, Embedder
from nlp.language import ItemLanguageDetector
from nlp.onnx_embed import embedder_for
from nlp.risk import RiskMatcher
from nlp.sentiment_model import SentimentModel
from nlp.stories import StoryStore, crosslingual_threshold_for, semantic_threshold_for
from nlp.story_signals import StorySignals
from nlp.topic_daily import TopicAssigner
from nlp.watchlists import WatchlistMatcher
from opinionwatch.clock import Clock, SystemClock
from opinionwatch.metrics import Metrics
from opinionwatch.runs import RunLog


@dataclass
class Services:
    """Lazily opened parts of one OpinionWatch installation; close() releases them."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    embedder_override: Embedder | None = None
    notifiers_override: dict[str, Notifier] | None = None

    @cached_property
    def state(self) -> CrawlState:
        return CrawlState(self.settings.state_db)

    @cached_property
    def stories(self) -> StoryStore:
        stories, model = self.settings.stories, self.settings.embedding.model
        return StoryStore(
            self.settings.data_dir / "stories.sqlite",
            stories,
            semantic_threshold_for(stories, model),
            crosslingual_threshold_for(stories, model),
        )

    @cached_property
    def index(self) -> Index:
        return open_index(self.settings)

    @cached_property
    def embedder(self) -> CachedEmbedder:
        inner = self.embedder_override or embedder_for(self.settings.embedding, self.settings.models_dir)
        return CachedEmbedder(inner, self.settings.data_dir / "embeddings.sqlite")

    @property
    def topics_dir(self) -> Path:
        return self.settings.data_dir / "topics"

    @cached_property
    def topic_assigner(self) -> TopicAssigner | None:
        """Topics for new items from the latest fit; ``None`` when topics are off."""
        topics = self.settings.topics
        return TopicAssigner(self.topics_dir, topics.assign_threshold) if topics.enabled else None

    @cached_property
    def detector(self) -> ItemLanguageDetector:
        return ItemLanguageDetector(self.settings.language.candidates)

    @cached_property
    def matcher(self) -> WatchlistMatcher:
        return WatchlistMatcher(self.settings.watchlists)

    @cached_property
    def sentiment_model(self) -> SentimentModel | None:
        """The sentiment model (shipped default unless ``sentiment.model``); ``None`` when off."""
        sentiment = self.settings.sentiment
        if not sentiment.enabled:
            return None
        folder = sentiment.model.expanduser() if sentiment.model else None
        if folder is not None and not folder.is_absolute():
            folder = self.settings.data_dir / folder
        return SentimentModel.load(folder, self.settings.embedding.model)

    @cached_property
    def runs(self) -> RunLog:
        """What the scheduler (and ``run --once``) ran, for ``opinionwatch status``."""
        return RunLog(self.settings.data_dir / "runs.sqlite", observer=self.metrics.job_finished)

    @cached_property
    def metrics(self) -> Metrics:
        """This installation's Prometheus metrics (served by ``opinionwatch run``)."""
        return Metrics()

    @cached_property
    def risk_matcher(self) -> RiskMatcher:
        return RiskMatcher(self.settings.watchlists)

    @cached_property
    def signals(self) -> StorySignals:
        """Per-item sentiment and risk beside the story store, and each story's aggregate."""
        return StorySignals(self.stories, self.settings.risk)

    @cached_property
    def outbox(self) -> Outbox:
        """Digests (and alerts) waiting to go out, and what went out (``data_dir/outbox.sqlite``)."""
        mail = self.settings.mail
        retry = RetryPolicy(mail.retry_first_s, mail.retry_most_s, mail.max_attempts)
        return Outbox(self.settings.data_dir / "outbox.sqlite", retry, stale_after_s=10 * mail.timeout_s)

    @cached_property
    def notifiers(self) -> dict[str, Notifier]:
        """The outbox's channels by name: e-mail, and each webhook alert channel."""
        if self.notifiers_override is not None:
            return self.notifiers_override
        webhooks = {c.name: WebhookNotifier(c) for c in self.settings.alerts.channels if c.type != "email"}
        return {EMAIL: SmtpNotifier(self.settings.mail), **webhooks}

    @cached_property
    def alerts(self) -> AlertStore:
        """Alerts and their lifecycle (``data_dir/alerts.sqlite``)."""
        return AlertStore(self.settings.data_dir / "alerts.sqlite")

    @cached_property
    def digest_history(self) -> DigestHistory:
        return DigestHistory(self.settings.data_dir / "digests.sqlite")

    def close(self) -> None:
        for name in ("state", "stories", "index", "embedder", "runs", "outbox", "digest_history", "alerts"):
            if name in self.__dict__:
                self.__dict__[name].close()

    def __enter__(self) -> Services:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
