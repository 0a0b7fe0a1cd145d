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
