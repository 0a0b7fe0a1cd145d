"""The calendar news world: N consecutive days of news with planted topics, served "as of" a date.

``build_calendar(seed, start, days)`` gives the same world for the same arguments. Each day has a
realistic volume (weekdays fuller than weekends, a busy but normal Monday, more articles in the working
hours), and planted truth (``World.calendar``, also in ``NewsWorldServer.truth()``):

- themes present every day (electric-car batteries in both languages, central-bank rates, the Chinese
  property market) and NovaMart, whose coverage turns negative on a known day;
- one theme that fades out (a port strike);
- one that splits in two on a known day (AI rules into AI copyright lawsuits and AI safety testing);
- two that merge into one on a known day (wheat exports and fertiliser prices into a food crisis);
- a burst that grows from nothing over the last two days (solar panel tariffs, in both languages);
- a source that breaks on a known day (answers 503 from then on) and one that is quiet at weekends.

Set ``world.as_of`` to a time to serve only what was published by then (one cycle per simulated day).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from opinionwatch.newsworld import themes
from opinionwatch.newsworld.content import StoryText
from opinionwatch.newsworld.generator import SITES, World, _Planter
from opinionwatch.newsworld.themes import Theme

MIN_DAYS = 5
BROKEN_SITE = "coastal-courier"
QUIET_WEEKEND_SITE = "metro-ledger"
HOUR_WEIGHTS = (1, 1, 1, 1, 2, 3, 5, 7, 9, 9, 8, 8, 7, 8, 8, 7, 6, 5, 4, 3, 3, 2, 2, 1)
"""Relative volume by UTC hour: a working day's curve."""
BILINGUAL_SHARE = 0.25
"""Share of an English story of a two-language theme that a Chinese site also covers (same event)."""


@dataclass(frozen=True)
class Plan:
    """The planted days, relative to the first (``0``)."""

    days: int
    split: int
    merge: int
    burst: int
    negative: int
    breaks: int

    @classmethod
    def for_days(cls, days: int) -> Plan:
        if days < MIN_DAYS:
            raise ValueError(f"the calendar world needs at least {MIN_DAYS} days, not {days}")
        return cls(
            days=days, split=days // 2, merge=days // 2, burst=days - 2, negative=days - 3, breaks=days - 2
        )

    def volumes(self, day: int) -> dict[str, int]:
        """Stories per theme on ``day`` before the weekday factor."""
        fade = max(0, 6 - 2 * day)
        burst = {self.burst: 5, self.burst + 1: 20}.get(day, 0)
        before_split, before_merge = day < self.split, day < self.merge
        return {
            "ev-batteries": 7,
            "central-bank": 5,
            "zh-property": 6,
            "novamart": 5,
            "port-strike": fade,
            "ai-rules": 6 if before_split else 0,
            "ai-copyright": 0 if before_split else 6,
            "ai-safety": 0 if before_split else 6,
            "wheat-exports": 5 if before_merge else 1,
            "fertiliser-prices": 5 if before_merge else 1,
            "food-crisis": 0 if before_merge else 9,
            "solar-tariff": burst,
        }


STEADY = ("ev-batteries", "central-bank", "zh-property", "novamart")
CONVERGING = {"food-crisis": ("wheat-exports", "fertiliser-prices")}


def weekday_factor(day: date) -> float:
    """Weekends are quieter; Monday is busy (catching up on the weekend), and that is normal."""
    return {0: 1.5, 5: 0.5, 6: 0.5}.get(day.weekday(), 1.0)


def build_calendar(seed: int = 11, start: date | None = None, days: int = 7) -> World:
    """The world of ``days`` days from ``start`` (default: ``days`` days before today, UTC)."""
    start = start or datetime.now(UTC).date() - timedelta(days=days)
    plan = Plan.for_days(days)
    rng = random.Random(seed)
    planter = _Planter(rng, start + timedelta(days=days))
    per_day: list[dict[str, Any]] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        counts: dict[str, int] = {}
        for key, base in plan.volumes(offset).items():
            wanted = round(base * weekday_factor(day)) if key in STEADY else base
            if wanted:
                counts[key] = wanted
            for number in range(wanted):
                _story(planter, rng, key, day, offset, plan, number)
        per_day.append({"date": day.isoformat(), "weekday": day.strftime("%A"), "stories": counts})
    broken = {BROKEN_SITE: start + timedelta(days=plan.breaks)}
    world = World(
        seed=seed,
        today=start + timedelta(days=days),
        sites=list(SITES),
        articles=sorted(planter.articles, key=lambda a: a.published),
        posts=[],
        burst_day=start + timedelta(days=plan.burst + 1),
        broken=broken,
    )
    world.calendar = _truth(plan, start, per_day, broken)
    return world


def _story(
    planter: _Planter, rng: random.Random, key: str, day: date, offset: int, plan: Plan, number: int
) -> None:
    theme = _theme(key, offset, plan)
    languages = [lang for lang in ("en", "zh") if theme.titles.get(lang)]
    lang = rng.choice(languages) if len(languages) > 1 and rng.random() < 0.4 else languages[0]
    fill = {name: rng.choice(values) for name, values in {**themes.SHARED_SLOTS, **theme.slots}.items()}
    fill |= {"n": str(rng.randint(3, 95)), "m": str(rng.randint(1, 9))}
    story_key = f"{key}-{day:%m%d}-{number}"
    versions = [lang] + (
        ["zh"] if lang == "en" and "zh" in languages and rng.random() < BILINGUAL_SHARE else []
    )
    hour = _hour(rng)
    for version in versions:
        text = _text(theme, version, fill, rng, f"{story_key}-{version}", story_key, key)
        site = _site_for(rng, version, day)
        planter.place(text, site, day, hour if version == lang else min(23, hour + 1), "original")
        if rng.random() < 0.3:  # a reprint on another site of the same language
            others = [s for s in _sites(version, day) if s != site]
            planter.place(text, rng.choice(others), day, min(23, hour + 2), rng.choice(("exact", "retitled")))


def _theme(key: str, offset: int, plan: Plan) -> Theme:
    if key == "novamart":
        return themes.NOVAMART_BAD if offset >= plan.negative else themes.NOVAMART_GOOD
    return themes.THEMES[key]


def _text(
    theme: Theme, lang: str, fill: dict[str, str], rng: random.Random, key: str, event: str, topic: str
) -> StoryText:
    title = rng.choice(theme.titles[lang]).format(**fill)
    chosen = rng.sample(theme.sentences[lang], k=min(4, len(theme.sentences[lang])))
    if theme.key in CONVERGING:  # coverage of the merged theme carries on both threads it joins
        first, second = (themes.THEMES[part].sentences[lang] for part in CONVERGING[theme.key])
        chosen = [*rng.sample(chosen, k=1), *rng.sample(first, k=2), *rng.sample(second, k=2)]
    sentences = [sentence.format(**fill) for sentence in chosen]
    joiner = "" if lang == "zh" else " "
    paragraphs = (joiner.join(sentences[:2]), joiner.join(sentences[2:]))
    alt = (f"{title}（更新）" if lang == "zh" else f"Update: {title}",)
    return StoryText(
        key=key,
        lang=lang,
        title=title,
        paragraphs=paragraphs,
        alt_titles=alt,
        watchlists=theme.watchlists,
        negative=theme.negative,
        event=event,
        tags=(topic,),
    )


def _sites(lang: str, day: date) -> list[str]:
    quiet = day.weekday() >= 5
    return [s.name for s in SITES if s.lang == lang and not (quiet and s.name == QUIET_WEEKEND_SITE)]


def _site_for(rng: random.Random, lang: str, day: date) -> str:
    return rng.choice(_sites(lang, day))


def _hour(rng: random.Random) -> int:
    return rng.choices(range(24), weights=HOUR_WEIGHTS)[0]


def _truth(plan: Plan, start: date, per_day: list[dict[str, Any]], broken: dict[str, date]) -> dict[str, Any]:
    on = lambda offset: (start + timedelta(days=offset)).isoformat()  # noqa: E731
    mondays = [d["date"] for d in per_day if date.fromisoformat(d["date"]).weekday() == 0]
    return {
        "start": start.isoformat(),
        "days": per_day,
        "topics_every_day": list(STEADY),
        "fades": {"topic": "port-strike", "last_day": on(2)},
        "split": {"parent": "ai-rules", "children": ["ai-copyright", "ai-safety"], "day": on(plan.split)},
        "merge": {
            "parents": ["wheat-exports", "fertiliser-prices"],
            "child": "food-crisis",
            "day": on(plan.merge),
        },
        "burst": {"topic": "solar-tariff", "first_day": on(plan.burst), "peak_day": on(plan.burst + 1)},
        "negative_turn": {"watchlist": "novamart", "day": on(plan.negative)},
        "source_breaks": {"site": BROKEN_SITE, "day": broken[BROKEN_SITE].isoformat()},
        "quiet_at_weekends": QUIET_WEEKEND_SITE,
        "busy_mondays": mondays,
    }


def serve_until(world: World, day: date) -> datetime:
    """Set the world to serve what was published up to the end of ``day``; returns that instant."""
    world.as_of = datetime.combine(day, time(23, 59, 59), UTC)
    return world.as_of
