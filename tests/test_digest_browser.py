"""The digest as a mail client shows it: headless Chromium at 600 px, a screenshot kept as an artifact."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from digests.digest import build_digest
from digests.panels import PanelContext, Snapshot
from digests.render import render_html, render_text
from tests.conftest import ARTIFACTS
from tests.test_digest_mail import NOW, _two_section_stores


def test_the_digest_fits_600_pixels_and_shows_every_story_and_chart(chromium: Any, tmp_path: Path) -> None:
    config, index, stories = _two_section_stores(tmp_path)
    for language in ("en", "zh"):
        team = config.teams[0].model_copy(update={"language": language})
        previous = Snapshot(date(2026, 11, 21), {})
        digest = build_digest(
            config, team, date(2026, 11, 22), index, stories, NOW, PanelContext(previous=previous)
        )
        html = render_html(digest)  # charts as data URIs, as `digest --out` writes them
        page = chromium.new_page(viewport={"width": 600, "height": 900})
        page.set_content(html, wait_until="load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 600, f"{language}: the digest is {width} px wide; mail clients show 600"
        charts = page.eval_on_selector_all("img", "images => images.map(i => [i.naturalWidth, i.width])")
        assert len(charts) == 2 and all(natural > 0 and 0 < shown <= 552 for natural, shown in charts)
        shown = page.inner_text("body")
        text = render_text(digest)
        for entry in digest.entries:  # every story of the page is in the text part too
            assert entry.title in shown and entry.title in text
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"digest-{language}.png"), full_page=True)
        page.close()
