"""How commands show results: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import unescape
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from config.settings import Team
from crawlers.health import SourceHealth
from crawlers.records import SourceReport
from digests.digest import Reason
from index.base import SearchResult
from nlp.risk import entity_titled
from opinionwatch.pipeline import CycleReport

MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def marked_text(fragment: str) -> Text:
    """Turn an escaped ``<mark>`` snippet into styled terminal text (no markup injection)."""
    text = Text()
    cursor = 0
    for match in MARK.finditer(fragment):
        text.append(unescape(fragment[cursor : match.start()]))
        text.append(unescape(match.group(1)), style="bold black on yellow")
        cursor = match.end()
    text.append(unescape(fragment[cursor:]))
    return text


def search_json(result: SearchResult) -> str:
    hits = []
    for hit in result.hits:
        doc = {key: value for key, value in hit.doc.items() if key != "body"}
        hits.append({**doc, "score": round(hit.score, 4), "highlights": hit.highlights})
    payload: dict[str, Any] = {"total": result.total, "hits": hits}
    if result.facets:
        payload["facets"] = {name: dict(buckets) for name, buckets in result.facets.items()}
    return json.dumps(payload, ensure_ascii=False, indent=2)


def search_table(
    console: Console, result: SearchResult, query: str | None, titles: Mapping[str, str] | None = None
) -> None:
    """Results as a table; ``titles`` (watchlist name -> title) name the tone toward a query watchlist."""
    if not result.hits:
        console.print(f"No results for {query!r}." if query else "No results.")
        return
    table = Table(title=f"{result.total} results" + (f" for {query!r}" if query else ""), show_lines=True)
    for column in ("#", "published (UTC)", "outlet", "lang", "title / snippet"):
        table.add_column(column, overflow="fold")
    for number, hit in enumerate(result.hits, start=1):
        doc = hit.doc
        title = (
            marked_text(hit.highlights["title"][0]) if "title" in hit.highlights else Text(str(doc["title"]))
        )
        title.stylize("bold")
        cell = Text.assemble(title, "\n", marked_text(hit.highlights.get("body", [""])[0]), "\n")
        cell.append(str(doc["url"]), style="dim")
        reasons = doc.get("matched")
        if isinstance(reasons, list) and reasons:
            cell.append(
                "\nmatched: "
                + "; ".join(Reason(r["term"], r["via"], r["field"]).describe() for r in reasons[:3]),
                style="dim",
            )
        if doc.get("risk", "none") != "none":
            reasons = "; ".join(str(reason) for reason in doc.get("risk_reasons", []))  # type: ignore[attr-defined]
            cell.append(f"\nrisk {doc['risk']}: {reasons}", style="bold red")
        if doc.get("sentiment"):
            toward = ", ".join(
                _tone(entry, titles or {})
                for entry in doc.get("entity_sentiments", [])  # type: ignore[attr-defined]
            )
            cell.append(
                f"\nsentiment {doc['sentiment']}" + (f" · toward {toward}" if toward else ""), style="dim"
            )
        stamp = str(doc["published"])[:16].replace("T", " ")
        table.add_row(
            str(number),
            f"undated\n(seen {stamp})" if doc.get("date_precision") == "none" else stamp,
            str(doc.get("outlet") or doc["source"]),
            str(doc["language"]),
            cell,
        )
    console.print(table)


def _tone(entry: dict[str, Any], titles: Mapping[str, str]) -> str:
    """``NovaMart negative``; a query watchlist's tone by its title (``Product safety negative``)."""
    return f"{entity_titled(entry['entity'], entry['watchlist'], titles)} {entry['label']}"


def crawl_table(console: Console, reports: list[SourceReport], health: dict[str, SourceHealth]) -> None:
    table = Table(title="Crawl report")
    for column in ("source", "health", "fetched", "new", "skipped", "errors", "seconds"):
        table.add_column(column)
    for report in reports:
        state = health.get(report.source)
        table.add_row(
            report.source,
            f"[{HEALTH_STYLE[state.state]}]{state.state}[/] {escape(state.reason)}" if state else "",
            str(report.fetched),
            str(report.new),
            _counts(report.skipped),
            _counts(report.errors),
            f"{report.duration_s:.1f}",
        )
    console.print(table)


HEALTH_STYLE = {"ok": "green", "quiet": "yellow", "broken": "bold red"}


def cycle_summary(console: Console, report: CycleReport) -> None:
    crawl_table(console, report.sources, report.health)
    problems = _counts(dict(report.problems)) or "none"
    console.print(
        f"collected {report.collected}, processed {report.processed} (failed {report.failed}), "
        f"new stories {report.new_stories}, indexed {report.indexed}, "
        f"reprints that skipped the encoder {report.indexed - report.sent_to_encoder}, "
        f"freshly embedded {report.embedded_fresh}; "
        f"outcomes: {problems}"
    )
    busy = {step: seconds for step, seconds in report.seconds.items() if step != "wall"}
    timings = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in busy.items())
    wall = report.seconds.get("wall")
    overlapped = f" (processing to index {wall:.1f}s elapsed: stages overlap)" if wall is not None else ""
    console.print(f"time: {timings}{overlapped}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}={n}" for reason, n in sorted(counts.items()))


STATE_WORDS = {
    "sent": "sent",
    "pending": "not sent yet: the server failed for now; the running service retries it",
    "failed": "failed for good (see `opinionwatch status`)",
    "uncertain": "may have been sent before a crash; not sent again",
}


def status_tables(console: Console, report: dict[str, Any]) -> None:
    """``opinionwatch status`` for people: sources, jobs, index, digests."""
    sources = Table(title="Sources")
    for column in ("source", "health", "why"):
        sources.add_column(column, overflow="fold")
    for source in report["sources"]:
        sources.add_row(
            source["name"], source["health"] if source["enabled"] else "disabled", source["reason"]
        )
    jobs = Table(title=f"Jobs (now {report['now']} UTC)")
    for column in ("job", "last run", "outcome", "counts", "next run"):
        jobs.add_column(column, overflow="fold")
    for job in report["jobs"]:
        last = job["last"] or {}
        counts = ", ".join(f"{name} {value}" for name, value in (last.get("counts") or {}).items())
        outcome = last.get("outcome", "never run") + (f": {last['error']}" if last.get("error") else "")
        jobs.add_row(job["name"], last.get("started") or "", outcome, counts, job["next"] or "")
    console.print(sources, jobs)
    console.print("index: " + ", ".join(f"{name} {value}" for name, value in report["index"].items()))
    for team, last in report["digests"].items():
        console.print(
            f"digest {team}: " + (f"{last['outcome']} at {last['started']}" if last else "never sent")
        )
    outbox = report["outbox"]
    console.print(
        "outbox: " + ", ".join(f"{state} {n}" for state, n in outbox["depth"].items() if n) or "empty"
    )
    for problem in outbox["problems"]:
        console.print(f"  {problem['state']}: {problem['key']} ({problem['error']})")
    alerts = report["alerts"]
    console.print(f"open alerts: {len(alerts['open'])}")
    for alert in alerts["open"]:
        console.print(f"  #{alert['id']} {alert['severity']} {alert['fired']} {alert['title']}")
    for rule, why in alerts["inactive_rules"].items():
        console.print(f"  rule {rule} is inactive: {why}")


def delivery_summary(console: Console, team: Team, states: dict[str, str]) -> None:
    """Where each recipient's copy of a digest stands after ``digest --send``."""
    for recipient in team.recipients:
        state = next((s for key, s in states.items() if key.endswith("/" + recipient)), "not queued")
        console.print(f"{recipient}: {STATE_WORDS.get(state, state)}")
