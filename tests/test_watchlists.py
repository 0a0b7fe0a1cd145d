from __future__ import annotations

from config.watchlist_settings import Entity, Watchlist
from nlp.normalize import fold
from nlp.watchlists import WatchlistMatcher

APPLE = Watchlist(
    name="apple",
    entities=[
        Entity(
            name="Apple",
            aliases=["Apple Inc.", "苹果公司"],
            ambiguous=["苹果"],
            require_any=["iPhone", "应用商店", "手机", "公司", "App Store"],
            exclude=[
                "Apple Daily",
                "apple pie",
                "orchard",
                "harvest",
                "crop",
                "水果",
                "果农",
                "种植",
                "吃",
                "丰收",
            ],
        )
    ],
)
NOVA = Watchlist(name="novamart", entities=[Entity(name="NovaMart", aliases=["Nova Mart", "诺瓦商城"])])
POLICY = Watchlist(name="product_safety", kind="policy", query="(recall OR 召回) AND NOT software")
MATCHER = WatchlistMatcher([APPLE, NOVA, POLICY])


def hits(title: str, body: str = "") -> set[str]:
    mentions, _ = MATCHER.match(title, body)
    return {m.watchlist for m in mentions}


def test_company_in_both_languages_with_positions() -> None:
    mentions, rejections = MATCHER.match("诺瓦商城召回充电宝", "Shoppers said NOVA MART was slow.")
    found = {(m.watchlist, m.term, m.field, m.start, m.end, m.via) for m in mentions}
    assert ("novamart", "诺瓦商城", "title", 0, 4, "NovaMart") in found
    assert ("novamart", "NOVA MART", "body", 14, 23, "NovaMart") in found
    assert ("product_safety", "召回", "title", 4, 6, "query") in found
    assert rejections == []


def test_fruit_is_not_the_company() -> None:
    assert hits("山东苹果喜获丰收 果农种植面积扩大", "消费者选购苹果时应注意果皮光滑。") == set()
    assert hits("营养师：每天吃一个苹果有益健康", "苹果富含膳食纤维和维生素。") == set()
    assert (
        hits("Cider makers celebrate a bumper apple harvest", "Orchards reported a fine apple crop.") == set()
    )
    assert hits("Former Apple Daily editors publish memoir") == set()


def test_company_is_found_next_to_confusers() -> None:
    assert hits("苹果公司下调应用商店佣金") == {"apple"}
    assert hits("苹果发布新款手机") == {"apple"}  # ambiguous alias with a co-term
    assert hits("Apple tightens App Store rules") == {"apple"}


def test_rejections_explain_themselves() -> None:
    mentions, rejections = MATCHER.match("山东苹果喜获丰收", "Pineapple prices and Apple Daily.")
    assert mentions == []
    reasons = {(r.term, r.reason.split(" ")[0]) for r in rejections}
    assert ("苹果", "exclusion") in reasons
    assert ("Apple", "exclusion") in reasons
    assert ("apple", "not") in reasons  # 'apple' inside 'Pineapple' is not a whole word
    bare = MATCHER.match("苹果很好", "")[1]
    assert bare and "co-term" in bare[0].reason


def test_longest_alias_wins_and_queries_need_all_parts() -> None:
    mentions, _ = MATCHER.match("苹果公司", "")
    assert [(m.term, m.start, m.end) for m in mentions] == [("苹果公司", 0, 4)]
    assert hits("Software recall for phones") == set()
    assert hits("Toy recall widens") == {"product_safety"}


def test_matching_form_keeps_offsets_and_folds_width_and_case() -> None:
    text = "ＮｏｖａＭａｒｔ，召回１２万台 İstanbul ﬁne ΟΔΟΣ Straße"
    folded = fold(text)
    assert len(folded) == len(text)  # one character for one, so hit offsets are offsets in the original
    assert folded.startswith("novamart,召回12万台 ")
    assert "İstanbul" in folded and "ﬁne" in folded  # lower case / NFKC of more than one character: kept
    assert "οδοσ" in folded  # character by character: no final-sigma context
    assert folded == "".join(fold(ch) for ch in text)
    mentions, _ = MATCHER.match("ＮＯＶＡＭＡＲＴ宣布召回", "")
    assert [(m.term, m.start, m.end) for m in mentions if m.watchlist == "novamart"] == [
        ("ＮＯＶＡＭＡＲＴ", 0, 8)
    ]
