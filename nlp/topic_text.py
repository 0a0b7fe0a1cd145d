"""Words for topic keywords in English and Chinese: jieba segments Chinese runs, Latin words are kept whole.

BERTopic's default vectorizer splits on word boundaries, so a Chinese title (no spaces) becomes one
"word" and a Chinese topic's keywords come out as whole sentences (BERTopic issues #1157, #1821). Here
each Han run is segmented by jieba (its bundled dictionary, no download), Latin-script words and
numbers-with-letters (5G, iPhone) are kept as they are written, and stop words of both languages are
dropped (the stopwords-iso lists, shipped by the ``stopwordsiso`` package).
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cache

import jieba
import stopwordsiso

from nlp.normalize import HAN_RANGES

LETTER = rf"(?:(?![{HAN_RANGES}])[^\W\d_])"
WORD_CHAR = rf"(?:(?![{HAN_RANGES}])\w)"
RUNS = re.compile(
    rf"([{HAN_RANGES}]+)|({LETTER}(?:{WORD_CHAR}|['’-](?={WORD_CHAR}))*|\d+{LETTER}{WORD_CHAR}*)"
)
"""A Han run, or a Latin-script word (letters first, inner apostrophes and hyphens; digits then letters
as in 5G)."""
MEASURE = re.compile(r"\d{2,}")
"""Numbers with units (12gwh, 2026年) say nothing about a topic; 5g and 4k stay."""
POSSESSIVE = re.compile(r"['’]s$")
EXTRA_STOP_WORDS = frozenset(
    {
        "said",
        "says",
        "told",
        "year",
        "years",
        "new",
        "also",
        "would",
        "could",
        "one",
        "two",
        "mr",
        "ms",
        "staff",
        "reporter",
        "correspondent",
        "editor",
        "表示",
        "部分",
        "方面",
        "情况",
        "记者",
        "报道",
        "日电",
        "新华社",
        "今年",
        "去年",
        "目前",
        "已经",
        "进行",
        "相关",
        "一个",
    }
)
"""Words news text is full of that say nothing about a topic (reporting verbs, datelines)."""
_jieba_lock = threading.Lock()


@cache
def stop_words() -> frozenset[str]:
    """English and Chinese stop words (stopwords-iso) and the news words above, lower-cased."""
    words = set(stopwordsiso.stopwords("en")) | set(stopwordsiso.stopwords("zh")) | EXTRA_STOP_WORDS
    return frozenset(word.lower() for word in words)


@cache
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with _jieba_lock:
        tokenizer.initialize()
    return tokenizer


def topic_words(text: str) -> list[str]:
    """The keyword candidates of ``text`` in order: segmented Chinese words of two or more characters and
    Latin-script words of two or more letters, lower-cased, without stop words."""
    segmenter = _segmenter()
    stops = stop_words()
    words: list[str] = []
    for match in RUNS.finditer(text):
        han, latin = match.groups()
        pieces = segmenter.lcut(han, HMM=True) if han else [POSSESSIVE.sub("", latin.lower())]
        words.extend(
            piece for piece in pieces if len(piece) >= 2 and piece not in stops and not MEASURE.match(piece)
        )
    return words
