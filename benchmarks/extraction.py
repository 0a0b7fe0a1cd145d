"""Extraction quality on public page sets: token precision, recall and F1 of the main text.

    python benchmarks/extraction.py [--data ../shared/data] [--worst 5]

Sets read from DIR (each skipped, with a note, when missing):
  article_extraction_benchmark  gold article bodies                 -> P/R/F1
  fundus_news_html              maintainer-reviewed parser output    -> P/R/F1, non-empty, language
  readability_test_pages        readability's expected article HTML  -> P/R/F1, non-empty, language
  newspaper4k_fixtures          newspaper4k's expected text           -> P/R/F1 where a text exists
  gne_zh_news_html              Chinese pages without gold            -> non-empty, language (zh)
Tokens are lower-cased words, and single characters for Chinese, Japanese and Korean.
The language of the extracted text is detected with the page's <html lang> as the hint, as the pipeline
does; the expected one is what the detector says of the reference text (or the set's language).
Ends with one JSON line of figures keyed by set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.encoding import decode_html  # noqa: E402
from crawlers.records import RawItem  # noqa: E402
from nlp.extract import extract  # noqa: E402
from nlp.language import ItemLanguageDetector  # noqa: E402

TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+")
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


@dataclass
class Score:
    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    nonempty: bool
    right_language: bool | None


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
        yield Page(
            f"{entry['country']}/{entry['publisher']}",
            read(root / entry["html"]),
            entry["url"],
            "\n".join(parts),
        )


def readability(root: Path) -> Iterator[Page]:
    for folder in sorted((root / "test-pages").iterdir()):
        if (folder / "source.html").exists() and (folder / "expected.html").exists():
            expected = html_text((folder / "expected.html").read_text("utf-8", errors="replace"))
            yield Page(
                folder.name,
                (folder / "source.html").read_bytes(),
                f"http://example.com/{folder.name}",
                expected,
            )


def newspaper4k(root: Path) -> Iterator[Page]:
    for html in sorted((root / "html").glob("*.html")):
        text = root / "txt" / f"{html.stem}.txt"
        reference = text.read_text("utf-8", errors="replace") if text.exists() else None
        yield Page(html.stem, html.read_bytes(), f"http://example.com/{html.stem}", reference)


def gne(root: Path) -> Iterator[Page]:
    for html in sorted((root / "article_pages").glob("*/*.html")):
        yield Page(
            f"{html.parent.name}/{html.stem}",
            html.read_bytes(),
            f"http://example.com/{html.parent.name}",
            None,
            language="zh",
        )


SETS = {
    "article_extraction_benchmark": scrapinghub,
    "fundus_news_html": fundus,
    "readability_test_pages": readability,
    "newspaper4k_fixtures": newspaper4k,
    "gne_zh_news_html": gne,
}


def score(page: Page, detector: ItemLanguageDetector) -> Score:
    text, _ = decode_html(page.html)
    now = datetime.now(UTC)
    result = extract(RawItem(source="bench", url=page.url, html=text, fetched_at=now))
    body = result.text
    nonempty = len(body.strip()) > 0
    expected_language = page.language or (detector.detect(page.reference) if page.reference else None)
    right = (
        None
        if expected_language in (None, "und")
        else nonempty and detector.detect(body, hint=result.html_lang) == expected_language
    )
    if page.reference is None or not page.reference.strip():
        return Score(page.name, None, None, None, nonempty, right)
    precision, recall, f1 = prf(body, page.reference)
    return Score(page.name, precision, recall, f1, nonempty, right)


def summarise(scores: list[Score]) -> dict[str, object]:
    graded = [s for s in scores if s.f1 is not None]
    languages = [s.right_language for s in scores if s.right_language is not None]
    figures: dict[str, object] = {"pages": len(scores), "nonempty": sum(s.nonempty for s in scores)}
    if languages:
        figures["right_language"] = sum(languages)
        figures["language_checked"] = len(languages)
    if graded:
        for metric in ("precision", "recall", "f1"):
            figures[metric] = round(statistics.fmean(getattr(s, metric) for s in graded), 4)
        figures["graded"] = len(graded)
        figures["median_f1"] = round(statistics.median(s.f1 for s in graded if s.f1 is not None), 4)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--worst", type=int, default=5, help="Worst pages listed per set.")
    args = parser.parse_args()
    detector = ItemLanguageDetector(LANGUAGES)
    results: dict[str, dict[str, object]] = {}
    for name, reader in SETS.items():
        root = args.data / name
        if not root.is_dir():
            print(f"skipped {name}: not in {args.data}", file=sys.stderr)
            continue
        scores = [score(page, detector) for page in reader(root)]
        results[name] = summarise(scores)
        worst = sorted((s for s in scores if s.f1 is not None), key=lambda s: s.f1 or 0)[: args.worst]
        results[name]["worst"] = [[s.name[:60], round(s.f1 or 0, 3)] for s in worst]
        print(f"ran {name}: {len(scores)} pages", file=sys.stderr)
    print(f"{'set':30} {'pages':>6} {'nonempty':>9} {'lang ok':>8} {'P':>7} {'R':>7} {'F1':>7}")
    for name, figures in results.items():
        language = f"{figures.get('right_language', '-')}/{figures.get('language_checked', '-')}"
        print(
            f"{name:30} {figures['pages']:>6} {figures['nonempty']:>9} {language:>8} "
            f"{figures.get('precision', '-'):>7} {figures.get('recall', '-'):>7} {figures.get('f1', '-'):>7}"
        )
        for page, f1 in figures.get("worst", []):  # type: ignore[attr-defined]
            print(f"    worst: {f1:<6} {page}")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
