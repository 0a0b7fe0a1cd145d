"""Risk: a level per item and per story, and its reasons in words.

Points come from the watchlist's risk terms (matched like aliases: whole words in Latin script, exclusion
contexts), negative sentiment toward its entity, and reach (distinct sites, weighted per source, that ran
the story within ``reach_hours`` of its first item). Reach only adds to risk that a term or a negative
tone has started: a widely reprinted launch is not a risk. The rules and their defaults are in
docs/risk.md; :class:`config.settings.RiskSettings` holds every number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from config.settings import Entity, RiskSettings, Watchlist
from nlp.normalize import fold
from nlp.records import RISK_LEVELS, EntitySentiment, Item, Mention, Risk, RiskLevel, Sentiment
from nlp.sentiment import clause_span
from nlp.watchlists import WatchlistMatcher

COMMON_EN = [
    "recall", "recalls", "recalled", "lawsuit", "lawsuits", "sued", "sues", "fine", "fined", "fines",
    "penalty", "penalties", "ban", "banned", "bans", "investigation", "investigations", "probe", "probes",
    "data breach", "data leak", "hacked", "boycott", "boycotts", "strike", "strikes", "walkout", "layoffs",
    "laid off", "job cuts", "delisting", "delisted", "fraud", "counterfeit", "scandal", "bankruptcy",
    "insolvency", "default", "outage", "backlash", "crackdown", "sanctions", "complaint", "complaints",
]  # fmt: skip
COMMON_ZH = [
    "罚款", "召回", "下架", "约谈", "立案调查", "调查", "维权", "曝光", "暴雷", "处罚", "整改", "投诉",
    "假货", "诉讼", "起诉", "数据泄露", "泄露", "抵制", "罢工", "裁员", "退市", "欺诈", "造假", "破产",
    "违约", "停产", "被罚", "通报", "警示", "叫停", "禁令", "制裁",
]  # fmt: skip
DEFAULT_TERMS: dict[str, list[str]] = {
    "company": COMMON_EN + COMMON_ZH,
    "policy": COMMON_EN + ["injunction", "tariff", "tariffs"] + COMMON_ZH + ["关税", "专项整治"],
    "industry": COMMON_EN + ["shortage", "shortages"] + COMMON_ZH + ["短缺", "断供"],
    "other": COMMON_EN + COMMON_ZH,
}
DEFAULT_EXCLUDE = [
    "fine print", "fine-tune", "fine-tuned", "fine-tuning", "fine dining", "fine art", "fine arts",
    "strike a deal", "strike a balance", "strike price", "lucky strike", "default setting",
    "default settings", "by default", "recall election", "调查问卷", "问卷调查", "市场调查",
]  # fmt: skip
EXCLUDE_WINDOW = 12
STRONG_NEGATIVE = 0.8
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
WORD_BEFORE = re.compile(r"([\w'’]+)\W*$")
NEXT_WORD = re.compile(r"[ \t]*(\w+)")


def risk_terms_of(watchlist: Watchlist) -> list[str]:
    return DEFAULT_TERMS[watchlist.kind] if watchlist.risk_terms is None else watchlist.risk_terms


class RiskMatcher:
    """The risk terms of every watchlist, matched at once; built once from the settings."""

    def __init__(self, watchlists: list[Watchlist]) -> None:
        lists = []
        for watchlist in watchlists:
            exclude = DEFAULT_EXCLUDE + watchlist.risk_exclude
            entities = [
                Entity(name=term, exclude=exclude, exclude_window=EXCLUDE_WINDOW)
                for term in dict.fromkeys(risk_terms_of(watchlist))
            ]
            if entities:
                lists.append(Watchlist(name=watchlist.name, kind=watchlist.kind, entities=entities))
        self.matcher = WatchlistMatcher(lists)

    def match(self, item: Item) -> list[Mention]:
        """Risk terms of the watchlists ``item`` hits, each in a clause that mentions its watchlist: in
        "NovaMart wins an award while Apple faces a probe", `probe` is Apple's risk, not NovaMart's
        (``via`` is ``risk``)."""
        if not item.mentions:
            return []
        fields = {"title": item.title, "body": item.text}
        clauses = {
            (m.watchlist, m.field, clause_span(fields[m.field], m.start, m.end)) for m in item.mentions
        }
        found, _ = self.matcher.match(item.title, item.text)
        return [
            term.model_copy(update={"via": "risk"})
            for term in found
            if any(
                (watchlist, field) == (term.watchlist, term.field) and start <= term.start < end
                for watchlist, field, (start, end) in clauses
            )
            and in_risk_sense(term.term, fields[term.field], term.start, term.end)
        ]


def in_risk_sense(term: str, text: str, start: int, end: int) -> bool:
    """Whether a risk term at ``text[start:end]`` is used in its adverse sense: "fine" the penalty (not the
    adjective), "strike" the walkout (not a deal struck), "recall" of products (not of memories); every
    other term always is."""
    word = fold(term)
    if word == "fine":
        return is_penalty_fine(text, start, end)
    if word in ("strike", "strikes"):
        return not strikes_a_deal(text, end)
    if word in ("recall", "recalls", "recalled"):
        return not remembers(text, start, end)
    return True


def remembers(text: str, start: int, end: int) -> bool:
    """Whether the "recall" at ``text[start:end]`` is remembering, not a product recall: after a person's
    pronoun or a word of memory (``he recalled``, ``later recalled``, ``I don't recall``), before what is
    remembered (``recalled how``, ``recalls seeing``), or attributing a quotation (``," he recalled.``). In
    BBC News, 13 of its 18 uses as remembering, and none of its 12 product recalls."""
    found = WORD_BEFORE.search(text, max(0, start - 40), start)
    before = found.group(1).lower().replace("’", "'") if found else ""
    after = NEXT_WORD.match(text, end, end + 40)
    if before in REMEMBERING_BEFORE or (after is not None and after.group(1).lower() in REMEMBERED):
        return True
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
    found = WORD_BEFORE.search(text, max(0, start - 40), start)
    before = found.group(1).lower().replace("’", "'") if found else ""
    if before in LINKING or text[end : end + 1] == "-":
        return False
    after = NEXT_WORD.match(text, end, end + 40)
    following = after.group(1).lower() if after else ""
    if before in MODAL:
        return not following.startswith("tun")
    return not following or following in AFTER_PENALTY


@dataclass(frozen=True)
class Reach:
    """How far a story has spread: weighted distinct sites within the reach window, and its items."""

    sites: float
    items: int
    hours: float


def item_risk(
    item: Item, reach: Reach | None, settings: RiskSettings, titles: Mapping[str, str] | None = None
) -> Risk:
    """The item's risk: the highest over the watchlists it hits, with that watchlist's reasons. A query's
    hits are sentiment toward the watchlist itself, named in the reasons by its title in ``titles``."""
    best = Risk()
    for watchlist in item.watchlists:
        shown = (titles or {}).get(watchlist, watchlist)
        points, reasons = _watchlist_points(item, watchlist, shown, reach, settings)
        if points > best.points:
            best = Risk(
                level=level_for(points, settings), points=points, reasons=reasons, watchlist=watchlist
            )
    return best


def entity_shown(entity: str, watchlist: str, title: str) -> str:
    """The name a reader sees for a tone's entity: a watchlist's query hits are the tone toward the
    watchlist itself (``entity`` is its name), shown by its ``title``."""
    return title if entity == watchlist else entity


def _watchlist_points(
    item: Item, watchlist: str, shown: str, reach: Reach | None, settings: RiskSettings
) -> tuple[int, list[str]]:
    points, reasons = 0, []
    terms = [mention for mention in item.risk_terms if mention.watchlist == watchlist]
    distinct = list(dict.fromkeys(fold(mention.term) for mention in terms))
    in_title = list(dict.fromkeys(mention.term for mention in terms if mention.field == "title"))
    if in_title:
        points += settings.title_term
        reasons.append(f"`{in_title[0]}` in the title")
    elif terms:
        points += settings.body_term
        reasons.append(f"`{terms[0].term}` in the text")
    if len(distinct) > 1:
        more = min(2, len(distinct) - 1)
        points += more
        reasons.append(f"{len(distinct) - 1} more risk term{'s' if len(distinct) > 2 else ''} "
                       f"({', '.join(distinct[1:4])})")  # fmt: skip
    negative = _most_negative(item.entity_sentiments, watchlist)
    if negative is not None:
        strong = negative.confidence >= STRONG_NEGATIVE
        points += settings.negative_strong if strong else settings.negative
        entity = entity_shown(negative.entity, watchlist, shown)
        reasons.append(f"negative toward {entity} ({negative.confidence:.2f})")
    if points and reach is not None:
        steps = sum(1 for threshold in settings.reach_sites if reach.sites >= threshold)
        if steps:
            points += steps
            reasons.append(f"{reach.sites:g} sites within {settings.reach_hours:g} hours")
    return points, reasons


def _most_negative(sentiments: list[EntitySentiment], watchlist: str) -> EntitySentiment | None:
    negative = [s for s in sentiments if s.watchlist == watchlist and s.label == "negative"]
    return max(negative, key=lambda s: s.confidence) if negative else None


def level_for(points: int, settings: RiskSettings) -> RiskLevel:
    level: RiskLevel = "none"
    for name in RISK_LEVELS[1:]:
        if points >= settings.levels.get(name, 10**6):
            level = name
    return level


def story_risk(member_risks: list[Risk]) -> Risk:
    """A story's risk: its riskiest member's (members judged later carry the story's wider reach)."""
    return max(member_risks, key=lambda risk: risk.points, default=Risk())


def story_sentiment(member_sentiments: list[Sentiment]) -> Sentiment:
    """A story's sentiment: the label with the most confidence summed over its members."""
    totals = {label: 0.0 for label in ("negative", "neutral", "positive")}
    for sentiment in member_sentiments:
        totals[sentiment.label] += sentiment.confidence
    total = sum(totals.values())
    if not total:
        return Sentiment()
    label = max(totals, key=lambda name: totals[name])
    return Sentiment(label=label, confidence=round(totals[label] / total, 3))  # type: ignore[arg-type]


def story_entity_sentiments(members: list[list[EntitySentiment]]) -> list[EntitySentiment]:
    """Per entity across a story's members, the label with the most confidence summed."""
    grouped: dict[tuple[str, str], list[EntitySentiment]] = {}
    for sentiments in members:
        for sentiment in sentiments:
            grouped.setdefault((sentiment.watchlist, sentiment.entity), []).append(sentiment)
    merged = []
    for (watchlist, entity), found in grouped.items():
        overall = story_sentiment([Sentiment(label=s.label, confidence=s.confidence) for s in found])
        merged.append(
            EntitySentiment(
                watchlist=watchlist,
                entity=entity,
                label=overall.label,
                confidence=overall.confidence,
                passages=sum(s.passages for s in found),
            )
        )
    return merged
