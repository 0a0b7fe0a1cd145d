"""Text normalisation shared by extraction, matching and deduplication."""

from __future__ import annotations

import hashlib
import re
import unicodedata

WHITESPACE = re.compile(r"[ \t\u00a0\u3000]+")
BLANK_LINES = re.compile(r"\n{3,}")
BOILERPLATE = re.compile(
    r"^(advertisement|advert|sponsored|share this( article)?|subscribe( now)?|read more|related( articles)?|"
    r"广告|分享到|相关阅读|责任编辑[:：].*|来源[:：].{0,20})$",
    re.IGNORECASE,
)
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA_HANGUL_RANGES = "\u3040-\u30ff\uac00-\ud7af"
UNSPACED_RANGES = HAN_RANGES + KANA_HANGUL_RANGES
"""Han, kana and Hangul: scripts where a Latin term's word ends (苹果发布新iPhone, 삼성은 Galaxy를)."""
WORD_JOINER = rf"[^\W_{UNSPACED_RANGES}]"
"""A character that continues a word of a spaced script (a letter or digit that is not Han, kana or
Hangul): the one whole-word rule of watchlists, the query language and the index analysers."""
_JOINER = re.compile(WORD_JOINER)
CJK = re.compile(f"[{HAN_RANGES}]")
WORD_OR_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """NFC, tidy whitespace, drop boilerplate lines. Display text keeps its full-width punctuation;
    :func:`fold` applies NFKC for matching."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for line in text.split("\n"):
        line = WHITESPACE.sub(" ", line).strip()
        if BOILERPLATE.match(line):
            continue
        lines.append(line)
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def fold(text: str) -> str:
    """Matching form: NFKC (full-width to half-width) and lower case, character by character where that
    keeps one character, so offsets in the folded text are offsets in the original."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLDED)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that works out each character's folded form once, when first seen."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch)
        folded = folded if len(folded) == 1 else ch
        lowered = folded.lower()
        self[code] = lowered if len(lowered) == 1 else folded
        return self[code]


_FOLDED = _FoldTable()


def tokens(text: str) -> list[str]:
    """Words for alphabetic scripts and single characters for Chinese, lower-cased."""
    return WORD_OR_CJK.findall(fold(text))


def content_hash(text: str) -> str:
    """Hash of the text's tokens: equal for texts that differ only in case, spacing or punctuation."""
    return hashlib.sha1(" ".join(tokens(text)).encode("utf-8")).hexdigest()


def joins_words(ch: str) -> bool:
    """Whether ``ch`` continues a word of a spaced script (see :data:`WORD_JOINER`)."""
    return _JOINER.match(ch) is not None


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None
