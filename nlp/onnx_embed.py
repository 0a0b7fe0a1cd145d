"""Sentence embeddings with ONNX Runtime: the encoders ``opinionwatch models build --onnx`` writes.

No torch at run time: a fast tokenizer (``tokenizer.json``), one inference session, mean pooling and
normalisation inside the graph. Texts are tokenised in one call, sorted by token count and batched, so
a batch pads to similar lengths; threads are set on the session (``embedding.threads``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from config.settings import EmbeddingSettings
from nlp.embed import Embedder, EmbeddingError, SentenceTransformerEmbedder

ONNX_MANIFEST = "onnx.json"
FILES = {"onnx": "model.onnx", "onnx-int8": "model_int8.onnx"}
"""The file of each ONNX backend in an encoder folder."""


def onnx_folder(models_dir: Path, model: str) -> Path:
    """Where the ONNX encoders of ``model`` (a name or a folder) are built and looked for."""
    return models_dir / "onnx" / Path(model.rstrip("/")).name


class OnnxEncoder:
    """One ONNX graph (token ids and mask in, normalised embeddings out) and its tokenizer."""

    def __init__(self, graph: Path, tokenizer: Path, max_length: int, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # Idle session threads sleep instead of spinning: in the pipeline the encoder shares the CPU with
        # the extraction thread, which spinning starves (2 cores, 2,000 pages: multilingual-e5-small
        # int8 100.0 -> 103.5 items/s, MiniLM 142.1 -> 155.2), though an encode alone is 17% slower.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        pad = self.tokenizer.token_to_id("<pad>")
        self.pad_id = pad if pad is not None else (self.tokenizer.token_to_id("[PAD]") or 0)

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Vectors in the order of ``texts``; batches of texts of similar token counts."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(encoding.ids) for encoding in encodings], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[row].ids) for row in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for line, row in enumerate(rows):
                tokens = encodings[row].ids
                ids[line, : len(tokens)] = tokens
                mask[line, : len(tokens)] = 1
            out[rows] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


class OnnxEmbedder:
    """The :class:`nlp.embed.Embedder` of the ``onnx`` and ``onnx-int8`` backends."""

    def __init__(self, settings: EmbeddingSettings, models_dir: Path) -> None:
        folder = onnx_folder(models_dir, settings.model)
        manifest_path = folder / ONNX_MANIFEST
        if not manifest_path.is_file():
            raise EmbeddingError(
                f"embedding.backend is {settings.backend} but {settings.model} has no ONNX encoders in "
                f"{folder}: run `opinionwatch models build {settings.model} --onnx` once "
                "(or set embedding.backend: torch)"
            )
        manifest = json.loads(manifest_path.read_text("utf-8"))
        self.encoder = OnnxEncoder(
            folder / FILES[settings.backend],
            folder / "tokenizer.json",
            int(manifest["max_seq_length"]),
            settings.threads,
        )
        prompts = manifest.get("prompts") or {}
        self.passage_prefix = str(prompts.get("passage", ""))
        self.query_prefix = str(prompts.get("query", ""))
        self.name = f"{settings.model}@{settings.backend}"
        self.dimension = self.encoder.dimension
        self.batch_size = settings.texts_per_pass

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode([self.passage_prefix + text for text in texts], self.batch_size)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode([self.query_prefix + text for text in texts], self.batch_size)


def embedder_for(settings: EmbeddingSettings, models_dir: Path) -> Embedder:
    """The embedder of ``settings.backend``."""
    if settings.backend == "torch":
        return SentenceTransformerEmbedder(settings, models_dir)
    if settings.device != "cpu":
        raise EmbeddingError(
            f"embedding.device {settings.device!r} needs embedding.backend: torch "
            "(the ONNX backends run on the CPU)"
        )
    return OnnxEmbedder(settings, models_dir)
