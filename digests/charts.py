"""The digest's 14-day chart per watchlist: matching items per day as bars, the negative share as a line
on its own axis. A PNG from matplotlib's object API (no pyplot, no global state); the same series gives
the same bytes (no timestamp or version in the file). Labels are dates and numbers only, so no font for
Chinese is needed: the watchlist's name is in the HTML around the image."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from digests.panels import Volume

WIDTH_IN, HEIGHT_IN, DPI = 5.6, 1.7, 100
"""560 × 170 px: fits a 600 px mail column."""
BAR, LINE = "#8fb3d9", "#b42318"


def volume_chart(volume: Volume) -> bytes:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.07, 0.2, 0.85, 0.72))
    days = list(range(len(volume.days)))
    axes.bar(days, [d.items for d in volume.days], color=BAR, width=0.7, label="items")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    axes.set_xticks(days[::2] if len(days) > 7 else days)
    axes.set_xticklabels([volume.days[i].day.strftime("%m-%d") for i in axes.get_xticks()], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    share = axes.twinx()
    shares = [d.negative_share if d.items else float("nan") for d in volume.days]  # no items: no share
    share.plot(days, shares, color=LINE, linewidth=1.5, marker="o", markersize=2.5)
    share.set_ylim(0, 1)
    share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share.tick_params(axis="y", labelsize=7, colors=LINE)
    for side in ("top",):
        axes.spines[side].set_visible(False)
        share.spines[side].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
