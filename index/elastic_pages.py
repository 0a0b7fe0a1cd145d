"""Pages past Elasticsearch's result window (``index.max_result_window``, 10,000 by default): a walk over
a point-in-time snapshot with ``search_after``.

The walk is kept between calls: a caller that reads page after page of one search (an export, an alert
rule reading a week of risky items) goes on from where the last page ended instead of walking from the first
document again, so N documents cost about N / page searches instead of N² / (2 × page × window), and
every page comes from the same snapshot. A page of another search, or of the same search elsewhere,
starts a walk of its own; a snapshot that expired (one minute unused) is opened again."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

KEEP_ALIVE = "1m"


@dataclass
class _Walk:
    key: str
    """The search, without its page (size, from, aggregations)."""
    pit: str
    offset: int
    """Documents before ``after``."""
    after: list[Any] | None


class DeepPager:
    def __init__(self, client: Elasticsearch, alias: str) -> None:
        self.client = client
        self.alias = alias
        self.lock = threading.Lock()
        self.kept: _Walk | None = None
        self.opened = 0
        """Snapshots opened so far (a figure for tests and benchmarks)."""

    def page(self, body: dict[str, Any], offset: int, max_window: int) -> Any:
        """The search ``body``'s page of ``body["size"]`` documents from ``offset``."""
        search = {key: value for key, value in body.items() if key not in ("from_", "aggs", "size")}
        key = json.dumps(search, sort_keys=True, default=str)
        with self.lock:  # taken out while in use: a concurrent caller opens a walk of its own
            walk = self.kept if self.kept and (self.kept.key, self.kept.offset) == (key, offset) else None
            if walk is not None:
                self.kept = None
        answer: Any = None
        if walk is not None:
            try:
                answer = self._read(walk, body, search)
            except NotFoundError:  # the snapshot expired: open another
                walk = None
        if walk is None:
            walk = self._open(key, search, offset, max_window)
            answer = self._read(walk, body, search)
        hits = answer["hits"]["hits"]
        if hits:
            walk.offset, walk.after = walk.offset + len(hits), hits[-1]["sort"]
        self._keep(walk)
        return answer

    def _read(self, walk: _Walk, body: dict[str, Any], search: dict[str, Any]) -> Any:
        return self.client.search(
            pit={"id": walk.pit, "keep_alive": KEEP_ALIVE},
            size=body["size"],
            search_after=walk.after,
            aggs=body["aggs"],
            **search,
        )

    def close(self) -> None:
        with self.lock:
            walk, self.kept = self.kept, None
        if walk is not None:
            self._close(walk)

    def _open(self, key: str, search: dict[str, Any], offset: int, max_window: int) -> _Walk:
        """A new snapshot, walked (without sources) to ``offset``."""
        pit = self.client.open_point_in_time(index=self.alias, keep_alive=KEEP_ALIVE)["id"]
        walk = _Walk(key, pit, 0, None)
        self.opened += 1
        skim = {k: v for k, v in search.items() if k != "source_excludes"}
        while walk.offset < offset:
            page = self.client.search(
                pit={"id": walk.pit, "keep_alive": KEEP_ALIVE},
                size=min(max_window, offset - walk.offset),
                search_after=walk.after,
                source=False,
                **skim,
            )
            hits = page["hits"]["hits"]
            if not hits:
                break
            walk.offset, walk.after = walk.offset + len(hits), hits[-1]["sort"]
        return walk

    def _keep(self, walk: _Walk) -> None:
        with self.lock:
            replaced, self.kept = self.kept, walk
        if replaced is not None:
            self._close(replaced)

    def _close(self, walk: _Walk) -> None:
        with contextlib.suppress(NotFoundError):  # expired already
            self.client.close_point_in_time(id=walk.pit)
