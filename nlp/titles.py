"""A page's title, chosen from its candidates: ``og:title``, ``<h1>``, ``<title>`` less the site's suffix.

Candidates are taken in that order of trust, each cleaned and cut of a site suffix (``… _新浪网``,
``… | Reuters``). A candidate that is a shortened form of another (an ``og:title`` cut at an unescaped
quote, a headline ending in "...") gives way to its complete form.
"""

from __future__ import annotations

import re

import lxml.html

from nlp.normalize import fold, normalize_text

SEPARATORS = re.compile(r"\s+[-|–—·:»]\s+|\s*[_|｜]\s*|\s+-|-(?=[^\s\-]{2,12}$)")
ELLIPSIS = re.compile(r"(\.\.\.|…)+$")
MAX_SUFFIX_SHARE = 0.5
"""A trailing segment longer than this share of the title is part of the title, not a site name."""


def title_candidates(
    tree: lxml.html.HtmlElement | None, extractor_title: str | None, feed_title: str | None
) -> list[str]:
    """Title candidates in order of trust (empty ones dropped, duplicates kept once)."""
    found = [_meta(tree, "og:title"), extractor_title]
    if tree is not None:
        found.append(_first_text(tree, "//h1"))
        found.append(_first_text(tree, "//title"))
    found.append(feed_title)
    cleaned = [normalize_text(" ".join((value or "").split())) for value in found]
    unique: list[str] = []
    for value in cleaned:
        if value and value not in unique:
            unique.append(value)
    return unique


def choose_title(candidates: list[str], site_name: str | None) -> str:
    """The most trusted candidate, in its complete form, without the site's suffix."""
    trimmed = [strip_site_suffix(value, site_name, candidates) for value in candidates]
    for value in trimmed:
        complete = _complete_form(value, trimmed)
        if complete:
            return complete
    return ""


def strip_site_suffix(title: str, site_name: str | None, others: list[str] | None = None) -> str:
    """``title`` without a trailing ``<separator> <site>``: the site's name, or a short segment that
    another candidate shows is not part of the title."""
    cuts = list(SEPARATORS.finditer(title))
    if not cuts:
        return title
    head, tail = title[: cuts[-1].start()].rstrip(), title[cuts[-1].end() :].strip()
    if not head or not tail:
        return title
    site, tail_folded = fold(site_name or ""), fold(tail)
    known_site = bool(site) and (site in tail_folded or tail_folded in site)
    shown_elsewhere = any(fold(other) == fold(head) for other in others or [] if other != title)
    if known_site:
        return strip_site_suffix(head, site_name, others)
    if shown_elsewhere and len(tail) <= MAX_SUFFIX_SHARE * len(title):
        return head
    return title


def _complete_form(value: str, candidates: list[str]) -> str:
    """``value``, or the longest candidate that it is a cut-short beginning of."""
    stem = fold(ELLIPSIS.sub("", value)).rstrip()
    if not stem:
        return ""
    longer = [
        other
        for other in candidates
        if other != value
        and len(other) > len(stem)
        and fold(other).startswith(stem)
        and not ELLIPSIS.search(other)
    ]
    return max(longer, key=len) if longer else value


def _meta(tree: lxml.html.HtmlElement | None, name: str) -> str | None:
    if tree is None:
        return None
    found = tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    return str(found[0]) if found else None


def _first_text(tree: lxml.html.HtmlElement, path: str) -> str | None:
    for element in tree.xpath(path):
        text = " ".join(element.text_content().split())
        if text:
            return text
    return None
