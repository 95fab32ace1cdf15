"""Discovery of El Ciudadano's articles: robots.txt -> sitemaps (Yoast or WordPress core) and
the RSS feed pages -> article pages -> crawler.parsers.parse_article."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet import threads

from crawler import site
from crawler.items import Article, Failure
from crawler.middlewares import RedirectFailure
from crawler.parsers import parse_article
from crawler.urls import canonical_url, rebase, site_hosts

STAT = "ciudadano/{}".format


class ElCiudadanoSpider(scrapy.Spider):
    name = "elciudadano"

    def __init__(self, base_url: str = site.BASE_URL, max_articles: int | str | None = None,
                 feed_pages: int | str = 10, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.base_url = base_url.rstrip("/")
        self.max_articles = int(max_articles) if max_articles not in (None, "") else None
        self.feed_pages = int(feed_pages)
        self.scheduled: set[str] = set()
        # the hosts redirects may lead to (www and the bare domain of the crawled host)
        self.site_hosts = site_hosts(self.base_url)
        self.allowed_domains = sorted(self.site_hosts)

    # -- discovery -----------------------------------------------------------------------------
    async def start(self):
        self._start_heartbeat()
        yield self._discovery(site.ROBOTS_PATH, self.parse_robots, fallback=0)
        yield self._discovery(f"{site.FEED_PATH}", self.parse_feed)

    def _discovery(self, path_or_url: str, callback, fallback: int | None = None,
                   **meta) -> scrapy.Request:
        """A request for robots.txt, a sitemap or a feed page; fallback is the index into
        site.SITEMAP_PATHS to try when this one yields no sitemap."""
        return scrapy.Request(
            rebase(path_or_url, self.base_url),
            callback=callback,
            errback=self.discovery_failed,
            dont_filter=True,
            meta={"fallback": fallback, "discovery": True, **meta},
            priority=10,
        )

    def parse_robots(self, response):
        self._count("discovery_ok")
        sitemaps = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not sitemaps:
            yield from self._next_sitemap_path(response.meta["fallback"])
        for url in sitemaps:
            yield self._discovery(url, self.parse_sitemap, fallback=0)

    def _next_sitemap_path(self, fallback: int | None):
        """The next of the usual sitemap paths, tried when robots.txt names none."""
        if fallback is not None and fallback < len(site.SITEMAP_PATHS):
            yield self._discovery(site.SITEMAP_PATHS[fallback], self.parse_sitemap,
                                  fallback=fallback + 1, guessed=True)

    def parse_sitemap(self, response):
        body = response.body
        if response.url.endswith(".gz") or body[:2] == b"\x1f\x8b":
            body = gunzip(body)
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 (lxml raises several kinds on non-XML)
            sitemap = None
        if sitemap is None or sitemap.type not in ("sitemapindex", "urlset"):
            yield from self._discovery_broken(response, "not a sitemap")
            yield from self._next_sitemap_path(response.meta.get("fallback"))
            return
        self._count("discovery_ok")
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                if site.ARTICLE_SITEMAP.search(entry["loc"]):
                    yield self._discovery(entry["loc"], self.parse_sitemap)
            return
        for entry in sitemap:
            yield from self._article_request(entry["loc"], "sitemap", entry.get("lastmod"))

    def parse_feed(self, response):
        items = response.xpath("//channel/item")
        if not items:
            if response.meta.get("page", 1) == 1:
                yield from self._discovery_broken(response, "not an RSS feed")
            return
        self._count("discovery_ok")
        for item in items:
            link = item.xpath("link/text()").get()
            if link:
                yield from self._article_request(link, "feed", item.xpath("pubDate/text()").get())
        page = response.meta.get("page", 1)
        if page < self.feed_pages and not self._limit_reached():
            yield self._discovery(
                f"{site.FEED_PATH}?{site.FEED_PAGE_PARAM}={page + 1}", self.parse_feed,
                page=page + 1,
            )

    def _discovery_broken(self, response, what: str):
        article = parse_article(response.body, response.url)
        reason = article["reason"] if article["reason"].startswith("cloudflare") else what
        self._count("discovery_blocked" if reason.startswith("cloudflare") else "discovery_failed")
        yield Failure(url=response.url, reason=f"discovery: {reason}", status=response.status)

    def discovery_failed(self, failure):
        request = failure.request
        if self._absent(failure):
            if request.meta.get("guessed") and request.meta["fallback"] >= len(site.SITEMAP_PATHS):
                self._count("discovery_failed")
                yield Failure(url=request.url, status=404, reason=(
                    "discovery: no sitemap (robots.txt names none, and "
                    + " and ".join(site.SITEMAP_PATHS) + " answer 404)"))
        else:
            yield from self._fetch_failure(failure, discovery=True)
        if request.callback == self.parse_robots or request.callback == self.parse_sitemap:
            yield from self._next_sitemap_path(request.meta.get("fallback"))

    def _absent(self, failure) -> bool:
        """A 404 for robots.txt, for a guessed sitemap path or for the feed page after the last
        is how a site says "none", not a failure."""
        if not failure.check(HttpError) or failure.value.response.status != 404:
            return False
        request = failure.request
        return (request.callback == self.parse_robots or request.meta.get("page", 1) > 1
                or bool(request.meta.get("guessed")))

    # -- articles ------------------------------------------------------------------------------
    def _limit_reached(self) -> bool:
        return self.max_articles is not None and len(self.scheduled) >= self.max_articles

    def _article_request(self, link: str, source: str, lastmod: str | None):
        url = canonical_url(link, self.base_url)
        if url in self.scheduled or self._limit_reached():
            return
        self.scheduled.add(url)
        self._count(f"scheduled/{source}")
        yield scrapy.Request(url, callback=self.parse_article, errback=self.article_failed,
                             meta={"source": source, "lastmod": lastmod})

    async def parse_article(self, response):
        """Parsed in a thread: a large page must not stall the downloads in flight."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        try:
            article = await maybe_deferred_to_future(threads.deferToThread(
                self._timed_parse, response.body, response.url,
                datetime.now(timezone.utc), content_type))
        except Exception as err:  # noqa: BLE001 (a parser bug must not lose the rest of the run)
            self.logger.exception("parser error on %s", response.url)
            self._count("parser_errors")
            yield Failure(url=response.url, reason=f"parser error: {err!r}", status=response.status)
            return
        self._count("pages_ok")
        yield Article(**article)

    def _timed_parse(self, body, url, fetched_at, content_type):
        """parse_article, its duration kept as the stat ciudadano/parse_max_ms."""
        started = time.monotonic()
        try:
            return parse_article(body, url, fetched_at=fetched_at, content_type=content_type)
        finally:
            elapsed = round((time.monotonic() - started) * 1000)
            self.crawler.stats.max_value(STAT("parse_max_ms"), elapsed)

    def article_failed(self, failure):
        yield from self._fetch_failure(failure, discovery=False)

    def _fetch_failure(self, failure, discovery: bool):
        # recorded under the URL the crawl asked for, not the last of its redirects
        url = (failure.request.meta.get("redirect_urls") or [failure.request.url])[0]
        status = None
        if failure.check(RedirectFailure):
            self._count("discovery_failed" if discovery else "fetch_errors")
            reason = str(failure.value)
        elif failure.check(IgnoreRequest) and not failure.check(HttpError):
            if "robots.txt" in str(failure.value):
                self._count("robots_disallowed")
                yield Failure(url=url, reason="not fetched: disallowed by robots.txt", status=None)
                return
            self._count("discovery_failed" if discovery else "fetch_errors")
            reason = f"not fetched: {failure.value}"
        elif failure.check(HttpError):
            response = failure.value.response
            status = response.status
            page = parse_article(response.body, response.url)
            reason = page["reason"] if (page["reason"] or "").startswith("cloudflare") else None
            if reason:
                self._count("discovery_blocked" if discovery else "blocked")
                reason = f"{reason} (HTTP {status})"
            else:
                self._count("discovery_failed" if discovery else "fetch_errors")
                reason = f"HTTP {status}"
        else:
            self._count("discovery_failed" if discovery else "fetch_errors")
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.logger.warning("could not fetch %s: %s", url, reason)
        yield Failure(url=url, reason=("discovery: " if discovery else "") + reason, status=status)

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(STAT(key))

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
        self.crawler.stats.max_value(STAT("reactor_stall_max_ms"), round(max(stall, 0.0)))

    def closed(self, reason) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None and heartbeat.running:
            heartbeat.stop()
