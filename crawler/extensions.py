"""A progress line for a person watching a crawl on a terminal (never under cron)."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

STAT = "ciudadano/{}".format


class Progress:
    """Every PROGRESS_INTERVAL seconds, one line rewritten in place on stderr: pages done of
    those scheduled, articles archived, the rate and the time left at that rate. On only when
    the setting PROGRESS is true (the CLI sets it when stderr is a terminal and --quiet is
    not given)."""

    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop = None
        self.shown = False

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("PROGRESS"):
            raise NotConfigured
        progress = cls(crawler, crawler.settings.getfloat("PROGRESS_INTERVAL", 2.0))
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self, spider) -> None:
        from twisted.internet import task

        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.shown:
            self.show()
            sys.stderr.write("\n")
            sys.stderr.flush()

    def line(self) -> str:
        stats = self.crawler.stats.get_stats()
        get = lambda key: stats.get(STAT(key), 0)  # noqa: E731
        scheduled = sum(v for k, v in stats.items() if k.startswith(STAT("scheduled/")))
        done = get("pages_ok") + get("fetch_errors") + get("blocked")
        archived = get("articles_new") + get("articles_changed") + get("articles_unchanged")
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = max(scheduled - done, 0)
        eta = _duration(left / rate) if rate > 0 and left else "-"
        return (f"{done}/{scheduled} pages, {archived} articles ({get('articles_new')} new, "
                f"{get('articles_changed')} changed), {get('skipped_unchanged')} not fetched, "
                f"{rate:.1f} pages/s, {eta} left")

    def show(self) -> None:
        sys.stderr.write("\r" + self.line() + "\033[K")
        sys.stderr.flush()
        self.shown = True


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
