"""The ONNX Runtime encoders: built offline from a local model, deterministic, checked, and the default."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from config.settings import EmbeddingSettings
from nlp.embed import EmbeddingError, SentenceTransformerEmbedder, resolve_model_path
from nlp.model_build import ModelBuildError, sha256_of
from nlp.onnx_build import build_onnx
from nlp.onnx_embed import FILES, ONNX_MANIFEST, OnnxEmbedder, embedder_for

MINILM = "all-MiniLM-L6-v2"
BUILT = datetime(2026, 12, 1, tzinfo=UTC)
TEXTS = [
    "NovaMart recalls 120,000 power banks after fire reports",
    "诺瓦商城召回12万台充电宝 起火事件引发监管关注",
    "Regulators open an inquiry into counterfeit listings on online marketplaces.",
    "短",
]


@pytest.fixture(scope="module")
def minilm_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    out = models / "onnx" / MINILM
    build_onnx(resolve_model_path(MINILM, models), out, MINILM, BUILT)
    return models


def test_build_is_checked_checksummed_and_deterministic(minilm_onnx: Path, tmp_path: Path) -> None:
    folder = minilm_onnx / "onnx" / MINILM
    manifest = json.loads((folder / ONNX_MANIFEST).read_text("utf-8"))
    for file, digest in manifest["files"].items():
        assert sha256_of(folder / file) == digest
    checked = manifest["self_check"]
    assert checked["fp32_min"] >= 0.9999 and checked["int8_mean"] >= 0.99 and checked["int8_min"] >= 0.97
    assert (folder / FILES["onnx-int8"]).stat().st_size < 0.7 * (folder / FILES["onnx"]).stat().st_size
    again = tmp_path / "again"
    build_onnx(resolve_model_path(MINILM, tmp_path), again, MINILM, BUILT)
    assert json.loads((again / ONNX_MANIFEST).read_text("utf-8"))["files"] == manifest["files"]
    with pytest.raises(ModelBuildError, match="--force"):
        build_onnx(resolve_model_path(MINILM, tmp_path), again, MINILM, BUILT)


def test_onnx_backends_agree_with_torch(
    minilm_onnx: Path, minilm_embedder: SentenceTransformerEmbedder
) -> None:
    reference = minilm_embedder.embed(TEXTS)
    for backend, floor in (("onnx", 0.9999), ("onnx-int8", 0.97)):
        embedder = embedder_for(EmbeddingSettings(model=MINILM, backend=backend), minilm_onnx)  # type: ignore[arg-type]
        assert isinstance(embedder, OnnxEmbedder) and embedder.name == f"{MINILM}@{backend}"
        vectors = embedder.embed(TEXTS)
        assert vectors.shape == (4, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        assert np.sum(vectors * reference, axis=1).min() >= floor
        assert embedder.embed([]).shape == (0, 384)


def test_default_is_int8_e5_with_its_prompts(real_embedder: SentenceTransformerEmbedder) -> None:
    """The default backend, as `make setup` builds it: int8 multilingual-e5-small, passages and queries
    with their own prompts, close to the torch model."""
    settings = EmbeddingSettings()
    embedder = embedder_for(settings, settings.models_dir.expanduser())
    assert embedder.name == "multilingual-e5-small@onnx-int8"
    passages, queries = embedder.embed(TEXTS), embedder.embed_queries(TEXTS)
    assert np.sum(passages * real_embedder.embed(TEXTS), axis=1).min() >= 0.98
    assert np.sum(queries * real_embedder.embed_queries(TEXTS), axis=1).min() >= 0.98
    assert not np.allclose(passages, queries, atol=1e-3)


def test_backend_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match=f"models build {MINILM} --onnx"):
        embedder_for(EmbeddingSettings(model=MINILM, backend="onnx-int8"), tmp_path)
    with pytest.raises(EmbeddingError, match="needs embedding.backend: torch"):
        embedder_for(EmbeddingSettings(model=MINILM, device="cuda"), tmp_path)
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(EmbeddingError, match="no CUDA GPU"):
            embedder_for(EmbeddingSettings(model=MINILM, backend="torch", device="cuda"), tmp_path)


def test_a_model_the_graph_cannot_reproduce_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    source = tmp_path / "cls-pooled"
    shutil.copytree(resolve_model_path(MINILM, tmp_path), source)
    pooling = source / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text("utf-8"))
    pooling.write_text(
        json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    with pytest.raises(ModelBuildError, match="only mean-pooled"):
        build_onnx(source, tmp_path / "out", "cls", BUILT)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.building-*"))
