"""Language detection: script rules for CJK, lingua for the rest.

lingua-language-detector is maintained, works offline, and is the most accurate
open detector on short text (titles, posts) in published comparisons; restricting
it to the configured candidate languages makes it faster and more accurate still.
Chinese, Japanese and Korean are told apart by script before lingua is asked.
"""

from __future__ import annotations

import re

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA = re.compile(r"[\u3040-\u30fa\u30fd-\u30ff]")
"""Hiragana and katakana, less the middle dot ・ and the long-vowel mark ー that Chinese text also uses
(唐纳德・特朗普)."""
MIN_KANA_SHARE = 0.05
"""Japanese writes grammar in kana (a third or more of its letters); Chinese text that quotes a few kana
stays Chinese. Below this share of the Han and kana, kana do not make a text Japanese."""
HANGUL = re.compile(r"[\uac00-\ud7af]")
LETTER = re.compile(r"[^\W\d_]")
SCRIPT_SAMPLE = 2000
"""Characters whose scripts are counted (cheap)."""
MODEL_SAMPLE = 600
"""Characters lingua reads: its time grows with the text (about 1 ms per 1,000 characters); 300 instead
of 600 changed the answer on 24 of 509 development pages, so it stays at 600."""
CORROBORATE_SAMPLE = 200
"""Characters lingua reads first when the item comes with a language (its source's, or the page's
``<html lang>``): if both say the same, that is the answer, at a third of the time. In
benchmarks/extraction.py (594 pages, 29 candidates) it changed three answers: a Zulu page and a Latin
placeholder page that declare ``en`` (neither language is a candidate, so both answers are wrong) and an
empty page that declares ``ko``; right-language counts moved 256 -> 255 and 129 -> 128 of 258 and 130."""


class ItemLanguageDetector:
    """Detects ISO 639-1 codes among ``candidates``; returns ``und`` when unsure."""

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = candidates
        unknown = [code for code in candidates if _language(code) is None]
        if unknown:
            raise ValueError(f"language.candidates: unknown ISO 639-1 codes {unknown}")
        self._languages = [lang for lang in map(_language, candidates) if lang is not None]
        self._latin: LanguageDetector | None = None

    def detect(self, text: str, hint: str | None = None) -> str:
        """The language of ``text``; ``hint`` (what the source or page declares) is the answer when a
        short sample confirms it, and when the text has no letters or lingua cannot tell."""
        sample = text[:SCRIPT_SAMPLE]
        letters = len(LETTER.findall(sample))
        if letters == 0:
            return hint or "und"
        han, kana, hangul = (len(p.findall(sample)) for p in (HAN, KANA, HANGUL))
        declared = (hint or "").split("-")[0].lower()
        japanese = kana >= MIN_KANA_SHARE * (han + kana) and (han + kana) / letters > 0.2
        if declared == "zh" and han / letters > 0.3 and kana < 0.3 * (han + kana):
            japanese = False  # a declared Chinese source or page quoting some Japanese
        if kana and japanese and "ja" in self.candidates:
            return "ja"
        if hangul / letters > 0.3 and "ko" in self.candidates:
            return "ko"
        if han / letters > 0.3 and "zh" in self.candidates:
            return "zh"
        detector = self._detector()
        if declared in self.candidates and len(sample) > CORROBORATE_SAMPLE:
            quick = detector.detect_language_of(sample[:CORROBORATE_SAMPLE])
            if quick is not None and quick.iso_code_639_1.name.lower() == declared:
                return declared
        found = detector.detect_language_of(sample[:MODEL_SAMPLE])
        if found is None:
            return hint or "und"
        return found.iso_code_639_1.name.lower()

    def _detector(self) -> LanguageDetector:
        if self._latin is None:
            languages = self._languages if len(self._languages) > 1 else [*self._languages, Language.ENGLISH]
            self._latin = LanguageDetectorBuilder.from_languages(*set(languages)).build()
        return self._latin


def _language(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except AttributeError:
        return None
