"""Approximate nearest neighbours for the embedded index once it holds many vectors.

Exact cosine search ranks every vector: fine for tens of thousands, too slow for a million (about 0.1 s a
query on two cores). Above :attr:`AnnSettings.min_vectors` the embedded index asks this inverted-file index
(faiss ``IndexIVFFlat``, inner product over unit vectors) instead: the vectors are split into ``nlist``
cells around k-means centroids and a query scans only the ``nprobe`` nearest cells. Vectors are kept as
they are (no compression), so the scores are exact cosines and only the candidate set is approximate.

The index is derived from ``vectors.sqlite`` (the source of truth) and follows it by row id: rows written
since the last sync are added (a replaced vector is removed first). It is saved beside the database
(``ann.faiss`` plus ``ann.json``, written atomically) so that a restarted process does not rebuild it, and
retrained from scratch when the collection has grown well past what its centroids were trained on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)
FORMAT = 1
SYNC_BATCH = 50_000
TRAIN_PER_CELL = 40
RETRAIN_GROWTH = 8.0
"""Retrain once the collection holds this many times the vectors the centroids were trained on."""


@dataclass(frozen=True)
class AnnSettings:
    min_vectors: int = 50_000
    """Below this many vectors the embedded index ranks all of them exactly."""
    nprobe: int = 32
    """Cells scanned per query: more is slower and closer to exact."""
    save_after: int = 20_000
    """Save the index once this many vectors were added since it was last saved."""


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


class VectorCells:
    """An IVF index over the rows of the ``vectors`` table, keyed by ``key`` (63-bit, from the doc id)."""

    def __init__(self, folder: Path, database: sqlite3.Connection, settings: AnnSettings) -> None:
        self.folder, self.database, self.settings = folder, database, settings
        self.index: faiss.IndexIVF | None = None
        self.watermark = 0
        self.trained_on = 0
        self.unsaved = 0

    @property
    def size(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def sync(self) -> None:
        """Bring the index up to date with the table: load it, build it or add what is new."""
        if self.index is None:
            self._load()
        total = int(self.database.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        if self.index is None or total > RETRAIN_GROWTH * max(1, self.trained_on):
            self._train(total)
        self._add_new()
        if self.unsaved >= self.settings.save_after:
            self.save()

    def search(
        self, vector: np.ndarray, k: int, among: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest keys and their cosines, best first; ``among``: only these keys, found exactly
        (every cell is scanned, and only their vectors are compared)."""
        assert self.index is not None, "sync() first"
        query = unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        selector = None if among is None else faiss.IDSelectorBatch(np.asarray(among, dtype=np.int64))
        params = faiss.SearchParametersIVF()
        params.nprobe = min(self.settings.nprobe, self.index.nlist)
        if selector is not None:
            params.nprobe, params.sel = self.index.nlist, selector
        scores, keys = self.index.search(query, k, params=params)
        found = keys[0] >= 0
        return keys[0][found], scores[0][found]

    def save(self) -> None:
        if self.index is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".ann-", suffix=".faiss")
        os.close(handle)
        try:
            faiss.write_index(self.index, temporary)
            os.replace(temporary, self.folder / "ann.faiss")
        finally:
            Path(temporary).unlink(missing_ok=True)
        manifest = {"format": FORMAT, "watermark": self.watermark, "trained_on": self.trained_on}
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".ann-", suffix=".json")
        with os.fdopen(handle, "w") as out:
            json.dump(manifest, out)
        os.replace(temporary, self.folder / "ann.json")
        self.unsaved = 0

    def _load(self) -> None:
        manifest_path, index_path = self.folder / "ann.json", self.folder / "ann.faiss"
        if not (manifest_path.exists() and index_path.exists()):
            return
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("format") != FORMAT:
                return
            index = faiss.read_index(str(index_path))
            if not isinstance(index, faiss.IndexIVFFlat):
                raise ValueError(f"not an IVF-Flat index: {type(index).__name__}")
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("rebuilding the vector index: %s", exc, extra={"path": str(index_path)})
            return
        self.index, self.watermark = index, int(manifest["watermark"])
        self.trained_on = int(manifest["trained_on"])

    def _train(self, total: int) -> None:
        cells = max(1, min(65_536, int(4 * math.sqrt(max(1, total)))))
        sample = self._sample(cells * TRAIN_PER_CELL)
        if len(sample) == 0:
            return
        cells = min(cells, len(sample))
        log.info("training the vector index", extra={"vectors": total, "cells": cells})
        dimension = sample.shape[1]
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = 7
        index.train(sample)
        self.index, self.watermark, self.trained_on = index, 0, total

    def _sample(self, count: int) -> np.ndarray:
        """An evenly spread sample of the table's vectors (every n-th row: deterministic)."""
        total = int(self.database.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        step = max(1, total // max(1, count))
        rows = self.database.execute(
            "SELECT vector FROM vectors WHERE rowid % ? = 0 LIMIT ?", (step, count)
        ).fetchall()
        if not rows:
            rows = self.database.execute("SELECT vector FROM vectors LIMIT ?", (count,)).fetchall()
        return _matrix([row[0] for row in rows]) if rows else np.empty(0)

    def _add_new(self) -> None:
        assert self.index is not None
        while True:
            rows = self.database.execute(
                "SELECT rowid, id, vector FROM vectors WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (self.watermark, SYNC_BATCH),
            ).fetchall()
            if not rows:
                return
            keys = np.array([doc_key(row[1]) for row in rows], dtype=np.int64)
            if self.index.ntotal:
                self.index.remove_ids(faiss.IDSelectorBatch(keys))
            self.index.add_with_ids(_matrix([row[2] for row in rows]), keys)
            self.watermark, self.unsaved = int(rows[-1][0]), self.unsaved + len(rows)


def doc_key(doc_id: str) -> int:
    """A 63-bit number for a document id: the vector index's key, and the embedded index's ``key`` field."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _matrix(blobs: list[bytes]) -> np.ndarray:
    return unit_rows(np.stack([np.frombuffer(blob, dtype=np.float32) for blob in blobs]))
