"""Risk: a level per item and per story, and its reasons in words.

Points come from the watchlist's risk terms (matched like aliases: whole words in Latin script, exclusion
contexts), negative sentiment toward its entity, and reach (distinct sites, weighted per source, that ran
the story within ``reach_hours`` of its first item). Reach only adds to risk that a term or a negative
tone has started: a widely reprinted launch is not a risk. The rules and their defaults are in
docs/risk.md; :class:`config.settings.RiskSettings` holds every number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.settings import RiskSettings
from config.watchlist_settings import Entity, Watchlist
from config.wording import Templates
from nlp.normalize import fold
from nlp.records import RISK_LEVELS, EntitySentiment, Item, Mention, Risk, RiskLevel, Sentiment
from nlp.risk_senses import SENSE_EXCLUDE, in_risk_sense
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
REASONS = Templates(
    {
        "title_term": "`{term}` in the title",
        "body_term": "`{term}` in the text",
        "more_term": "1 more risk term ({terms})",
        "more_terms": "{n} more risk terms ({terms})",
        "negative": "negative toward {entity} ({confidence})",
        "reach": "{sites} sites within {hours} hours",
    }
)
"""A risk's reasons, as stored and shown in English; ``REASONS.parts`` reads one back for another
language's wording (``digests.labels``, the search page)."""
EXCLUDE_WINDOW = 12
STRONG_NEGATIVE = 0.8


def risk_terms_of(watchlist: Watchlist) -> list[str]:
    return DEFAULT_TERMS[watchlist.kind] if watchlist.risk_terms is None else watchlist.risk_terms


class RiskMatcher:
    """The risk terms of every watchlist, matched at once; built once from the settings."""

    def __init__(self, watchlists: list[Watchlist]) -> None:
        lists = []
        for watchlist in watchlists:
            shared = DEFAULT_EXCLUDE + watchlist.risk_exclude
            entities = [
                Entity(name=term, exclude=shared + SENSE_EXCLUDE.get(term, []), exclude_window=EXCLUDE_WINDOW)
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


def entity_titled(entity: str, watchlist: str, titles: Mapping[str, str]) -> str:
    """:func:`entity_shown`, the watchlist's title looked up in ``titles`` (name -> title)."""
    return entity_shown(entity, watchlist, titles.get(watchlist, watchlist))


def _watchlist_points(
    item: Item, watchlist: str, shown: str, reach: Reach | None, settings: RiskSettings
) -> tuple[int, list[str]]:
    points, reasons = 0, []
    terms = [mention for mention in item.risk_terms if mention.watchlist == watchlist]
    distinct = list(dict.fromkeys(fold(mention.term) for mention in terms))
    in_title = list(dict.fromkeys(mention.term for mention in terms if mention.field == "title"))
    if in_title:
        points += settings.title_term
        reasons.append(REASONS["title_term"].format(term=in_title[0]))
    elif terms:
        points += settings.body_term
        reasons.append(REASONS["body_term"].format(term=terms[0].term))
    if len(distinct) > 1:
        points += min(2, len(distinct) - 1)
        more = "more_term" if len(distinct) == 2 else "more_terms"
        reasons.append(REASONS[more].format(n=len(distinct) - 1, terms=", ".join(distinct[1:4])))
    negative = _most_negative(item.entity_sentiments, watchlist)
    if negative is not None:
        strong = negative.confidence >= STRONG_NEGATIVE
        points += settings.negative_strong if strong else settings.negative
        entity = entity_shown(negative.entity, watchlist, shown)
        reasons.append(REASONS["negative"].format(entity=entity, confidence=f"{negative.confidence:.2f}"))
    if points and reach is not None:
        steps = sum(1 for threshold in settings.reach_sites if reach.sites >= threshold)
        if steps:
            points += steps
            sites, hours = f"{reach.sites:g}", f"{settings.reach_hours:g}"
            reasons.append(REASONS["reach"].format(sites=sites, hours=hours))
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
