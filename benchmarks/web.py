"""Web benchmark: p95 of the search API and of the search page under concurrent users on loopback.

    python benchmarks/web.py [--index DIR] [--users 20] [--seconds 60] [--workers 1] [--think 0]
                             [--docs 20000]

``--index DIR``: an embedded index to serve (``benchmarks/index.py --million --keep DIR`` leaves one of
1,000,000 items); without it a fresh one of ``--docs`` generated items is built first. The app runs as a
real ``opinionwatch web --workers N`` process (its own interpreter, as deployed); the load comes from this
one, asynchronously, so that the load generator does not share the server's interpreter. Each simulated
user logs in, then loops for ``--seconds`` (without a pause, or pausing ``--think`` seconds on average
between searches): a search from a fixed mix (English, Chinese, filtered, faceted with another date
preset, page 2, sort by date) through the JSON API, then the same search as the page; the load stops by
itself. Prints a table and ends with one JSON line
{"web": {"docs", "users", "workers", "think_s", "requests", "requests_per_s", "api_p50_ms", "api_p95_ms",
"page_p50_ms", "page_p95_ms", "server_cpu_ms_per_request", "errors"}} (the server's CPU time, its
workers' included, over the requests: the cost of one request, whatever the machine's noise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embedded import EmbeddedIndex  # noqa: E402
from opinionwatch.web.auth import hash_password  # noqa: E402

PASSWORD = "benchmark password"
SEARCHES = (
    {"q": "NovaMart recall", "period": "all"},
    {"q": "诺瓦商城 OR 平台监管", "period": "all"},
    {"q": "council OR 地铁", "period": "30d", "lang": "en"},
    {"q": "NovaMart OR 诺瓦商城", "period": "90d", "sentiment": "negative"},
    {"q": "NovaMart", "period": "all", "page": "2"},
    {"q": "power banks", "period": "all", "sort": "date"},
)


def build_index(folder: Path, docs: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from index_million import Corpus

    corpus = Corpus(docs, seed=11)
    index = EmbeddedIndex(folder)
    for batch in corpus.batches(2000):
        index.upsert(batch)
    index.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path, index_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``opinionwatch web`` over ``index_dir`` with one user, as its own process; waits until it answers."""
    config = folder / "opinionwatch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(folder / "data"),
                "index": {"backend": "embedded", "path": str(index_dir.resolve())},
                "web": {
                    "users": [{"name": "bench", "password_hash": hash_password(PASSWORD)}],
                    "requests_per_minute": 1_000_000,
                },
            }
        )
    )
    url = f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "opinionwatch.cli", "web", "--config", str(config)]
    command += ["--address", url.removeprefix("http://"), "--workers", str(workers)]
    environment = {**os.environ, "OPINIONWATCH_WEB_SECRET": "benchmark secret"}
    server = subprocess.Popen(command, cwd=ROOT, env=environment)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"opinionwatch web exited with {server.returncode}")
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("opinionwatch web did not answer within 300 s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (uvicorn's workers), from ``/proc``."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def user_loop(
    url: str, deadline: float, think: float, seed: int, api: list[float], page: list[float], errors: list[str]
) -> None:
    rng = np.random.default_rng(seed)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await client.post("/login", data={"name": "bench", "password": PASSWORD})
        while time.monotonic() < deadline:
            params = SEARCHES[int(rng.integers(len(SEARCHES)))]
            for path, timings in (("/api/search", api), ("/", page)):
                begin = time.perf_counter()
                answer = await client.get(path, params=params)
                timings.append((time.perf_counter() - begin) * 1000)
                if answer.status_code != 200:
                    errors.append(f"{path} {answer.status_code}")
            if think:
                await asyncio.sleep(float(rng.exponential(think)))


async def load(
    url: str, users: int, seconds: float, think: float
) -> tuple[list[float], list[float], list[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as warm:  # each kind opens its caches once
        await warm.post("/login", data={"name": "bench", "password": PASSWORD})
        for params in SEARCHES:
            await warm.get("/api/search", params=params)
    api: list[float] = []
    page: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(user_loop(url, deadline, think, seed, api, page, errors) for seed in range(users)))
    return api, page, errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="`opinionwatch web --workers`")
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause (s, exponential) between a user's searches"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        index_dir = args.index or folder / "index"
        if args.index is None:
            print(f"building an index of {args.docs} items", file=sys.stderr)
            build_index(index_dir, args.docs)
        index = EmbeddedIndex(index_dir)
        docs = index.count()
        index.close()
        server, url = start_server(folder, index_dir, args.workers)
        try:
            before, own = cpu_seconds(server.pid), time.process_time()
            api, page, errors = asyncio.run(load(url, args.users, args.seconds, args.think))
            server_cpu = cpu_seconds(server.pid) - before
            print(f"load generator CPU: {time.process_time() - own:.1f} s", file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if args.index is None:
            shutil.rmtree(index_dir, ignore_errors=True)
    report(docs, args, api, page, errors, server_cpu)


def report(
    docs: int,
    args: argparse.Namespace,
    api: list[float],
    page: list[float],
    errors: list[str],
    server_cpu: float,
) -> None:
    figures = {
        "docs": docs,
        "users": args.users,
        "workers": args.workers,
        "think_s": args.think,
        "requests": len(api) + len(page),
        "requests_per_s": round((len(api) + len(page)) / args.seconds, 1),
        "api_p50_ms": round(float(np.percentile(api, 50)), 1),
        "api_p95_ms": round(float(np.percentile(api, 95)), 1),
        "page_p50_ms": round(float(np.percentile(page, 50)), 1),
        "page_p95_ms": round(float(np.percentile(page, 95)), 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(api) + len(page)), 1),
        "errors": len(errors),
    }
    heads = list(figures)
    print(" ".join(f"{head:>14}" for head in heads))
    print(" ".join(f"{figures[head]:>14}" for head in heads))
    if errors:
        print(f"errors: {sorted(set(errors))[:5]}", file=sys.stderr)
    print(json.dumps({"web": figures}))


if __name__ == "__main__":
    main()
