"""``opinionwatch topics …``: the daily fit, the topics of a day, and one topic's history."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from nlp.topic_state import TopicRecord, TopicState, load_state
from opinionwatch.clock import SystemClock
from opinionwatch.commandline import ConfigOption, command_settings, failures
from opinionwatch.pipeline import fit_topics
from opinionwatch.timeparse import parse_day
from opinionwatch.wiring import Services

topics_app = typer.Typer(
    help="Topics over stories: fit them daily, list a day's topics, follow one.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
console = Console()
DateOption = Annotated[str | None, typer.Option("--date", help="A UTC day, e.g. 2026-11-22.")]


@topics_app.callback()
def topics(
    ctx: typer.Context,
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of a table.")] = False,
    config: ConfigOption = None,
) -> None:
    """The topics of a day (default: the latest fit): id, label, keywords, stories, items, sources, items
    by sentiment, trend, signal and lineage."""
    if ctx.invoked_subcommand:
        return
    with failures():
        settings = command_settings(config)
        state = load_state(settings.data_dir / "topics")
        if not state.fits:
            raise ValueError("no topics yet: run `opinionwatch topics fit` after a crawl")
        when = parse_day(day) if day else max(state.fits)
        rows = day_rows(state, when)
        if as_json:
            fitted = state.fit_figures.get(when)
            payload = {
                "date": when.isoformat(),
                "fit": fitted.model_dump() if fitted else None,
                "topics": rows,
            }
            console.print_json(json.dumps(payload, ensure_ascii=False))
            return
        fitted = state.fit_figures.get(when)
        caption = None
        if fitted:
            caption = f"{fitted.stories} stories; outliers {fitted.outliers_before:.1%} before placing, "
            caption += f"{fitted.outliers:.1%} after"
        table = Table(title=f"Topics on {when} (fitted {max(state.fits)})", caption=caption)
        for column in (
            "id",
            "label",
            "keywords",
            "stories",
            "in window",
            "items",
            "sources",
            "sentiment",
            "trend",
            "signal",
            "lineage",
        ):
            table.add_column(column)
        for row in rows:
            words = " / ".join(", ".join(words[:5]) for words in row["keywords"].values())
            table.add_row(
                str(row["id"]),
                row["label"],
                words,
                *(str(row[k]) for k in ("stories", "window_stories", "items", "sources")),
                tone_counts(row["sentiment"]),
                row["trend"],
                row["signal"],
                "; ".join(row["lineage"]),
            )
        console.print(table)


@topics_app.command("fit")
def fit(day: DateOption = None, config: ConfigOption = None) -> None:
    """Fit the topics of a day's window (default: today, UTC), keep their ids, tag the index."""
    with failures():
        settings = command_settings(config)
        when = parse_day(day) if day else SystemClock().now().date()
        with Services(settings) as services:
            result = fit_topics(services, when)
        console.print(
            f"{when}: {result.topics} topics over {result.stories} stories in {result.seconds:.1f}s; "
            f"outliers {result.outliers_before:.1%} before placing, {result.outliers:.1%} after"
        )
        for event in result.events:
            console.print(f"  {event.kind}: {event.parents} -> {event.children}")


@topics_app.command("show")
def show(
    topic_id: Annotated[int, typer.Argument(help="The topic's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    config: ConfigOption = None,
) -> None:
    """One topic: its label history, lineage, figures by day and top stories."""
    with failures():
        settings = command_settings(config)
        state = load_state(settings.data_dir / "topics")
        topic = state.topics.get(topic_id)
        if topic is None:
            raise ValueError(f"no topic {topic_id}; `opinionwatch topics` lists them")
        with Services(settings) as services:
            stories = services.stories.stories(topic.stories)
        top = sorted(stories.values(), key=lambda s: (-s.member_count, s.first_seen))[:10]
        detail = topic_detail(state, topic) | {
            "top_stories": [
                {
                    "story": s.id,
                    "title": s.title,
                    "url": s.url,
                    "items": s.member_count,
                    "sources": len(s.sources),
                }
                for s in top
            ]
        }
        if as_json:
            console.print_json(json.dumps(detail, ensure_ascii=False, default=str))
            return
        console.print(f"[bold]{topic.id}[/bold] {topic.label} ({topic.status}) — {topic.title}")
        for script, words in topic.keywords.items():
            console.print(f"  keywords ({script}): {', '.join(words)}")
        for line in detail["lineage"]:
            console.print(f"  {line}")
        for row in detail["days"]:
            console.print(
                f"  {row['date']}: {row['stories']} stories, {row['items']} items, {row['sources']} sources, "
                f"{row['languages']} {tone_counts(row['sentiment'])} "
                f"{row.get('signal', '')} {row.get('trend', '')}"
            )
        for story in detail["top_stories"]:
            console.print(f"  · {story['title']} ({story['items']} items) {story['url']}")


def tone_counts(sentiment: dict[str, int]) -> str:
    """``3 negative · 1 positive`` (neutral items left out); "" where sentiment is off."""
    shown = [label for label in ("negative", "positive") if sentiment.get(label)]
    return " · ".join(f"{sentiment[label]} {label}" for label in shown)


def lineage_lines(state: TopicState, topic_id: int) -> list[str]:
    """The lineage events of a topic, each topic in them by id and label (``2026-11-09 merge: 2 wheat,
    exports + 7 fertiliser, prices -> 2 food, crisis``; ``2026-11-10 new: 9 solar, tariff``)."""
    lines = []
    for event in state.lineage:
        if topic_id in event.parents or topic_id in event.children:
            parents = " + ".join(f"{i} {state.label_of(i, event.day, before=True)}" for i in event.parents)
            children = " + ".join(f"{i} {state.label_of(i, event.day)}" for i in event.children)
            named = " -> ".join(part for part in (parents, children) if part)
            lines.append(f"{event.day} {event.kind}: {named}")
    return lines


def day_rows(state: TopicState, day: date) -> list[dict[str, Any]]:
    """Each topic with figures or a signal on ``day``: most items that day first, then most stories in the
    window."""
    rows = []
    for topic in state.topics.values():
        figures, signal = topic.days.get(day), topic.signals.get(day)
        if figures is None and (signal is None or topic.status != "active"):
            continue
        rows.append(
            {
                "id": topic.id,
                "label": topic.label,
                "title": topic.title,
                "keywords": topic.keywords,
                "status": topic.status,
                "stories": figures.stories if figures else 0,
                "window_stories": len(topic.stories),
                "items": figures.items if figures else 0,
                "sources": figures.sources if figures else 0,
                "languages": figures.languages if figures else {},
                "sentiment": figures.sentiment if figures else {},
                "trend": signal.trend if signal else "",
                "signal": signal.signal if signal else "",
                "popularity": signal.popularity if signal else 0.0,
                "lineage": lineage_lines(state, topic.id),
            }
        )
    return sorted(rows, key=lambda row: (-row["items"], -row["window_stories"], row["id"]))


def topic_detail(state: TopicState, topic: TopicRecord) -> dict[str, Any]:
    days = []
    for when in sorted(set(topic.days) | set(topic.signals)):
        figures, signal = topic.days.get(when), topic.signals.get(when)
        row: dict[str, Any] = {"date": when.isoformat()}
        empty = {"stories": 0, "items": 0, "sources": 0, "languages": {}, "sentiment": {}}
        row |= figures.model_dump() if figures else empty
        row |= signal.model_dump() if signal else {}
        days.append(row)
    return {
        "id": topic.id,
        "label": topic.label,
        "title": topic.title,
        "status": topic.status,
        "merged_into": topic.merged_into,
        "keywords": topic.keywords,
        "labels": [{"since": when.isoformat(), "label": label} for when, label in topic.labels],
        "lineage": lineage_lines(state, topic.id),
        "days": days,
    }
