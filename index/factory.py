"""Choose the index backend named in the settings."""

from __future__ import annotations

from config.settings import EmbeddedIndexSettings, Settings
from index.base import Index, IndexError_
from index.embedded import EmbeddedIndex


def open_index(settings: Settings) -> Index:
    if isinstance(settings.index, EmbeddedIndexSettings):
        return EmbeddedIndex(settings.index_dir)
    raise IndexError_(
        "index.backend 'elasticsearch' is not available in this version yet; use 'embedded' "
        "(the Elasticsearch backend is tracked as its own issue)"
    )
