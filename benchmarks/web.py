"""Web benchmark: p95 of the search API and of the search page under concurrent users on loopback.

    python benchmarks/web.py [--index DIR] [--users 20] [--seconds 60] [--docs 20000]

``--index DIR``: an embedded index to serve (``benchmarks/index.py --million --keep DIR`` leaves one of
1,000,000 items); without it a fresh one of ``--docs`` generated items is built first. One
``opinionwatch web`` app is served by uvicorn in this process. Each simulated user logs in, then loops
for ``--seconds``: a search from a fixed mix (English, Chinese, filtered, faceted with another date
preset, page 2, sort by date) through the JSON API, then the same search as the page; the load stops by
itself. Prints a table and ends with one JSON line
{"web": {"docs", "users", "requests", "api_p50_ms", "api_p95_ms", "page_p50_ms", "page_p95_ms", "errors"}}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.service_settings import WebSettings, WebUser  # noqa: E402
from config.settings import EmbeddedIndexSettings, Settings  # noqa: E402
from index.embedded import EmbeddedIndex  # noqa: E402
from opinionwatch.web.app import create_app  # noqa: E402
from opinionwatch.web.auth import hash_password  # noqa: E402
from opinionwatch.wiring import Services  # noqa: E402

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


def user_loop(
    url: str, deadline: float, seed: int, api: list[float], page: list[float], errors: list[str]
) -> None:
    rng = np.random.default_rng(seed)
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/login", data={"name": "bench", "password": PASSWORD})
        while time.monotonic() < deadline:
            params = SEARCHES[int(rng.integers(len(SEARCHES)))]
            for path, timings in (("/api/search", api), ("/", page)):
                begin = time.perf_counter()
                answer = client.get(path, params=params)
                timings.append((time.perf_counter() - begin) * 1000)
                if answer.status_code != 200:
                    errors.append(f"{path} {answer.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        index_dir = args.index or data / "index"
        if args.index is None:
            print(f"building an index of {args.docs} items", file=sys.stderr)
            build_index(index_dir, args.docs)
        settings = Settings(
            data_dir=data,
            index=EmbeddedIndexSettings(path=index_dir.resolve()),
            web=WebSettings(users=[WebUser(name="bench", password_hash=hash_password(PASSWORD))],
                            requests_per_minute=1_000_000),
        )  # fmt: skip
        services = Services(settings)
        docs = services.index.count()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(services, secret="bench"), host="127.0.0.1", port=0, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url) as warm:  # the first query of each kind opens its caches
            warm.post("/login", data={"name": "bench", "password": PASSWORD})
            for params in SEARCHES:
                warm.get("/api/search", params=params)
        api: list[float] = []
        page: list[float] = []
        errors: list[str] = []
        deadline = time.monotonic() + args.seconds
        users = [
            threading.Thread(target=user_loop, args=(url, deadline, seed, api, page, errors))
            for seed in range(args.users)
        ]
        for user in users:
            user.start()
        for user in users:
            user.join()
        server.should_exit = True
        thread.join(timeout=10)
        services.close()
        if args.index is None:
            shutil.rmtree(index_dir, ignore_errors=True)
    figures = {
        "docs": docs,
        "users": args.users,
        "requests": len(api) + len(page),
        "api_p50_ms": round(float(np.percentile(api, 50)), 1),
        "api_p95_ms": round(float(np.percentile(api, 95)), 1),
        "page_p50_ms": round(float(np.percentile(page, 50)), 1),
        "page_p95_ms": round(float(np.percentile(page, 95)), 1),
        "errors": len(errors),
    }
    heads = ("docs", "users", "requests", "api p50", "api p95", "page p50", "page p95")
    print(" ".join(f"{head:>9}" for head in heads))
    values = (docs, args.users, figures["requests"], *(figures[k] for k in list(figures)[3:7]))
    print(" ".join(f"{value:>9}" for value in values))
    if errors:
        print(f"errors: {sorted(set(errors))[:5]}", file=sys.stderr)
    print(json.dumps({"web": figures}))


if __name__ == "__main__":
    main()
