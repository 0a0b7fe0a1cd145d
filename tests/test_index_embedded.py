"""Embedded-index specifics: format versioning and crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.base import IndexError_, SearchRequest
from index.embedded import EmbeddedIndex
from tests.test_index import doc, ids


def test_format_version_is_checked(tmp_path: Path) -> None:
    EmbeddedIndex(tmp_path / "i").close()
    (tmp_path / "i" / "VERSION").write_text("99\n")
    with pytest.raises(IndexError_, match="format 99"):
        EmbeddedIndex(tmp_path / "i")


@pytest.mark.parametrize("version", [1, 2, 4])
def test_an_index_of_an_older_format_is_rebuilt_and_loses_nothing(tmp_path: Path, version: int) -> None:
    """Format 1 had no ``topic_id``, format 2 no sentiment or risk, format 4 no ``first_of_story``:
    written here with that schema, opened by this version."""
    import json

    import numpy as np
    import tantivy

    from index.base import TopicTags, stored_form
    from index.embedded import SCHEMA_VERSION, _schema

    new_fields = {
        1: ("topic", "sentiment", "entity_sentiments", "toward", "risk"),
        2: ("sentiment", "entity_sentiments", "toward", "risk"),
    }.get(version, ("nothing stored is new",))
    folder = tmp_path / "i"
    (folder / "text").mkdir(parents=True)
    old = tantivy.Index(_schema(version), path=str(folder / "text"))
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    for number in range(3):
        record = doc(f"d{number}", f"NovaMart story {number}", "recall of power banks", vector=np.ones(3),
                     story_id="d0" if number == 2 else f"d{number}")  # fmt: skip
        stored = {key: value for key, value in stored_form(record).items() if not key.startswith(new_fields)}
        document = tantivy.Document()
        for name in ("id", "source", "domain", "language", "kind", "story_id") + (
            ("topic_id",) if version > 1 else ()
        ):
            document.add_text(name, getattr(record, name))
        document.add_text("title", record.title.lower())
        document.add_bytes("doc", json.dumps(stored).encode("utf-8"))
        writer.add_document(document)
    writer.commit()
    (folder / "VERSION").write_text(f"{version}\n")
    index = EmbeddedIndex(folder)
    assert (folder / "VERSION").read_text().strip() == str(SCHEMA_VERSION) and index.count() == 3
    assert sorted(ids(index, query="NovaMart", limit=10)) == ["d0", "d1", "d2"]
    assert sorted(ids(index, query="risk:none sentiment:neutral", limit=10)) == ["d0", "d1", "d2"]
    assert sorted(ids(index, first_of_story=True, limit=10)) == ["d0", "d1"]  # d2 is a reprint in d0's story
    tags = TopicTags(doc("x", "", "").published, doc("x", "", "", days=1).published, {"d1": ("3", "recall")})
    assert index.set_topics(tags) == 1
    assert ids(index, query="topic:3") == ["d1"]
    index.close()
    assert EmbeddedIndex(folder).count() == 3  # opened again: the current format, nothing rebuilt or lost


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    import numpy as np
    from index.base import IndexDoc
    from index.embedded import EmbeddedIndex
    store = EmbeddedIndex(__import__("pathlib").Path(sys.argv[1]))
    batch = 0
    while True:
        docs = [IndexDoc(id=f"{batch}-{i}", url="u", source="s", domain="d", kind="article",
                         title=f"title b{batch}x {i}", body="body text " * 200, language="en",
                         published=datetime(2026, 11, 20, tzinfo=timezone.utc), watchlists=("w",),
                         story_id="s", vector=np.ones(8, dtype=np.float32)) for i in range(200)]
        store.upsert(docs)
        print(f"committed {batch}", flush=True)
        batch += 1
    """
)


def test_kill_9_during_writes_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "index"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    committed = -1
    for line in process.stdout:
        committed = int(line.split()[1])
        if committed >= 3:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    store = EmbeddedIndex(path)
    count = store.count()
    assert count >= (committed + 1) * 200 and count % 200 == 0
    for batch in range(committed + 1):
        assert store.search(SearchRequest(query=f"watchlist:w AND title:b{batch}x", limit=1)).total == 200
    store.upsert([doc("after", "written after the crash", "still works")])
    assert ids(store, query="crash") == ["after"]
