"""Facts that survive translation: figures across scripts and units, dates, Latin names."""

from __future__ import annotations

import pytest

from nlp.facts import dates_in, figures_in, names_in, numerals_in, translation_facts


@pytest.mark.parametrize(
    ("english", "chinese", "value"),
    [
        ("recalls 120,000 power banks", "召回12万台充电宝", "120000"),
        ("1.2 million users", "一百二十万用户", "1200000"),
        ("invest 35 billion yuan", "投资350亿元", "35000000000"),
        ("fined 45 million yuan", "罚款45百万元", "45000000"),
        ("moved 12 hundred residents", "转移１２百人", "1200"),
        ("shares fell 6 percent", "股价下跌6%", "6%"),
        ("a 6.5 per cent rise", "增长百分之6.5", "6.5%"),
        ("an index of 380", "指数达到三百八十", "380"),
        ("4 trillion won", "4万亿韩元", "4000000000000"),
    ],
)
def test_the_same_figure_in_english_and_chinese(english: str, chinese: str, value: str) -> None:
    assert figures_in(english) == figures_in(chinese) == {value}


def test_what_is_not_a_figure() -> None:
    assert figures_in("In 2026, 3 people met; 二〇二六年 千万不要 一家公司 十分重要") == set()
    assert figures_in("1,999 people, 2026年") == {"1999"}  # a count with a separator is not a year
    assert numerals_in("3 people and 9 factories in 2026; 三家") == {"3", "9"}


def test_dates_and_names() -> None:
    assert dates_in("on Tuesday, Nov. 3") == dates_in("11月3日（星期二）") == {"wd:2", "md:11-03"}
    assert dates_in("3 November, Sunday") == dates_in("周日 11月3号") == {"wd:7", "md:11-03"}
    assert names_in("苹果发布新iPhone 11，支持5G，采用Voltly电池", "zh") == {"iphone", "5g", "voltly"}
    assert "voltly" in names_in("batteries sold under the Voltly brand", "en")
    assert "brand" not in names_in("batteries sold under the Voltly brand", "en")


def test_translation_facts_of_a_pair_agree() -> None:
    english = translation_facts(
        "NovaMart recalls power banks",
        "On Tuesday it recalled 120,000 Voltly units.",
        "en",
        frozenset({"NovaMart"}),
    )
    chinese = translation_facts(
        "诺瓦商城召回充电宝", "周二召回12万台Voltly品牌产品。", "zh", frozenset({"NovaMart"})
    )
    assert english & chinese == {"wd:2", "n:voltly", "e:novamart"}  # figures are compared apart (figures_in)
