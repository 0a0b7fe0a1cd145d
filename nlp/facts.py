"""Facts that survive translation, as evidence that two texts tell the same event.

Figures are the strongest: the same value whether written 120,000, 12万, 0.12 million or １２万, and
different events of one kind rarely share them (used within a language and across languages). Across
languages, stories also compare the dates named (weekdays, month and day), the names written in Latin
letters inside Chinese text (Voltly, iPhone, 5G) and the watched entities resolved across their aliases
(诺瓦商城 = NovaMart).

A figure is normalised to its value: digits (ASCII or full-width) with thousands separators and
decimals, Chinese numerals that carry a digit (十二万, 三百五十), scaled by what follows (hundred,
thousand, million, billion, trillion, bn; 十 百 千 万 亿 and their runs, 百万 = 10^6, 万亿 = 10^12),
and percentages (6%, 6 percent, 百分之六) kept apart as
``6%``. Small counts (under 10) and years (1900-2099 written alone) say little and are left out.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

ENGLISH_SCALE = {"hundred": 2, "thousand": 3, "million": 6, "billion": 9, "trillion": 12, "bn": 9}
CHINESE_SCALE = {"十": 1, "百": 2, "千": 3, "万": 4, "亿": 8}
CHINESE_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
FIGURE = re.compile(
    r"(?P<percent_cn>百分之)?"
    rf"(?:(?P<digits>\d+(?:,\d{{3}})*(?:\.\d+)?)|(?P<chinese>[{_CN_NUMERAL}]+))"
    r"(?P<cn_scale>[十百千万亿]*)"
    r"(?:\s*(?P<percent>%|percent\b|per\s+cent\b|pct\b)"
    r"|\s*(?P<en_scale>hundred|thousand|million|billion|trillion|bn)\b)?",
    re.IGNORECASE,
)
MIN_COUNT = 10
WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_ZH = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
MONTHS_EN = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAY_EN = re.compile(r"\b(" + "|".join(WEEKDAYS_EN) + r")\b", re.IGNORECASE)
MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
DAY_MONTH_EN = re.compile(rf"\b(?:{MONTH}\s+(\d{{1,2}})|(\d{{1,2}})\s+{MONTH})\b", re.IGNORECASE)
MONTH_DAY_ZH = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
LATIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9&.+-]*[A-Za-z0-9+]|[A-Za-z]")
"""A run of Latin letters and digits, as brand and product names are written inside Chinese text."""


def figures_in(text: str) -> frozenset[str]:
    """The figures of ``text``, each as a normalised value (``120000``, ``350000000``, ``6%``)."""
    return frozenset(
        figure for figure, value, _ in _figures(text) if figure.endswith("%") or value >= MIN_COUNT
    )


def numerals_in(text: str) -> frozenset[str]:
    """Every figure written with digits, small ones too (2 basis points, 9 factories): a reprint keeps
    them all as they were, so two texts that disagree on them tell different events."""
    return frozenset(figure for figure, _, digits in _figures(text) if digits)


def _figures(text: str) -> list[tuple[str, Decimal, bool]]:
    """(normalised figure, value, written with digits) for each figure of ``text`` but years."""
    found = []
    for match in FIGURE.finditer(unicodedata.normalize("NFKC", text)):
        value = _value(match)
        if value is None or _year(match, value):
            continue
        percent = match["percent"] or match["percent_cn"]
        found.append((_plain(value) + ("%" if percent else ""), value, bool(match["digits"])))
    return found


def _value(match: re.Match[str]) -> Decimal | None:
    value: Decimal | None
    if match["digits"]:
        try:
            value = Decimal(match["digits"].replace(",", ""))
        except InvalidOperation:
            return None
    else:
        value = _chinese_number(match["chinese"])
    if value is None:
        return None
    exponent = sum(CHINESE_SCALE[ch] for ch in match["cn_scale"] or "")
    if match["en_scale"]:
        exponent += ENGLISH_SCALE[match["en_scale"].lower()]
    return value.scaleb(exponent)


def _chinese_number(numeral: str) -> Decimal | None:
    """The value of a Chinese numeral that names at least one digit (三百五十, 十二万); None for bare
    scale words (千万 in 千万不要), which are not figures."""
    if not any(ch in CHINESE_DIGIT for ch in numeral):
        return None
    if all(ch in CHINESE_DIGIT for ch in numeral):  # digit by digit, as in 二〇二六
        return Decimal("".join(str(CHINESE_DIGIT[ch]) for ch in numeral))
    total, section, digit = 0, 0, 0
    for ch in numeral:
        if ch in CHINESE_DIGIT:
            digit = CHINESE_DIGIT[ch]
        elif CHINESE_SCALE[ch] >= 4:  # 万, 亿 scale everything before them
            total = (total + section + digit) * 10 ** CHINESE_SCALE[ch]
            section = digit = 0
        else:
            section += (digit or 1) * 10 ** CHINESE_SCALE[ch]
            digit = 0
    return Decimal(total + section + digit)


def _year(match: re.Match[str], value: Decimal) -> bool:
    """Four digits alone (2026, 二〇二六) between 1900 and 2099."""
    written = match["digits"] or match["chinese"]
    return not match["cn_scale"] and not match["en_scale"] and len(written) == 4 and 1900 <= value <= 2099


def _plain(value: Decimal) -> str:
    """A value written the same way however it was given: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def dates_in(text: str) -> frozenset[str]:
    """Weekdays (``wd:2`` for Tuesday, 周二, 星期二) and month-days (``md:11-03`` for November 3, 3 Nov,
    11月3日) named in ``text``."""
    text = unicodedata.normalize("NFKC", text)
    found = {f"wd:{WEEKDAYS_EN.index(m.lower()) + 1}" for m in WEEKDAY_EN.findall(text)}
    found |= {f"wd:{'一二三四五六日天'.index(m) + 1 if m != '天' else 7}" for m in WEEKDAY_ZH.findall(text)}
    for month_a, day_a, day_b, month_b in DAY_MONTH_EN.findall(text):
        month = MONTHS_EN.index((month_a or month_b)[:3].lower()) + 1
        found.add(f"md:{month:02d}-{int(day_a or day_b):02d}")
    found |= {f"md:{int(month):02d}-{int(day):02d}" for month, day in MONTH_DAY_ZH.findall(text)}
    return frozenset(found)


def names_in(text: str, language: str) -> frozenset[str]:
    """Names that a translation keeps as written: Latin-script words inside Chinese text (at least two
    characters, at least one a letter), and in English the words that could be such a name (capitalised,
    mixed case, or letters with digits). Their intersection is the evidence; lower-cased."""
    text = unicodedata.normalize("NFKC", text)
    words = LATIN_NAME.findall(text)
    if language == "zh":
        return frozenset(w.lower() for w in words if len(w) >= 2 and any(c.isalpha() for c in w))
    return frozenset(
        w.lower()
        for w in words
        if len(w) >= 2 and any(c.isalpha() for c in w) and (not w.islower() or any(c.isdigit() for c in w))
    )


def translation_facts(title: str, text: str, language: str, entities: frozenset[str]) -> frozenset[str]:
    """Besides its figures, what a text says that its translation says too, as prefixed tokens without
    spaces: dates (``wd:``, ``md:``), Latin names (``n:``) and watched entities (``e:``, by name)."""
    whole = f"{title}\n{text}"
    return frozenset(
        {
            *dates_in(whole),
            *(f"n:{name}" for name in names_in(whole, language)),
            *("e:" + entity.casefold().replace(" ", "_") for entity in entities),
        }
    )
