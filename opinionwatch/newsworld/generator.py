"""A deterministic small internet of news sites with planted truth.

``build_world(seed, today)`` returns the same sites, articles, posts and truth
for the same arguments. Dates are relative to ``today``: articles fall on the
seven days before it, and the burst of negative coverage on the day before.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from opinionwatch.newsworld import content
from opinionwatch.newsworld.content import StoryText

Variant = Literal["original", "exact", "retitled", "edited", "background"]


@dataclass(frozen=True)
class Site:
    name: str
    title: str
    lang: str
    feed_format: Literal["rss", "atom", "rdf"]
    encoding: str = "utf-8"
    declared_charset: str | None = "utf-8"
    """What the HTTP Content-Type header claims; may lie or be missing."""


@dataclass(frozen=True)
class Article:
    id: str
    site: str
    path: str
    title: str
    paragraphs: tuple[str, ...]
    lang: str
    published: datetime
    story: str
    variant: Variant
    event: str = ""
    """The key of the event the article tells, the same for its versions in other languages."""
    watchlists: tuple[str, ...] = ()
    negative: bool = False
    confuser: bool = False
    crawlable: bool = True
    author: str = "Staff reporter"
    topic: str = ""
    """The planted theme (calendar world), for topic truth."""
    tone: tuple[tuple[str, str], ...] = ()
    """Planted sentiment toward entities, ``(entity, label)``."""


@dataclass(frozen=True)
class Post:
    id: str
    lang: str
    text: str
    author: str
    created: datetime
    negative: bool


@dataclass
class World:
    seed: int
    today: date
    sites: list[Site]
    articles: list[Article]
    posts: list[Post]
    burst_day: date
    top_story: dict[str, str] = field(default_factory=dict)
    """Watchlist name -> story key that should lead the digest on ``burst_day``."""
    as_of: datetime | None = None
    """Serve only what was published by then (``None``: everything); set it to simulate a day."""
    broken: dict[str, date] = field(default_factory=dict)
    """Site -> the day from which it answers every request with 503."""
    calendar: dict[str, Any] = field(default_factory=dict)
    """The calendar world's planted truth per day (empty for the one-day world)."""

    def site(self, name: str) -> Site:
        return next(site for site in self.sites if site.name == name)

    def visible(self, article: Article) -> bool:
        return self.as_of is None or article.published <= self.as_of

    def is_broken(self, site: str) -> bool:
        since = self.broken.get(site)
        return since is not None and (self.as_of or datetime.now(UTC)).date() >= since

    def articles_of(self, site: str) -> list[Article]:
        found = [a for a in self.articles if a.site == site and self.visible(a)]
        return sorted(found, key=lambda a: a.published, reverse=True)

    def stories(self) -> dict[str, list[Article]]:
        """Articles by planted story (one language each: the original and its reprints)."""
        grouped: dict[str, list[Article]] = {}
        for article in self.articles:
            grouped.setdefault(article.story, []).append(article)
        return grouped

    def events(self) -> dict[str, list[Article]]:
        """Articles by event: a story and its versions in other languages, which a multilingual
        deployment reports as one story."""
        grouped: dict[str, list[Article]] = {}
        for article in self.articles:
            grouped.setdefault(article.event or article.story, []).append(article)
        return grouped


SITES = (
    Site("harbor-daily", "Harbor Daily", "en", "rss"),
    Site("metro-ledger", "Metro Ledger", "en", "atom"),
    Site("techwire", "TechWire", "en", "rss"),
    Site("coastal-courier", "Coastal Courier", "en", "rdf"),
    Site("huaxia-caijing", "华夏财经", "zh", "rss", declared_charset=None),
    Site("nanfang-shangbao", "南方商报", "zh", "rss", encoding="gbk", declared_charset="utf-8"),
)


def build_world(seed: int = 7, today: date | None = None, background_per_site: int = 8) -> World:
    """Generate the world; the same ``seed`` and ``today`` always give the same world."""
    today = today or datetime.now(UTC).date()
    rng = random.Random(seed)
    burst_day = today - timedelta(days=1)
    planter = _Planter(rng, today)
    _plant_stories(planter, burst_day)
    for site in SITES:
        for n in range(background_per_site):
            planter.background(site, n)
    posts = _posts(rng, burst_day)
    return World(
        seed=seed,
        today=today,
        sites=list(SITES),
        articles=planter.articles,
        posts=posts,
        burst_day=burst_day,
        top_story={"novamart": content.RECALL.key},
    )


def _plant_stories(planter: _Planter, burst: date) -> None:
    day = lambda n: burst - timedelta(days=n)  # noqa: E731 - days before the burst
    recall = content.RECALL
    planter.place(recall, "harbor-daily", burst, 3, "original")
    planter.place(recall, "metro-ledger", burst, 5, "exact")
    planter.place(recall, "techwire", burst, 6, "retitled")
    planter.place(recall, "coastal-courier", burst, 7, "edited")
    planter.place(content.RECALL_ZH, "huaxia-caijing", burst, 4, "original")
    planter.place(content.RECALL_ZH, "nanfang-shangbao", burst, 7, "exact")
    complaints, probe, fine_zh = content.BURST
    planter.place(complaints, "metro-ledger", burst, 8, "original")
    planter.place(complaints, "coastal-courier", burst, 10, "exact")
    planter.place(probe, "techwire", burst, 9, "original")
    planter.place(fine_zh, "nanfang-shangbao", burst, 9, "original")
    planter.place(fine_zh, "huaxia-caijing", burst, 11, "edited")
    warehouse, warehouse_zh, results_zh, appstore, iphone_zh, rules_zh, dsa = content.CALM
    planter.place(warehouse, "harbor-daily", day(4), 6, "original")
    planter.place(warehouse_zh, "huaxia-caijing", day(4), 9, "original")
    planter.place(results_zh, "huaxia-caijing", day(3), 5, "original")
    planter.place(appstore, "techwire", day(2), 4, "original")
    planter.place(appstore, "harbor-daily", day(2), 9, "retitled")
    planter.place(iphone_zh, "huaxia-caijing", day(1), 3, "original")
    planter.place(rules_zh, "nanfang-shangbao", day(2), 6, "original")
    planter.place(dsa, "metro-ledger", day(1), 5, "original")
    contrast_sites = (
        "metro-ledger",
        "techwire",
        "harbor-daily",
        "nanfang-shangbao",
        "huaxia-caijing",
        "techwire",
    )
    for number, (contrast, site) in enumerate(zip(content.CONTRAST, contrast_sites, strict=True)):
        planter.place(contrast, site, day(6 + number % 3), 14 + number, "original")
    harvest_zh, diet_zh, apple_daily, orchard = content.CONFUSERS
    planter.place(harvest_zh, "nanfang-shangbao", day(5), 4, "original")
    planter.place(diet_zh, "huaxia-caijing", day(3), 8, "original")
    planter.place(apple_daily, "harbor-daily", day(2), 5, "original")
    planter.place(orchard, "coastal-courier", day(4), 3, "original")
    memo = StoryText(
        key="novamart-memo-private",
        lang="en",
        title="NovaMart internal memo on supplier audits",
        paragraphs=("A draft page that robots.txt forbids; a polite crawler never fetches it.",) * 2,
        watchlists=("novamart",),
    )
    planter.place(memo, "techwire", burst, 12, "original", crawlable=False)


class _Planter:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.articles: list[Article] = []
        self.counters: dict[str, int] = {}
        self.combos: dict[str, list[tuple[tuple[str, str], str]]] = {}

    def _next_id(self, site: str) -> str:
        self.counters[site] = self.counters.get(site, 0) + 1
        return f"{site}/{self.counters[site]:04d}"

    def place(
        self,
        story: StoryText,
        site: str,
        day: date,
        hour: int,
        variant: Variant,
        crawlable: bool = True,
    ) -> Article:
        title, paragraphs = _variant_text(story, variant, site)
        published = datetime.combine(day, time(hour, self.rng.randrange(60)), tzinfo=UTC)
        article_id = self._next_id(site)
        prefix = "" if crawlable else "/private"
        path = f"{prefix}/{day:%Y/%m/%d}/{_slug(title, article_id)}.html"
        article = Article(
            id=article_id,
            site=site,
            path=path,
            title=title,
            paragraphs=paragraphs,
            lang=story.lang,
            published=published,
            story=story.key,
            event=story.event_key,
            variant=variant,
            watchlists=story.watchlists,
            negative=story.negative,
            confuser=story.confuser,
            crawlable=crawlable,
            topic=story.tags[0] if story.tags else "",
            tone=story.tone,
        )
        self.articles.append(article)
        return article

    def background(self, site: Site, n: int) -> Article:
        rng = self.rng
        zh = site.lang == "zh"
        if site.name not in self.combos:
            templates = content.BACKGROUND_ZH if zh else content.BACKGROUND_EN
            places = content.PLACES_ZH if zh else content.PLACES_EN
            combos = [(template, place) for template in templates for place in places]
            rng.shuffle(combos)
            self.combos[site.name] = combos
        (title_t, lead_t), place = self.combos[site.name][n % len(self.combos[site.name])]
        fill = {
            "place": place,
            "weekday": rng.choice(content.WEEKDAYS_ZH if zh else content.WEEKDAYS_EN),
            "n": rng.randint(3, 90),
            "m": rng.randint(2026, 2031) if not zh else rng.randint(5, 23),
        }
        filler = content.FILLER_ZH if zh else content.FILLER_EN
        sentences = [
            template.format(**{**fill, "n": rng.randint(2, 400), "m": rng.randint(2, 30)})
            for template in rng.sample(list(filler), k=5)
        ]
        body = [lead_t.format(**fill), " ".join(sentences[:2]), " ".join(sentences[2:])]
        key = f"bg-{site.name}-{n}"
        story = StoryText(key=key, lang=site.lang, title=title_t.format(**fill), paragraphs=tuple(body))
        day = self.today - timedelta(days=rng.randint(1, 7))
        return self.place(story, site.name, day, rng.randint(1, 14), "background")


def _variant_text(story: StoryText, variant: Variant, site: str) -> tuple[str, tuple[str, ...]]:
    paragraphs = story.paragraphs
    title = story.title
    if variant == "retitled" and story.alt_titles:
        title = story.alt_titles[0]
    elif variant == "edited":
        title = story.alt_titles[-1] if story.alt_titles else title
        credit = (
            "（本文转载自合作媒体）"
            if story.lang == "zh"
            else f"This story was first published by a partner of {site}."
        )
        keep = len(paragraphs) - 1 if len(paragraphs) >= 4 else len(paragraphs)  # truncate long stories
        paragraphs = (*paragraphs[:keep], credit)
    return title, paragraphs


def _posts(rng: random.Random, burst: date) -> list[Post]:
    posts = []
    for i, (lang, text, negative) in enumerate(content.SOCIAL_POSTS):
        created = datetime.combine(burst, time(2 + i, rng.randrange(60)), tzinfo=UTC)
        posts.append(Post(f"p{i + 1:05d}", lang, text, f"user{rng.randrange(1000, 9999)}", created, negative))
    return posts


def _slug(title: str, article_id: str) -> str:
    number = article_id.split("/")[-1]
    words = re.findall(r"[a-z0-9]+", title.lower())
    if len(words) >= 3:
        return "-".join([*words[:8], number])
    return f"article-{number}"
