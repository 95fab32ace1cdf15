"""Item pipelines, each doing one thing: validate -> dedupe -> store (over archive.store)."""

from __future__ import annotations

import logging
import sqlite3

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from archive.db import sqlite_message
from archive.schema import REQUIRED_FIELDS
from archive.store import Archive
from crawler.items import Article, Failure

log = logging.getLogger(__name__)


class ValidatePipeline:
    """A page that is not an article, or an article missing a required field, becomes a
    Failure: recorded with the reason, never stored as an article."""

    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        if not isinstance(item, Article):
            return item
        if not item.get("is_article"):
            if self.stats is not None:
                self.stats.inc_value("ciudadano/not_articles")
            return Failure(url=item["url"], reason=f"not an article: {item.get('reason')}")
        missing = [name for name in REQUIRED_FIELDS if not item.get(name)]
        if missing:  # the page may be mended: tried again by later runs
            return Failure(url=item["url"], reason=f"missing {', '.join(missing)}", retry="later")
        return item


class DedupePipeline:
    """One row per article and run: the same canonical URL or WordPress post id is stored once
    a run, even when it is reached through REST, the sitemap and the feed, AMP or tracking
    URLs. A post archived under another URL before (a changed slug) is not a duplicate: the
    store moves its row."""

    def __init__(self):
        self.urls: set[str] = set()
        self.wp_ids: dict[int, str] = {}

    def process_item(self, item, spider=None):
        if not isinstance(item, Article):
            return item
        url, wp_id = item["url"], item.get("wp_id")
        if url in self.urls:
            raise DropItem(f"duplicate of {url} in this run")
        if wp_id is not None:
            known = self.wp_ids.get(wp_id)
            if known and known != url:
                raise DropItem(f"post {wp_id} was archived as {known} in this run")
            self.wp_ids[wp_id] = url
        self.urls.add(url)
        return item


class StorePipeline:
    """Writes articles and failures to the archive. The run they belong to is started and
    ended by the `ciudadano crawl` command (ARCHIVE_RUN_ID); a crawl started another way
    (`scrapy crawl`, Scrapyd) gets a run of its own, ended with Scrapy's finish reason."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = crawler.settings
        self.archive_path = crawler.settings.get("ARCHIVE_PATH")
        self.run_id = crawler.settings.getint("ARCHIVE_RUN_ID") or None
        self.own_run = self.run_id is None
        self.counts: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        self.archive = Archive(self.archive_path)
        if self.own_run:
            self.run_id = self.archive.start_run(getattr(self.crawler.spider, "base_url", ""))
        self.stats.set_value("ciudadano/run_id", self.run_id)

    def spider_closed(self, spider, reason):
        """Scrapy's finish reason is known only now (after close_spider)."""
        try:
            if self.own_run:
                status = "finished" if reason == "finished" else "interrupted" \
                    if reason == "shutdown" else reason
                self.archive.finish_run(self.run_id, status, self.counts, self.stats.get_stats())
        except sqlite3.Error as err:
            log.error("could not record the end of run %s: %s", self.run_id, err)
        finally:
            self.archive.close()

    def process_item(self, item, spider=None):
        try:
            if isinstance(item, Failure):
                self.archive.record_failure(item["url"], item["reason"], item.get("status"),
                                            run_id=self.run_id)
                if item.get("retry"):
                    self.archive.schedule_retry(
                        item["url"], item["reason"], final=item["retry"] == "final",
                        first_delay_hours=self.settings.getfloat("RETRY_LATER_FIRST_HOURS", 6),
                        give_up_after=self.settings.getint("RETRY_LATER_GIVE_UP_AFTER", 8))
                self._count("failures")
                return item
            outcome = self.archive.store_article(ItemAdapter(item).asdict(), run_id=self.run_id)
            if not (item.get("provenance") or {}).get("page"):
                self.archive.clear_retry(item["url"])
        except sqlite3.Error as err:
            first = not self.stats.get_value("ciudadano/archive_errors")
            self.stats.inc_value("ciudadano/archive_errors")
            if first:
                self.stats.set_value("ciudadano/archive_error", sqlite_message(self.archive_path, err))
                log.error("%s", sqlite_message(self.archive_path, err))
                deferred_from_coro(
                    self.crawler.engine.close_spider_async(reason="archive_write_failed"))
            raise DropItem(f"not stored: {err}", log_level="DEBUG") from err
        self._count(outcome)
        return item

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.stats.inc_value(f"ciudadano/articles_{key}" if key != "failures" else
                             "ciudadano/failures")
