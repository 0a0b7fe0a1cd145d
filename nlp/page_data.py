"""What a page declares about itself in markup: ``<meta>`` tags and JSON-LD, read from its parsed tree."""

from __future__ import annotations

import json
import re

import lxml.html

JSON_LD_SCRIPTS = 8
"""JSON-LD blocks read per page (some pages carry dozens of ad and tracking blocks)."""
WRAPPER = re.compile(
    r"^\s*(?://\s*|/\*\s*)?(?:<!\[CDATA\[|<!--)(?:\s*\*/)?|(?://\s*|/\*\s*)?(?:\]\]>|-->)(?:\s*\*/)?\s*$"
)
"""``<![CDATA[ … ]]>`` or ``<!-- … -->`` (bare or inside a JavaScript comment) around a JSON-LD block."""
ARTICLE_TYPES = ("Article", "BlogPosting", "Report", "LiveBlogPosting")
"""JSON-LD ``@type`` endings of the page's own story (``NewsArticle``, ``ReportageNewsArticle``, …)."""


def meta_values(tree: lxml.html.HtmlElement, names: tuple[str, ...]) -> list[str]:
    """``content`` of the ``<meta>`` tags named ``names`` (by ``property``, ``name`` or ``itemprop``), in
    document order."""
    match = " or ".join(f'@property="{name}" or @name="{name}" or @itemprop="{name}"' for name in names)
    return [str(value) for value in tree.xpath(f"//meta[{match}]/@content")]


def json_ld_values(tree: lxml.html.HtmlElement, key: str, articles_only: bool = False) -> list[str]:
    """Every string under ``key`` in the page's JSON-LD objects, breadth first (``@graph`` included), those
    of article objects (``NewsArticle``, ``BlogPosting``, …) before those of others (a related video's),
    or only those."""
    in_articles: list[str] = []
    elsewhere: list[str] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()')[:JSON_LD_SCRIPTS]:
        try:
            pending = [json.loads(WRAPPER.sub("", script))]
        except ValueError:
            continue
        while pending:
            node = pending.pop(0)
            if isinstance(node, list):
                pending.extend(node)
            elif isinstance(node, dict):
                if isinstance(node.get(key), str):
                    (in_articles if _is_article(node) else elsewhere).append(node[key])
                pending.extend(value for value in node.values() if isinstance(value, dict | list))
    return in_articles if articles_only else in_articles + elsewhere


def _is_article(node: dict[str, object]) -> bool:
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(name, str) and name.endswith(ARTICLE_TYPES) for name in names)
