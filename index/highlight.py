"""Backend-independent highlighting: HTML-escaped snippets with the query's terms in ``<mark>``."""

from __future__ import annotations

from html import escape

from nlp.normalize import fold
from nlp.query import find_term

SNIPPET_CHARS = 200


def highlight(text: str, terms: list[str], max_snippets: int = 1, whole: bool = False) -> list[str]:
    """Snippets of ``text`` around the first hits of ``terms``; ``whole`` marks the whole text instead."""
    folded = fold(text)
    spans = sorted({span for term in terms for span in find_term(folded, term)})
    spans = _merge(spans)
    if not spans:
        return []
    if whole:
        return [_mark(text, spans, 0, len(text))]
    snippets: list[str] = []
    used_until = -1
    for start, _ in spans:
        if start < used_until or len(snippets) >= max_snippets:
            continue
        begin = max(0, start - SNIPPET_CHARS // 3)
        end = min(len(text), begin + SNIPPET_CHARS)
        snippet = _mark(text, spans, begin, end)
        snippets.append(("…" if begin > 0 else "") + snippet + ("…" if end < len(text) else ""))
        used_until = end
    return snippets


def highlight_hit(doc: dict[str, object], terms: list[str]) -> dict[str, list[str]]:
    """Highlights of a stored document: the whole title marked, and a snippet of the body."""
    found = {}
    for name in ("title", "body"):
        fragments = highlight(str(doc[name]), terms, whole=name == "title") if terms else []
        if fragments:
            found[name] = fragments
    return found


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], begin: int, end: int) -> str:
    out = []
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(escape(text[cursor:start]))
        out.append(f"<mark>{escape(text[start:stop])}</mark>")
        cursor = stop
    out.append(escape(text[cursor:end]))
    return "".join(out).replace("\n", " ")
