"""A labelled reprint set from the news world: stories, each published several times with edits.

Variants: the original, a new headline, added boilerplate, truncation, and a partial rewrite
(sentences replaced and reordered). Unrelated stories are drawn from the same templates, so
they are hard negatives. Used by ``benchmarks/dedup.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opinionwatch.newsworld import content

VARIANTS = ("retitled", "boilerplate", "truncated", "rewrite")
BOILERPLATE_EN = (
    "Advertisement",
    "Share this article",
    "Sign up for our morning newsletter.",
    "© 2026 Regional Media Group. All rights reserved.",
    "Read more: city news in brief",
)
BOILERPLATE_ZH = (
    "广告",
    "分享到",
    "扫码关注我们的公众号，获取更多本地新闻。",
    "版权所有，未经授权不得转载。",
    "相关阅读：本地新闻速览",
)


@dataclass(frozen=True)
class ReprintDoc:
    id: str
    story: str
    variant: str
    lang: str
    title: str
    text: str
    published: datetime


def reprint_set(seed: int = 5, stories: int = 120, zh_share: float = 0.4) -> list[ReprintDoc]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    docs: list[ReprintDoc] = []
    # each planted story once per event: translations belong to the parallel set, not to reprints
    planted = [text for text in (*content.BURST, *content.CALM, content.RECALL) if not text.event]
    for number in range(stories):
        key = f"story-{number:04d}"
        when = start + timedelta(hours=rng.randint(0, 24 * 20))
        if number < len(planted):
            text = planted[number]
            title, sentences, lang = text.title, list(text.paragraphs), text.lang
        else:
            lang = "zh" if rng.random() < zh_share else "en"
            title, sentences = _generated(rng, lang)
        docs.append(ReprintDoc(f"{key}/original", key, "original", lang, title, _join(sentences, lang), when))
        for variant in rng.sample(VARIANTS, k=rng.randint(1, 3)):
            v_title, v_sentences = _variant(rng, variant, title, sentences, lang)
            later = when + timedelta(hours=rng.randint(1, 48))
            docs.append(
                ReprintDoc(f"{key}/{variant}", key, variant, lang, v_title, _join(v_sentences, lang), later)
            )
    rng.shuffle(docs)
    return docs


def _generated(rng: random.Random, lang: str) -> tuple[str, list[str]]:
    zh = lang == "zh"
    title_t, lead_t = rng.choice(content.BACKGROUND_ZH if zh else content.BACKGROUND_EN)
    fill = {
        "place": rng.choice(content.PLACES_ZH if zh else content.PLACES_EN),
        "weekday": rng.choice(content.WEEKDAYS_ZH if zh else content.WEEKDAYS_EN),
        "n": rng.randint(3, 900),
        "m": rng.randint(2, 30),
    }
    pool = content.FILLER_ZH if zh else content.FILLER_EN
    body = [
        t.format(**{**fill, "n": rng.randint(2, 900), "m": rng.randint(2, 30)}) for t in rng.sample(pool, k=7)
    ]
    return title_t.format(**fill), [lead_t.format(**fill), *body]


def _variant(
    rng: random.Random, variant: str, title: str, sentences: list[str], lang: str
) -> tuple[str, list[str]]:
    zh = lang == "zh"
    if variant == "retitled":
        return ("最新：" if zh else "Update: ") + title.split(" ")[0] + (
            " 事件持续引发关注" if zh else " story develops"
        ), sentences
    if variant == "boilerplate":
        extra = BOILERPLATE_ZH if zh else BOILERPLATE_EN
        return title, [rng.choice(extra), *sentences, *rng.sample(extra, k=2)]
    if variant == "truncated":
        return title, sentences[: max(2, int(len(sentences) * 0.6))]
    rewritten = list(sentences)
    pool = content.FILLER_ZH if zh else content.FILLER_EN
    for position in rng.sample(range(1, len(rewritten)), k=max(1, len(rewritten) // 4)):
        rewritten[position] = rng.choice(pool).format(
            place="", weekday="", n=rng.randint(2, 900), m=rng.randint(2, 30)
        )
    if len(rewritten) > 3:
        rewritten[1], rewritten[2] = rewritten[2], rewritten[1]
    return title, rewritten


def _join(sentences: list[str], lang: str) -> str:
    return ("\n" if lang == "zh" else "\n\n").join(sentences)
