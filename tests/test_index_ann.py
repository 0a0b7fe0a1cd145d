"""The embedded index's approximate vector search (index/ann.py) against its exact search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.ann import AnnSettings
from index.base import IndexDoc, SearchRequest
from index.embedded import EmbeddedIndex

COUNT = 3000
DIMENSION = 32


def clustered_vectors(count: int, seed: int) -> np.ndarray:
    """Vectors around 40 fixed centres (as embeddings of news gather around themes)."""
    centres = np.random.default_rng(0).standard_normal((40, DIMENSION))
    rng = np.random.default_rng(seed)
    vectors = centres[rng.integers(0, 40, count)] + 0.6 * rng.standard_normal((count, DIMENSION))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def docs(vectors: np.ndarray) -> list[IndexDoc]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        IndexDoc(
            id=f"d{number}",
            url=f"http://example.com/{number}",
            source="s",
            domain="example.com",
            kind="article",
            title=f"item {number}",
            body="plain words",
            published=start + timedelta(minutes=number),
            language="zh" if number % 20 == 0 else "en",
            watchlists=(),
            story_id=f"d{number}",
            vector=vector,
        )
        for number, vector in enumerate(vectors)
    ]


def neighbours(store: EmbeddedIndex, vector: np.ndarray, **filters: object) -> list[str]:
    request = SearchRequest(vector=vector, limit=10, **filters)  # type: ignore[arg-type]
    return [hit.id for hit in store.search(request).hits]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[EmbeddedIndex, EmbeddedIndex]:
    vectors = clustered_vectors(COUNT, seed=3)
    exact = EmbeddedIndex(tmp_path / "exact")
    approximate = EmbeddedIndex(tmp_path / "ann", AnnSettings(min_vectors=1000, nprobe=16, save_after=10**9))
    for store in (exact, approximate):
        store.upsert(docs(vectors))
    yield exact, approximate
    exact.close()
    approximate.close()


def test_approximate_neighbours_agree_with_exact_ones(pair: tuple[EmbeddedIndex, EmbeddedIndex]) -> None:
    exact, approximate = pair
    queries = clustered_vectors(40, seed=4)
    found = [set(neighbours(approximate, q)) & set(neighbours(exact, q)) for q in queries]
    recall = sum(len(f) for f in found) / (10 * len(queries))
    assert recall >= 0.9
    assert approximate._vector_cells is not None and approximate._vector_cells.size == COUNT


def test_filtered_neighbours_are_exact_and_pass_the_filter(pair: tuple[EmbeddedIndex, EmbeddedIndex]) -> None:
    exact, approximate = pair
    for query in clustered_vectors(5, seed=5):
        narrow = neighbours(approximate, query, languages=("zh",))
        assert narrow == neighbours(exact, query, languages=("zh",))
        assert all(int(doc_id[1:]) % 20 == 0 for doc_id in narrow) and len(narrow) == 10
        broad = neighbours(approximate, query, languages=("en",))
        assert len(broad) == 10 and all(int(doc_id[1:]) % 20 for doc_id in broad)


def test_a_replaced_vector_moves_and_the_saved_index_is_reused(
    pair: tuple[EmbeddedIndex, EmbeddedIndex], tmp_path: Path
) -> None:
    _, approximate = pair
    target = clustered_vectors(1, seed=9)[0]
    neighbours(approximate, target)
    moved = docs(np.array([target]))[0]
    approximate.upsert([moved])
    assert neighbours(approximate, target)[0] == "d0"
    approximate.close()
    assert (tmp_path / "ann" / "ann.faiss").exists()
    reopened = EmbeddedIndex(tmp_path / "ann", AnnSettings(min_vectors=1000, nprobe=8))
    assert neighbours(reopened, target)[0] == "d0"
    assert reopened._vector_cells is not None and reopened._vector_cells.size == COUNT
    reopened.close()
