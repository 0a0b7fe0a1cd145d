"""Which links of a news site's page are articles, and which are listing pages worth walking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from config.sources import Source


@dataclass
class SiteLinks:
    articles: list[str]
    listings: list[str]


class LinkRules:
    """A ``site`` source's allow/deny/follow patterns and CSS selector, compiled once per run."""

    def __init__(self, source: Source) -> None:
        self.hosts = {urlsplit(url).hostname or "" for url in [source.endpoint, *source.start_urls]}
        self.extractor = LinkExtractor(
            deny=source.deny,
            restrict_css=(source.link_selector,) if source.link_selector else (),
            unique=True,
        )
        self.allow = [re.compile(pattern) for pattern in source.allow]
        self.follow = [re.compile(pattern) for pattern in source.follow]

    def links(self, response: TextResponse) -> SiteLinks:
        """Links on ``response``: articles match ``allow`` (any link when there is none); the others are
        listings when they match ``follow`` (any same-site link when there is none)."""
        found = SiteLinks([], [])
        for link in self.extractor.extract_links(response):
            if not self._on_site(link.url):
                continue
            if not self.allow or any(p.search(link.url) for p in self.allow):
                found.articles.append(link.url)
            elif not self.follow or any(p.search(link.url) for p in self.follow):
                found.listings.append(link.url)
        return found

    def _on_site(self, url: str) -> bool:
        """Same host as a start page, or a subdomain of one (Scrapy's ``allow_domains`` ignores ports)."""
        host = urlsplit(url).hostname or ""
        return any(host == known or host.endswith("." + known) for known in self.hosts)
