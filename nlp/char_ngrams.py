"""Hashed character n-gram counts of many texts at once, in numpy (the sentiment text model's input).

The same n-grams as scikit-learn's ``char_wb`` analyzer, lowercased: 1- to ``longest``-grams inside
each whitespace-separated word padded with one space either side (words share the space between them).
scikit-learn builds every n-gram as a Python string; here a batch of texts is one array of code points
and each n-gram one 64-bit polynomial of them, mixed (splitmix64's finaliser) and cut to ``n_features``
buckets: about seven times faster on news leads, which matters because the text model reads every item.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_MULTIPLIER = np.uint64(0x100000001B3)
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SPACE = ord(" ")


def char_ngram_counts(texts: list[str], longest: int, n_features: int) -> sparse.csr_matrix:
    """A row per text, a column per hash bucket (``n_features``, a power of two), n-gram counts."""
    if n_features & (n_features - 1):
        raise ValueError(f"n_features must be a power of two, not {n_features}")
    padded = [f" {' '.join(text.lower().split())} " if text.strip() else "" for text in texts]
    lengths = np.array([len(text) for text in padded], dtype=np.int64)
    points = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    points = points.astype(np.uint64)  # a lone surrogate (a cut emoji in an API's JSON) is a code point too
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    keys = []
    running = np.zeros(len(points), dtype=np.uint64)
    for n in range(1, longest + 1):
        count = len(points) - n + 1
        if count <= 0:
            break
        running = running[:count] * _MULTIPLIER + points[n - 1 :] + np.uint64(1)
        keep = rows[:count] == rows[n - 1 :]  # within one text
        for inner in range(1, n - 1):  # and within one padded word: no space inside the n-gram
            keep &= points[inner : inner + count] != _SPACE
        keys.append(rows[:count][keep] * n_features + _bucket(running[keep], n_features))
    found = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, found[1:] != found[:-1]]) if len(found) else found
    counts = np.diff(np.r_[starts, len(found)]).astype(np.float32)
    distinct = found[starts]
    row_starts = np.searchsorted(distinct // n_features, np.arange(len(texts) + 1))
    return sparse.csr_matrix((counts, distinct % n_features, row_starts), shape=(len(texts), n_features))


def _bucket(hashes: np.ndarray, n_features: int) -> np.ndarray:
    mixed = hashes ^ (hashes >> np.uint64(30))
    mixed *= _MIX[0]
    mixed ^= mixed >> np.uint64(27)
    mixed *= _MIX[1]
    mixed ^= mixed >> np.uint64(31)
    return (mixed & np.uint64(n_features - 1)).astype(np.int64)
