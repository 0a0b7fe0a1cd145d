"""Text analysis for indexing and querying: lower-cased words, and overlapping bigrams for Chinese.

Bigrams need no dictionary, so names that no segmenter knows (诺瓦商城) are found by any
substring of two or more characters, exactly as the watchlist matcher finds them.
"""

from __future__ import annotations

import re

from nlp.normalize import HAN_RANGES, KANA_HANGUL_RANGES, WORD_JOINER, fold

TOKENS = re.compile(rf"([{HAN_RANGES}]+)|({WORD_JOINER}+|[{KANA_HANGUL_RANGES}]+)")
"""Han runs (bigrammed), words of spaced scripts (where the query language's whole-word rule ends
them), and runs of kana or Hangul."""


def analyze(text: str) -> list[str]:
    """Index terms of ``text`` in order: words, and for each Chinese run its overlapping bigrams."""
    out: list[str] = []
    for match in TOKENS.finditer(fold(text)):
        run = match.group(1)
        if run is None:
            out.append(match.group(2))
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def analyzed_text(text: str) -> str:
    """``analyze`` joined by spaces, for a field with the whitespace tokenizer."""
    return " ".join(analyze(text))
