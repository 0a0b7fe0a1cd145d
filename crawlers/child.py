"""Entry point of the crawl child process: ``python -m crawlers.child JOB.json``.

Twisted's reactor cannot be restarted in one process, so every crawl runs here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from crawlers.job import CrawlJob
from crawlers.scrapy_support import scrapy_settings
from crawlers.spiders import SourcesSpider


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m crawlers.child JOB.json", file=sys.stderr)
        return 2
    job = CrawlJob.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
    process = CrawlerProcess(scrapy_settings(job), install_root_handler=True)
    process.crawl(SourcesSpider, job=job)
    process.start()
    return 0 if job.report_path.exists() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
