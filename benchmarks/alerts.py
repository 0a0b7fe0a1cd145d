"""The volume-spike detector, exactly as the product's volume alerts use it (``digests.anomaly``), over
counting series with labelled anomaly windows; a flat mean + 3 sigma baseline in the same run.

    python benchmarks/alerts.py [--data ../shared/data] [--set nab_real_tweets] [--out alerts.json]

A set is a folder with ``*.csv`` (``timestamp,value``, one row per step), ``windows.json`` ({file:
[[start, end], ...]}) and ``labels.json`` ({file: [labelled timestamps]}), as NAB lays them out; sets DIR
lacks are skipped with a note. NAB's probationary first 15% of each series is not scored.

Per series and overall: windows found (a detection inside a window), false alerts (outside every window)
per 30 days, the median delay from the window's labelled point to its first detection (negative: before
it), and event F1 (precision: detections inside windows / all detections; recall: windows found).
Targets: event F1 >= 0.70 with <= 1 false alert per 30 days per series.

``--out`` writes every alert's time per series, {file name: [ISO timestamps]}.

``calendar`` (skip with ``--no-calendar``): the calendar news world's 7 days crawled four times a day through
the real pipeline (demo config plus a ``trade`` watchlist for tariffs), then the stored history replayed
hourly through the product's alert rules (``opinionwatch alerts backtest``), scored against the planted
events: the solar-tariff burst (a volume alert on ``trade``), NovaMart's negative turn, the broken source.
Targets: each found, precision >= 0.9 over those kinds, no volume alert on the busy Monday.

Ends with one JSON line keyed by set name, each {"product": {...}, "flat_3sigma": {...}}, and
"calendar".
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import mean, median
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digests.anomaly import SpikeSettings, detect_episodes  # noqa: E402

PROBATION = 0.15
SETS = ("nab_real_tweets",)
Series = list[tuple[datetime, float]]
Detector = Callable[[Series, timedelta], list[datetime]]


def product(series: Series, step: timedelta) -> list[datetime]:
    """The product's detector with its defaults at the series' step: counts over an hour and over a day,
    one detection per episode (``digests.anomaly.detect_episodes``, as the volume rule calls it)."""
    return [found.at for found in detect_episodes(series, SpikeSettings(step=step))]


def flat_three_sigma(series: Series, step: timedelta) -> list[datetime]:
    """Huginn's peak detector: hourly sums above mean + 3 sigma of the past two weeks, one per episode."""
    per_hour, per_fortnight = round(timedelta(hours=1) / step), round(timedelta(days=14) / step)
    values = np.array([v for _, v in series], dtype=np.float64)
    sums = np.convolve(values, np.ones(per_hour))[: len(values)]
    first, second = np.concatenate(([0.0], np.cumsum(sums))), np.concatenate(([0.0], np.cumsum(sums**2)))
    found, inside = [], False
    for i in range(per_hour * 24, len(series)):
        start = max(0, i - per_fortnight)
        n = i - start
        average = (first[i] - first[start]) / n
        sigma = math.sqrt(max(0.0, (second[i] - second[start]) / n - average**2))
        high = bool(sums[i] > average + 3 * sigma)
        if high and not inside:
            found.append(series[i][0])
        inside = high
    return found


def read_set(folder: Path) -> dict[str, tuple[Series, list[tuple[datetime, datetime]], list[datetime]]]:
    windows = json.loads((folder / "windows.json").read_text())
    labels = json.loads((folder / "labels.json").read_text())
    data = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as handle:
            series = [(_time(row["timestamp"]), float(row["value"])) for row in csv.DictReader(handle)]
        spans = [(_time(a), _time(b)) for a, b in windows.get(path.name, [])]
        data[path.name] = (series, spans, [_time(t) for t in labels.get(path.name, [])])
    return data


def score(
    series: Series, spans: list[tuple[datetime, datetime]], labels: list[datetime], alerts: Sequence[datetime]
) -> dict[str, float]:
    scored_from = series[int(len(series) * PROBATION)][0]
    spans = [(a, b) for a, b in spans if b >= scored_from]
    alerts = [t for t in alerts if t >= scored_from]
    inside = [t for t in alerts if any(a <= t <= b for a, b in spans)]
    found = [(a, b) for a, b in spans if any(a <= t <= b for t in alerts)]
    delays = []
    for a, b in found:
        point = next((t for t in labels if a <= t <= b), a)
        first = min(t for t in alerts if a <= t <= b)
        delays.append((first - point).total_seconds() / 3600)
    days = (series[-1][0] - scored_from).total_seconds() / 86400
    return {
        "windows": len(spans),
        "found": len(found),
        "alerts": len(alerts),
        "false": len(alerts) - len(inside),
        "false_per_30d": round((len(alerts) - len(inside)) * 30 / days, 2),
        "delays_h": delays,
        "days": days,
        "inside": len(inside),
    }


def overall(rows: list[dict[str, float]]) -> dict[str, float]:
    windows, found = sum(r["windows"] for r in rows), sum(r["found"] for r in rows)
    alerts, inside = sum(r["alerts"] for r in rows), sum(r["inside"] for r in rows)
    recall = found / windows if windows else 0.0
    precision = inside / alerts if alerts else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    delays = [d for r in rows for d in r["delays_h"]]  # type: ignore[attr-defined]
    return {
        "event_f1": round(f1, 3),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "windows_found": f"{found}/{windows}",
        "false_per_30d_max": max(r["false_per_30d"] for r in rows),
        "false_per_30d_mean": round(mean(r["false_per_30d"] for r in rows), 2),
        "median_delay_h": round(median(delays), 2) if delays else None,
    }  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--set", action="append", dest="sets", help="set folders under --data (repeatable)")
    parser.add_argument("--out", type=Path, help="write every alert's time per series here (JSON)")
    parser.add_argument("--no-calendar", action="store_true", help="skip the calendar world")
    args = parser.parse_args()
    detectors: dict[str, Detector] = {"product": product, "flat_3sigma": flat_three_sigma}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    written: dict[str, list[str]] = {}
    for name in args.sets or SETS:
        folder = args.data / name
        if not (folder / "windows.json").exists():
            print(f"skipping {name}: {folder} has no windows.json")
            continue
        data = read_set(folder)
        figures[name] = {}
        print(f"\n{name}")
        print(f"{'detector':<12} {'series':<28} {'found':>7} {'alerts':>6} {'false/30d':>9} {'delay h':>8}")
        for label, detector in detectors.items():
            rows = []
            for file, (series, spans, labels) in data.items():
                step = series[1][0] - series[0][0]
                alerts = detector(series, step)
                if label == "product":
                    written[file] = [t.isoformat() for t in alerts]
                row = score(series, spans, labels, alerts)
                rows.append(row)
                delay = median(row["delays_h"]) if row["delays_h"] else float("nan")  # type: ignore[arg-type]
                print(f"{label:<12} {file:<28} {row['found']:>3}/{row['windows']:<3} {row['alerts']:>6} "
                      f"{row['false_per_30d']:>9} {delay:>8.1f}")  # fmt: skip
            figures[name][label] = overall(rows)
            print(f"{label:<12} {'overall':<28} {json.dumps(figures[name][label])}")
    if args.out:
        args.out.write_text(json.dumps(written, indent=1))
        print(f"alerts written to {args.out}")
    if not args.no_calendar:
        figures["calendar"] = calendar()  # type: ignore[assignment]
    print(json.dumps(figures))


def calendar() -> dict[str, object]:
    """The calendar world through the pipeline, then the rules replayed hourly; scored on planted events."""
    import os
    import tempfile

    import yaml

    from config import demo_config_text
    from config.loader import load_settings
    from digests.alert_store import AlertStore
    from opinionwatch.cli_alerts import replay, score
    from opinionwatch.clock import FixedClock
    from opinionwatch.newsworld import NewsWorldServer, environment
    from opinionwatch.newsworld.calendar import build_calendar
    from opinionwatch.pipeline import fit_topics, run_cycle
    from opinionwatch.wiring import Services

    start, days = date(2026, 11, 2), 7
    world = build_calendar(seed=11, start=start, days=days)
    truth = world.calendar
    with tempfile.TemporaryDirectory() as folder, NewsWorldServer(world) as server:
        config = yaml.safe_load(demo_config_text(Path(folder) / "data"))
        query = 'tariff OR tariffs OR "anti-dumping" OR 关税 OR 反倾销'
        config["watchlists"].append({"name": "trade", "kind": "policy", "title": "Trade", "query": query})
        path = Path(folder) / "opinionwatch.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        settings = load_settings(path, environ={**os.environ, **environment(server)})
        with Services(settings) as services:
            for offset in range(days):
                day = start + timedelta(days=offset)
                for hour in (6, 12, 18, 24):
                    world.as_of = (
                        datetime.combine(day, time(0), UTC) + timedelta(hours=hour) - timedelta(seconds=1)
                    )
                    services.clock = FixedClock(world.as_of)
                    run_cycle(services)
                fit_topics(services, day)
                print(f"calendar: day {offset + 1}/{days} crawled", file=sys.stderr)
            first = datetime.combine(start, time(0), UTC)
            fired = replay(services, AlertStore(Path(folder) / "replay.sqlite"), first,
                           first + timedelta(days=days), timedelta(hours=1))  # fmt: skip
    events = _planted(truth)
    labelled = [a for a in fired if a.kind in {e["kind"] for e in events}]
    mondays = {date.fromisoformat(d) for d in truth["busy_mondays"]}
    on_monday = [a for a in fired if a.kind == "volume" and a.fired.date() in mondays]
    print(f"\ncalendar: {len(fired)} alerts in the replay")
    for alert in fired:
        when = f"{alert.fired:%m-%d %H:%M}"
        print(f"  {when} {alert.kind:<15} {alert.subject:<16} v{alert.version} {alert.title[:70]}")
    by_kind = {kind: sum(a.kind == kind for a in fired) for kind in sorted({a.kind for a in fired})}
    result = {**score(labelled, events), "all_alerts": len(fired), "by_kind": by_kind,
              "volume_on_busy_monday": len(on_monday)}  # fmt: skip
    for event in events:
        hits = [a.fired for a in labelled if a.kind == event["kind"] and a.subject == event["subject"]
                and event["from"] <= a.fired.isoformat() <= event["to"]]  # fmt: skip
        result[f"{event['kind']}:{event['subject']}"] = min(hits).isoformat() if hits else None
    print(f"calendar: {json.dumps(result)}")
    return result


def _planted(truth: dict[str, Any]) -> list[dict[str, str]]:
    """The planted events as backtest labels, each found if alerted within two days of its start."""

    def event(kind: str, subject: str, first_day: str) -> dict[str, str]:
        begin = datetime.combine(date.fromisoformat(first_day), time(0), UTC)
        return {"kind": kind, "subject": subject, "from": begin.isoformat(),
                "to": (begin + timedelta(days=2)).isoformat()}  # fmt: skip

    return [
        event("volume", "trade", truth["burst"]["first_day"]),
        event("negative_turn", truth["negative_turn"]["watchlist"], truth["negative_turn"]["day"]),
        event("source_broken", truth["source_breaks"]["site"], truth["source_breaks"]["day"]),
    ]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


if __name__ == "__main__":
    main()
