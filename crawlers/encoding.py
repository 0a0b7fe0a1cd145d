"""Decode fetched bytes to text even when the declared charset lies or is missing."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
FALLBACKS = ("utf_8", "gb18030", "big5hkscs", "cp932", "euc_kr", "cp1252")
SINGLE_BYTE = frozenset({"cp1252", "latin_1", "iso8859_15", "ascii"})
# Declared names that real pages use for a superset; decoding with the superset loses nothing.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)`` for page bytes whose declared charset may lie.

    Order: a BOM; valid UTF-8 (multi-byte text in another encoding is practically never valid UTF-8,
    so this catches the usual lie); the declared charset; the in-document one; common encodings.
    """
    for bom, bom_codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(bom_codec, errors="replace"), bom_codec
    head = body[:4096]
    in_document = [
        m.group(1).decode("ascii", "ignore") for p in (META_CHARSET, XML_ENCODING) if (m := p.search(head))
    ]
    declared_codec = _codec(declared) if declared else None
    candidates: list[str | None] = ["utf-8"]
    if declared_codec not in SINGLE_BYTE:  # a single-byte charset decodes anything, so it cannot win early
        candidates.append(declared)
    candidates.extend(in_document)
    if declared_codec in SINGLE_BYTE or not (declared or in_document):
        candidates.append(_detected(body))
    candidates.extend([declared, *FALLBACKS])
    for candidate in candidates:
        name = _codec(candidate) if candidate else None
        if name is None:
            continue
        try:
            return body.decode(name), name
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace"), "utf-8"


def charset_from_content_type(value: str | bytes | None) -> str | None:
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", text, re.IGNORECASE)
    return match.group(1) if match else None


def _detected(body: bytes) -> str | None:
    """Statistical guess among the encodings news sites use, when nothing (credible) is declared."""
    best = from_bytes(body[:65536], cp_isolation=list(FALLBACKS)).best()
    return best.encoding if best else None


def _codec(name: str) -> str | None:
    name = SUPERSETS.get(name.strip().lower(), name.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None
