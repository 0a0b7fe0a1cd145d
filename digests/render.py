"""Render a digest to HTML (autoescaped) and plain text."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests.digest import Digest


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(digest: Digest) -> str:
    return _environment().get_template("digest.html.j2").render(digest=digest)


def render_text(digest: Digest) -> str:
    lines = [
        f"OpinionWatch digest for {digest.team.name}, {digest.day.isoformat()} ({digest.team.timezone})",
        "",
    ]
    for section in digest.sections:
        lines.append(f"== {section.watchlist.display_title} ({section.items} items) ==")
        if not section.stories:
            lines.append("  no coverage")
        for number, entry in enumerate(section.stories, start=1):
            lines.append(
                f"{number}. {entry.title}  "
                f"[{entry.story.member_count} items, {len(entry.story.domains)} sites]"
            )
            lines.append(f"   {entry.outlet} · {entry.when}")
            lines.extend(f"   {other.describe()}" for other in entry.also)
            if entry.reasons:
                lines.append(f"   matched: {entry.matched}")
            if entry.risk != "none":
                lines.append(f"   risk {entry.risk}: {'; '.join(entry.risk_reasons)}")
            if entry.tone:
                lines.append(f"   {'; '.join(entry.tone)}")
            lines.append(f"   {entry.url}")
        lines.append("")
    return "\n".join(lines)


def subject(digest: Digest) -> str:
    return f"OpinionWatch {digest.team.name} digest, {digest.day.isoformat()}: {digest.total_items} items"
