"""The ``opinionwatch`` command line: a thin layer over the library."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

import config as config_package
from config.loader import ConfigError, load_settings
from config.settings import Settings
from crawlers.health import health_after
from crawlers.run import crawl
from crawlers.state import CrawlState
from digests.delivery import digest_prefix
from digests.digest import build_digest, default_day
from digests.render import render_html
from index.base import SearchRequest, SearchResult, risk_at_least
from index.fusion import hybrid_search, search_stories
from nlp.sentiment_model import LABELS
from opinionwatch import cli_web, logs, output
from opinionwatch.cli_alerts import alerts_app
from opinionwatch.cli_index import index_app
from opinionwatch.cli_models import models_app
from opinionwatch.cli_topics import topics_app
from opinionwatch.clock import AcceleratedClock, SystemClock
from opinionwatch.clocked import clocked_scheduler
from opinionwatch.commandline import ConfigOption, command_settings, errors, failures
from opinionwatch.digesting import digest_for, send_digest
from opinionwatch.newsworld import NewsWorldServer, build_world, environment
from opinionwatch.newsworld.calendar import MIN_DAYS, build_calendar
from opinionwatch.pipeline import Progress as PipelineProgress
from opinionwatch.pipeline import run_cycle
from opinionwatch.runlock import run_lock
from opinionwatch.scheduler import build_scheduler, catch_up, run_once
from opinionwatch.status import status_report
from opinionwatch.stopping import ServiceScheduler, noted_signals, serve_until_signalled
from opinionwatch.timeparse import parse_day, parse_since
from opinionwatch.web.auth import hash_password
from opinionwatch.wiring import Services

app = typer.Typer(
    help="OpinionWatch: monitor news and social posts for your watchlists.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: typer's rich layout prints a stray <bool> beside every flag
)
app.add_typer(index_app, name="index")
app.add_typer(models_app, name="models")
app.add_typer(topics_app, name="topics")
app.add_typer(alerts_app, name="alerts")
app.command("web")(cli_web.web)
app.command("hash-password")(cli_web.hash_password_command)
app.command("feedback")(cli_web.feedback)
console = Console()


@contextmanager
def _progress() -> Iterator[PipelineProgress]:
    bar = Progress(
        TextColumn("{task.description:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def advance(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)

    with bar:
        yield advance


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run one cycle and exit (otherwise run on schedule).")
    ] = False,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", metavar="NAME", help="Only these sources (repeatable)."),
    ] = None,
    clock: Annotated[
        str | None,
        typer.Option(
            metavar="START@SPEED[@ANCHOR]",
            help="Run on simulated time, for replays, demos and tests: START (ISO time with offset) at the "
            "Unix time ANCHOR (default: now), SPEED simulated seconds per real second.",
        ),
    ] = None,
) -> None:
    """Crawl, process and index: once, or forever on each source's schedule (one run per data_dir)."""
    with failures():
        settings = command_settings(config)
        _check_sources(settings, source)
        simulated = AcceleratedClock.parse(clock) if clock else None
        with (
            Services(settings, clock=simulated or SystemClock()) as services,
            run_lock(settings.data_dir, services.clock.now()),
        ):
            services.runs.mark_interrupted(services.clock.now())  # the lock: no other run is writing
            if once:
                with _progress() as progress:
                    report = run_once(services, source, progress)
                output.cycle_summary(console, report)
                return
            _serve(services, clocked_scheduler(simulated) if simulated else ServiceScheduler(timezone="UTC"))


def _serve(services: Services, scheduler: ServiceScheduler) -> None:
    """The long-running mode: the jobs, a missed digest caught up, metrics served, until SIGTERM/Ctrl-C."""
    build_scheduler(services, scheduler)
    late = catch_up(services, scheduler)
    settings = services.settings
    metrics = services.metrics.serve(settings.metrics) if settings.metrics.enabled else None
    services.metrics.outbox_depth(services.outbox.depth())
    console.print(
        f"scheduler started with {len(scheduler.get_jobs())} jobs; Ctrl-C or SIGTERM stops it"
        + (f"; sending the missed digest of {', '.join(late)} late" if late else "")
    )
    serve_until_signalled(scheduler)
    if metrics is not None:
        metrics.shutdown()
    console.print("scheduler stopped: the job that was running finished")


@app.command("crawl")
def crawl_command(
    config: ConfigOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", metavar="NAME", help="Only these sources (repeatable)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the collected items here as JSON lines.")] = None,
) -> None:
    """Run collection alone and print the per-source report with each source's health (ok, quiet,
    broken) judged from its history; a dry run: crawl state does not advance."""
    with failures():
        settings = command_settings(config)
        _check_sources(settings, source)
        sources = [s for s in settings.sources if s.enabled and (not source or s.name in source)]
        state = CrawlState(settings.state_db)
        try:
            workdir = settings.data_dir / "tmp"
            result = crawl(sources, settings.crawl, settings.state_db, workdir, state.marks())
            health = health_after(state, result.reports, settings.crawl.broken_after, recorded=False)
        finally:
            state.close()
        output.crawl_table(console, result.reports, health)
        if out:
            out.write_text("".join(item.model_dump_json() + "\n" for item in result.items), encoding="utf-8")
            console.print(f"{len(result.items)} items written to {out}")


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="Boolean query, e.g. 'NovaMart AND (recall OR \"product safety\")'.")
    ] = "",
    config: ConfigOption = None,
    since: Annotated[str | None, typer.Option(help="Only items published since: 7d, 24h, or a date.")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", metavar="NAME", help="Only these sources (repeatable)."),
    ] = None,
    lang: Annotated[
        list[str] | None,
        typer.Option("--lang", "-l", metavar="CODE", help="Only these languages (en, zh, ...)."),
    ] = None,
    watchlist: Annotated[
        list[str] | None, typer.Option("--watchlist", "-w", metavar="NAME", help="Only items hitting these.")
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", metavar="ID", help="Only items of these topics.")
    ] = None,
    sentiment: Annotated[
        list[str] | None,
        typer.Option("--sentiment", metavar="LABEL", help="Only items of these sentiments (negative, ...)."),
    ] = None,
    risk: Annotated[
        str | None, typer.Option(metavar="LEVEL", help="Only items of this risk level or above (e.g. high).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Results to show.")] = 10,
    sort: Annotated[str, typer.Option(help="relevance, date or risk (riskiest first).")] = "relevance",
    semantic: Annotated[bool, typer.Option(help="Rank by embedding similarity to the query.")] = False,
    hybrid: Annotated[bool, typer.Option(help="Fuse text and embedding rankings (reciprocal rank).")] = False,
    stories: Annotated[bool, typer.Option(help="One result per story, with its matching items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """Search the index: ranked, highlighted results."""
    with failures():
        settings = command_settings(config)
        if sort not in ("relevance", "date", "risk"):
            raise ValueError(f"--sort must be relevance, date or risk, not {sort!r}")
        for label in sentiment or ():
            if label not in LABELS:
                raise ValueError(f"--sentiment must be one of {', '.join(LABELS)}, not {label!r}")
        if sum((semantic, hybrid, stories)) > 1:
            raise ValueError("choose one of --semantic, --hybrid and --stories")
        with Services(settings) as services:
            vector = services.embedder.embed_queries([query])[0] if (semantic or hybrid) and query else None
            request = SearchRequest(
                query=None if semantic else query,
                since=parse_since(since, services.clock.now()) if since else None,
                sources=tuple(source or ()),
                languages=tuple(lang or ()),
                watchlists=tuple(watchlist or ()),
                topics=tuple(topic or ()),
                sentiments=tuple(sentiment or ()),
                risks=risk_at_least(risk) if risk else (),
                sort=sort,  # type: ignore[arg-type]  # checked above
                limit=limit,
                vector=vector if semantic else None,
                facets=("source", "language", "watchlists", "topic_id", "sentiment", "risk")
                if as_json
                else (),
            )
            result = _read(services, request, vector if hybrid else None, stories)
        if as_json:
            print(output.search_json(result))
        else:
            output.search_table(console, result, query, settings.watchlist_titles())


@app.command()
def digest(
    config: ConfigOption = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Day to report (default: yesterday in the team's zone).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Team (default: the first in the config).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the HTML digest here (charts inside as data URIs).")
    ] = None,
    send: Annotated[
        bool, typer.Option(help="E-mail it through the outbox: once per recipient and day, ever.")
    ] = False,
) -> None:
    """Render a team's daily digest to a file, or send it to the team's recipients (or both)."""
    with failures():
        if not out and not send:
            raise ValueError("say where the digest goes: --out FILE, --send, or both")
        settings = command_settings(config)
        if not settings.teams:
            raise ValueError("the config has no teams; add one under `teams:`")
        chosen = settings.team(team) if team else settings.teams[0]
        with Services(settings) as services:
            day = parse_day(date) if date else default_day(services.clock.now(), chosen.timezone)
            if out:
                built = digest_for(services, chosen, day)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(render_html(built), encoding="utf-8")
                console.print(f"digest for {chosen.name} on {day}: {built.total_items} items -> {out}")
            if send:
                counts = send_digest(services, chosen.name, day)
                output.delivery_summary(console, chosen, services.outbox.states(digest_prefix(chosen, day)))
                if counts["failed"]:
                    raise typer.Exit(1)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps all its data.")] = Path(
        "opinionwatch-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the local news world.")] = 7,
) -> None:
    """Start the local news world, run one cycle on config/demo.yaml, write the digest, print where.

    Each run starts from nothing: the world is served on a new port, so the last run's pages are gone
    and its data (``WORKDIR/data``) is replaced, not added to."""
    with failures():
        workdir = workdir.resolve()
        _fresh_demo_data(workdir)
        demo_config = config_package.DEMO_CONFIG
        world = build_world(seed=seed, today=SystemClock().now().date())
        with NewsWorldServer(world) as server:
            settings = load_settings(
                demo_config, environ={**os.environ, **environment(server)}, data_dir=workdir / "data"
            )
            logs.configure(settings.log.level, settings.log.format)
            password = secrets.token_urlsafe(12)
            (workdir / "opinionwatch.yaml").write_text(
                config_package.demo_config_text("data") + _demo_login(password), encoding="utf-8"
            )
            server.write_truth(workdir / "truth.json")
            with Services(settings) as services, _progress() as progress:
                report = run_cycle(services, None, progress)
                team = settings.teams[0]
                built = build_digest(
                    settings, team, world.burst_day, services.index, services.stories, services.clock.now()
                )
        output.cycle_summary(console, report)
        digest_path = workdir / "digest.html"
        digest_path.write_text(render_html(built), encoding="utf-8")
        config_path = (workdir / "opinionwatch.yaml").resolve()
        console.print(
            f"\nindex:   {settings.index_dir}\ndigest:  {digest_path}\ntruth:   {workdir / 'truth.json'}"
        )
        command = _this_command()
        for lead, arguments in (
            ("try:    ", "NovaMart"),
            ("        ", "苹果 --lang zh"),
            ("        ", "--json 'title:召回'"),
        ):
            console.print(f"{lead} {command} search --config {config_path} {arguments}", soft_wrap=True)
        console.print(f"page:    {command} web --config {config_path}", soft_wrap=True)
        console.print(
            f"         then http://{settings.web.address}/ as demo, password {password}", soft_wrap=True
        )


def _demo_login(password: str) -> str:
    """The demo config's ``web`` section: one user, ``demo``, with ``password`` (new on each run, shown once
    on the terminal, stored only as its argon2 hash)."""
    return "\n" + yaml.safe_dump(
        {"web": {"users": [{"name": "demo", "password_hash": hash_password(password)}]}}
    )


def _fresh_demo_data(workdir: Path) -> None:
    """An empty ``workdir/data``: a folder the demo wrote before (it holds the demo's ``truth.json``) is
    cleared; any other folder that holds ``data`` is left alone, with an error."""
    data = workdir / "data"
    if data.exists() and not (workdir / "truth.json").exists():
        raise ConfigError(
            f"{workdir} holds a data folder that the demo did not write; give the demo a folder of its own "
            "(--workdir)"
        )
    shutil.rmtree(data, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)


def _this_command() -> str:
    """How to run this program again from any shell: its plain name when that is what PATH finds, else
    its full path (``make run`` does not activate the virtual environment)."""
    beside = Path(sys.executable).parent / "opinionwatch"
    found = shutil.which("opinionwatch")
    if beside.exists() and (found is None or Path(found).resolve() != beside.resolve()):
        return shlex.quote(str(beside))
    return "opinionwatch"


@app.command()
def newsworld(
    seed: Annotated[int, typer.Option(help="Seed of the world.")] = 7,
    truth: Annotated[Path | None, typer.Option(help="Write the planted truth here as JSON.")] = None,
    days: Annotated[
        int,
        typer.Option(
            min=1,
            help="1: the demo's day of news; 5 or more: the calendar world, that many days up to yesterday, "
            "with planted topics, a split, a merge, a burst and a source that breaks.",
        ),
    ] = 1,
) -> None:
    """Serve the local news world on 127.0.0.1 until interrupted; print the variables demo.yaml reads."""
    today = SystemClock().now().date()
    if 1 < days < MIN_DAYS:
        raise typer.BadParameter(
            f"1 (the demo's day) or at least {MIN_DAYS} (the calendar world)", param_hint="--days"
        )
    if days == 1:
        world = build_world(seed=seed, today=today)
    else:
        world = build_calendar(seed=seed, start=today - timedelta(days=days), days=days)
    with NewsWorldServer(world) as server:
        for name, value in environment(server).items():
            console.print(f"export {name}={value}")
        if truth:
            server.write_truth(truth)
        with noted_signals(signal.SIGTERM, signal.SIGINT) as received:
            while not received:
                time.sleep(0.2)


@app.command()
def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """Sources and their health, each job's last and next run, the index and its outbox, the last digests."""
    with failures():
        settings = command_settings(config)
        with Services(settings) as services:
            report = status_report(services)
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            output.status_tables(console, report)


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the config file and summarise it."""
    with failures():
        settings = command_settings(config)
        summary = {
            "watchlists": [w.name for w in settings.watchlists],
            "sources": [s.name for s in settings.sources],
            "teams": [t.name for t in settings.teams],
            "index": settings.index.backend,
            "data_dir": str(settings.data_dir),
            "embedding_model": settings.embedding.model,
        }
        console.print(json.dumps(summary, ensure_ascii=False, indent=2))


def _read(
    services: Services, request: SearchRequest, hybrid: np.ndarray | None, stories: bool
) -> SearchResult:
    if hybrid is not None:
        fused = hybrid_search(services.index, request, hybrid)
        return SearchResult(total=len(fused), hits=fused)
    if stories:
        found = search_stories(services.index, request)
        hits = [replace(s.hit, doc={**s.hit.doc, "story_matching_items": s.matching_items}) for s in found]
        return SearchResult(total=len(hits), hits=hits)
    return services.index.search(request)


def _check_sources(settings: Settings, names: list[str] | None) -> None:
    known = {s.name for s in settings.sources}
    unknown = [name for name in names or [] if name not in known]
    if unknown:
        raise ValueError(f"unknown sources {unknown}; configured: {sorted(known)}")


if __name__ == "__main__":
    app()
