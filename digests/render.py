"""Render a digest: HTML that mail clients show (table layout, inline CSS, autoescaped, only http(s)
links, charts inline by Content-ID in mail and as data URIs in files), a plain-text part that lists every
story of the HTML, and the subject. Words in the team's language (``digests.labels``)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests.charts import volume_chart
from digests.digest import Digest, DigestStory, Member
from digests.labels import Labels
from digests.panels import TopicLine

MEMBERS_SHOWN = 6
"""Items listed under a story; the rest are counted."""
Images = Literal["cid", "data"]


def safe_url(url: str) -> str:
    """The URL when it is http(s), else empty (the template then shows the title without a link)."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else ""


def chart_cid(watchlist: str) -> str:
    return f"chart-{watchlist}"


def charts(digest: Digest) -> dict[str, bytes]:
    """A PNG per watchlist that has any matching item in the chart's days."""
    return {
        volume.watchlist: volume_chart(volume)
        for volume in digest.panels.volumes
        if any(day.items for day in volume.days)
    }


def template_environment(package: str) -> Environment:
    """Jinja for a package's ``templates/``: autoescaped (strings too), strict about undefined names, and
    with the ``safe_url`` filter; the digest's and the search page's."""
    environment = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["safe_url"] = safe_url
    return environment


def render_html(digest: Digest, images: Images = "data", pngs: dict[str, bytes] | None = None) -> str:
    """The HTML digest; ``images="cid"`` cites the charts by Content-ID (for mail), ``"data"`` embeds them."""
    pngs = charts(digest) if pngs is None else pngs
    if images == "cid":
        sources = {name: f"cid:{chart_cid(name)}" for name in pngs}
    else:
        sources = {
            name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in pngs.items()
        }
    labels = Labels(digest.team.language)
    return (
        template_environment("digests")
        .get_template("digest.html.j2")
        .render(
            digest=digest,
            L=labels,
            charts=sources,
            shown=MEMBERS_SHOWN,
            tone=_tone(labels),
            late_lines=late_lines(digest, labels),
            source_lines=source_lines(digest, labels),
            change_lines=change_lines(digest, labels),
            previous_day=_previous_day(digest),
            topic_line=topic_line,
        )
    )


def render_mail(digest: Digest) -> tuple[str, str, str, dict[str, bytes]]:
    """Subject, text part, HTML part and its images by Content-ID."""
    pngs = charts(digest)
    html = render_html(digest, "cid", pngs)
    return subject(digest), render_text(digest), html, {chart_cid(name): png for name, png in pngs.items()}


def subject(digest: Digest) -> str:
    labels = Labels(digest.team.language)
    attention = len(digest.attention)
    return labels(
        "subject",
        team=digest.team.name,
        day=digest.day.isoformat(),
        items=digest.total_items,
        attention=labels("subject_attention", n=attention) if attention else "",
    )


def render_text(digest: Digest) -> str:
    labels = Labels(digest.team.language)
    tone = _tone(labels)
    lines = [
        f"{labels('title')} · {digest.team.name} · {digest.day.isoformat()} ({digest.team.timezone})",
        "",
    ]
    lines += text_headline(digest, labels)
    for section in digest.sections:
        kind = labels.word(section.watchlist.kind)
        count = labels("section_count", items=labels.count(section.items, "items"),
                       stories=labels.count(section.matched_stories, "stories"))  # fmt: skip
        lines.append(f"== {kind} · {section.watchlist.display_title} ({count}) ==")
        if not section.stories:
            lines.append("  " + labels("listed_above" if section.matched_stories else "no_coverage"))
        for number, entry in enumerate(section.stories, start=1):
            lines += _text_story(number, entry, labels, tone)
        lines.append("")
    lines += _text_panels(digest, labels)
    return "\n".join(lines).rstrip() + "\n"


def text_headline(digest: Digest, labels: Labels) -> list[str]:
    panels, lines = digest.panels, []
    if panels.late:
        lines.append(
            "! " + labels("late", due=_stamp(panels.late.due, digest), sent=_stamp(panels.late.sent, digest))
        )
        if panels.late.missed:
            lines.append("! " + labels("missed", days=", ".join(d.isoformat() for d in panels.late.missed)))
    attention = digest.attention
    if attention:
        n = len(attention)
        lines.append(labels("attention_one") if n == 1 else labels("attention", n=n))
        lines += [
            f"  - {entry.title}: {'; '.join(_why(entry, labels, _tone(labels)))}" for entry in attention
        ]
    else:
        lines.append(labels("calm"))
    sections = len(digest.sections)
    lines += [labels("overview", stories=digest.stories, items=digest.total_items, sections=sections), ""]
    return lines


def _text_story(number: int, entry: DigestStory, labels: Labels, tone: dict[str, str]) -> list[str]:
    reach = f"{labels.count(entry.story.member_count, 'items')}, {labels.count(entry.sites, 'sites')}"
    lines = [f"{number}. {entry.title}  [{reach}]"]
    first = entry.first
    began = f" · {labels('since', day=entry.since.isoformat())}" if entry.since else ""
    lines.append(f"   {labels('first')}: {first.outlet} · {first.when}{began}")
    lines.extend(f"   {other.describe(labels)}" for other in entry.also)
    if entry.reasons:
        lines.append(f"   {labels('matched')}: {entry.matched_in(labels)}")
    lines.extend(f"   {line}" for line in _why(entry, labels, tone))
    if entry.also_in:
        lines.append(f"   {labels('also_in')}: {', '.join(entry.also_in)}")
    lines.append(f"   {safe_url(entry.url)}")
    lines.append(f"   {labels('sources')}:")
    for member in entry.members[:MEMBERS_SHOWN]:
        lines.append(f"     - {member.outlet} · {member_when(member)} · {safe_url(member.url)}".rstrip(" ·"))
    if len(entry.members) > MEMBERS_SHOWN:
        lines.append(f"     - {labels('more_sources', n=len(entry.members) - MEMBERS_SHOWN)}")
    return lines


def _text_panels(digest: Digest, labels: Labels) -> list[str]:
    panels, lines = digest.panels, []
    if panels.topics:
        lines.append(f"== {labels('topics')} ==")
        for topic in panels.topics:
            lines.append(f"- {topic.label}: {topic_line(topic, labels)} ({topic.example})")
        lines.append("")
    if panels.sources is not None:
        lines.append(f"== {labels('health')} ==")
        lines += [f"- {line}" for line in source_lines(digest, labels)] or [labels("health_ok")]
        lines.append("")
    if panels.changes is not None:
        lines.append(f"== {labels('changes', day=_previous_day(digest))} ==")
        lines += [f"- {line}" for line in change_lines(digest, labels)] or [labels("changes_none")]
        lines.append("")
    return lines


def _why(entry: DigestStory, labels: Labels, tone: dict[str, str]) -> list[str]:
    """The risk with its reasons and the tone toward the watchlist's entities, as lines."""
    lines = []
    if entry.risk != "none":
        reasons = "; ".join(labels.reason(reason) for reason in entry.risk_reasons)
        lines.append(f"{labels('risk')} {labels.word(entry.risk)}: {reasons}")
    if entry.tone_beyond_risk:
        lines.append(
            "; ".join(
                labels("toward", label=tone[label], entity=entity) for label, entity in entry.tone_beyond_risk
            )
        )
    return lines


def _tone(labels: Labels) -> dict[str, str]:
    return {label: labels.word(label) for label in ("negative", "positive", "neutral")}


def topic_line(topic: TopicLine, labels: Labels) -> str:
    line = labels("topic_line", trend=labels.word(topic.trend), signal=labels.word(topic.signal),
                  stories=topic.stories, items=topic.items)  # fmt: skip
    return line + (f" · {labels('topic_yours', n=topic.yours)}" if topic.yours else "")


def late_lines(digest: Digest, labels: Labels) -> list[str]:
    late = digest.panels.late
    if late is None:
        return []
    lines = [labels("late", due=_stamp(late.due, digest), sent=_stamp(late.sent, digest))]
    if late.missed:
        lines.append(labels("missed", days=", ".join(day.isoformat() for day in late.missed)))
    return lines


def source_lines(digest: Digest, labels: Labels) -> list[str]:
    lines = []
    for line in digest.panels.sources or ():
        state = (
            labels("broken_since", when=_stamp(line.since, digest)) if line.since else labels.word(line.state)
        )
        lines.append(f"{line.name}: {state} ({labels.health(line.reason)})")
    return lines


def change_lines(digest: Digest, labels: Labels) -> list[str]:
    lines = []
    for change in digest.panels.changes or ():
        said = labels(
            f"change_{change.kind}", before=labels.word(change.before), after=labels.word(change.after)
        )
        lines.append(f"{change.title}: {said}")
    if digest.panels.dropped:
        lines.append(labels("dropped", n=digest.panels.dropped))
    return lines


def _previous_day(digest: Digest) -> str:
    previous = digest.panels.previous_day
    return previous.isoformat() if previous else ""


def member_when(member: Member) -> str:
    return member.published.strftime("%m-%d %H:%M")


def _stamp(when: datetime, digest: Digest) -> str:
    return when.astimezone(ZoneInfo(digest.team.timezone)).strftime("%Y-%m-%d %H:%M %Z")
