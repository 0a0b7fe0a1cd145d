"""The recent past that story assignment compares new items with, held in arrays so that an item is
scored against all of its candidates at once: MinHash signatures behind an LSH index (reprints), and
embeddings with each item's language and facts (the semantic and cross-language levels)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from datasketch import MinHash

from config.settings import StorySettings

UNSUPPORTED_MARGIN = 0.1
"""Without a shared number to support it, a semantic match needs this much more cosine."""
CANDIDATES = 20
"""Most similar rows above the threshold whose facts are checked, best first."""
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "ko"})
"""Languages whose text keeps Latin-script names as they are written in English (Voltly, iPhone, 5G)."""
NEEDED_EVIDENCE = 2.0
EVIDENCE_WEIGHTS = {"n": 1.0, "wd": 1.0, "md": 1.0, "e": 0.5}
"""Across languages: a shared figure, Latin name or date counts 1; a shared watched entity 0.5, since most
items of a company's watchlist name the company. Two are needed (a figure and the weekday, two figures,
the entity with a figure and a name...)."""


@dataclass(frozen=True)
class Facts:
    """What deduplication needs of one item, computed once."""

    signature: MinHash | None
    size: int
    numbers: frozenset[str]
    """Normalised figures of the title and text (:func:`nlp.facts.figures_in`)."""
    language: str = "und"
    evidence: frozenset[str] = frozenset()
    """Other facts that survive translation (:func:`nlp.facts.translation_facts`)."""
    numerals: frozenset[str] = frozenset()
    """Every figure written in digits, small ones too (:func:`nlp.facts.numerals_in`)."""


class Grown:
    """Rows appended one at a time to an array whose capacity doubles when full."""

    def __init__(self, dtype: type, width: int = 0) -> None:
        self.dtype = dtype
        self.data: np.ndarray = np.zeros((0, width) if width else 0, dtype=dtype)
        self.size = 0

    def append(self, value: object) -> None:
        if self.size == len(self.data):
            grown = np.zeros((max(256, 2 * self.size), *self.data.shape[1:]), dtype=self.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class Bands:
    """LSH over MinHash signatures: the rows whose signatures agree with a query on every value of at
    least one band. Rows are small integers kept in typed arrays per bucket, so a query's candidates are
    gathered and deduplicated in a few numpy steps (template-heavy sites give hundreds per query)."""

    def __init__(self, bands: int, width: int) -> None:
        self.width = width
        self.tables: list[dict[bytes, array[int]]] = [{} for _ in range(bands)]
        self.rows = 0

    def add(self, row: int, hashvalues: np.ndarray) -> None:
        for table, key in zip(self.tables, self._keys(hashvalues), strict=True):
            table.setdefault(key, array("q")).append(row)
        self.rows = max(self.rows, row + 1)

    def query(self, hashvalues: np.ndarray) -> np.ndarray:
        """The candidate rows, sorted and each once."""
        keys = self._keys(hashvalues)
        found = [bucket for table, key in zip(self.tables, keys, strict=True) if (bucket := table.get(key))]
        if not found:
            return np.zeros(0, dtype=np.int64)
        hit = np.zeros(self.rows, dtype=bool)
        hit[np.concatenate([np.frombuffer(bucket, dtype=np.int64) for bucket in found])] = True
        return np.flatnonzero(hit)

    def _keys(self, hashvalues: np.ndarray) -> list[bytes]:
        width = self.width
        return [hashvalues[band * width : (band + 1) * width].tobytes() for band in range(len(self.tables))]


class Window:
    """Signatures, and optionally embeddings, of the items of the last ``window_days``."""

    def __init__(self, num_perm: int, bands: tuple[int, int]) -> None:
        self.bands = Bands(*bands)
        self.items: set[str] = set()
        self.signature_rows: dict[str, int] = {}
        self.signatures = Grown(np.uint32, num_perm)
        self.signature_times = Grown(np.float64)
        self.sizes = Grown(np.float64)
        self.signature_stories: list[str] = []
        self.signature_items: list[str] = []
        self.signature_numbers: list[frozenset[str]] = []
        self.vectors: Grown | None = None
        self.times = Grown(np.float64)
        self.stories: list[str] = []
        self.facts: list[Facts] = []
        self.language_codes: dict[str, int] = {}
        self.languages = Grown(np.int16)

    def add(self, item_id: str, story: str, when: datetime, facts: Facts, vector: np.ndarray | None) -> None:
        """Add an item; an item added before (its signature, while its story was being decided) takes
        ``story`` and, if given, its vector."""
        self.items.add(item_id)
        if item_id in self.signature_rows:
            self.signature_stories[self.signature_rows[item_id]] = story
        elif facts.signature is not None:
            self.signature_rows[item_id] = self.signatures.size
            self.bands.add(self.signatures.size, signature_values(facts.signature))
            self.signatures.append(signature_values(facts.signature))
            self.signature_times.append(when.timestamp())
            self.sizes.append(facts.size)
            self.signature_stories.append(story)
            self.signature_items.append(item_id)
            self.signature_numbers.append(facts.numerals)
        if vector is not None:
            self.vectors = self.vectors or Grown(np.float32, len(vector))
            self.vectors.append(vector)
            self.times.append(when.timestamp())
            self.stories.append(story)
            self.facts.append(facts)
            self.languages.append(self._code(facts.language))

    def _code(self, language: str) -> int:
        return self.language_codes.setdefault(language, len(self.language_codes))

    def reprint_of(
        self, facts: Facts, when: datetime, settings: StorySettings, exclude: str = ""
    ) -> tuple[str, str] | None:
        """The story of the best reprint within ``settings.window_days``: MinHash Jaccard above the
        threshold, or most of the shorter text contained in the longer (truncated reprints), and the item
        it reprints; never a text
        whose numerals disagree (:func:`numerals_differ`: the same template telling another event, another
        city's flood or another quarter's results)."""
        if facts.signature is None:
            return None
        values = signature_values(facts.signature)
        rows = self.bands.query(values)
        rows = rows[
            np.abs(self.signature_times.view()[rows] - when.timestamp()) <= settings.window_days * 86400
        ]
        if not len(rows):
            return None
        scores = np.count_nonzero(self.signatures.view()[rows] == values, axis=1) / len(values)  # ~ Jaccard
        sizes = self.sizes.view()[rows]
        contained = (
            scores * (facts.size + sizes) / ((1 + scores) * np.maximum(1, np.minimum(facts.size, sizes)))
        )
        reprint = (scores >= settings.near_duplicate_threshold) | (
            contained >= settings.near_duplicate_containment
        )
        for position in np.flatnonzero(reprint)[np.argsort(-scores[reprint], kind="stable")]:
            row = rows[position]
            if self.signature_items[row] != exclude and not numerals_differ(
                facts.numerals, self.signature_numbers[row]
            ):
                return self.signature_stories[row], self.signature_items[row]
        return None

    def cosines(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of every row so far with each of ``vectors`` (rows x vectors): one matrix product."""
        if self.vectors is None:
            return np.zeros((0, len(vectors)), dtype=np.float32)
        return self.vectors.view() @ vectors.T

    def scores(self, vector: np.ndarray, when: datetime, days: int, known: np.ndarray | None) -> np.ndarray:
        """Cosine with every row, -1 for rows outside ``days`` of ``when``. ``known`` holds the cosines
        with the first rows, already computed by :meth:`cosines`."""
        if self.vectors is None:
            return np.zeros(0, dtype=np.float32)
        done = 0 if known is None else len(known)
        scores = self.vectors.view()[done:] @ vector
        if known is not None:
            scores = np.concatenate([known, scores])
        scores[np.abs(self.times.view() - when.timestamp()) > days * 86400] = -1.0
        return scores

    def most_similar(self, scores: np.ndarray, facts: Facts, threshold: float) -> str | None:
        """The story of the most similar recent item above ``threshold``, supported by shared figures
        (different events on one topic rarely share them), or ``UNSUPPORTED_MARGIN`` more cosine; never
        one whose numerals disagree (:func:`numerals_differ`)."""
        for row in _best(scores, threshold):
            if numerals_differ(facts.numerals, self.facts[row].numerals):
                continue
            if (
                figures_agree(facts.numbers, self.facts[row].numbers)
                or scores[row] >= threshold + UNSUPPORTED_MARGIN
            ):
                return self.stories[row]
        return None

    def across_languages(self, scores: np.ndarray, facts: Facts, threshold: float) -> str | None:
        """The story of an item in another language above ``threshold`` whose facts agree with this
        one's (:func:`evidence`); of several, the one with the most evidence, then the most similar."""
        if facts.language == "und" or self.vectors is None:
            return None
        other = self.languages.view() != self.language_codes.get(facts.language, -1)
        best: tuple[float, float, int] | None = None
        for row in _best(np.where(other, scores, -1.0), threshold):
            found = evidence(facts, self.facts[row])
            if found >= NEEDED_EVIDENCE and (best is None or (found, scores[row]) > best[:2]):
                best = (found, float(scores[row]), row)
        return None if best is None else self.stories[best[2]]


def _best(scores: np.ndarray, threshold: float) -> np.ndarray:
    above = np.flatnonzero(scores >= threshold)
    return above[np.argsort(-scores[above])][:CANDIDATES]


def signature_values(signature: MinHash) -> np.ndarray:
    """A signature's hash values as stored (uint32: the affine32 scheme's values fit)."""
    return np.asarray(signature.hashvalues, dtype=np.uint32)


def figures_agree(left: frozenset[str], right: frozenset[str]) -> bool:
    """Two shared figures (one if a side has only one): chance agreement of two figures is rare."""
    needed = min(2, len(left), len(right))
    return needed > 0 and len(left & right) >= needed


def numerals_differ(left: frozenset[str], right: frozenset[str]) -> bool:
    """Both texts give numerals and share at most half of the fewer: a copy keeps its numerals (a
    truncated one a subset, a partly rewritten one most), a template filled for another event does not."""
    return bool(left and right) and 2 * len(left & right) <= min(len(left), len(right))


def evidence(left: Facts, right: Facts) -> float:
    """How strongly the facts of two texts in different languages say they tell one event (weights in
    :data:`EVIDENCE_WEIGHTS`); 0 when both give figures and share none (different figures, different
    events; fewer than two shared where both give two or more). Latin names count only where one
    language writes them inside another script."""
    if left.numbers and right.numbers and not figures_agree(left.numbers, right.numbers):
        return 0.0
    names = (left.language in UNSPACED_LANGUAGES) != (right.language in UNSPACED_LANGUAGES)
    total = float(len(left.numbers & right.numbers))
    for fact in left.evidence & right.evidence:
        kind = fact.split(":", 1)[0]
        if kind != "n" or names:
            total += EVIDENCE_WEIGHTS.get(kind, 0.0)
    return total
