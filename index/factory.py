"""Choose the index backend named in the settings."""

from __future__ import annotations

from config.settings import EmbeddedIndexSettings, Settings
from index.ann import AnnSettings
from index.base import Index
from index.elastic import ElasticsearchIndex
from index.embedded import EmbeddedIndex


def open_index(settings: Settings) -> Index:
    if isinstance(settings.index, EmbeddedIndexSettings):
        ann = AnnSettings(min_vectors=settings.index.ann_min_vectors, nprobe=settings.index.ann_nprobe)
        return EmbeddedIndex(settings.index_dir, ann)
    return ElasticsearchIndex(settings.index, settings.data_dir)
