"""The crawl of El Ciudadano as Scrapy runs it: a thin adapter around crawler.discovery.

Discovery (a plain object) decides what to fetch next from what the REST API, robots.txt, the
sitemaps and the feed answered; this spider turns its decisions into requests, feeds the
answers back, and turns article pages into items: parsed in a parser process, merged with
their REST post (crawler.parsers.merge), failures recorded with their reason.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from archive import outcomes
from archive.raw import prepared
from archive.stemming import remember_stems, stems_of
from crawler import site
from crawler.discovery import (
    ARTICLE,
    FEED,
    REST,
    ROBOTS,
    SITEMAP,
    SOURCES,
    Discovery,
    Problem,
)
from crawler.items import Article, Failure
from crawler.middlewares import OffSite, RedirectFailure
from crawler.parsers import dates, document_kind, parse_article
from crawler.parsers.feed import parse_feed
from crawler.parsers.merge import merge, with_lastmod
from crawler.parsers.rest import rest_posts as read_rest_posts
from crawler.urls import site_hosts

MODES = ("incremental", "full")


def timed_parse(body, url, fetched_at, content_type, rest=None):
    """parse_article, merged with the REST post when there is one, its duration in ms, the
    stems of the text the archive's index will hold (archive.stemming), and the page as the
    archive keeps it (archive.raw.prepared): run in a parser process, which has a core to
    spare, while the crawl's own thread is its bottleneck."""
    started = time.monotonic()
    article = parse_article(body, url, fetched_at=fetched_at, content_type=content_type)
    elapsed = round((time.monotonic() - started) * 1000)
    if rest is not None:
        article = merge(article, rest)
    return (
        article,
        elapsed,
        stems_of(article["title"], article["subtitle"], article["body"]),
        prepared(body),
    )


class ElCiudadanoSpider(scrapy.Spider):
    name = "elciudadano"

    # Requests waiting in the scheduler before the reading of a sitemap pauses for them: a
    # sitemap of a million URLs is read at the pace of the fetching, in bounded memory
    SITEMAP_BACKLOG = 1000

    def __init__(
        self,
        base_url: str = site.BASE_URL,
        max_articles: int | str | None = None,
        feed_pages: int | str = 10,
        mode: str = "incremental",
        source: str = "auto",
        urls: list[str] | str | None = None,
        since: str | None = None,
        until: str | None = None,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if mode not in MODES or source not in SOURCES:
            raise ValueError(f"mode must be one of {MODES}, source one of {SOURCES}")
        self.base_url = base_url.rstrip("/")
        self.max_articles = int(max_articles) if max_articles not in (None, "") else None
        self.feed_pages = int(feed_pages)
        self.mode = mode
        self.source = source
        self.urls = [u for u in (urls.split() if isinstance(urls, str) else urls or []) if u]
        self.since = since or None
        self.until = until or None
        self.discovery: Discovery | None = None  # made in start(), once the archive is open
        self.parsers = None  # made in from_crawler, before the reactor starts
        # the hosts redirects may lead to (www and the bare domain of the crawled host)
        self.site_hosts = site_hosts(self.base_url)
        self.allowed_domains = sorted(self.site_hosts)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        from crawler.workers import Parsers

        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.parsers = Parsers(
            crawler.settings.getint("PARSE_PROCESSES", 1),
            crawler.settings.get("LOG_LEVEL", "DEBUG"),
        )
        return spider

    # -- discovery's decisions as requests -----------------------------------------------------
    async def start(self):
        from archive.listings import wanted_urls
        from archive.store import Archive

        self._start_heartbeat()
        self.catalog = Archive(self.settings.get("ARCHIVE_PATH"))
        last_good = self.catalog.last_good_run_started()
        self.discovery = Discovery(
            self.base_url,
            source=self.source,
            full=self.mode == "full" or last_good is None or bool(self.since or self.until),
            feed_pages=self.feed_pages,
            max_articles=self.max_articles,
            since=self.since,
            until=self.until,
            unchanged=self._unchanged,
            count=self._count,
        )
        if self.urls:
            decisions = self.discovery.start(urls=self.urls)
        else:
            # pages that failed in earlier runs (kept from REST or the feed meanwhile, when
            # they could be) and are due again; what the last audit found listed and not
            # archived, or archived older (newest first)
            settings = self.settings
            decisions = self.discovery.start(
                retries=self.catalog.due_retries(
                    limit=settings.getint("RETRY_LATER_PER_RUN", 2000)
                ),
                listed=wanted_urls(self.catalog.db.conn, settings.getint("LISTED_PER_RUN", 5000)),
                modified_after=last_good and self._modified_after(last_good),
            )
        for request in self._act(decisions):
            yield request

    def _act(self, decisions):
        """Discovery's decisions as Scrapy requests and failure items."""
        for decision in decisions:
            if isinstance(decision, Problem):
                yield Failure(url=decision.url, reason=decision.reason, status=decision.status)
            elif decision.kind == ARTICLE:
                yield scrapy.Request(
                    decision.url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    dont_filter=decision.force,
                    meta={"fetch": decision},
                )
            else:
                yield scrapy.Request(
                    decision.url,
                    callback=self._callbacks[decision.kind],
                    errback=self.rest_failed if decision.kind == REST else self.discovery_failed,
                    dont_filter=True,
                    meta={"fetch": decision, "discovery": True},
                    priority=10,
                )

    @property
    def _callbacks(self):
        return {
            REST: self.parse_rest_page,
            ROBOTS: self.parse_robots,
            SITEMAP: self.parse_sitemap,
            FEED: self.parse_feed,
        }

    # -- what is already archived ------------------------------------------------------------------
    def _modified_after(self, last_good: str) -> str:
        """Santiago wall time of the last good run's start, less the overlap (see site.py)."""
        overlap = timedelta(hours=self.settings.getfloat("INCREMENTAL_OVERLAP_HOURS", 48))
        since = dates.in_santiago(datetime.fromisoformat(last_good)) - overlap
        return since.strftime(site.REST_MODIFIED_AFTER_FORMAT)

    def _unchanged(self, url: str, modified: str | None, wp_id: int | None = None) -> bool:
        """Whether the archive holds this article at least as new as modified (a source's
        modification time). Without a time (the feed gives none), an article already archived
        counts as unchanged: its edits reach us through REST or the sitemaps."""
        stored = self.catalog.stored_version(url, wp_id)
        if stored is None or stored[3]:  # none, or only read from REST or the feed so far
            return False
        if modified is None:
            return True
        have = dates.parse_machine_date(stored[1] or stored[2] or "")
        wanted = dates.parse_machine_date(modified)
        return have is not None and wanted is not None and have >= wanted

    # -- the sources' answers ------------------------------------------------------------------
    async def parse_rest_page(self, response):
        fetch = response.meta["fetch"]
        body = response.body
        if body.lstrip()[:1] != b"[":
            for item in self._act(
                self.discovery.rest_failed(
                    fetch, "not a REST API posts list", response.status, body, response.headers
                )
            ):
                yield item
            return
        posts = await maybe_deferred_to_future(
            threads.deferToThread(read_rest_posts, body, response.url, datetime.now(timezone.utc))
        )
        if fetch.page == 1 and self.discovery.full:
            self._announce_full(int(response.headers.get("X-WP-Total", b"0") or 0))
        total = int(response.headers.get(site.REST_TOTAL_PAGES_HEADER, b"1") or 1)
        for item in self._act(self.discovery.rest(fetch, posts, total)):
            yield item

    def _announce_full(self, posts: int) -> None:
        """A full run says what it is in for: the posts, and the time their pages take at the
        configured politeness (one request per DOWNLOAD_DELAY or AutoThrottle's start delay,
        whichever is longer, per site: Scrapy spaces a slot's requests by that delay)."""
        settings = self.settings
        delay = settings.getfloat("DOWNLOAD_DELAY")
        if settings.getbool("AUTOTHROTTLE_ENABLED"):
            delay = max(delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        if posts and delay > 0:
            seconds = posts * delay
            took = (
                f"{seconds / 3600:.0f} hours"
                if seconds >= 7200
                else f"{seconds / 60:.0f} minutes"
                if seconds >= 120
                else f"{seconds:.0f} seconds"
            )
            self.logger.warning(
                "full run: the REST API lists %d posts; at one page every %.2g s their pages "
                "take about %s (less what the archive already has unchanged)",
                posts,
                delay,
                took,
            )

    def rest_failed(self, failure):
        """An error answer: the REST API is off (or blocked); the sitemaps stand in."""
        response = failure.value.response if failure.check(HttpError) else None
        if response is None:
            reason, status, body, headers = (
                f"{failure.type.__name__}: {failure.getErrorMessage()}",
                None,
                b"",
                None,
            )
        else:
            reason, status, body, headers = (
                f"HTTP {response.status}",
                response.status,
                response.body,
                response.headers,
            )
        yield from self._act(
            self.discovery.rest_failed(failure.request.meta["fetch"], reason, status, body, headers)
        )

    def parse_robots(self, response):
        yield from self._act(self.discovery.robots(response.meta["fetch"], response.body))

    async def parse_sitemap(self, response):
        """Read as a stream: the first article requests go out while the rest of the sitemap
        waits its turn (no more than SITEMAP_BACKLOG of them wait in the scheduler), and the
        reading stops when the crawl does (SIGTERM)."""
        batches = self.discovery.sitemap(
            response.meta["fetch"],
            response.body,
            self.settings.getint("DOWNLOAD_MAXSIZE"),
            response.headers,
        )
        for batch in batches:
            for item in self._act(batch):
                yield item
            if not await self._room_for_more():
                batches.close()
                return

    async def _room_for_more(self) -> bool:
        """Let the downloads run; wait while the scheduler holds SITEMAP_BACKLOG requests and
        the downloader works them off. False once the crawl is stopping."""
        engine = self.crawler.engine
        await asyncio.sleep(0)
        while (
            engine.running
            and engine.downloader.active
            and len(engine.scheduler) > self.SITEMAP_BACKLOG
        ):
            await asyncio.sleep(0.05)
        return engine.running

    async def parse_feed(self, response):
        """Feed items: their pages are fetched; the item itself is kept to stand in for a
        page that is blocked (the feed keeps answering during Cloudflare's block periods)."""
        body = response.body
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        posts = None
        if document_kind(body, content_type) == "feed":
            posts = await maybe_deferred_to_future(
                threads.deferToThread(parse_feed, body, response.url, datetime.now(timezone.utc))
            )
        for item in self._act(
            self.discovery.feed(response.meta["fetch"], posts, body, response.headers)
        ):
            yield item

    def discovery_failed(self, failure):
        fetch = failure.request.meta["fetch"]
        status = failure.value.response.status if failure.check(HttpError) else None
        if not self.discovery.absent(fetch, status):
            yield from self._fetch_failure(failure, discovery=True)
        yield from self._act(self.discovery.failed(fetch, status))

    # -- articles ------------------------------------------------------------------------------
    async def parse_article(self, response):
        """Parsed in a parser process: a large page must not stall the downloads in flight."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        asked = (response.meta.get("redirect_urls") or [response.url])[0]
        rest = self.discovery.rest_post(asked)  # merged by the parser process too
        try:
            article, elapsed, stems, kept = await self.parsers.run(
                timed_parse,
                response.body,
                response.url,
                datetime.now(timezone.utc),
                content_type,
                rest,
            )
            remember_stems(stems)
            self.crawler.stats.max_value(outcomes.PARSE_MAX_MS, elapsed)
        except Exception as err:  # noqa: BLE001 (a parser bug must not lose the rest of the run)
            self._page_parsed(response, None)
            self.logger.exception("parser error on %s", response.url)
            self._count(outcomes.PARSER_ERRORS)
            yield Failure(
                url=response.url,
                reason=f"parser error: {err!r}",
                status=response.status,
                retry="later",
            )
            rest = rest if rest is not None else self.discovery.rest_post(asked)
            if rest is not None:  # never lost for a parser bug: kept from REST/feed, marked
                yield Article(**merge({"is_article": False, "reason": "parser error"}, rest))
            for request in self._act(self.discovery.rest_next()):
                yield request
            return
        self._page_parsed(response, kept)
        self._count(outcomes.PAGES_OK)
        if rest is None:  # its REST post, read while the page was parsed
            article = merge(article, self.discovery.rest_post(asked))
        yield Article(**with_lastmod(article, response.meta["fetch"].lastmod))
        for request in self._act(self.discovery.rest_next()):
            yield request

    def _page_parsed(self, response, kept) -> None:
        """The page is kept (crawler.pipelines.page_parsed), with its hash and compressed body
        when the parser process made them."""
        from crawler.pipelines import page_parsed

        self.crawler.signals.send_catch_log(
            page_parsed, response=response, request=response.request, ready=kept
        )

    def article_failed(self, failure):
        items = list(self._fetch_failure(failure, discovery=False))
        rest = self.discovery.rest_post(
            (failure.request.meta.get("redirect_urls") or [failure.request.url])[0]
        )
        yield from self._act(self.discovery.rest_next())
        for item in items:
            yield item
            if rest is not None and isinstance(item, Failure):
                # the page failed, REST or the feed has the post: keep it, marked with why
                # (provenance "page"); a later run that reaches the page upgrades it
                self._count(outcomes.ARCHIVED_WITHOUT_PAGE)
                page = {"is_article": False, "reason": item["reason"]}
                yield Article(**merge(page, rest))

    def _fetch_failure(self, failure, discovery: bool):
        # recorded under the URL the crawl asked for, not the last of its redirects
        url = (failure.request.meta.get("redirect_urls") or [failure.request.url])[0]
        failed = outcomes.DISCOVERY_FAILED if discovery else outcomes.FETCH_ERRORS
        status = None
        if failure.check(RedirectFailure):
            self._count(failed)
            reason = str(failure.value)
        elif failure.check(IgnoreRequest) and not failure.check(HttpError):
            if "robots.txt" in str(failure.value):
                self._count(outcomes.ROBOTS_DISALLOWED)
                yield Failure(url=url, reason="not fetched: disallowed by robots.txt", status=None)
                return
            self._count(failed)
            reason = f"not fetched: {failure.value}"
        elif failure.check(HttpError):
            response = failure.value.response
            status = response.status
            page = parse_article(response.body, response.url)
            reason = page["reason"] if (page["reason"] or "").startswith("cloudflare") else None
            if reason:
                self._count(outcomes.DISCOVERY_BLOCKED if discovery else outcomes.BLOCKED)
                reason = f"{reason} (HTTP {status})"
            else:
                self._count(failed)
                reason = f"HTTP {status}"
        else:
            self._count(failed)
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.logger.warning("could not fetch %s: %s", url, reason)
        # a page gone (404, 410) or off the site will not come back: not tried again
        final = status in (404, 410) or failure.check(OffSite)
        retry = None if discovery else "final" if final else "later"
        yield Failure(
            url=url,
            reason=("discovery: " if discovery else "") + reason,
            status=status,
            retry=retry,
        )

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(key)

    # -- health ----------------------------------------------------------------------------
    HEARTBEAT = 0.05  # seconds

    def _start_heartbeat(self) -> None:
        """Measure the longest time the reactor was kept from running (a stall holds every
        download), into the stat ciudadano/reactor_stall_max_ms."""
        from twisted.internet import task

        self._last_beat = time.monotonic()
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.HEARTBEAT, now=False)

    def _beat(self) -> None:
        now = time.monotonic()
        stall = (now - self._last_beat - self.HEARTBEAT) * 1000
        self._last_beat = now
        self.crawler.stats.max_value(outcomes.REACTOR_STALL_MAX_MS, round(max(stall, 0.0)))

    def closed(self, reason) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None and heartbeat.running:
            heartbeat.stop()
        catalog = getattr(self, "catalog", None)
        if catalog is not None:
            catalog.close()
        parsers = getattr(self, "parsers", None)
        if parsers is not None:
            parsers.close()
