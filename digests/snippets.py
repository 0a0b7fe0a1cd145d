"""The lead of a story's text as the digest shows it: from the first line that tells the story.

Pages put lines before the story that the extractor keeps as text: the headline again, NetEase's
original headline in brackets (``（原标题：…）``), a byline or credit with its time (``Staff reporter ·
2026-12-03 08:36``, ``澎湃新闻记者 段彦超 廖艳``, ``By John Gruber``), a dateline (``08.04.2015 12:46``)
and a breadcrumb (``您所在的位置：``, ``首页 >``). The body keeps them (a reporter's name is worth
finding in search); the snippet starts after them. Only short lines are such lines, and one that reads
as a sentence (``记者17日从国家卫生健康委获悉，…``, ``From Monday, NovaMart will charge…``) is the story.
"""

from __future__ import annotations

import re

from nlp.normalize import has_cjk

SNIPPET_CHARS = 280
"""The snippet's length in spaced scripts; half of it in Chinese, whose characters carry more."""
LEAD_LINE_MAX_CHARS = 80
"""Longer lines are the story whatever they begin with."""
ORIGINAL_TITLE = re.compile(r"^[(（【\[]?原标题[:：]")
CREDIT = re.compile(
    r"^(by\s|from\s|\(?(reporting|editing|writing) by|photo:|image:|来源|作者|记者|编辑|责编|责任编辑|"
    r"发布时间|发布日期|时间[:：]|您所在的位置|当前位置|微信号)",
    re.IGNORECASE,
)
"""How a byline, credit, dateline or "you are here" line begins."""
BREADCRUMB = re.compile(r"^(首页|home)$|^>|>$", re.IGNORECASE)
"""A breadcrumb's part on a line of its own (``首页 >``, ``快讯 >``, ``> 科技湃``); not ``»`` or ``›``,
which open and close quotations in German and French."""
REPORTER = re.compile(r"记者|通讯员")
STAMP = re.compile(
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{1,2}:\d{2}\b"
)
"""A date or a time of day as pages print them beside a byline (``2026-12-03 08:36``, ``08.04.2015``)."""
CREDIT_MAX_CHARS = 30
"""A line with a reporter, or a date or time, and at most this much else is a credit."""
SENTENCE = re.compile(r"[，。；]|[.!?！？]['\"’”」』)）]?$")
"""A Chinese clause mark anywhere, or a sentence's end: the line is the story."""


def lead(body: str, title: str) -> str:
    """``body`` from its first line that is neither the title again nor a credit (see the module)."""
    lines = body.split("\n")
    while len(lines) > 1 and (
        not lines[0].strip()
        or lines[0].strip() == title.strip()
        or (len(lines[0]) <= LEAD_LINE_MAX_CHARS and is_credit(lines[0].strip()))
    ):
        lines = lines[1:]
    return "\n".join(lines)


def is_credit(line: str) -> bool:
    """Whether a short line before the story is the original headline, a breadcrumb's part, or a byline,
    credit or dateline that does not read as a sentence."""
    if ORIGINAL_TITLE.match(line) or BREADCRUMB.search(line):
        return True
    if SENTENCE.search(line):
        return False
    if CREDIT.match(line):
        return True
    if len(line) <= CREDIT_MAX_CHARS and REPORTER.search(line):
        return True
    rest = STAMP.sub("", line)
    return rest != line and len(rest.strip()) <= CREDIT_MAX_CHARS


def snippet(body: str, title: str = "") -> str:
    """The lead of the body, cut at a word boundary in spaced scripts, at a character in Chinese."""
    body = lead(body, title)
    limit = SNIPPET_CHARS if not has_cjk(body[:SNIPPET_CHARS]) else SNIPPET_CHARS // 2
    if len(body) <= limit:
        return body
    cut = body[:limit]
    if " " in cut[-30:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"
