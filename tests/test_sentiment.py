"""Sentiment and risk: the model's training and storage, entity clauses, risk terms and levels, bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from config.settings import RiskSettings, StorySettings
from config.watchlist_settings import Entity, Watchlist
from nlp.char_ngrams import char_ngram_counts
from nlp.embed import HashingEmbedder
from nlp.records import EntitySentiment, Item, Mention, Risk, RiskLevel, Sentiment, SentimentLabel
from nlp.risk import REASONS, Reach, RiskMatcher, item_risk, level_for, story_risk
from nlp.sentiment import NO_WORDS, clause_around, read_sentiments, settle_sentiments
from nlp.sentiment_lexicon import Lexicon
from nlp.sentiment_model import SentimentModel, SentimentModelError, featurizer
from nlp.sentiment_train import Labelled, LabelledDataError, cross_validate, fit, read_labelled
from nlp.stories import StoryStore
from nlp.story_signals import StorySignals
from nlp.watchlists import WatchlistMatcher
from tests.conftest import make_item, write_demo_config

WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOVAMART = Watchlist(
    name="novamart", kind="company", entities=[Entity(name="NovaMart", aliases=["诺瓦商城"])]
)
RIVAL = Watchlist(name="rival", kind="company", entities=[Entity(name="ParcelPeak")])
POSITIVE = ["Profits rose sharply and the launch was a great success", "Customers love the excellent service",
            "Record sales and strong growth this quarter", "The award-winning app delighted users"]  # fmt: skip
NEGATIVE = ["Losses widened and the shares collapsed", "Customers hate the terrible service and delays",
            "The company was fined after a damaging scandal", "Angry users reported broken devices"]  # fmt: skip
NEUTRAL = ["The company will publish its report on Tuesday", "The meeting is scheduled for next week",
           "The firm has offices in three cities", "The board met in Berlin on Monday"]  # fmt: skip


def small_sets() -> dict[str, list[Labelled]]:
    english = [Labelled(t, "positive", "en") for t in POSITIVE] + [
        Labelled(t, "negative", "en") for t in NEGATIVE
    ]
    english += [Labelled(t, "neutral", "en") for t in NEUTRAL]
    chinese = [
        Labelled(t, "positive", "zh") for t in ("服务很好，非常满意", "质量不错，值得推荐", "物流很快，好评")
    ]
    chinese += [
        Labelled(t, "negative", "zh")
        for t in ("质量太差，非常失望", "客服态度恶劣，投诉无门", "假货，退款难")
    ]
    return {"english": english, "chinese": chinese}


def vectors_of(sets: dict[str, list[Labelled]]) -> dict[str, np.ndarray]:
    embedder = HashingEmbedder(32)
    return {name: embedder.embed([e.text for e in rows]) for name, rows in sets.items()}


def test_training_is_deterministic_and_a_saved_model_reads_back_the_same(tmp_path: Path) -> None:
    sets = small_sets()
    first = fit(sets, vectors_of(sets), "hashing-32", seed=3)
    first.save(tmp_path / "a")
    fit(sets, vectors_of(sets), "hashing-32", seed=3).save(tmp_path / "b")
    assert (tmp_path / "a" / "sentiment.safetensors").read_bytes() == (
        tmp_path / "b" / "sentiment.safetensors"
    ).read_bytes()
    loaded = SentimentModel.load(tmp_path / "a", "hashing-32")
    texts = POSITIVE + NEGATIVE
    vectors = HashingEmbedder(32).embed(texts)
    before = [s.label for s in first.classify(texts, "en", vectors)]
    after = [s.label for s in loaded.classify(texts, "en", vectors)]
    assert before == after  # a model whose weights were stored in the wrong order fails here
    assert before[: len(POSITIVE)].count("positive") >= 3 and before[len(POSITIVE) :].count("negative") >= 3
    meta = json.loads((tmp_path / "a" / "sentiment.json").read_text())
    assert meta["languages"]["zh"]["classes"] == ["negative", "positive"]
    assert meta["languages"]["en"]["trained_on"] == {"english": 12}
    assert loaded.heads["en"].vector_coef is not None
    assert SentimentModel.load(tmp_path / "a", "multilingual-e5-small").heads["en"].vector_coef is None
    chinese_only = fit({"chinese": sets["chinese"]}, None, "hashing-32")  # a user's own labels, one language
    assert chinese_only.classify(["an English text"], "en")[0].label in ("negative", "neutral", "positive")


def test_english_reads_rated_words_its_labels_never_showed_and_negation_turns_them() -> None:
    lexicon = Lexicon.load("vader")
    good, negated, plain, emoticon, curly = lexicon.scores(
        ["a superb result", "not superb", "the report", "ok :(", "it isn\u2019t superb"]
    )
    assert good[2] > 0 > negated[2] and good[1] > 0 and negated[0] > 0  # balance, positive, negative shares
    assert curly[2] < 0  # a typographic apostrophe negates too
    assert not plain.any() and emoticon[2] < 0
    sets = small_sets()
    model = fit(sets, None, "none")
    texts = ["A superb, brilliant outcome", "A dreadful, disastrous outcome"]  # no word of the training set
    assert [s.label for s in model.classify(texts, "en")] == ["positive", "negative"]
    assert model.heads["zh"].lexicon is None  # Chinese reads characters only


def test_character_ngrams_stay_inside_words_and_texts() -> None:
    def counts(*texts: str) -> np.ndarray:
        return char_ngram_counts(list(texts), 3, 2**12).toarray()

    assert (
        counts("abcde").sum() == 18 and counts("华为芯片").sum() == 15
    )  # 1-3-grams of " abcde " / " 华为芯片 "
    joined = counts("ab cd")[0] - counts("ab")[0] - counts("cd")[0]
    assert sorted(joined[joined != 0]) == [-1]  # only the space the two words share: no "b c"
    batch = counts("ab cd", "", "Ab  CD\n", "x")
    assert (batch[0] == counts("ab cd")[0]).all() and (batch[2] == batch[0]).all()  # case, spacing
    assert not batch[1].any() and (batch[3] == counts("x")[0]).all()  # nothing across texts
    assert counts("a\ud83d b").sum() == counts("ax b").sum()  # a lone surrogate (a cut emoji) is a character
    older = featurizer({"analyzer": "char_wb", "ngram_range": [1, 3], "n_features": 2**12})(["ab cd"])
    assert older.shape == (1, 2**12) and older.sum() == 18  # models saved before still read their n-grams


def test_a_model_trained_with_another_version_of_its_lexicon_is_refused(tmp_path: Path) -> None:
    sets = small_sets()
    fit(sets, None, "none").save(tmp_path)
    meta_path = tmp_path / "sentiment.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    assert meta["languages"]["en"]["lexicon"] == {"name": "vader", "sha256": Lexicon.load("vader").sha256}
    meta["languages"]["en"]["lexicon"]["sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(SentimentModelError, match="another version of the vader lexicon.*retrain"):
        SentimentModel.load(tmp_path)


def test_cross_validation_never_scores_a_text_with_a_model_that_saw_it() -> None:
    sets = small_sets()
    predictions = cross_validate(sets, vectors_of(sets), "hashing-32", folds=3)
    assert {name: len(found) for name, found in predictions.items()} == {"english": 12, "chinese": 6}
    assert "neutral" not in predictions["chinese"]  # a positive/negative set is scored by polarity


def test_labelled_files_say_which_line_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "mine.jsonl"
    good.write_text('{"text": "great", "label": "positive", "lang": "en", "title": "T"}\n\n', "utf-8")
    assert read_labelled(good) == [Labelled("great", "positive", "en", "T")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "a", "label": "positive", "lang": "en"}\n{"text": "b", "label": "meh"}\n', "utf-8"
    )
    with pytest.raises(LabelledDataError, match=r"bad\.jsonl:2: .*'meh'"):
        read_labelled(bad)
    with pytest.raises(SentimentModelError, match="models train sentiment"):
        SentimentModel.load(tmp_path)


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load(embedding_model="multilingual-e5-small")


def judged(model: SentimentModel, item: Item, vector: np.ndarray | None = None) -> Item:
    read_sentiments([item], model)
    settle_sentiments([item], model, None if vector is None else vector[None, :])
    return item


@pytest.mark.parametrize(
    ("title", "text", "lang"),
    [
        ("", "", "en"),
        ("", "x", "en"),
        ("", "😀😀🎉", "und"),
        ("", "12 345 !!", "en"),
    ],
)
def test_text_without_words_is_neutral_with_no_confidence_and_a_counted_reason(
    model: SentimentModel, title: str, text: str, lang: str
) -> None:
    item = judged(model, make_item("k", text, WHEN, title=title, lang=lang))
    assert (item.sentiment.label, item.sentiment.confidence, item.sentiment.reason) == (
        "neutral",
        0.0,
        NO_WORDS,
    )
    assert NO_WORDS in item.problems


def test_huge_and_mixed_texts_and_an_entity_only_in_the_title_get_a_judgement(model: SentimentModel) -> None:
    huge = judged(model, make_item("h", "The store was great. " * 50_000, WHEN, title="Review"))
    assert huge.sentiment.label in ("negative", "neutral", "positive") and huge.sentiment.confidence > 0
    mixed = judged(model, make_item("m", "服务很好 but the delivery was terrible 非常失望", WHEN, lang="zh"))
    assert mixed.sentiment.confidence > 0
    matcher = WatchlistMatcher([NOVAMART])
    title = "NovaMart fined for selling fake goods"
    mentions, _ = matcher.match(title, "Regulators announced the penalty on Monday.")
    only_title = make_item(
        "t", "Regulators announced the penalty on Monday.", WHEN, title=title, mentions=tuple(mentions)
    )
    found = judged(model, only_title).entity_sentiments
    assert [(s.entity, s.passages) for s in found] == [("NovaMart", 1)]


def test_each_entity_is_judged_from_its_own_clause() -> None:
    text = "NovaMart was fined for fake reviews, while ParcelPeak won praise for its service."
    matcher = WatchlistMatcher([NOVAMART, RIVAL])
    mentions, _ = matcher.match("", text)
    clauses = {m.via: clause_around(text, m)[1] for m in mentions}
    assert clauses == {
        "NovaMart": "NovaMart was fined for fake reviews",
        "ParcelPeak": "ParcelPeak won praise for its service.",
    }
    title = "诺瓦商城物流严重延误引发差评 苹果公司售后服务获好评"
    mention = Mention(watchlist="novamart", term="诺瓦商城", field="title", start=0, end=4, via="NovaMart")
    assert clause_around(title, mention)[1] == "诺瓦商城物流严重延误引发差评"


def test_risk_terms_match_like_aliases_in_clauses_that_name_the_watchlist() -> None:
    watchlists = [NOVAMART, RIVAL, Watchlist(name="quiet", entities=[Entity(name="Quiet Co")], risk_terms=[])]
    title = "NovaMart recall widens"
    text = (
        "NovaMart refined its search and read the fine print. Later NovaMart was fined; ParcelPeak faces a "
        "probe. Quiet Co was sued. 诺瓦商城被约谈。"
    )
    mentions, _ = WatchlistMatcher(watchlists).match(title, text)
    item = make_item("r", text, WHEN, title=title, mentions=tuple(mentions))
    found = [(m.watchlist, m.term, m.field) for m in RiskMatcher(watchlists).match(item)]
    assert found == [
        ("novamart", "recall", "title"),
        ("novamart", "fined", "body"),  # not "refined", not "the fine print", not the rival's probe
        ("rival", "probe", "body"),
        ("novamart", "约谈", "body"),
    ]  # "sued" is no risk term of the quiet list, which has none
    assert RiskMatcher(watchlists).match(make_item("n", "NovaMart was fined", WHEN)) == []  # no hit, no risk


@pytest.mark.parametrize(
    ("sentence", "found"),
    [
        ("NovaMart must pay a fine of $2m.", ["fine"]),
        ("NovaMart faces a $3.5m (£2.7m) fine.", ["fine"]),
        ("The fine was far less than NovaMart expected.", ["fine"]),
        ("NovaMart is contesting that fine", ["fine"]),
        ("The bill would fine NovaMart up to 6% of revenue.", ["fine"]),
        ("NovaMart plans to fine tune its search.", []),
        ("NovaMart said its results were fine.", []),
        ("NovaMart made a fine start to the year.", []),
        ("NovaMart says everything is fine", []),
        ("NovaMart sells fine-grained flour.", []),
        ("NovaMart's service feels fine to us.", []),
        ("NovaMart staff strike over the pay deal.", ["strike"]),
        ("NovaMart workers plan two strikes in May.", ["strikes"]),
        ("NovaMart strikes deal with ParcelPeak.", []),
        ("NovaMart hopes to strike a similar agreement.", []),
        ("NovaMart wants to strike a balance between price and service.", []),
        ("NovaMart FC won with a 25-yard strike in the 89th minute.", []),
        ("NovaMart United's striker saw his strike hit the crossbar.", []),
        ("NovaMart staff strike after the referee of the pay talks quit.", ["strike"]),
        ("The goalkeeper at NovaMart's stadium shop joined the union strike.", ["strike"]),
        ("Smith was recalled to the NovaMart squad for the cup final.", []),
        ("An England recall beckons for NovaMart's captain.", []),
        ("The fly-half shone before half-time. Coach Lee may recall NovaMart's Jones on Saturday.", []),
        ("The wicket fell late in the innings. NovaMart's Khan struck a superb strike.", []),
        ("The quarter-final drew a crowd. NovaMart staff strike over pay on Saturday.", ["strike"]),
        ("NovaMart set goals for its squad. NovaMart recalled 9,000 kettles.", ["recalled"]),
        ("Before the FIFA semi-final, NovaMart recalled 10,000 footballs.", ["recalled"]),
        ("NovaMart recalled 120,000 power banks.", ["recalled"]),
        ("NovaMart is to recall all units; the recall costs $2m.", ["recall"]),
        ("NovaMart's founder recalled how the shop began.", []),
        ('"We had no money," he recalled of NovaMart.', []),
        ('"It was hard at NovaMart," Chen recalled.', []),
        ("I don't recall NovaMart ever closing.", []),
        ("Mr Palmer recalled the day NovaMart opened.", []),
        ("Former MP Jackie Ballard recalled a visit to NovaMart.", []),
        ("Mr Palmer said NovaMart recalled 9,000 kettles.", ["recalled"]),
        ("NovaMart supplier Dr Reddy's Laboratories recalled a batch of pills.", ["recalled"]),
        ("NovaMart partner Dr Pepper recalled 9,000 cans.", ["recalled"]),
        ("诺瓦商城被央视曝光", ["曝光"]),
        ("诺瓦商城新品外观曝光", []),
        ("诺瓦商城用户信息泄露", ["泄露"]),
        ("诺瓦商城新机参数泄露", []),
        ("监管部门对诺瓦商城展开调查", ["调查"]),
        ("调查显示诺瓦商城用户增长", []),
    ],
)
def test_ambiguous_risk_terms_count_only_in_their_adverse_sense(sentence: str, found: list[str]) -> None:
    """The penalty "fine", not the adjective; a "strike" that is a walkout, not a deal or a shot at goal;
    a "recall" of products, not of memories or of a player; 曝光 of wrongdoing, not of a new product; 泄露 of data, not of a phone's
    specifications; 调查 an investigation, not a survey."""
    mentions, _ = WatchlistMatcher([NOVAMART]).match("", sentence)
    item = make_item("a", sentence, WHEN, title="", mentions=tuple(mentions))
    assert [m.term for m in RiskMatcher([NOVAMART]).match(item)] == found


def test_every_risk_reason_reads_back_for_another_languages_wording() -> None:
    values = {"term": "召回", "terms": "fine, recall", "n": "2", "entity": "Safety (EU) rules",
              "confidence": "0.86", "sites": "6", "hours": "3"}  # fmt: skip
    for key, template in REASONS.templates.items():
        used = {name: values[name] for name in re.findall(r"{(\w+)}", template)}
        assert REASONS.parts(template.format(**used)) == (key, used)
    assert REASONS.parts("written some other way") is None


def _mention(watchlist: str) -> Mention:
    return Mention(watchlist=watchlist, term="NovaMart", field="body", start=0, end=8, via="NovaMart")


def test_risk_level_combines_terms_negative_tone_and_reach_with_reasons() -> None:
    settings = RiskSettings()
    item = make_item("r", "text", WHEN, title="召回", mentions=(_mention("novamart"),))
    item.risk_terms = [Mention(watchlist="novamart", term="召回", field="title", start=0, end=2, via="risk")]
    item.entity_sentiments = [
        EntitySentiment(
            watchlist="novamart", entity="NovaMart", label="negative", confidence=0.91, passages=2
        )
    ]
    risk = item_risk(item, Reach(sites=6, items=9, hours=3), settings)
    assert risk == Risk(
        level="critical",
        points=3 + 2 + 2,
        reasons=["`召回` in the title", "negative toward NovaMart (0.91)", "6 sites within 3 hours"],
        watchlist="novamart",
    )
    query_tone = EntitySentiment(
        watchlist="novamart", entity="novamart", label="negative", confidence=0.91, passages=1
    )  # a query's hits: the tone toward the watchlist itself, named by its title
    item.entity_sentiments = [query_tone]
    shown = item_risk(item, None, settings, {"novamart": "NovaMart (our company)"}).reasons
    assert shown == ["`召回` in the title", "negative toward NovaMart (our company) (0.91)"]
    item.entity_sentiments = [query_tone.model_copy(update={"entity": "NovaMart"})]
    item.risk_terms = []
    assert item_risk(item, None, settings).level == "low"  # negative tone alone
    item.entity_sentiments = []
    assert (
        item_risk(item, Reach(sites=20, items=40, hours=3), settings).level == "none"
    )  # reach alone is not risk
    assert [level_for(points, settings) for points in (0, 1, 3, 5, 7)] == [
        "none",
        "low",
        "medium",
        "high",
        "critical",
    ]
    assert story_risk([Risk(level="low", points=1), Risk(level="high", points=5)]).level == "high"


def test_reach_counts_weighted_sites_within_the_window_and_stories_aggregate_their_members(
    tmp_path: Path,
) -> None:
    text = "NovaMart recalls 120,000 power banks after reports of fires in three countries. " * 3
    items = [
        make_item("a", text, WHEN, source="wire"),
        make_item("b", text, WHEN + timedelta(hours=1), source="national"),
        make_item("c", text, WHEN + timedelta(hours=2), source="blog"),
        make_item("d", text, WHEN + timedelta(hours=2, minutes=30), source="wire"),  # a site already counted
        make_item("e", text, WHEN + timedelta(hours=9), source="late"),  # after the window
    ]
    stories = StoryStore(tmp_path / "stories.sqlite", StorySettings())
    stories.assign(items)
    story = items[0].story_id
    assert story and {item.story_id for item in items} == {story}
    signals = StorySignals(stories, RiskSettings(source_weights={"national": 2.0, "blog": 0.5}))
    assert signals.reach([story]) == {story: Reach(sites=3.5, items=5, hours=3.0)}
    judgements: list[tuple[RiskLevel, int, SentimentLabel]] = [
        ("high", 5, "negative"), ("low", 1, "neutral"), ("none", 0, "neutral"),
    ]  # fmt: skip
    judgements += [("none", 0, "positive")] * 2
    for item, (level, points, label) in zip(items, judgements, strict=True):
        item.risk = Risk(level=level, points=points, reasons=[f"{points} points"] if points else [])
        item.sentiment = Sentiment(label=label, confidence=0.9)
        item.entity_sentiments = [
            EntitySentiment(watchlist="n", entity="NovaMart", label=label, confidence=0.9, passages=1)
        ]
    signals.record(items)
    judged = signals.judgements([story])[story]
    assert judged.risk.level == "high" and judged.risk.reasons == ["5 points"]
    assert judged.sentiment == Sentiment(label="neutral", confidence=0.4)  # 2 of 5 members, equal confidence
    assert [(e.entity, e.label, e.passages) for e in judged.entity_sentiments] == [("NovaMart", "neutral", 5)]
    stories.close()


def test_risk_levels_in_the_settings_are_checked() -> None:
    assert RiskSettings(levels={"low": 2, "high": 4}).levels == {"low": 2, "high": 4}
    with pytest.raises(ValueError, match="unknown risk levels \\['severe'\\]"):
        RiskSettings(levels={"severe": 3})
    with pytest.raises(ValueError, match="no lower than the level below"):
        RiskSettings(levels={"low": 5, "high": 2})


def test_the_train_command_learns_a_users_own_labels(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from opinionwatch.cli import app

    labelled = tmp_path / "mine.jsonl"
    rows = [{"text": t, "label": label, "lang": "en"} for label, texts in
            (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)) for t in texts]  # fmt: skip
    labelled.write_text("\n".join(json.dumps(row) for row in rows) + "\n", "utf-8")
    config = write_demo_config(tmp_path, tmp_path / "data")
    out = tmp_path / "my-sentiment"
    command = ["models", "train", "sentiment", "--labelled", str(labelled), "--out", str(out)]
    result = CliRunner().invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"sentiment.model: {out}" in result.output and "training on mine (12)" in result.output
    trained = SentimentModel.load(out, "multilingual-e5-small")
    assert trained.meta["languages"]["en"]["trained_on"] == {"mine": 12}
    assert trained.heads["en"].vector_coef is not None  # a head over the pipeline's own embeddings
    missing = CliRunner().invoke(app, ["models", "train", "sentiment", "--config", str(config)])
    assert missing.exit_code == 1 and "no labelled data" in missing.output
