from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config.settings import EmbeddingSettings
from nlp.embed import (
    CachedEmbedder,
    EmbeddingError,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    embedding_text,
)


def test_minilm_offline_normalised_and_meaningful(minilm_embedder: SentenceTransformerEmbedder) -> None:
    vectors = minilm_embedder.embed(
        [
            "NovaMart recalls 120,000 power banks after fire reports",
            "Fire fears force NovaMart to pull power banks from sale",
            "Local bakery wins national bread award",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same_story, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same_story > 0.6 and unrelated < 0.3


def test_cache_never_re_embeds_unchanged_text(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    cached = CachedEmbedder(real_embedder, tmp_path / "cache.sqlite")
    first = cached.embed(["alpha news", "beta news", "alpha news"])
    assert cached.misses == 2
    reopened = CachedEmbedder(real_embedder, tmp_path / "cache.sqlite")
    second = reopened.embed(["beta news", "alpha news", "gamma news"])
    assert reopened.misses == 1
    assert np.allclose(second[0], first[1]) and np.allclose(second[1], first[0])


def test_unknown_model_is_refused_without_download(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="never downloaded"):
        SentenceTransformerEmbedder(EmbeddingSettings(model="intfloat/multilingual-e5-small"), tmp_path)


def test_embedding_text_and_double() -> None:
    assert embedding_text("Title", "x" * 5000, 100) == "Title\n" + "x" * 100
    double = HashingEmbedder(32)
    vectors = double.embed(["same words here", "same words here", "other"])
    assert np.allclose(vectors[0], vectors[1]) and not np.allclose(vectors[0], vectors[2])


def test_batches_by_token_count_keep_the_order_of_the_texts(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    texts = [
        "诺瓦商城召回十二万台充电宝，原因是多起起火报告。" * (1 + i % 4)
        if i % 3 == 0
        else f"Story {i}: " + "word " * (3 * i)
        for i in range(11)
    ]
    real_embedder.batch_size = 4  # three batches, each of texts of similar token counts
    try:
        vectors = real_embedder.embed(texts)
    finally:
        real_embedder.batch_size = EmbeddingSettings(backend="torch").texts_per_pass
    alone = np.stack(
        [
            real_embedder.model.encode(
                [text], prompt_name=real_embedder.passage_prompt, normalize_embeddings=True
            )[0]
            for text in texts
        ]
    )
    assert np.allclose(vectors, alone, atol=1e-5)


def test_default_model_is_multilingual_and_aligns_languages(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    """multilingual-e5-small, the default: its cosines sit in 0.7-1.0, so compare, not absolute values."""
    assert real_embedder.name == "multilingual-e5-small" == EmbeddingSettings().model
    english, chinese, bakery, bakery_zh = real_embedder.embed(
        [
            "NovaMart recalls 120,000 power banks after fire reports",
            "诺瓦商城召回12万台充电宝 起火事件引发监管关注",
            "Local bakery wins national bread award",
            "本地面包店获得全国面包大奖",
        ]
    )
    assert np.allclose(np.linalg.norm(np.stack([english, chinese]), axis=1), 1.0, atol=1e-5)
    # a translation is closer than unrelated news in the other language (same-language cosines of short
    # unrelated Chinese headlines run high, 0.9: why stories across languages also need shared facts)
    assert english @ chinese > max(english @ bakery_zh, chinese @ bakery) + 0.05
