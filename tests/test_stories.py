from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash

from config.settings import StorySettings
from nlp.embed import SentenceTransformerEmbedder
from nlp.facts import figures_in
from nlp.records import Item, Mention
from nlp.stories import StoryStore, shingles
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
    assert figures_in("Sold 120,000 units in 2026 for $6.5 and 3 others; 诺瓦商城召回12万台") == {"120000"}
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


def _unit(*weights: float) -> np.ndarray:
    vector = np.array(weights, dtype=np.float32)
    return vector / np.linalg.norm(vector)


RECALL_EN = (
    "NovaMart said on Tuesday it would recall about 120,000 power banks sold under the Voltly brand. "
    "Its shares fell 6 percent."
)
RECALL_ZH = "诺瓦商城周二宣布召回约12万台Voltly品牌充电宝，股价下跌6%。"


def _mention(entity: str, term: str) -> tuple[Mention, ...]:
    return (Mention(watchlist="novamart", term=term, field="body", start=0, end=len(term), via=entity),)


def test_crosslingual_level_joins_a_translation_on_shared_facts(tmp_path: Path) -> None:
    """Across languages cosines sit lower, so a candidate must agree on facts that survive translation:
    figures across scripts (12万 = 120,000, 6% = 6 percent), the weekday, Latin names, the entity."""
    store = StoryStore(
        tmp_path / "s.sqlite", StorySettings(), semantic_threshold=0.92, crosslingual_threshold=0.8
    )
    english = item(
        "en", RECALL_EN, T0, "a", "NovaMart recalls power banks", mentions=_mention("NovaMart", "NovaMart")
    )
    chinese = item(
        "zh",
        RECALL_ZH,
        T0 + timedelta(hours=2),
        "b",
        "诺瓦商城召回充电宝",
        "zh",
        _mention("NovaMart", "诺瓦商城"),
    )
    other = item(  # same kind of event, same company, other figures: never the same story
        "zh-other", "诺瓦商城周二宣布召回约4万台Zapp品牌暖风机，股价下跌3%。", T0 + timedelta(hours=3), "c", "诺瓦商城召回暖风机", "zh",
        _mention("NovaMart", "诺瓦商城"),
    )  # fmt: skip
    store.assign([english, chinese, other], np.stack([_unit(1, 0.0), _unit(1, 0.5), _unit(1, 0.55)]))
    assert (chinese.story_id, chinese.story_level) == ("en", "crosslingual")
    assert (other.story_id, other.story_level) == ("zh-other", "new")
    story = store.stories(["en"])["en"]
    assert story.languages == ["en", "zh"] and story.member_count == 2
    assert story.by_language["zh"].title == "诺瓦商城召回充电宝" and story.by_language["zh"].sites == 1
    assert story.canonical_item_id == "en"  # the earliest version across languages


def test_crosslingual_level_needs_facts_and_the_cosine(tmp_path: Path) -> None:
    settings = StorySettings()
    store = StoryStore(tmp_path / "s.sqlite", settings, crosslingual_threshold=0.8)
    english = item("en", RECALL_EN, T0, "a")
    facts_only = item("zh-far", RECALL_ZH, T0 + timedelta(hours=1), "b", "充电宝", "zh")
    store.assign([english, facts_only], np.stack([_unit(1, 0), _unit(1, 1)]))  # cosine 0.71
    assert facts_only.story_level == "new"
    close_no_facts = item(
        "zh-near", "一家电商平台宣布召回部分移动电源。", T0 + timedelta(hours=1), "b", "召回", "zh"
    )
    store.assign([close_no_facts], _unit(1, 0.1)[None, :])
    assert close_no_facts.story_level == "new"
    off = StoryStore(tmp_path / "off.sqlite", settings)  # MiniLM: no calibrated cross-language threshold
    pair = [english.model_copy(), facts_only.model_copy()]
    off.assign(pair, np.stack([_unit(1, 0), _unit(1, 0.1)]))
    assert pair[1].story_level == "new"


def test_near_level_never_joins_a_template_filled_with_other_numerals(tmp_path: Path) -> None:
    """Two alerts from one template, another city and other figures: shingles alike, events different."""
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())
    template = (
        "Authorities in {city} issued an air pollution alert on Monday after the air quality index reached {aqi}. "
        "Schools cancelled outdoor classes and {n} factories were ordered to cut output for the rest of the week, "
        "officials said in a statement posted online."
    )
    first = item("a", template.format(city="Xi'an", aqi=38, n=15), T0)
    other = item("b", template.format(city="Nanjing", aqi=9, n=8), T0 + timedelta(hours=1), "t")
    copy = item(
        "c",
        template.format(city="Xi'an", aqi=38, n=15) + " Share this article.",
        T0 + timedelta(hours=2),
        "u",
    )
    store.assign([first, other, copy])
    assert other.story_level == "new"
    assert (copy.story_id, copy.story_level) == ("a", "near")


def test_planted_events_are_one_story_each_across_languages(
    world: World, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    """With the default model every level runs: each planted event (a story and its Chinese or English
    version) is one story, and no two events share one."""
    from config.settings import StorySettings as Stories
    from nlp.embed import embedding_text
    from nlp.stories import crosslingual_threshold_for, semantic_threshold_for

    settings, model = Stories(), real_embedder.name
    store = StoryStore(
        tmp_path / "s.sqlite",
        settings,
        semantic_threshold_for(settings, model),
        crosslingual_threshold_for(settings, model),
    )
    items = sorted(world_items(world), key=lambda one: one.filed_at)
    store.assign(items, real_embedder.embed([embedding_text(i.title, i.text, 1000) for i in items]))
    found = {i.id: i.story_id for i in items}
    events = world.events()
    assert {key for key, arts in events.items() if len({a.lang for a in arts}) > 1} == {
        "novamart-recall",
        "novamart-warehouse",
    }
    for key, articles in events.items():
        assert len({found[a.id] for a in articles}) == 1, f"event {key} was split"
    assert len(set(found.values())) == len(events), "two events were merged"
    recall = store.stories([found[a.id] for a in events["novamart-recall"]]).popitem()[1]
    assert recall.by_language["en"].items == 4 and recall.by_language["zh"].items == 2
    assert recall.by_language["zh"].title == "诺瓦商城召回12万台充电宝 起火事件引发监管关注"


class _Counting:
    """The hashing test double, recording which items reached it."""

    def __init__(self) -> None:
        from nlp.embed import HashingEmbedder

        self.inner, self.calls = HashingEmbedder(64), []  # type: ignore[var-annotated]

    def __call__(self, items: list[Item]) -> np.ndarray:
        self.calls.append([one.id for one in items])
        return self.inner.embed([f"{one.title}\n{one.text}" for one in items])


def _story_text(topic: str, n: int) -> str:
    """``n`` sentences of words of its own: texts of different topics share no shingles."""
    import random

    rng = random.Random(topic)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(40)]
    return " ".join(" ".join(rng.choices(words, k=8)) + "." for _ in range(n))


def test_reprints_never_reach_the_encoder_and_take_their_originals_vector(tmp_path: Path) -> None:
    """Reprints of the past and of this batch borrow a vector; only the rest is embedded, in one call, and
    every item lands in the story plain `assign` gives it."""
    first = [item("a0", _story_text("harbour", 12), T0, "s1", "Harbour report")]
    later = T0 + timedelta(hours=2)
    batch = [
        item("b-exact-of-past", _story_text("harbour", 12), later, "s2", "Retitled harbour report"),
        item("c-new", _story_text("railway", 12), later, "s3", "Railway report"),
        item("d-near-of-c", _story_text("railway", 12) + " Share this article. Advertisement.", later, "s4", "Railway"),
        item("e-exact-of-c", _story_text("railway", 12), later, "s5", "Rail news"),
        item("f-new", _story_text("orchard", 12), later, "s6", "Orchard report"),
        item("a0", _story_text("harbour", 12), T0, "s1", "Harbour report"),
    ]  # fmt: skip
    store = StoryStore(tmp_path / "s.sqlite", StorySettings(), semantic_threshold=0.95)
    encoder = _Counting()
    first_vectors = store.assign_embedding(first, encoder)
    vectors = store.assign_embedding(batch, encoder)
    assert encoder.calls == [["a0"], ["c-new", "f-new"]]
    found = {one.id: (one.story_id, one.story_level) for one in batch}
    assert found == {
        "b-exact-of-past": ("a0", "exact"),
        "c-new": ("c-new", "new"),
        "d-near-of-c": ("c-new", "near"),
        "e-exact-of-c": ("c-new", "exact"),
        "f-new": ("f-new", "new"),
        "a0": ("a0", "known"),
    }
    assert np.array_equal(vectors[0], first_vectors[0]) and np.array_equal(vectors[5], first_vectors[0])
    assert np.array_equal(vectors[2], vectors[1]) and np.array_equal(vectors[3], vectors[1])
    plain = StoryStore(tmp_path / "plain.sqlite", StorySettings(), semantic_threshold=0.95)
    copies = [one.model_copy() for one in [*first, *batch[:-1]]]
    plain.assign(copies, encoder.inner.embed([f"{one.title}\n{one.text}" for one in copies]))
    assert {one.id: (one.story_id, one.story_level) for one in copies[1:]} == {
        key: value for key, value in found.items() if key != "a0"
    }


def test_a_reprint_of_an_original_without_a_vector_gets_its_own(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings(), semantic_threshold=0.95)
    store.assign([item("old", _story_text("harbour", 12), T0)])  # stored before vectors were kept
    encoder = _Counting()
    copy = item("copy", _story_text("harbour", 12), T0 + timedelta(hours=1), "t", "Harbour again")
    vectors = store.assign_embedding([copy], encoder)
    assert (copy.story_id, copy.story_level) == ("old", "exact") and encoder.calls == [["copy"]]
    assert vectors.shape == (1, 64) and np.linalg.norm(vectors[0]) > 0.99


def test_without_vector_levels_vectors_are_still_kept_for_reprints_to_borrow(tmp_path: Path) -> None:
    store = StoryStore(tmp_path / "s.sqlite", StorySettings())  # a model with no calibrated thresholds
    encoder = _Counting()
    original = item("o", _story_text("harbour", 12), T0)
    first = store.assign_embedding([original], encoder)
    copy = item("c", _story_text("harbour", 12), T0 + timedelta(hours=1), "t", "Again")
    again = store.assign_embedding([copy], encoder)
    assert encoder.calls == [["o"]] and copy.story_level == "exact" and np.array_equal(again[0], first[0])
