"""Main text and metadata from an HTML page (trafilatura, htmldate, and a fallback).

The main text comes from trafilatura's precision-first pass. Where the page holds far more visible text
than that pass found, its balanced pass runs too and wins when it has far more prose (lines of at least
``PROSE_TOKENS`` words or Han characters) and the first pass looks wrong: either it found a fifth or less
of that prose (a cut-short article), or a third or less and what it found sits at the end of the balanced
text (the "related news / most read" block after a portal's article, which the precision pass sometimes
keeps instead of the article). Where the first pass's text sits at the start, it is the article and the
balanced pass only adds what follows it. Measured on 600 public pages (benchmarks/extraction.py): body
F1 rises on three English sets and is unchanged on the fourth; short NetEase bodies go from 8 of 9 to 0.

A line that is mostly one link's text (a ranked "most read" headline) is not prose, and a list of them at
the end of the text goes, with its heading and the disclaimer after it: NetEase bodies that kept such a
list went from 7 of 9 (3,136 characters in all) to 0, with body F1 unchanged or higher on every set.
"""

from __future__ import annotations

import json
import logging
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
import trafilatura
from lxml.etree import ParserError

from crawlers.records import RawItem
from crawlers.urls import domain_of
from nlp.dates import Dated, DatePrecision, page_dates, resolve, site_zone
from nlp.language import KANA
from nlp.normalize import CJK, normalize_text
from nlp.titles import choose_title, outlet_name, title_candidates

log = logging.getLogger(__name__)
MIN_TEXT_CHARS = 120
RECALL_GATE = 2.5
"""The balanced pass runs when the page's visible text is this many times what the first pass found and
its prose at least ``TRAILING_WIN`` times the first pass's (the least it needs to win): on 2 of 383 news
world pages, which carry menus, "most read" lists and comments (110 without the prose bound)."""
TRUNCATED_WIN = 5.0
"""The balanced pass wins outright with this many times the first pass's prose ..."""
TRAILING_WIN = 3.0
TRAILING_AT = 0.6
"""... or with this many times, where the first pass's prose lines sit (median) past this share of the
balanced text, or not in it at all. On the development pages, wrong flips had their first-pass text at
0.03-0.27 of the balanced text with 2.9-3.7 times the prose; NetEase sidebars sat at 0.79-0.93."""
PROSE_TOKENS = 8
TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+")
LINK_SHARE = 0.6
"""A line is a link line when one link's text is at least this share of it (the rest: rank, count)."""
MAX_LINK_LINE = 300
"""Longer lines are never link lines (headlines are shorter)."""
LINK_TOKENS = 4
"""Words or Han characters a link's text needs to count as a headline (not a menu entry)."""
BARE_URL = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
"""A link whose text is its address: an item of a list article ("15) Thriller  http://amzn.to/…")."""
TRAILING_LINK_LINES = 3
TAIL_PROSE_SLACK = 200
"""A link list at the end of the text is dropped from its first of at least TRAILING_LINK_LINES link lines
where what follows holds no more prose than link text; the search for it goes back past prose lines (a
disclaimer, teasers) until they outweigh the links seen by this many characters."""
COMPARE_BELOW_CHARS = 500
COMPARE_BELOW_SHARE = 0.3
"""Main text from trafilatura alone that is shorter than COMPARE_BELOW_CHARS and than this share of the
page's visible text is extracted again with its fallback comparison (see ``_trafilatura``)."""
PAGE_TEXT = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
INLINE = frozenset(
    {"a", "b", "strong", "em", "i", "u", "span", "font", "time", "small", "sup", "sub", "abbr", "code"}
)
"""Inline elements: their text belongs to the block around them."""
DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
"""End tags that a browser ignores wherever they stand but libxml2 obeys: a content system that includes a
whole header document (``…</html>``) ahead of the article (gov.cn's TRS pages) would lose the article."""
NEXT_FLIGHT = re.compile(r'self\.__next_f\.push\(\[1,("(?:[^"\\]|\\.)*")\]\)')
"""A chunk of a Next.js page's flight data (a JSON string), where some sites keep the article's HTML
that the served page leaves out (HankookIlbo)."""
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
"""Control characters other than tab, newline, carriage return and form feed."""


@dataclass
class Extracted:
    title: str
    text: str
    published: datetime | None
    date_precision: DatePrecision = "datetime"
    author: str | None = None
    site_name: str | None = None
    html_lang: str | None = None
    canonical_url: str | None = None
    method: str = "trafilatura"
    problems: list[str] = field(default_factory=list)


def extract(raw: RawItem) -> Extracted:
    """Title, text, date and metadata of ``raw``; never raises for bad pages, records problems instead."""
    if raw.text is not None:
        return _plain(raw)
    problems: list[str] = []
    if raw.fetch_error:
        problems.append("page_not_fetched")
    html = raw.html
    if html and _looks_binary(html):
        problems.append("binary_content")
        html = None
    html = DOCUMENT_END.sub("", html) if html else html
    tree = _tree(html) if html else None
    document = _trafilatura(html, tree, raw.url, problems) if html else None
    text = normalize_text(document.text or "") if document else ""
    method = "trafilatura"
    if len(text) < MIN_TEXT_CHARS and html:
        for fallback, how in ((_paragraph_text(tree), "paragraphs"), (_flight_text(html), "flight_data")):
            if len(fallback) > len(text):
                text, method = fallback, how
    if not text:
        text, method = normalize_text(_strip_tags(raw.feed_summary or "")), "feed"
    page_site = document.sitename if document else None
    site_name = outlet_name(normalize_text(page_site or raw.feed_outlet or ""))
    candidates = title_candidates(tree, document.title if document else None, raw.feed_title)
    title = choose_title(candidates, site_name)
    if not title:
        problems.append("no_title")
        title = _first_line(text, 80) if text else ""
    if not text:
        problems.append("no_text" if title else "empty_text")
    declared = _html_lang(tree)
    dated, problem = _published(raw, html, tree, _chinese_by_script(title, text) or declared)
    if problem:
        problems.append(problem)
    return Extracted(
        title=title,
        text=text,
        published=dated.published,
        date_precision=dated.precision,
        author=document.author if document else None,
        site_name=site_name or domain_of(raw.fetched_url or raw.url),
        html_lang=declared.split("-")[0] if declared else None,
        canonical_url=document.url if document and document.url else None,
        method=method,
        problems=problems,
    )


def _looks_binary(html: str) -> bool:
    """An image, archive or PDF served as text/html: NUL bytes or many control characters."""
    head = html[:4096]
    controls = len(CONTROL_CHARS.findall(head))
    return "\x00" in head or controls > len(head) * 0.05


def _tree(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return None


def _plain(raw: RawItem) -> Extracted:
    """Posts and API items: no HTML extraction, the same normalisation; the title is the first line."""
    problems: list[str] = []
    text = normalize_text(raw.text or "")
    title = normalize_text(raw.feed_title or "") or _first_line(text)
    if not text and not title:
        problems.append("empty_text")
    dated, problem = _published(raw, None, None, None)
    if problem:
        problems.append(problem)
    return Extracted(
        title=title,
        text=text,
        published=dated.published,
        date_precision=dated.precision,
        author=raw.author,
        method="plain",
        problems=problems,
    )


def _first_line(text: str, limit: int = 120) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"


def _trafilatura(
    html: str, tree: lxml.html.HtmlElement | None, url: str, problems: list[str]
) -> trafilatura.settings.Document | None:
    """trafilatura's precision-first pass; its comparison with the fallback extractors when that found
    little text, and little of the page's text (the comparison rescues under-extraction); its balanced
    pass where the page has much more text than was found (see ``_more_prose``). The later passes read
    no metadata: the first one has it (a third of a pass's time)."""
    try:
        document = _bare(html, url, fast=True, metadata=True, precision=True)
        if document is None:
            return _bare(html, url, fast=False, metadata=True, precision=True)
        page_chars, page_prose = _page_text(tree)
        links = link_texts(tree)
        found = normalize_text(document.text or "")
        if _under_extracted(len(found), page_chars):
            compared = _bare(html, url, fast=False, metadata=False, precision=True)
            document.text = compared.text if compared is not None else document.text
            found = normalize_text(document.text or "")
        found_prose = prose_chars(found, links)
        if page_chars >= RECALL_GATE * max(len(found), 1) and page_prose >= TRAILING_WIN * found_prose:
            balanced = _bare(html, url, fast=False, metadata=False, precision=False)
            if balanced is not None and _more_prose(normalize_text(balanced.text or ""), found, links):
                document.text = balanced.text
        document.text = drop_trailing_links(normalize_text(document.text or ""), links)
    except (ValueError, TypeError, ParserError) as exc:  # trafilatura raises these on broken documents
        problems.append("extractor_failed")
        log.info("extraction failed", extra={"url": url, "error": str(exc)})
        return None
    return document


def _more_prose(candidate: str, found: str, links: frozenset[str]) -> bool:
    """Whether ``candidate`` (the balanced pass) should replace ``found`` (see the module's description)."""
    ratio = prose_chars(candidate, links) / max(prose_chars(found, links), 1)
    if ratio >= TRUNCATED_WIN:
        return True
    if ratio < TRAILING_WIN:
        return False
    where = _position_in(found, candidate)
    return where is None or where >= TRAILING_AT


def _position_in(part: str, whole: str) -> float | None:
    """Median relative offset in ``whole`` of ``part``'s prose lines (None: none of them is in it)."""
    offsets = []
    for line in part.split("\n"):
        if len(TOKEN.findall(line)) >= PROSE_TOKENS and (at := whole.find(line)) >= 0:
            offsets.append(at / max(len(whole), 1))
    return statistics.median(offsets) if offsets else None


def prose_chars(text: str, links: frozenset[str] = frozenset()) -> int:
    """Characters in lines of running text (at least ``PROSE_TOKENS`` words or Han characters, and not
    the text of one of the page's links): menus, link lists and headings hardly count."""
    return sum(
        len(line)
        for line in text.split("\n")
        if len(TOKEN.findall(line)) >= PROSE_TOKENS and not is_link_line(line, links)
    )


def link_texts(tree: lxml.html.HtmlElement | None) -> frozenset[str]:
    """The texts of the page's links long enough to be a headline, not bare addresses (whitespace
    collapsed)."""
    if tree is None:
        return frozenset()
    found = (" ".join(anchor.text_content().split()) for anchor in tree.iter("a"))
    return frozenset(
        text for text in found if len(TOKEN.findall(text)) >= LINK_TOKENS and not BARE_URL.match(text)
    )


def is_link_line(line: str, links: frozenset[str]) -> bool:
    """Whether ``line`` begins or ends with one link's text that is most of it: a "most read" entry
    (``- 7 16722 <headline>``), a headline with its date. Lookups of the line's longer beginnings and
    endings, so a page with thousands of links costs no more than one with ten."""
    bare = " ".join(line.removeprefix("- ").split())
    if not links or not 8 <= len(bare) <= MAX_LINK_LINE:
        return False
    longest_rest = len(bare) - math.ceil(LINK_SHARE * len(bare))
    return any(bare[cut:] in links or bare[: len(bare) - cut] in links for cut in range(longest_rest + 1))


def drop_trailing_links(text: str, links: frozenset[str]) -> str:
    """``text`` without a list of links at its end (the "related news / most read" list after an article,
    with its headings, menus and a line or two of prose among or after them; see ``TAIL_PROSE_SLACK``)."""
    lines = text.split("\n")
    link_chars = prose = count = 0
    cut = len(lines)
    for at in range(len(lines) - 1, -1, -1):
        line = lines[at]
        if is_link_line(line, links):
            link_chars, count = link_chars + len(line), count + 1
            if count >= TRAILING_LINK_LINES and prose <= link_chars:
                cut = at
        elif len(TOKEN.findall(line)) >= PROSE_TOKENS:
            prose += len(line)
            if prose > link_chars + TAIL_PROSE_SLACK:
                break
    while cut < len(lines) and cut > 0 and len(TOKEN.findall(lines[cut - 1])) < PROSE_TOKENS:
        cut -= 1  # the list's heading ("为您推荐") and menus go with it
    return "\n".join(lines[:cut]) if cut < len(lines) else text


def needs_comparison(text: str, html: str) -> bool:
    """Whether trafilatura's own text from ``html`` is short enough, absolutely and as a share of the
    page's visible text, to look like under-extraction."""
    return _under_extracted(len(normalize_text(text)), _page_text(_tree(html))[0])


def _under_extracted(found_chars: int, page_chars: int) -> bool:
    return found_chars < COMPARE_BELOW_CHARS and found_chars <= COMPARE_BELOW_SHARE * page_chars


def _page_text(tree: lxml.html.HtmlElement | None) -> tuple[int, int]:
    """Characters of visible text in the page's body (whitespace collapsed), and of its prose: the text
    of each block (inline markup joined) that has at least ``PROSE_TOKENS`` words or Han characters. No
    pass can find more prose than the page has, so the balanced pass runs only where it could win."""
    if tree is None:
        return 0, 0
    blocks: dict[int, list[str]] = {}
    for text in tree.xpath(PAGE_TEXT):
        block = text.getparent()
        while block is not None and block.tag in INLINE:
            block = block.getparent()
        blocks.setdefault(id(block), []).append(str(text))
    joined = [" ".join(" ".join(parts).split()) for parts in blocks.values()]
    chars = sum(len(block) for block in joined) + max(len(joined) - 1, 0)
    return chars, sum(len(block) for block in joined if len(TOKEN.findall(block)) >= PROSE_TOKENS)


def _bare(
    html: str, url: str, fast: bool, metadata: bool, precision: bool
) -> trafilatura.settings.Document | None:
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=metadata,
        include_comments=False,
        include_tables=False,
        favor_precision=precision,
        fast=fast,
    )
    return document if isinstance(document, trafilatura.settings.Document) else None


def _paragraph_text(tree: lxml.html.HtmlElement | None) -> str:
    if tree is None:
        return ""
    paragraphs = [" ".join(p.text_content().split()) for p in tree.iter("p")]
    return normalize_text("\n".join(p for p in paragraphs if len(p) > 20))


def _flight_text(html: str) -> str:
    """The paragraphs of the HTML in a Next.js page's flight data (``self.__next_f.push``), for pages that
    render their article only from it."""
    if "self.__next_f" not in html:
        return ""
    fragments = []
    for literal in NEXT_FLIGHT.findall(html):
        try:
            chunk = json.loads(literal)
        except ValueError:
            continue
        if isinstance(chunk, str) and "<p" in chunk:
            fragments.append(chunk)
    return _paragraph_text(_tree(f"<html><body>{''.join(fragments)}</body></html>")) if fragments else ""


def _strip_tags(fragment: str) -> str:
    if "<" not in fragment:
        return fragment
    try:
        return str(lxml.html.fromstring(fragment).text_content())
    except (ParserError, ValueError):
        return fragment


def _published(
    raw: RawItem, html: str | None, tree: lxml.html.HtmlElement | None, declared: str | None
) -> tuple[Dated, str | None]:
    """The listing's date, else the page's; a naive time read in the site's zone (``nlp.dates``). A time
    the page shows beside a declared day that would put it in the future leaves the day alone."""
    candidates: Sequence[tuple[datetime | None, DatePrecision]] = [(raw.feed_published, "datetime")]
    if raw.feed_published is None and html:
        candidates = page_dates(html, tree) or candidates
    zone = site_zone(raw.timezone, raw.fetched_url or raw.url, raw.language_hint or declared)
    for stamp, precision in candidates:
        dated, problem = resolve(stamp, precision, zone, raw.fetched_at)
        if problem != "future_date":
            break
    return dated, problem


def _chinese_by_script(title: str, text: str) -> str | None:
    """``zh`` for a page written mostly in Han characters: every Chinese-speaking region keeps UTC+8, so its
    naive times are Beijing time whatever the variety, and whatever its ``<html lang>`` says (gamersky's
    Chinese pages declare ``en``)."""
    sample = f"{title}\n{text}"[:1000]
    letters = sum(1 for ch in sample if ch.isalpha())
    return "zh" if letters and len(CJK.findall(sample)) > 0.5 * letters and not KANA.search(sample) else None


def _html_lang(tree: lxml.html.HtmlElement | None) -> str | None:
    """The page's declared language tag, lower-cased with its region (``zh-cn``)."""
    if tree is None:
        return None
    root = tree.getroottree().getroot()
    value = (root.get("lang") or root.get("xml:lang") or "").strip().lower().replace("_", "-")
    return value or None
