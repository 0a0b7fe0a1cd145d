"""The processing stage: one raw item in, one processed item out (extraction, language, watchlists)."""

from __future__ import annotations

import hashlib

from crawlers.records import RawItem
from crawlers.urls import domain_of
from nlp.extract import extract
from nlp.language import ItemLanguageDetector
from nlp.normalize import content_hash
from nlp.records import Item
from nlp.watchlists import WatchlistMatcher


def item_id(url: str) -> str:
    """Deterministic id from the canonical URL (or the post's URL), so re-processing is idempotent."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def process(raw: RawItem, detector: ItemLanguageDetector, matcher: WatchlistMatcher) -> Item:
    extracted = extract(raw)
    language = detector.detect(
        f"{extracted.title}\n{extracted.text}", hint=raw.language_hint or extracted.html_lang
    )
    mentions, rejections = matcher.match(extracted.title, extracted.text)
    return Item(
        id=item_id(raw.url),
        url=raw.url,
        source=raw.source,
        domain=domain_of(raw.fetched_url or raw.url),
        kind=raw.kind,
        title=extracted.title,
        text=extracted.text,
        published=extracted.published,
        date_precision=extracted.date_precision,
        fetched_at=raw.fetched_at,
        canonical_url=extracted.canonical_url,
        author=extracted.author,
        site_name=extracted.site_name,
        language=language,
        extraction=extracted.method,
        problems=extracted.problems,
        mentions=mentions,
        rejections=rejections,
        content_hash=content_hash(extracted.text or extracted.title),
    )
