"""Topics piece by piece: Chinese keywords, fits, stable ids and lineage, signals, the saved state."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from nlp.topic_lineage import Fresh, Known, match_topics
from nlp.topic_signals import classify, popularity
from nlp.topic_state import DayFigures, TopicRecord, TopicState, TopicStateError, load_state, save_state
from nlp.topic_text import topic_words
from nlp.topics import FitOptions, TopicDoc, fit_topics, nearest_topic

DAY = date(2026, 11, 5)


def test_chinese_is_segmented_into_words_and_latin_words_are_kept_whole() -> None:
    words = topic_words("国家统计局数据显示，房地产市场仍处于调整期 NovaMart's iPhone 5G sales rose 12GWh")
    assert {"国家统计局", "房地产", "市场", "调整期", "novamart", "iphone", "5g", "sales"} <= set(words)
    assert all(len(word) <= 5 for word in words if not word.isascii())  # words, never sentences
    assert "的" not in words and "said" not in topic_words("the company said") and "12gwh" not in words


def blobs(per_topic: int = 30, topics: int = 4, seed: int = 0) -> tuple[list[TopicDoc], np.ndarray]:
    """Separated clusters of normalised vectors, each with its own words."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, 48))
    words = [
        ("battery lithium cells", "电池 锂矿"),
        ("rates inflation bank", "利率 通胀"),
        ("strike port dockers", "罢工 港口"),
        ("wheat grain harvest", "小麦 粮食"),
    ]
    docs, rows = [], []
    for topic in range(topics):
        for n in range(per_topic):
            vector = centres[topic] + 0.15 * rng.normal(size=48)
            rows.append(vector / np.linalg.norm(vector))
            english, chinese = words[topic]
            lang = "zh" if n % 3 == 0 else "en"
            text = f"{chinese} 报道 {n}" if lang == "zh" else f"{english} report {n}"
            docs.append(TopicDoc(f"s{topic}-{n:02d}", text, text, lang, DAY))
    return docs, np.asarray(rows, dtype=np.float32)


def test_a_fit_finds_the_topics_and_is_deterministic() -> None:
    docs, vectors = blobs()
    first = fit_topics(docs, vectors, FitOptions(seed=3))
    again = fit_topics(docs, vectors, FitOptions(seed=3))
    assert len(first.topics) == 4 and first.outliers == 0.0
    assert np.array_equal(first.labels, again.labels)
    for topic in first.topics:
        truth = {docs[row].story_id.split("-")[0] for row in topic.members}
        assert len(truth) == 1  # every topic is one planted cluster
        assert topic.keywords["en"] and topic.keywords["zh"]
    labels = {topic.label for topic in first.topics}
    assert "battery, lithium, cells" in labels or any("battery" in label for label in labels)


def test_a_cluster_over_the_size_cap_with_no_sub_clusters_stays_a_topic() -> None:
    """HDBSCAN's size cap refuses a cluster that cannot be divided, and its points all become outliers:
    the week's biggest story would vanish. It is kept whole; true outliers stay outliers."""
    from hdbscan import HDBSCAN

    from nlp.topics import _keep_capped_leaves

    def grid(side: int, x: float, y: float) -> np.ndarray:  # even density: no sub-clusters
        xs, ys = np.meshgrid(np.arange(side), np.arange(side))
        return np.column_stack([xs.ravel(), ys.ravel()]) * 0.01 + (x, y)

    big, small = grid(8, 0, 0), [grid(4, 5.0 * k, 5) for k in (1, 2, 3)]
    lonely = np.array([[20.0, -20.0], [-20.0, 20.0], [30.0, 30.0]])
    model = HDBSCAN(min_cluster_size=8, max_cluster_size=30).fit(np.vstack([big, *small, lonely]))
    assert (model.labels_[:64] < 0).all()  # what the library does
    kept = _keep_capped_leaves(model.labels_, model.condensed_tree_.to_numpy())
    assert len(set(kept[:64])) == 1 and kept[0] not in set(model.labels_)
    assert (kept[64:112] == model.labels_[64:112]).all() and (kept[112:] < 0).all()


def test_too_few_stories_make_no_topics() -> None:
    docs, vectors = blobs(per_topic=4)
    fit = fit_topics(docs[:10], vectors[:10], FitOptions())
    assert fit.topics == [] and fit.outliers == 1.0


def test_outliers_join_only_a_topic_they_are_as_close_to_as_its_members() -> None:
    centroids = np.eye(3, dtype=np.float32)
    floors = np.array([0.9, 0.9, 0.5])
    near = np.array([[0.95, 0.3, 0.0], [0.6, 0.0, 0.8], [0.3, 0.0, 0.2]], dtype=np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    assert nearest_topic(near, centroids, floors) == [0, 2, -1]


def known(topic_id: int, stories: range, prefix: str = "s", **extra: object) -> Known:
    return Known(topic_id, frozenset(f"{prefix}{n}" for n in stories), np.ones(4), frozenset(), **extra)  # type: ignore[arg-type]


def fresh(stories: list[str]) -> Fresh:
    return Fresh(frozenset(stories), np.ones(4), frozenset())


def names(numbers: range, prefix: str = "s") -> list[str]:
    return [f"{prefix}{n}" for n in numbers]


def test_a_continuing_topic_keeps_its_id_whatever_order_the_fit_gives() -> None:
    old = [known(3, range(0, 10)), known(7, range(10, 20))]
    new = [fresh(names(range(12, 22))), fresh(names(range(1, 10)) + ["x1", "x2"])]  # fit order swapped
    matching = match_topics(old, new, next_id=8, meaning_cosine=None)
    assert matching.ids == [7, 3] and matching.events == [] and matching.unmatched == []


def test_split_merge_new_and_dormant_are_recorded() -> None:
    old = [known(1, range(0, 10)), known(2, range(10, 16)), known(3, range(16, 22)), known(4, range(22, 30))]
    new = [
        fresh(names(range(0, 5))),  # 1 splits ...
        fresh(names(range(5, 10)) + ["n1", "n2"]),  # ... into two
        fresh(names(range(10, 22))),  # 2 and 3 merge
        fresh(["b1", "b2", "b3", "b4", "b5"]),  # a new topic; 4 is gone
    ]
    matching = match_topics(old, new, next_id=5, meaning_cosine=None)
    kinds = {(e.kind, e.parents, e.children) for e in matching.events}
    split_ids = tuple(sorted(matching.ids[:2]))
    assert ("split", (1,), split_ids) in kinds and 1 in split_ids
    assert ("merge", (2, 3), (matching.ids[2],)) in kinds and matching.ids[2] in (2, 3)
    assert matching.merged_into == {({2, 3} - {matching.ids[2]}).pop(): matching.ids[2]}
    assert ("new", (), (matching.ids[3],)) in kinds and matching.ids[3] >= 5
    assert ("dormant", (4,), ()) in kinds and matching.unmatched == [4]


def test_fresh_coverage_shows_a_merge_the_old_stories_do_not() -> None:
    """Two threads keep their old stories, but what is new about both now forms one topic."""
    old = [
        known(1, range(0, 10), fresh=frozenset(names(range(0, 4), "w"))),
        known(2, range(10, 20), fresh=frozenset(names(range(0, 4), "f"))),
    ]
    new = [
        fresh(names(range(0, 10))),
        fresh(names(range(10, 20))),
        fresh(names(range(4), "w") + names(range(4), "f")),
    ]
    matching = match_topics(old, new, next_id=3, meaning_cosine=None)
    assert matching.ids == [1, 2, 3]
    assert [(e.kind, e.parents, e.children) for e in matching.events] == [("merge", (1, 2), (3,))]


def test_a_thread_that_lives_on_still_merges_by_its_fresh_coverage() -> None:
    """Fertiliser keeps its old stories and one new one; the rest of what is new about it joins wheat's
    continuation, now the food crisis: a merge of both, and fertiliser stays active."""
    old = [
        known(1, range(0, 10), fresh=frozenset(names(range(0, 5), "c"))),
        known(2, range(10, 20), fresh=frozenset(names(range(0, 5), "c") + ["f0"])),
    ]
    new = [fresh(names(range(0, 10)) + names(range(5), "c")), fresh(names(range(10, 20)) + ["f0"])]
    matching = match_topics(old, new, next_id=3, meaning_cosine=None)
    assert matching.ids == [1, 2] and matching.merged_into == {}
    assert [(e.kind, e.parents, e.children) for e in matching.events] == [("merge", (1, 2), (1,))]


def test_two_new_stories_that_a_neighbour_took_make_no_merge_three_do() -> None:
    """A thread that goes on with all its old stories, and whose only new stories joined a neighbour: two
    such stories are noise (seed 3 of the calendar world showed "ai-safety merged with ai-copyright" from
    two); from three on they are coverage that converged."""
    for sent, merged in ((2, False), (3, True)):
        old = [
            known(1, range(0, 20), fresh=frozenset(names(range(sent), "c"))),
            known(2, range(20, 30), fresh=frozenset(names(range(3), "d"))),
        ]
        new = [
            fresh(names(range(0, 20))),
            fresh(names(range(20, 30)) + names(range(3), "d") + names(range(sent), "c")),
        ]
        matching = match_topics(old, new, next_id=3, meaning_cosine=None)
        assert matching.ids == [1, 2] and matching.merged_into == {}
        events = [(e.kind, e.parents, e.children) for e in matching.events]
        assert events == ([("merge", (1, 2), (2,))] if merged else []), sent


def test_coverage_between_two_threads_draws_on_those_two_not_on_a_third_nearby() -> None:
    """Four new stories sit between threads A and B; C is related to them too, but further than both."""
    axes = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.6, 0.3, 0.742]}
    between = np.array([0.72, 0.69, 0.05]) / np.linalg.norm([0.72, 0.69, 0.05])
    orphans = frozenset(names(range(4), "o"))
    old = [
        Known(n, frozenset(names(range(10), key)), np.array(axes[key]), frozenset(), orphans)
        for n, key in enumerate("abc", start=1)
    ]
    vectors = {**{s: np.array(axes["a"]) for s in names(range(10), "a")}, **{s: between for s in orphans}}
    mean = np.mean(list(vectors.values()), axis=0)
    joined = Fresh(frozenset(vectors), mean / np.linalg.norm(mean), frozenset(), vectors)
    new = [joined, *(Fresh(frozenset(names(range(10), k)), np.array(axes[k]), frozenset()) for k in "bc")]
    matching = match_topics(old, new, next_id=4, meaning_cosine=None, related_cosine=0.1)
    assert [(e.kind, e.parents, e.children) for e in matching.events] == [("merge", (1, 2), (1,))]


def test_a_topic_merges_into_the_one_its_stories_went_to_not_every_branch_of_its_coverage() -> None:
    """A split's parent whose old stories went to one branch, while what is new near it went to the
    other: it merged into the first only."""
    old = [
        known(1, range(0, 6), fresh=frozenset(names(range(4), "b"))),
        known(2, range(10, 20)),
        known(3, range(20, 30), fresh=frozenset(names(range(4), "b"))),
    ]
    new = [
        fresh(names(range(0, 6)) + names(range(10, 20))),
        fresh(names(range(20, 30)) + names(range(4), "b")),
    ]
    matching = match_topics(old, new, next_id=4, meaning_cosine=None)
    assert matching.ids == [2, 3]
    assert [(e.kind, e.parents, e.children) for e in matching.events] == [("merge", (1, 2), (2,))]
    assert matching.merged_into == {1: 2}


def test_an_id_goes_where_most_of_its_stories_went() -> None:
    """A burst's first five stories sat in a fading topic; then most of that topic's stories joined
    another, and the burst grew into a topic of its own: the burst is new, not the fading topic's heir."""
    fading = Known(8, frozenset(names(range(9), "f") + names(range(5), "b")), np.ones(4), frozenset())
    old = [fading, known(10, range(40), "c")]
    new = [fresh(names(range(40), "c") + names(range(7), "f")), fresh(names(range(20), "b"))]
    matching = match_topics(old, new, next_id=11, meaning_cosine=None)
    assert matching.ids == [10, 11] and matching.merged_into == {8: 10}
    kinds = [(e.kind, e.parents, e.children) for e in matching.events]
    assert kinds == [("merge", (8, 10), (10,)), ("new", (), (11,))]


def test_a_fading_topic_absorbed_by_an_unrelated_neighbour_is_dormant_not_merged() -> None:
    """The last six port-strike stories fall into the wheat topic: the fit's centroid leans towards them
    (cosine 0.75, above the bar of 0.7), but what the topic holds besides them is wheat (0.6)."""
    wheat, port = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    old = [
        Known(1, frozenset(names(range(20), "w")), wheat, frozenset()),
        Known(2, frozenset(names(range(6), "p")), port, frozenset()),
    ]
    vectors = {**{s: wheat for s in names(range(20), "w")}, **{s: port for s in names(range(6), "p")}}
    mixed = np.mean(list(vectors.values()), axis=0)
    mixed = mixed / np.linalg.norm(mixed)
    assert float(mixed @ port) >= 0.7
    both = Fresh(frozenset(vectors), mixed, frozenset(), vectors)
    matching = match_topics(old, [both], next_id=3, meaning_cosine=None, related_cosine=0.7)
    assert matching.ids == [1] and matching.merged_into == {} and matching.unmatched == [2]
    assert [(e.kind, e.parents) for e in matching.events] == [("dormant", (2,))]
    without_vectors = Fresh(frozenset(vectors), mixed, frozenset())  # the fit's centroid alone: a merge
    matching = match_topics(old, [without_vectors], next_id=3, meaning_cosine=None, related_cosine=0.7)
    assert [(e.kind, e.parents) for e in matching.events] == [("merge", (1, 2))]


def test_coverage_below_every_floor_counts_for_each_related_topic_and_a_merge_is_recorded_once() -> None:
    from nlp.topic_daily import _fresh_stories, _repeated
    from nlp.topic_lineage import Event
    from nlp.topic_state import LineageRecord

    state = TopicState(model="m", next_id=4, fits=[DAY])
    axes = {1: [1.0, 0.0, 0.0], 2: [0.0, 1.0, 0.0], 3: [0.0, 0.0, 1.0]}
    for topic_id, axis in axes.items():
        state.topics[topic_id] = record(topic_id, {0: 2}).model_copy(
            update={"stories": [f"held-{topic_id}"], "floor": 0.95}
        )
        state.centroids[topic_id] = np.array(axis, dtype=np.float32)
    docs = [
        TopicDoc(story_id=name, title=name, text=name, language="en", day=day)
        for name, day in (("own", DAY + timedelta(1)), ("between", DAY + timedelta(1)), ("old", DAY))
    ]
    between = np.array([0.75, 0.66, 0.0])  # 0.75 and 0.66 to topics 1 and 2: below both floors
    vectors = np.array([[0.99, 0.14, 0.0], between, between], dtype=np.float32)
    found = _fresh_stories(state, docs, vectors, related=0.6)
    assert found == {1: ["own", "between"], 2: ["between"]}  # the old outlier is not new coverage
    assert _fresh_stories(state, docs, vectors, related=None) == {1: ["own"]}
    lineage = [LineageRecord(day=DAY, kind="merge", parents=[1, 2], children=[2])]
    assert _repeated(Event("merge", (1, 2), (2,)), lineage)
    assert not _repeated(Event("merge", (1, 2, 3), (2,)), lineage)
    assert not _repeated(Event("split", (2,), (2, 1)), lineage)


def test_a_dormant_topic_comes_back_by_meaning() -> None:
    centroid = np.array([1.0, 0.0, 0.0, 0.0])
    old = [Known(5, frozenset({"gone1", "gone2"}), centroid, frozenset({"strike", "port", "dockers"}))]
    back = Fresh(frozenset({"new1", "new2"}), np.array([0.99, 0.14, 0.0, 0.0]), frozenset({"strike", "port"}))
    other = Fresh(frozenset({"o1"}), np.array([0.0, 1.0, 0.0, 0.0]), frozenset({"strike", "port"}))
    matching = match_topics(old, [other, back], next_id=6, meaning_cosine=0.95, dormant=frozenset({5}))
    assert matching.ids == [6, 5]
    assert ("revived", (5,), (5,)) in {(e.kind, e.parents, e.children) for e in matching.events}


def record(topic_id: int, items: dict[int, int], born: int = 0) -> TopicRecord:
    return TopicRecord(
        id=topic_id,
        label=f"t{topic_id}",
        title="",
        born=DAY + timedelta(days=born),
        last_active=DAY,
        days={DAY + timedelta(days=d): DayFigures(stories=n, items=n, sources=1) for d, n in items.items()},
    )


def test_popularity_decays_and_a_burst_is_a_strong_new_signal() -> None:
    steady = [record(i, {d: 8 for d in range(7)}) for i in range(4)]
    fading = record(9, {0: 12, 1: 8, 2: 4})
    burst = record(10, {5: 4, 6: 16}, born=5)
    quiet = record(11, {3: 1, 6: 1})
    last = DAY + timedelta(days=6)
    series = popularity(fading, last, half_life_days=2)
    assert series[DAY + timedelta(days=4)] == pytest.approx(series[DAY + timedelta(days=2)] / 2)
    classify([*steady, fading, burst, quiet], last, window_days=7, half_life_days=2)
    assert (burst.signals[last].signal, burst.signals[last].trend) == ("strong", "new")
    assert steady[0].signals[last].trend == "stable" and steady[0].signals[last].signal == "strong"
    assert (fading.signals[last].signal, fading.signals[last].trend) == ("noise", "fading")
    assert quiet.signals[last].signal in ("weak", "noise")


def test_state_round_trip_refuses_newer_versions_and_reports_corruption(tmp_path: Path) -> None:
    state = TopicState(model="multilingual-e5-small", next_id=2, fits=[DAY])
    state.topics[1] = record(1, {0: 3})
    state.centroids[1] = np.arange(4, dtype=np.float32)
    save_state(tmp_path, state)
    again = load_state(tmp_path)
    assert again.topics[1].days == state.topics[1].days and np.array_equal(
        again.centroids[1], state.centroids[1]
    )
    assert not list(tmp_path.glob("*.pkl")) and (tmp_path / "centroids.safetensors").exists()
    raw = json.loads((tmp_path / "state.json").read_text())
    (tmp_path / "state.json").write_text(json.dumps({**raw, "version": 99}))
    assert "newer" in str(pytest.raises(TopicStateError, load_state, tmp_path).value)
    (tmp_path / "state.json").write_text('{"version": 1, "topics": {"1": ')
    message = str(pytest.raises(TopicStateError, load_state, tmp_path).value)
    assert "corrupt" in message and "state.json" in message
    assert (tmp_path / "state.json").read_text().startswith('{"version": 1')  # reported, not replaced


def test_texts_without_words_still_cluster_without_keywords() -> None:
    """A window of posts that are only numbers or one repeated word: topics, no crash, no keywords."""
    docs, vectors = blobs()
    for text in ("12 345 6789", "same", ""):
        plain = [TopicDoc(doc.story_id, text, text, doc.language, doc.day) for doc in docs]
        fit = fit_topics(plain, vectors, FitOptions())
        assert len(fit.topics) == 4 and all(topic.label == "(no keywords)" for topic in fit.topics)


def test_items_between_fits_get_their_storys_topic_else_the_nearest_within_its_floor(tmp_path: Path) -> None:
    from nlp.topic_daily import TopicAssigner
    from tests.conftest import make_item

    state = TopicState(model="m", next_id=3, fits=[DAY])
    for topic_id, axis in ((1, 0), (2, 1)):
        state.topics[topic_id] = record(topic_id, {0: 2}).model_copy(
            update={"stories": [f"story-{topic_id}"], "floor": 0.8, "label": f"label {topic_id}"}
        )
        state.centroids[topic_id] = np.eye(3, dtype=np.float32)[axis]
    save_state(tmp_path, state)
    assigner = TopicAssigner(tmp_path, threshold=None)
    items = [make_item(f"i{n}", "text", datetime(2026, 11, 6, tzinfo=UTC)) for n in range(3)]
    items[0].story_id, items[1].story_id, items[2].story_id = "story-2", "fresh-a", "fresh-b"
    vectors = np.array([[1, 0, 0], [0.95, 0.31, 0], [0.5, 0.5, 0.7]], dtype=np.float32)
    assigner.assign(items, vectors)
    assert [(i.topic_id, i.topic_label) for i in items] == [(2, "label 2"), (1, "label 1"), (None, "")]
    state.topics[1].status = "dormant"  # a new fit: the assigner reads it again
    save_state(tmp_path, state)
    assigner.assign(items, vectors)
    assert [i.topic_id for i in items] == [2, None, None]
    assert TopicAssigner(tmp_path / "none", threshold=None).assign(items, vectors) is None  # no fit yet


def test_topics_before_any_fit_says_what_to_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from opinionwatch.cli import app

    config = tmp_path / "opinionwatch.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["topics", "--config", str(config)])
    assert result.exit_code == 1 and "opinionwatch topics fit" in result.output
    (tmp_path / "data" / "topics").mkdir(parents=True)
    (tmp_path / "data" / "topics" / "state.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["topics", "--config", str(config)])
    assert result.exit_code == 1 and "corrupt" in result.output and "Traceback" not in result.output
