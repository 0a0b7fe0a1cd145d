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

``--out`` writes every alert's time per series, {file name: [ISO timestamps]}. Ends with one JSON line
keyed by set name, each {"product": {...}, "flat_3sigma": {...}}.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean, median

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digests.anomaly import SpikeSettings, detect  # noqa: E402

PROBATION = 0.15
SETS = ("nab_real_tweets",)
Series = list[tuple[datetime, float]]
Detector = Callable[[Series, timedelta], list[datetime]]


def product(series: Series, step: timedelta) -> list[datetime]:
    """The product's detector with its defaults, at the series' step (counts summed over an hour)."""
    return [found.at for found in detect(series, SpikeSettings(step=step))]


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
    print(json.dumps(figures))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


if __name__ == "__main__":
    main()
