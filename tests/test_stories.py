from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash

from config.settings import StorySettings
from nlp.records import Item
from nlp.stories import StoryStore, numbers_in, shingles
from opinionwatch.newsworld import World
from opinionwatch.newsworld.reprints import reprint_set
from tests.conftest import make_item as item

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def world_items(world: World) -> list[Item]:
    return [
        item(a.id, "\n".join(a.paragraphs), a.published, source=a.site, title=a.title, lang=a.lang)
        for a in world.articles
    ]


def test_planted_reprints_share_stories_and_nothing_is_dropped(world: World, tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "stories.sqlite", StorySettings())
    items = world_items(world)
    store.assign(items)
    found = {i.id: i.story_id for i in items}
    for key, articles in world.stories().items():
        assert len({found[a.id] for a in articles}) == 1, f"story {key} was split"
    assert len(set(found.values())) == len(world.stories()), "unrelated items were merged"
    recall = store.stories([found[a.id] for a in world.stories()["novamart-recall"]])
    story = next(iter(recall.values()))
    assert story.member_count == 4 and len(story.sources) == 4
    original = next(a for a in world.stories()["novamart-recall"] if a.variant == "original")
    assert story.canonical_item_id == original.id and story.first_seen == original.published


def test_incremental_join_after_reopen_and_idempotent(tmp_path: Path) -> None:
    text = " ".join(f"word{i}" for i in range(60))
    first = StoryStore(tmp_path / "s.sqlite", StorySettings())
    original = item("a", text, T0)
    first.assign([original])
    first.close()
    second = StoryStore(tmp_path / "s.sqlite", StorySettings())
    edited = item("b", text.replace("word59", "changed") + " extra credit line", T0 + timedelta(hours=5), "t")
    exact = item("c", text, T0 + timedelta(days=1), "u")
    second.assign([edited, exact])
    assert edited.story_id == exact.story_id == "a"
    again = item("b", edited.text, edited.published, "t")
    second.assign([again])
    story = second.stories(["a"])["a"]
    assert story.member_count == 3 and story.sources == ["s", "t", "u"]


def test_outside_the_window_is_a_new_story(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings(window_days=2))
    text = " ".join(f"word{i}" for i in range(60))
    old = item("old", text, T0)
    later = item("later", text.replace("word1 ", "other "), T0 + timedelta(days=10))
    store.assign([old])
    store.assign([later])
    assert later.story_id == "later"


def test_chinese_near_duplicates_by_character_shingles(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())
    base = "市场监管部门通报，诺瓦商城在双十一期间存在先提价后打折等虚假促销行为，依法对其处以罚款。近一个月来消费者投诉数量激增。"
    a = item("a", base, T0, lang="zh")
    b = item("b", base + "（本文转载自合作媒体）", T0 + timedelta(hours=2), "t", lang="zh")
    c = item(
        "c",
        "山东烟台的苹果迎来丰收，当地果农表示，红富士苹果个大味甜，收购价格比去年略有上涨。",
        T0,
        "u",
        lang="zh",
    )
    store.assign([a, b, c])
    assert b.story_id == "a" and c.story_id == "c"


def test_truncated_copy_joins_by_containment(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())
    text = " ".join(f"word{i}" for i in range(200))
    full = item("full", text, T0)
    truncated = item("short", " ".join(f"word{i}" for i in range(80)), T0 + timedelta(hours=1), "t")
    store.assign([full, truncated])
    assert truncated.story_id == "full" and truncated.story_level == "near"


def test_semantic_level_needs_cosine_and_shared_figures(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings(), semantic_threshold=0.9)
    first = item("a", "NovaMart recalls 120,000 power banks after 3 fires; shares fell 6.5 percent.", T0)
    rewrite = item(
        "b",
        "Shares of NovaMart dropped 6.5 percent as it pulled 120,000 chargers.",
        T0 + timedelta(hours=3),
        "t",
    )
    same_topic = item(
        "c", "NovaMart recalls 45,000 heaters after 12 complaints.", T0 + timedelta(hours=4), "u"
    )
    close = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    near_close = np.array([0.95, np.sqrt(1 - 0.95**2), 0.0], dtype=np.float32)
    other_side = np.array([0.95, 0.0, np.sqrt(1 - 0.95**2)], dtype=np.float32)
    store.assign([first, rewrite, same_topic], np.stack([close, near_close, other_side]))
    assert (rewrite.story_id, rewrite.story_level) == ("a", "semantic")
    assert (same_topic.story_id, same_topic.story_level) == ("c", "new")  # similar, but no shared figures


def test_figures_and_shingles() -> None:
    assert numbers_in("Sold 120,000 units in 2026 for $6.5 and 3 others; 诺瓦商城召回12万台") == {
        "120000",
        "12",
    }
    assert shingles("too short") == set()
    assert len(shingles(" ".join(f"w{i}" for i in range(20)))) == 18


def test_stored_signatures_are_datasketch_minhashes_of_the_shingles(tmp_path: Path) -> None:
    """Signatures stay comparable with those stored by earlier runs: datasketch's own hashing of the
    shingles, in English and Chinese."""
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())
    texts = {
        "en": " ".join(f"Voltly power bank recall number {i} widens" for i in range(12)),
        "zh": "诺瓦商城宣布召回一批充电宝，原因是部分产品在充电时存在过热起火的风险，消费者可以申请全额退款。",
    }
    store.assign([item(key, text, T0) for key, text in texts.items()])
    for key, text in texts.items():
        blob = store.db.execute("SELECT minhash FROM story_items WHERE item_id = ?", (key,)).fetchone()[0]
        expected = MinHash(num_perm=StorySettings().num_perm, seed=1, scheme="affine32")
        expected.update_batch([piece.encode("utf-8") for piece in shingles(text)])
        assert np.array_equal(np.frombuffer(blob, dtype=np.uint32), expected.hashvalues), key


def test_reprint_set_is_deterministic_and_labelled() -> None:
    first, again = reprint_set(seed=3, stories=30), reprint_set(seed=3, stories=30)
    assert first == again
    assert {d.variant for d in first} <= {"original", "retitled", "boilerplate", "truncated", "rewrite"}
    assert len({d.story for d in first}) == 30 and len(first) > 30
    assert {d.lang for d in first} == {"en", "zh"}


def test_window_kept_between_calls_sees_rows_written_by_another_process(tmp_path: Path) -> None:
    ours = StoryStore(tmp_path / "s.sqlite", StorySettings())
    theirs = StoryStore(tmp_path / "s.sqlite", StorySettings())
    first = " ".join(f"alpha{i}" for i in range(60))
    second = " ".join(f"beta{i}" for i in range(60))
    ours.assign([item("a", first, T0)])
    ours.assign([item("a2", first + " more words at the end", T0 + timedelta(hours=1))])  # the kept window
    theirs.assign([item("b", second, T0 + timedelta(hours=2))])
    edited = item("b2", second.replace("beta59", "changed") + " a credit line", T0 + timedelta(hours=3))
    ours.assign([edited])
    assert edited.story_id == "b" and edited.story_level == "near"


def test_a_day_only_date_never_makes_a_reprint_the_canonical(tmp_path: Path) -> None:
    """A reprint dated only by day is stored at local midnight, earlier than the timed original."""
    text = "NovaMart recalls 120,000 power banks after reports of overheating and three small fires. " * 3
    original = item("orig", text, T0 + timedelta(hours=9), source="harbor")
    reprint = item("copy", text, T0, source="metro").model_copy(update={"date_precision": "date"})
    undated = item("seen", text, T0 - timedelta(hours=1), source="ledger").model_copy(
        update={"published": None, "date_precision": "none"}
    )
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())
    store.assign([reprint, undated, original])
    (story,) = store.stories({original.story_id or ""}).values()
    assert story.member_count == 3 and story.canonical_item_id == "orig"
