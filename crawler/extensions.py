"""A progress line for a person watching a crawl on a terminal (never under cron), and the
removal of the job files killed crawls left."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive import outcomes as o

log = logging.getLogger(__name__)


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
        get = o.reader(stats)
        scheduled = o.scheduled_total(stats)
        done = get(o.PAGES_OK, o.FETCH_ERRORS, o.BLOCKED)
        archived = get(o.ARTICLES_NEW, o.ARTICLES_CHANGED, o.ARTICLES_UNCHANGED)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = max(scheduled - done, 0)
        eta = _duration(left / rate) if rate > 0 and left else "-"
        return (
            f"{done}/{scheduled} pages, {archived} articles ({get(o.ARTICLES_NEW)} new, "
            f"{get(o.ARTICLES_CHANGED)} changed), {get(o.SKIPPED_UNCHANGED)} not fetched, "
            f"{rate:.1f} pages/s, {eta} left"
        )

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


class StaleJobFiles:
    """Removes the job files earlier crawls of this project left when they were killed
    (SIGKILL, or the machine went down). Scrapy's remote control (2.19+; off in our settings,
    on in crawls before) writes one, with its port and token, and removes it only when the
    crawl stops cleanly. A file goes only when it names this project (BOT_NAME) and a process
    that is gone."""

    def __init__(self, settings):
        self.settings = settings

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler.settings)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def engine_started(self) -> None:
        for path in stale_job_files(self.settings):
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                log.warning("could not remove the job file a killed crawl left: %s", err)
            else:
                log.info("removed the job file a killed crawl left: %s", path)


def stale_job_files(settings) -> list:
    """The job files (pathlib.Path) of this project whose crawl is gone."""
    try:
        from scrapy.utils._remote_control import job_files_dir
    except ImportError:  # a Scrapy before 2.19 has no remote control: it writes none
        return []
    stale = []
    for path in job_files_dir(settings).glob("*.json"):
        try:
            job = json.loads(path.read_text())
            ours, pid = job.get("project") == settings.get("BOT_NAME"), int(job["pid"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a job file as Scrapy writes them: not ours to judge
        if ours and pid > 0 and not _alive(pid):
            stale.append(path)
    return stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's
        return True
    return True
