"""Ambiguous risk terms: whether a match is used in its adverse sense.

A few default risk terms are everyday words in other senses: "fine" (the adjective), "strike" (a deal),
"recall" (a memory), both in a game (a shot at goal, a player called back), 曝光 (a film's posters
revealed), 调查 (a survey), 泄露 (a phone's specifications).
Each has a check over the words around the match, or exclusion contexts of its own, measured on BBC News
and THUCNews titles (the development sets) and on the other texts of ``../shared/data``; every other term
always counts.
"""

from __future__ import annotations

import re

from nlp.normalize import fold

SENSE_EXCLUDE: dict[str, list[str]] = {
    "调查": ["调查显示", "民意调查", "舆论调查", "抽样调查", "满意度", "网友调查", "用户调查", "生存调查",
           "调查-"],
    "泄露": ["参数", "规格", "配置", "外观", "谍照", "真机", "截图", "售价", "价格", "画面"],
}  # fmt: skip
"""Exclusion contexts of one term only, beside the watchlist's: a survey is no investigation (调查显示,
民意调查; in THUCNews titles and cnews articles 47 of 319 uses of 调查, all surveys and polls), a phone's
specifications leaked are no data leak (参数泄露, 谍照泄露; 5 of 10 uses of 泄露)."""
LINKING = frozenset([
    "is", "are", "was", "were", "be", "been", "being", "am", "'s", "'re", "'m", "it's", "that's", "he's",
    "she's", "what's", "everything's", "i'm", "you're", "we're", "they're", "feel", "feels", "felt",
    "feeling", "look", "looks", "looked", "looking", "seem", "seems", "seemed", "sound", "sounds", "sounded",
    "do", "does", "did", "doing", "done", "work", "works", "worked", "working", "go", "goes", "went",
    "going", "turn", "turns", "turned", "out", "then", "very", "so", "too", "quite", "pretty", "perfectly",
    "just", "all", "really", "absolutely", "damn", "extremely", "fairly", "rather", "reasonably", "truly",
    "incredibly", "remarkably", "especially",
])  # fmt: skip
"""Words before a predicative "fine" (``is fine``, ``feels fine``, ``very fine``, ``turned out fine``)."""
AFTER_PENALTY = frozenset([
    "of", "for", "against", "on", "levied", "imposed", "was", "is", "will", "would", "and", "or", "after",
    "from", "by", "to", "in", "that", "which", "totalling", "totaling", "amounting", "issued", "handed",
    "under", "over", "stands", "stood", "could", "may", "might", "has", "had", "have", "were", "be", "up",
    "as", "at", "with", "but", "because", "since", "following", "when", "if", "must", "should", "can", "did",
    "does", "plus",
])  # fmt: skip
"""Words that may follow "fine" the penalty; any other word makes it an adjective before its noun (``a fine
line``, ``fine work``)."""
MODAL = frozenset(["to", "will", "would", "could", "can", "may", "might", "shall", "should", "must"])
"""Words before "fine" the verb (``would fine developers``), a penalty too (but ``to fine tune``)."""
DEAL_WORDS = frozenset(["deal", "deals", "agreement", "accord", "partnership", "bargain", "compromise"])
DEAL_WITHIN = 4
PREPOSITIONS = frozenset(["over", "against", "about", "on", "in", "at", "for", "by", "after", "until"])
CLAUSE_WORDS = re.compile(r"[ \t]*([^\W_][\w' -]*)")
"""The words that follow a term up to the next mark (the end of its clause)."""
REMEMBERING_BEFORE = frozenset([
    "he", "she", "i", "we", "they", "you", "later", "once", "still", "fondly", "vividly", "can", "could",
    "cannot", "can't", "couldn't", "don't", "doesn't", "didn't", "not", "never",
])  # fmt: skip
REMEMBERED = frozenset([
    "how", "that", "what", "when", "where", "why", "seeing", "being", "having", "hearing", "meeting", "his",
    "her", "their", "my", "our", "your",
])  # fmt: skip
QUOTATION_END = re.compile(r"[,.!?][\"”’'][ \t]*")
PERSON_NAMED = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Professor|Sir|Dame|Lord|Lady|MP|MEP|Senator)\.?"
    r"(?:\s+[A-Z](?:[\w-]|['’](?!s\b))+){1,3}\s+$"
)
"""A person named with a title or a parliamentary role (``Mr Palmer``, ``MP Jackie Ballard``), no possessive
among the names (``Dr Reddy's Laboratories`` is a drug maker): such a subject of "recalled" remembers,
unless a quantity follows (:data:`QUANTITY`: ``Dr Pepper recalled 9,000 cans``)."""
QUANTITY = re.compile(
    r"[ \t]+(?:\d|(?:all|about|around|nearly|almost|more|over|some|up|hundreds|thousands|millions)\b)"
)
"""What follows a recall of goods: a number or a word of quantity."""
EXPOSED_BY = re.compile(
    r"(被|遭|央视|3·15|315|监管|质检|药监|证监|工商|消协|媒体|记者|网友)[^，。！？\s]{0,4}$"
)
"""Before "曝光", in its clause: done to someone, or by a watchdog, the press or the public."""
WRONGDOING = re.compile(
    r"问题|违规|违法|黑幕|内幕|丑闻|乱象|假货|假药|虚假|造假|假冒|骗|猫腻|黑心|劣质|不合格|欺诈|隐患|漏洞|陋习|腐败|作弊"
)
"""Wrongdoing near "曝光" (:data:`EXPOSE_BEFORE` characters before it, :data:`EXPOSE_AFTER` after)."""
EXPOSE_BEFORE = 8
EXPOSE_AFTER = 10
SPORT = re.compile(
    r"\b(goals?|goalkeeper|goalscorer|equali[sz]er|header|squad|caps|scrum-half|fly-half|flanker|midfielder"
    r"|substitute|referee|\w+-footed|\d+-yard|half-time|first-team|semi-final|quarter-final|play-off"
    r"|six nations|wicket|innings|touchdown|crossbar|try-line|finishing line|premiership|uefa|fifa)\b",
    re.IGNORECASE,
)
"""Words of a game in the sentence of "strike" or "recall": a shot at goal (``a 25-yard strike``), a player
called back (``recalled to the squad``). Only words with no everyday sense (not "net", "post", "test")."""
EVERYDAY_SENSE = frozenset(["goal", "goals", "squad", "caps", "header"])
"""Words of :data:`SPORT` that also have an everyday sense: they make a sentence about a game, not a story."""
GAME_STORY_WORDS = 2
GAME_STORY_CHARS = 4000
"""How much of a text is read for its game words: a game's story says so early, and each term's check
then costs the same however long the text (1 MB with many terms)."""
LABOUR = re.compile(
    r"\b(unions?|workers|staff|employees|ballot|walkout|picket\w*|pay|pensions?|industrial action)\b",
    re.IGNORECASE,
)
"""Words of a labour dispute, which keep "strike" a walkout whatever else the sentence says."""
PLAYER_RECALLED = re.compile(
    r"recall(?:ed|s)?\s+(?:to\s+(?:the\s+)?(?:[A-Z]\w+\s+|first-team\s+|national\s+|starting\s+"
    r"|training\s+)?(?:squad|side|team|line-up|fold)\b|in\s+place\s+of\b|for\s+the\s+\w+\s+"
    r"(?:game|match|test)\b)",
    re.IGNORECASE,
)
"""A player called back: ``recalled to the England squad``, ``recalled in place of``."""
SELECTION_RECALL = re.compile(
    r"\b(?:England|Wales|Scotland|Ireland|France|Italy|international|first-team|Test)\s+$"
)
"""Before "recall" the noun: ``an England recall``, ``a first-team recall``."""
SENTENCE_END = re.compile(r"[.!?\n]")
WORD_BEFORE = re.compile(r"([\w'’]+)\W*$")
NEXT_WORD = re.compile(r"[ \t]*(\w+)")


def in_risk_sense(term: str, text: str, start: int, end: int) -> bool:
    """Whether a risk term at ``text[start:end]`` is used in its adverse sense: "fine" the penalty (not the
    adjective), "strike" the walkout (not a deal struck), "recall" of products (not of memories); every
    other term always is."""
    word = fold(term)
    if word == "fine":
        return is_penalty_fine(text, start, end)
    if word in ("strike", "strikes"):
        return not strikes_a_deal(text, end) and not about_a_game(text, start, end)
    if word in ("recall", "recalls", "recalled"):
        return not remembers(text, start, end) and not recalls_a_player(text, start, end)
    if word == "曝光":
        return exposes_wrongdoing(text, start, end)
    return True


def exposes_wrongdoing(text: str, start: int, end: int) -> bool:
    """Whether "曝光" at ``text[start:end]`` exposes wrongdoing: done to someone (被曝光, 遭曝光), by a
    watchdog or the press (央视曝光, 证监会曝光, 网友曝光), or of wrongdoing (曝光…假药名单, 违法行为…曝光),
    not a film's posters, a phone's specifications or a camera's exposure, which is most of its use. In
    THUCNews titles and cnews articles, 227 uses: 26 count now, 24 of them wrongdoing (the others: a film
    star's look, "media exposure"); of the 201 that no longer count, about 10 were (an affair's e-mails,
    a referee scandal). Before, all 227 counted."""
    before = text[max(0, start - EXPOSE_BEFORE) : start]
    after = text[end : end + EXPOSE_AFTER]
    return bool(EXPOSED_BY.search(before) or WRONGDOING.search(before) or WRONGDOING.search(after))


def about_a_game(text: str, start: int, end: int) -> bool:
    """Whether the sentence of ``text[start:end]`` is about a game and not a labour dispute (:data:`LABOUR`):
    it has a word of a game (:data:`SPORT`), or the text is a game's story (:func:`game_story`). In BBC
    News, by the sentence alone: 12 of the 24 uses of "strike(s)" in sport stories (shots at goal), and
    none of the 49 walkouts and others elsewhere; in the other English texts of ``../shared/data``, 1 of
    253 uses of "strike" or "recall" (a cricket "strike rate"). The story adds, in sport stories, 10 of the
    12 uses of "strike(s)" still counted and 7 of the 10 of "recall" (all shots and players called back),
    and none elsewhere (65 uses)."""
    before = text.rfind(".", 0, start), text.rfind("!", 0, start), text.rfind("?", 0, start)
    first = max(*before, text.rfind("\n", 0, start)) + 1
    last = SENTENCE_END.search(text, end)
    sentence = text[first : last.start() if last else len(text)]
    if LABOUR.search(sentence) is not None:
        return False
    return SPORT.search(sentence) is not None or game_story(text)


def game_story(text: str) -> bool:
    """Whether ``text`` tells of a game: :data:`GAME_STORY_WORDS` distinct words of a game, leaving out those
    with an everyday sense as well (:data:`EVERYDAY_SENSE`: a firm's goals, a price cap). A story's sentences
    name the players without the game (``Robinson could choose to recall Mathew Tait``)."""
    found = {match.group(0).lower() for match in SPORT.finditer(text, 0, GAME_STORY_CHARS)}
    return len(found - EVERYDAY_SENSE) >= GAME_STORY_WORDS


def recalls_a_player(text: str, start: int, end: int) -> bool:
    """Whether the "recall" at ``text[start:end]`` calls a player back: in a sentence about a game (unless a
    quantity follows: ``recalled 10,000 footballs``), or ``recalled to the squad``, ``an England recall``.
    In BBC News, 9 of the 19 in sport stories not read as memories, and none of the 18 product recalls and
    others elsewhere (by the sentence; a game's story adds 7)."""
    return (
        (about_a_game(text, start, end) and not QUANTITY.match(text, end))
        or PLAYER_RECALLED.match(text, start) is not None
        or SELECTION_RECALL.search(text, max(0, start - 20), start) is not None
    )


def remembers(text: str, start: int, end: int) -> bool:
    """Whether the "recall" at ``text[start:end]`` is remembering, not a product recall: after a person's
    pronoun or a word of memory (``he recalled``, ``later recalled``, ``I don't recall``), before what is
    remembered (``recalled how``, ``recalls seeing``), after a person named with a title (``Mr Palmer
    recalled``), or attributing a quotation (``," he recalled.``). In BBC News, 15 of its 18 uses as
    remembering, and none of its 12 product recalls."""
    before, following = _neighbours(text, start, end)
    if before in REMEMBERING_BEFORE or following in REMEMBERED:
        return True
    if PERSON_NAMED.search(text, max(0, start - 60), start) and not QUANTITY.match(text, end):
        return True  # Mr Palmer recalled the case of ...
    if QUOTATION_END.search(text, max(0, start - 4), start):  # ...," recalls Carlos Saldarriaga.
        return True
    attributes = text[end : end + 1] in (".", ",")  # ...," Healey recalled.
    return attributes and QUOTATION_END.search(text, max(0, start - 40), start) is not None


def strikes_a_deal(text: str, end: int) -> bool:
    """Whether the "strike" ending at ``end`` strikes a deal: a deal word within the next
    :data:`DEAL_WITHIN` words of its clause, before any preposition (``strikes Turkmen gas deal``, ``strike
    a similar deal``; not ``strike over the pay deal``). In BBC News, 3 of 87 uses of strike(s)."""
    words = CLAUSE_WORDS.match(text, end, end + 80)
    for word in (words.group(1).lower().split() if words else [])[:DEAL_WITHIN]:
        if word in DEAL_WORDS:
            return True
        if word in PREPOSITIONS:
            return False
    return False


def is_penalty_fine(text: str, start: int, end: int) -> bool:
    """Whether "fine" at ``text[start:end]`` is the penalty, not the adjective: not after a linking word
    or a degree word (``is fine``, ``very fine``), not joined by a hyphen (``fine-grained``); the verb after
    a modal (``would fine developers``); else followed by the end of the clause, a mark, or a word that can
    follow the noun (``a fine of``, ``$3.5m fine levied``), never by the noun an adjective qualifies (``a
    fine line``). In BBC News (the development set), 59 uses: all 33 penalties kept, none of the 26
    adjectives. In the other English sets of ``../shared/data`` (financial sentences, tweets, article
    texts), 23 uses: the 3 penalties kept, 19 of 20 adjectives and names dropped (``Fine Gael``, ``fine
    leather``, ``perfectly fine``); the one kept, ``so damn fine``, led to the degree words from ``damn`` on
    in :data:`LINKING`. Before, every use counted."""
    before, following = _neighbours(text, start, end)
    if before in LINKING or text[end : end + 1] == "-":
        return False
    if before in MODAL:
        return not following.startswith("tun")
    return not following or following in AFTER_PENALTY


def _neighbours(text: str, start: int, end: int) -> tuple[str, str]:
    """The word before ``text[start:end]`` (marks between them skipped) and the word right after it on its
    line, lowercased; "" where there is none (the word after: a mark comes first)."""
    before = WORD_BEFORE.search(text, max(0, start - 40), start)
    after = NEXT_WORD.match(text, end, end + 40)
    return (
        before.group(1).lower().replace("’", "'") if before else "",
        after.group(1).lower() if after else "",
    )
