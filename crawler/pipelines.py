"""Item pipelines, each doing one thing: validate -> dedupe -> store (over archive.store)."""

from __future__ import annotations

import logging
import sqlite3

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.logformatter import LogFormatter
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import defer, threads

from archive import outcomes as o
from archive.db import sqlite_message
from archive.model import ARTICLE_FIELDS, article_problems
from archive.raw import keep_response, prepared
from archive.store import Archive, utc_now
from crawler import drift
from crawler.items import Article, Failure

log = logging.getLogger(__name__)

# Sent by the spider when an article page was parsed, with (response, request, ready): ready is
# archive.raw.prepared(body) as the parser process computed it beside the parse (None when the
# parse failed), so that the crawl's own thread neither hashes nor compresses the page.
page_parsed = object()


# The fields without which an article is not stored (archive.model)
REQUIRED = frozenset(field.name for field in ARTICLE_FIELDS if field.required)


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
                self.stats.inc_value(o.NOT_ARTICLES)
            return Failure(url=item["url"], reason=f"not an article: {item.get('reason')}")
        # the archive's one model: the same rules as an import's and a reparse's
        problems = article_problems(item)
        missing = [name for name, wrong in problems if wrong == "missing"]
        if missing:  # the page may be mended: tried again by later runs
            return Failure(url=item["url"], reason=f"missing {', '.join(missing)}", retry="later")
        required = [(name, wrong) for name, wrong in problems if name in REQUIRED]
        if required:
            return Failure(
                url=item["url"],
                reason="invalid: " + "; ".join(f"{name}: {wrong}" for name, wrong in required),
            )
        for name, wrong in problems:  # an optional field the rules refuse: left empty, said
            log.warning("%s: %s left empty: %s", item["url"], name, wrong)
            item[name] = [] if isinstance(item.get(name), list) else None
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
            raise DropItem("a duplicate: already archived in this run", log_level="INFO")
        if wp_id is not None:
            known = self.wp_ids.get(wp_id)
            if known and known != url:
                raise DropItem(
                    f"a duplicate: post {wp_id} was archived as {known} in this run",
                    log_level="INFO",
                )
            self.wp_ids[wp_id] = url
        self.urls.add(url)
        return item


class OneLineDrops(LogFormatter):
    """A dropped item is logged as one line, its URL and why (Scrapy's own prints the whole
    article after it), at the level its DropItem asks for (Scrapy's default: WARNING)."""

    def dropped(self, item, exception, response, spider=None):
        entry = super().dropped(item, exception, response, spider)
        return {
            **entry,
            "msg": "Dropped %(url)s: %(exception)s",
            "args": {"url": item.get("url"), "exception": exception},
        }


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
        self.keeping: set[defer.Deferred] = set()  # pages being kept

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        if crawler.settings.getbool("KEEP_RESPONSES", True):
            crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
            crawler.signals.connect(pipeline.page_parsed, signal=page_parsed)
        return pipeline

    # the spider's callbacks, by what they read; robots.txt is not kept
    SOURCES = {
        "parse_article": "html",
        "parse_rest_page": "rest",
        "parse_feed": "feed",
        "parse_sitemap": "sitemap",
    }

    def response_received(self, response, request, spider=None):
        """Every page the spider reads is kept as it came (archive.raw), redirects resolved:
        url is the one asked for, final_url the one that answered. An article page that
        reaches its parser is kept when parsed (page_parsed)."""
        source = self.SOURCES.get(getattr(request.callback, "__name__", ""))
        if source is None or not hasattr(self, "archive"):
            return
        if source == "html" and 200 <= response.status < 300:
            return  # kept by page_parsed, hashed and compressed by the parser process
        self._keep_page(response, request, source, None)

    def page_parsed(self, response, request, ready):
        if hasattr(self, "archive"):
            self._keep_page(response, request, "html", ready)

    def _keep_page(self, response, request, source, ready) -> None:
        asked = (request.meta.get("redirect_urls") or [request.url])[0]
        headers = {
            k.decode("latin-1"): [v.decode("latin-1") for v in values]
            for k, values in response.headers.items()
        }
        fetched_at = utc_now()
        if ready is not None:
            self._keep(asked, response, headers, fetched_at, source, ready)
            return
        # hashed and compressed on a thread (the crawl's own thread is its bottleneck), then
        # written on this one, which alone uses the archive's connection
        pending = threads.deferToThread(prepared, response.body)
        pending.addCallback(
            lambda ready: self._keep(asked, response, headers, fetched_at, source, ready)
        )
        pending.addErrback(
            lambda failure: self._keep(asked, response, headers, fetched_at, source, None)
        )
        self.keeping.add(pending)
        pending.addBoth(lambda _: self.keeping.discard(pending))

    def _keep(self, asked, response, headers, fetched_at, source, ready) -> None:
        try:
            if keep_response(
                self.archive.db,
                asked,
                response.url,
                response.status,
                headers,
                response.body,
                fetched_at,
                source,
                self.run_id,
                ready,
            ):
                self.stats.inc_value(o.RESPONSES_KEPT)
        except sqlite3.Error as err:  # the article itself may still be stored: say it once
            if not self.stats.get_value(o.RESPONSES_NOT_KEPT):
                log.error(
                    "could not keep the page %s: %s",
                    response.url,
                    sqlite_message(self.archive_path, err),
                )
            self.stats.inc_value(o.RESPONSES_NOT_KEPT)

    def open_spider(self, spider=None):
        self.archive = Archive(self.archive_path)
        if self.own_run:
            self.run_id = self.archive.start_run(getattr(self.crawler.spider, "base_url", ""))
        self.stats.set_value(o.RUN_ID, self.run_id)

    def spider_closed(self, spider, reason):
        """Scrapy's finish reason is known only now (after close_spider). The pages still
        being kept are kept first."""
        if self.keeping:
            done = defer.DeferredList(list(self.keeping))
            done.addCallback(lambda _: self._close(reason))
            return done
        self._close(reason)
        return None

    def _close(self, reason):
        try:
            if self.own_run:
                status = (
                    "finished"
                    if reason == "finished"
                    else "interrupted"
                    if reason == "shutdown"
                    else reason
                )
                self.archive.finish_run(self.run_id, status, self.counts, self.stats.get_stats())
        except sqlite3.Error as err:
            log.error("could not record the end of run %s: %s", self.run_id, err)
        finally:
            self.archive.close()

    def process_item(self, item, spider=None):
        try:
            if isinstance(item, Failure):
                self.archive.record_failure(
                    item["url"], item["reason"], item.get("status"), run_id=self.run_id
                )
                if item.get("retry"):
                    self.archive.schedule_retry(
                        item["url"],
                        item["reason"],
                        final=item["retry"] == "final",
                        first_delay_hours=self.settings.getfloat("RETRY_LATER_FIRST_HOURS", 6),
                        give_up_after=self.settings.getint("RETRY_LATER_GIVE_UP_AFTER", 8),
                    )
                self._count("failures")
                return item
            # the item's own values (store_article reads them, never changes them)
            outcome = self.archive.store_article(dict(item), run_id=self.run_id)
            drift.count(self.stats, item)
            if not (item.get("provenance") or {}).get("page"):
                self.archive.clear_retry(item["url"])
        except sqlite3.Error as err:
            first = not self.stats.get_value(o.ARCHIVE_ERRORS)
            self.stats.inc_value(o.ARCHIVE_ERRORS)
            if first:
                self.stats.set_value(o.ARCHIVE_ERROR, sqlite_message(self.archive_path, err))
                log.error("%s", sqlite_message(self.archive_path, err))
                deferred_from_coro(
                    self.crawler.engine.close_spider_async(reason="archive_write_failed")
                )
            raise DropItem(f"not stored: {err}", log_level="DEBUG") from err
        self._count(outcome)
        return item

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.stats.inc_value(o.FAILURES if key == "failures" else o.PREFIX + f"articles_{key}")
