"""Source health: ok, quiet and broken from run history, and through real cycles and the crawl command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from config.settings import CrawlSettings, Settings, Source
from crawlers.health import assess
from crawlers.records import SourceReport
from nlp.embed import HashingEmbedder
from opinionwatch.cli import app
from opinionwatch.pipeline import run_cycle
from opinionwatch.wiring import Services
from tests.fault_server import FaultServer
from tests.loopback import free_port


def run(
    listed: int = 10, new: int = 5, ok: bool = True, errors: dict[str, int] | None = None
) -> SourceReport:
    return SourceReport(source="s", listing_ok=ok, listed=listed, new=new, errors=errors or {})


def test_repeated_failures_make_a_source_broken_a_single_one_does_not() -> None:
    failed = run(ok=False, errors={"http_503": 1})
    once = assess([failed, run(), run(), run()], broken_after=3)
    assert once.state == "ok" and "http_503" in once.reason
    thrice = assess([failed, failed, failed, run()], broken_after=3)
    assert thrice.state == "broken" and thrice.reason.startswith("failed 3 runs in a row")


def test_a_source_that_never_worked_is_broken_from_its_first_run_with_what_to_do() -> None:
    blocked = run(ok=False, errors={"blocked_address": 1})
    first = assess([blocked], broken_after=3)
    assert first.state == "broken" and "crawl.allow_private" in first.reason
    refused = assess([run(ok=False, errors={"connection_failed": 1})] * 2, broken_after=3)
    assert refused.state == "broken" and refused.reason.startswith("never worked: all 2 runs failed")


def test_a_blocked_address_is_named_and_says_which_setting_allows_it(tmp_path: Path) -> None:
    """A private address not allowed, through a real cycle: named as the README names it, with the fix."""
    with FaultServer() as faults:
        config = Settings(
            data_dir=tmp_path / "data",
            sources=[Source(name="private", url=faults.url("one-entry/ok/1"))],
            crawl=CrawlSettings(download_delay_s=0, time_budget_s=30, allow_private=["127.0.0.2"]),
        )
        with Services(config, embedder_override=HashingEmbedder()) as services:
            report = run_cycle(services)
    assert report.sources[0].errors == {"blocked_address": 1}
    assert (
        report.health["private"].state == "broken"
        and "crawl.allow_private" in report.health["private"].reason
    )


def test_a_refused_connection_is_connection_failed(tmp_path: Path) -> None:
    config = Settings(
        data_dir=tmp_path / "data",
        sources=[Source(name="refused", url=f"http://127.0.0.1:{free_port()}/feed.xml")],
        crawl=CrawlSettings(download_delay_s=0, time_budget_s=30, allow_private=["127.0.0.1"]),
    )
    with Services(config, embedder_override=HashingEmbedder()) as services:
        report = run_cycle(services)
    assert report.sources[0].errors == {"connection_failed": 1}
    assert report.health["refused"].state == "broken"


def test_a_listing_that_went_empty_is_broken_not_quiet() -> None:
    health = assess([run(listed=0, new=0), run(), run(), run()], broken_after=3)
    assert health.state == "broken" and "listed nothing" in health.reason


def test_fewer_items_than_usual_is_quiet_and_unchanged_feeds_do_not_count() -> None:
    assert assess([run(new=0), run(new=8), run(new=6), run(new=9)], broken_after=3).state == "quiet"
    assert assess([run(new=5), run(new=8), run(new=6), run(new=9)], broken_after=3).state == "ok"
    unchanged = SourceReport(source="s", listing_ok=True, skipped={"not_modified": 1})
    assert assess([unchanged, run(new=8), run(new=6), run(new=9)], broken_after=3).state == "quiet"
    assert assess([run(new=0), run(new=8)], broken_after=3).state == "ok"  # too little history to judge


def test_cycles_mark_a_dead_source_broken_and_keep_good_ones_ok(tmp_path: Path) -> None:
    with FaultServer() as faults:
        config = Settings(
            data_dir=tmp_path / "data",
            sources=[
                Source(name="dead", url=faults.url("status/503")),
                Source(name="good", url=faults.url("one-entry/ok/1")),
            ],
            crawl=CrawlSettings(
                allow_private=["127.0.0.1"], download_delay_s=0, time_budget_s=30, broken_after=2
            ),
        )
        with Services(config, embedder_override=HashingEmbedder()) as services:
            first, second = run_cycle(services), run_cycle(services)
    assert first.health["dead"].state == "broken" and "its first run failed" in first.health["dead"].reason
    assert second.health["dead"].state == "broken" and "all 2 runs failed" in second.health["dead"].reason
    assert first.health["good"].state == second.health["good"].state == "ok"


def test_crawl_command_shows_health(tmp_path: Path) -> None:
    with FaultServer() as faults:
        config = tmp_path / "ow.yaml"
        config.write_text(
            json.dumps(
                {
                    "data_dir": str(tmp_path / "data"),
                    "sources": [{"name": "dead", "url": faults.url("status/404")}],
                    "crawl": {"allow_private": ["127.0.0.1"], "download_delay_s": 0, "broken_after": 1},
                }
            ),
            encoding="utf-8",
        )
        done = CliRunner().invoke(app, ["crawl", "--config", str(config)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "broken" in done.output and "http_404" in done.output


def test_a_chinese_digest_says_every_health_reason_in_chinese_keeping_codes_and_settings() -> None:
    from digests.labels import Labels

    blocked = run(ok=False, errors={"blocked_address": 1, "http_503": 2})
    histories = [
        [],
        [blocked],
        [blocked, blocked],
        [blocked, blocked, blocked, run()],
        [run(ok=False), run(), run(), run()],
        [run()],
        [run(listed=0, new=0), run(), run(), run()],
        [run(new=1), run(new=8), run(new=8), run(new=8)],
        [run(new=6), run(), run(), run()],
    ]
    reasons = [assess(history, broken_after=3).reason for history in histories]
    chinese = [Labels("zh").health(reason) for reason in reasons]
    assert len(set(chinese)) == len(histories)
    for reason, said in zip(reasons, chinese, strict=True):
        assert said != reason and not any(word in said for word in ("runs", "new", "usually", "failed")), said
        assert Labels("en").health(reason) == reason
    assert "blocked_address: 该地址为内网或回环地址；可在 crawl.allow_private 中放行, http_503" in chinese[1]
    assert chinese[4] == "上次运行失败（无响应）；连续 3 次失败即判为失效"
    assert Labels("zh").health("written some other way") == "written some other way"
