from __future__ import annotations

import re

import pytest

from nlp.query import And, Near, Not, Or, Phrase, QuerySyntaxError, Term, matches, parse, positive_terms


def test_precedence_implicit_and_phrases_and_fields() -> None:
    assert parse('a b OR "c d" title:e') == Or(
        (And((Term("a"), Term("b"))), And((Phrase("c d"), Term("e", "title"))))
    )
    assert parse("a AND NOT b") == And((Term("a"), Not(Term("b"))))
    assert parse("a -b") == And((Term("a"), Not(Term("b"))))
    assert parse("a NEAR/3 (b OR c)") == Near(Term("a"), Or((Term("b"), Term("c"))), 3)
    assert parse("source:(x OR y)") == Or((Term("x", "source"), Term("y", "source")))
    assert parse("lang:zh") == Term("zh", "lang") and parse("language:zh") == Term("zh", "lang")
    assert parse("http://x") == Term("http://x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(a OR b", "missing ')'"),
        ('"open', "unbalanced quote"),
        ("a OR", "ends too early"),
        ("a )", "unexpected ')'"),
    ],
)
def test_syntax_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=re.escape(message)):
        parse(text)


@pytest.mark.parametrize(
    ("query", "title", "body", "expected"),
    [
        ("recall", "NovaMart recalls power banks", "", False),  # whole words only
        ("recalls", "NovaMart recalls power banks", "", True),
        ('"power banks"', "", "120,000 power\n banks", True),
        ("novamart AND NOT fire", "NovaMart", "no fire here", False),
        ("召回 AND 充电宝", "诺瓦商城召回12万台充电宝", "", True),
        ("平台监管", "", "面临更严格的平台监管。", True),
        ("title:召回", "", "召回", False),
        ("NovaMart NEAR/3 recall", "", "NovaMart said it would recall", True),
        ("NovaMart NEAR/1 recall", "", "NovaMart said it would recall", False),
        ("recall NEAR/4 NovaMart", "", "NovaMart said it would recall", True),
        ("诺瓦 NEAR/2 召回", "", "诺瓦商城召回", True),
        ("ＮＯＶＡＭＡＲＴ", "novamart", "", True),  # full-width folds to half-width
    ],
)
def test_matches_over_text(query: str, title: str, body: str, expected: bool) -> None:
    assert matches(parse(query), {"title": title, "body": body}) is expected


def test_keyword_fields_and_positive_terms() -> None:
    node = parse('(NovaMart OR "Nova Mart") AND lang:en AND NOT refund')
    assert matches(node, {"title": "NovaMart"}, {"lang": ["en"]})
    assert not matches(node, {"title": "NovaMart"}, {"lang": ["zh"]})
    assert positive_terms(node) == ["NovaMart", "Nova Mart"]


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('Trump -"Trump Jr"', And((Term("Trump"), Not(Phrase("Trump Jr"))))),
        ("recall -(software OR 软件)", And((Term("recall"), Not(Or((Term("software"), Term("软件"))))))),
        ("a -b", And((Term("a"), Not(Term("b"))))),
        ("-title:refund", Not(Term("refund", "title"))),
        ("e-commerce", Term("e-commerce")),
    ],
)
def test_dash_excludes_terms_phrases_and_groups(text: str, tree: object) -> None:
    assert parse(text) == tree


def test_exclusion_with_a_phrase_excludes_it() -> None:
    node = parse('Trump -"Trump Jr"')
    assert matches(node, {"title": "Trump speaks", "body": ""})
    assert not matches(node, {"title": "Trump Jr speaks", "body": "Trump"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("titel:Trump", "unknown field 'titel' at position 0"),
        ("a AND sorce:x", "unknown field 'sorce' at position 6"),
        ("a NEAR/x b", "'NEAR/x' at position 2"),
        ("a NEAR/ b", "NEAR takes a whole number"),
        ("a -", "'-' at position 2"),
    ],
)
def test_unknown_fields_and_malformed_operators_are_errors_with_the_position(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=re.escape(message)):
        parse(text)


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("5G", "华为5G芯片", True),
        ("iPhone", "苹果发布新iPhone 11", True),
        ("Galaxy", "삼성은Galaxy를 공개했다", True),
        ("Sony", "ソニーのSonyブランド", True),
        ("5G", "a 5GHz band", False),
        ("iPhone", "iPhones", False),
        ("G", "5G", False),
        ("5G", "5G_network", True),
    ],
)
def test_han_kana_and_hangul_are_word_boundaries_for_latin_terms(
    term: str, text: str, expected: bool
) -> None:
    assert matches(parse(term), {"title": text, "body": ""}) is expected
