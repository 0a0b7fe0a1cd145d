"""Extraction quality on public page sets: main text, title, date, language, and a boilerplate signal.

    python benchmarks/extraction.py [--data ../shared/data] [--pages DIR ...] [--worst 5]

Sets read from DIR (each skipped, with a note, when missing):
  article_extraction_benchmark  gold article bodies                             -> body
  fundus_news_html              maintainer-reviewed parser output (title, time) -> body, title, date
  readability_test_pages        readability's article HTML and metadata         -> body, title, date
  newspaper4k_fixtures          newspaper4k's text and metadata                 -> body, title, date
  gne_zh_news_html              Chinese portal pages; no gold, GNE's own output for 20 pages as a
                                rough reference for title and Beijing time      -> title, date (reference)
``--pages DIR`` (repeatable) scores any folder of ``*.html`` / ``*.html.gz`` with a ``gold.jsonl`` of
``{"file", "url", "title", "published", "body", "lang"}`` (any field may be null), under the folder's name.

Per set and per language: body token F1 (words, and single characters for Chinese, Japanese and Korean),
title exact-match rate (case, width, quote marks and spaces folded, a site suffix trimmed from both), date
accuracy (within 1 minute in UTC where the gold has a time; the same day where it has a day), language
accuracy (the detector on title and text with the page's ``<html lang>`` as the hint, as the pipeline
does, against the gold language or what lingua, over all its languages, says of the reference text;
lorem-ipsum placeholders, references under 50 characters and languages outside the candidates are not
scored; an empty body counts as wrong), and the share of pages whose body is under half of what a plain
``trafilatura.extract`` pass finds (a boilerplate signal that needs no gold). Gold times without an
offset are the site's local time (fundus: its country's zone; fundus writes a day as midnight, read as
that day).
Ends with one JSON line of figures keyed by set (``body_f1``, ``title_exact``, ``date_ok``, ``lang_ok``,
``short_body_share``, ``n``, and ``languages`` per language).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import trafilatura
from lingua import LanguageDetector, LanguageDetectorBuilder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.encoding import decode_html  # noqa: E402
from crawlers.records import RawItem  # noqa: E402
from nlp.dates import COUNTRY_ZONES, site_zone  # noqa: E402
from nlp.extract import extract  # noqa: E402
from nlp.language import ItemLanguageDetector  # noqa: E402
from nlp.normalize import normalize_text  # noqa: E402
from nlp.titles import strip_site_suffix, title_key  # noqa: E402

TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+")
PLACEHOLDER = re.compile(r"lorem ipsum", re.IGNORECASE)
MIN_REFERENCE_CHARS = 50
"""A reference text shorter than this ("Test Case 1 Test Case 2") has no knowable language: unscored."""
LANGUAGES = [
    "en",
    "zh",
    "de",
    "fr",
    "es",
    "pt",
    "it",
    "nl",
    "ru",
    "ja",
    "ko",
    "ar",
    "tr",
    "pl",
    "sv",
    "da",
    "fi",
    "cs",
    "hu",
    "ro",
    "uk",
    "id",
    "vi",
    "th",
    "el",
    "he",
    "hi",
    "lv",
    "nb",
]


@dataclass
class Page:
    name: str
    html: bytes
    url: str
    reference: str | None
    language: str | None = None
    title: str | None = None
    published: str | None = None
    """Gold publication time (ISO, with or without an offset) or day (``YYYY-MM-DD``)."""
    zone: str | None = None
    """Where ``published`` is written without an offset: the zone it is in."""


@dataclass
class Score:
    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    nonempty: bool
    right_language: bool | None
    language: str | None = None
    title_exact: bool | None = None
    date_ok: bool | None = None
    short_body: bool = False
    """The body is less than half of what a plain trafilatura pass finds (a boilerplate signal)."""


def tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(text.lower()))


def prf(predicted: str, reference: str) -> tuple[float, float, float]:
    got, want = tokens(predicted), tokens(reference)
    overlap = sum((got & want).values())
    precision = overlap / max(1, sum(got.values()))
    recall = overlap / max(1, sum(want.values()))
    f1 = 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def html_text(fragment: str) -> str:
    try:
        tree = lxml.html.fromstring(fragment)
    except (lxml.etree.ParserError, ValueError):
        return ""
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return "\n".join(" ".join(t.split()) for t in tree.itertext() if t.strip())


def read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def scrapinghub(root: Path) -> Iterator[Page]:
    truth = json.loads((root / "ground-truth.json").read_text("utf-8"))
    for key, entry in sorted(truth.items()):
        host = urlsplit(entry["url"]).netloc.removeprefix("www.")
        yield Page(
            f"{host} {key[:8]}", read(root / "html" / f"{key}.html.gz"), entry["url"], entry["articleBody"]
        )


def fundus(root: Path) -> Iterator[Page]:
    for entry in json.loads((root / "index.json").read_text("utf-8")):
        expected = json.loads((root / entry["expected_json"]).read_text("utf-8"))[entry["expected_key"]]
        body = expected.get("body") or {}
        parts = list(body.get("summary", []))
        for section in body.get("sections", []):
            parts += section.get("headline", []) + section.get("paragraphs", [])
        published = expected.get("publishing_date")
        if isinstance(published, str) and published.endswith(" 00:00:00"):
            published = published[:10]  # fundus writes a day as midnight
        yield Page(
            f"{entry['country']}/{entry['publisher']}",
            read(root / entry["html"]),
            entry["url"],
            "\n".join(parts),
            title=expected.get("title"),
            published=published,
            zone=COUNTRY_ZONES.get(entry["country"]),  # a time without offset is mostly the publisher's
        )


def readability(root: Path) -> Iterator[Page]:
    for folder in sorted((root / "test-pages").iterdir()):
        if (folder / "source.html").exists() and (folder / "expected.html").exists():
            expected = html_text((folder / "expected.html").read_text("utf-8", errors="replace"))
            meta_file = folder / "expected-metadata.json"
            meta = json.loads(meta_file.read_text("utf-8")) if meta_file.exists() else {}
            yield Page(
                folder.name,
                (folder / "source.html").read_bytes(),
                f"http://example.com/{folder.name}",
                expected,
                title=meta.get("title"),
                published=meta.get("publishedTime"),
            )


def newspaper4k(root: Path) -> Iterator[Page]:
    for html in sorted((root / "html").glob("*.html")):
        text = root / "txt" / f"{html.stem}.txt"
        reference = text.read_text("utf-8", errors="replace") if text.exists() else None
        meta_file = root / "metadata" / f"{html.stem}.json"
        meta = json.loads(meta_file.read_text("utf-8")) if meta_file.exists() else {}
        published = meta.get("publish_date")
        if isinstance(published, str) and published.endswith("T00:00:00"):
            published = published[:10]  # newspaper4k writes a day as midnight
        yield Page(
            html.stem,
            html.read_bytes(),
            meta.get("url") or f"http://example.com/{html.stem}",
            reference,
            title=meta.get("title"),
            published=published,
        )


GNE_TIME = re.compile(r"(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})\D*?(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def gne(root: Path) -> Iterator[Page]:
    """No gold here: GNE's own output for 20 pages (title, Beijing time) is a rough reference only."""
    reference_file = root / "gne_tool_output_NOT_GOLD.json"
    reference = json.loads(reference_file.read_text("utf-8")) if reference_file.exists() else {}
    for html in sorted((root / "article_pages").glob("*/*.html")):
        known = reference.get(f"tests/{html.parent.name}/{html.name}", {})
        yield Page(
            f"{html.parent.name}/{html.stem}",
            html.read_bytes(),
            f"http://example.com/{html.parent.name}",
            None,
            language="zh",
            title=known.get("title"),
            published=_gne_time(known.get("publish_time") or ""),
            zone="Asia/Shanghai",
        )


def _gne_time(text: str) -> str | None:
    found = GNE_TIME.search(text.strip())
    if not found:
        return None
    year, month, day, hour, minute, second = found.groups()
    if hour is None:
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{minute}:{second or '00'}"


def folder_pages(root: Path) -> Iterator[Page]:
    """``--pages DIR``: ``*.html`` or ``*.html.gz`` with a ``gold.jsonl`` of
    ``{"file", "url", "title", "published", "body", "lang"}`` (any field may be null)."""
    for line in (root / "gold.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        yield Page(
            str(gold["file"]),
            read(root / str(gold["file"])),
            gold.get("url") or f"http://example.com/{gold['file']}",
            gold.get("body"),
            language=gold.get("lang"),
            title=gold.get("title"),
            published=gold.get("published"),
        )


SETS = {
    "article_extraction_benchmark": scrapinghub,
    "fundus_news_html": fundus,
    "readability_test_pages": readability,
    "newspaper4k_fixtures": newspaper4k,
    "gne_zh_news_html": gne,
}


@functools.cache
def _every_language() -> LanguageDetector:
    return LanguageDetectorBuilder.from_all_languages().build()


def reference_language(text: str) -> str | None:
    """The gold text's language among all that lingua knows, so that a page in a language outside the
    candidates (Icelandic, Zulu) is left unscored instead of scored against a candidate's wrong guess."""
    found = _every_language().detect_language_of(text[:2000])
    return found.iso_code_639_1.name.lower() if found is not None else None


def score(page: Page, detector: ItemLanguageDetector) -> Score:
    text, _ = decode_html(page.html)
    now = datetime.now(UTC)
    result = extract(RawItem(source="bench", url=page.url, html=text, fetched_at=now))
    body = result.text
    nonempty = len(body.strip()) > 0
    long_enough = page.reference is not None and len(page.reference.strip()) >= MIN_REFERENCE_CHARS
    expected_language = page.language or (reference_language(page.reference or "") if long_enough else None)
    if page.reference and PLACEHOLDER.search(page.reference) or expected_language not in LANGUAGES:
        expected_language = None  # lorem ipsum has no right answer; nor has a language we do not detect
    language = detector.detect(f"{result.title}\n{body}", hint=result.html_lang) if nonempty else None
    right = None if expected_language is None else language == expected_language
    plain = trafilatura.extract(text, include_comments=False) or ""
    found = Score(
        page.name,
        None,
        None,
        None,
        nonempty,
        right,
        language=expected_language if expected_language not in (None, "und") else language,
        title_exact=same_title(result.title, page.title, result.site_name) if page.title else None,
        date_ok=same_date(result.published, result.date_precision, page) if page.published else None,
        short_body=len(body) < 0.5 * len(normalize_text(plain)),
    )
    if page.reference is not None and page.reference.strip():
        found.precision, found.recall, found.f1 = prf(body, page.reference)
    return found


def same_title(ours: str, gold: str, site_name: str | None) -> bool:
    """Equal after folding case, width, quote marks and spaces, and trimming a site suffix from both (a
    suffix that names the site, or one whose cut leaves exactly the other title)."""
    return title_key(strip_site_suffix(ours.strip(), site_name, [gold])) == title_key(
        strip_site_suffix(gold.strip(), site_name, [ours])
    )


def same_date(ours: datetime | None, precision: str, page: Page) -> bool:
    """Within a minute of a gold time (UTC); the same day as a gold day (in UTC or the site's zone)."""
    if ours is None or page.published is None:
        return False
    gold_text = page.published.strip().replace(" ", "T", 1)
    if len(gold_text) == 10:
        day = date.fromisoformat(gold_text)
        zone = ZoneInfo(page.zone) if page.zone else site_zone(None, page.url, page.language)
        return day in (ours.date(), ours.astimezone(zone).date())
    gold = datetime.fromisoformat(gold_text)
    if gold.tzinfo is None:  # a naive gold time is the site's local time
        gold = gold.replace(
            tzinfo=ZoneInfo(page.zone) if page.zone else site_zone(None, page.url, page.language)
        )
    return precision == "datetime" and abs((ours - gold).total_seconds()) <= 60


def _mean(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(scores: list[Score]) -> dict[str, object]:
    graded = [s for s in scores if s.f1 is not None]
    languages = [s.right_language for s in scores if s.right_language is not None]
    figures: dict[str, object] = {
        "pages": len(scores),
        "n": len(scores),
        "nonempty": sum(s.nonempty for s in scores),
    }
    if languages:
        figures["right_language"] = sum(languages)
        figures["language_checked"] = len(languages)
    if graded:
        for metric in ("precision", "recall", "f1"):
            figures[metric] = round(statistics.fmean(getattr(s, metric) for s in graded), 4)
        figures["graded"] = len(graded)
        figures["median_f1"] = round(statistics.median(s.f1 for s in graded if s.f1 is not None), 4)
    figures["body_f1"] = figures.get("f1")
    figures["title_exact"] = _mean([s.title_exact for s in scores if s.title_exact is not None])
    figures["titles_checked"] = sum(1 for s in scores if s.title_exact is not None)
    figures["date_ok"] = _mean([s.date_ok for s in scores if s.date_ok is not None])
    figures["dates_checked"] = sum(1 for s in scores if s.date_ok is not None)
    figures["lang_ok"] = _mean(languages)
    figures["short_body_share"] = _mean([s.short_body for s in scores])
    return figures


def by_language(scores: list[Score]) -> dict[str, dict[str, object]]:
    groups: dict[str, list[Score]] = {}
    for found in scores:
        groups.setdefault(found.language or "und", []).append(found)
    return {
        language: {key: value for key, value in summarise(group).items() if key in PER_LANGUAGE}
        for language, group in sorted(groups.items(), key=lambda item: -len(item[1]))
    }


PER_LANGUAGE = ("n", "body_f1", "title_exact", "date_ok", "lang_ok", "short_body_share")
COLUMNS = ("n", "body_f1", "title_exact", "date_ok", "lang_ok", "short_body_share")


def run_set(
    name: str, pages: Iterator[Page], detector: ItemLanguageDetector, worst: int
) -> dict[str, object]:
    scores = [score(page, detector) for page in pages]
    figures = summarise(scores)
    figures["languages"] = by_language(scores)
    ranked = sorted((s for s in scores if s.f1 is not None), key=lambda s: s.f1 or 0)[:worst]
    figures["worst"] = [[s.name[:60], round(s.f1 or 0, 3)] for s in ranked]
    figures["short_bodies"] = [s.name[:60] for s in scores if s.short_body]
    print(f"ran {name}: {len(scores)} pages", file=sys.stderr)
    return figures


def print_table(results: dict[str, dict[str, object]]) -> None:
    def cell(value: object) -> str:
        return "-" if value is None else str(value)

    print(f"{'set / language':38} " + " ".join(f"{column:>16}" for column in COLUMNS))
    for name, figures in results.items():
        print(f"{name:38} " + " ".join(f"{cell(figures.get(column)):>16}" for column in COLUMNS))
        languages = figures.get("languages", {})
        assert isinstance(languages, dict)
        for language, part in list(languages.items())[:6]:
            print(f"  {language:36} " + " ".join(f"{cell(part.get(column)):>16}" for column in COLUMNS))
        for page, f1 in figures.get("worst", []):  # type: ignore[attr-defined]
            print(f"    worst: {f1:<6} {page}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--pages", type=Path, action="append", default=[], help="Folder with gold.jsonl.")
    parser.add_argument("--worst", type=int, default=5, help="Worst pages listed per set.")
    args = parser.parse_args()
    detector = ItemLanguageDetector(LANGUAGES)
    results: dict[str, dict[str, object]] = {}
    for name, reader in SETS.items():
        root = args.data / name
        if not root.is_dir():
            print(f"skipped {name}: not in {args.data}", file=sys.stderr)
            continue
        results[name] = run_set(name, reader(root), detector, args.worst)
    for folder in args.pages:
        if not (folder / "gold.jsonl").is_file():
            print(f"skipped {folder}: no gold.jsonl there", file=sys.stderr)
            continue
        results[folder.name] = run_set(folder.name, folder_pages(folder), detector, args.worst)
    print_table(results)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
