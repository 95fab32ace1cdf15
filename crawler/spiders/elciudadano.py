"""Discovery of El Ciudadano's articles, fetching only what changed.

Three sources (see README, "How a crawl works"):
- the REST API, newest modification first: in an incremental run only what was modified since
  the last good run (less an overlap), in a full run everything, 100 posts a request;
- the sitemaps (robots.txt -> Yoast or WordPress core), each URL with its own lastmod: walked
  when the REST API does not answer, or with --source html;
- the RSS feed, newest first, paged until a page holds only posts already archived.
An article page is fetched only when the archive has no version of it as new as the source
says it is; its parse is merged with the REST post (crawler.parsers.merge).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet import threads

from archive.raw import prepared
from archive.stemming import remember_stems, stems_of
from crawler import site
from crawler.blocks import block_kind
from crawler.items import Article, Failure
from crawler.middlewares import RedirectFailure
from crawler.parsers import dates, parse_article, parse_articles
from crawler.parsers.merge import merge, with_lastmod
from crawler.parsers.rest import rest_posts as read_rest_posts
from crawler.urls import canonical_url, rebase, site_hosts

MODES = ("incremental", "full")
SOURCES = ("auto", "html", "api", "feed")

STAT = "ciudadano/{}".format


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
    return (article, elapsed, stems_of(article["title"], article["subtitle"], article["body"]),
            prepared(body))


class ElCiudadanoSpider(scrapy.Spider):
    name = "elciudadano"

    def __init__(self, base_url: str = site.BASE_URL, max_articles: int | str | None = None,
                 feed_pages: int | str = 10, mode: str = "incremental", source: str = "auto",
                 urls: list[str] | str | None = None, since: str | None = None,
                 until: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if mode not in MODES or source not in SOURCES:
            raise ValueError(f"mode must be one of {MODES}, source one of {SOURCES}")
        self.base_url = base_url.rstrip("/")
        self.max_articles = int(max_articles) if max_articles not in (None, "") else None
        self.feed_pages = int(feed_pages)
        self.mode = mode
        self.source = source
        self.urls = [u for u in (urls.split() if isinstance(urls, str) else urls or []) if u]
        # publication days (YYYY-MM-DD, Santiago), inclusive: the whole range, as a full run
        self.since = since or None
        self.until = until or None
        self.scheduled: set[str] = set()
        self.skipped: set[str] = set()
        self.rest_state = "pending" if source in ("auto", "api") else "unused"
        self._held_sitemaps: list[scrapy.Request] | None = None  # until REST has answered
        # REST posts (or feed items) whose page is still to be handled, by canonical URL; the
        # next REST page is asked for only when few are left (bounded memory at 305,000)
        self.rest_posts: dict[str, dict] = {}
        self._feed_started = False
        self.parsers = None  # made in from_crawler, before the reactor starts
        self.feed_done = source not in ("auto", "html", "feed") or self.feed_pages <= 0
        self._next_rest: scrapy.Request | None = None
        # the hosts redirects may lead to (www and the bare domain of the crawled host)
        self.site_hosts = site_hosts(self.base_url)
        self.allowed_domains = sorted(self.site_hosts)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        from crawler.workers import Parsers

        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.parsers = Parsers(crawler.settings.getint("PARSE_PROCESSES", 1),
                                 crawler.settings.get("LOG_LEVEL", "DEBUG"))
        return spider

    # -- discovery -----------------------------------------------------------------------------
    async def start(self):
        from archive.store import Archive

        self._start_heartbeat()
        self.catalog = Archive(self.settings.get("ARCHIVE_PATH"))
        last_good = self.catalog.last_good_run_started()
        self.full = self.mode == "full" or last_good is None or bool(self.since or self.until)
        self._count("mode_full" if self.full else "mode_incremental")
        if self.urls:
            for url in self.urls:
                for request in self._article_request(url, "url", None, force=True):
                    yield request
            return
        # pages that failed in earlier runs (kept from REST or the feed meanwhile, when they
        # could be) and are due again
        for url in self.catalog.due_retries(limit=self.settings.getint(
                "RETRY_LATER_PER_RUN", 2000)):
            for request in self._article_request(url, "retry", None, force=True):
                yield request
        if self.source == "html":  # with auto, robots.txt is read only if REST fails
            yield self._discovery(site.ROBOTS_PATH, self.parse_robots, fallback=0)
        if self.source in ("auto", "api"):
            # the feed waits for REST's first page: its posts then come with REST's data
            yield self._rest_request(1, None if self.full else self._modified_after(last_good))
        elif self.source in ("html", "feed"):
            for request in self._feed_start():
                yield request

    def _feed_start(self):
        if not self.feed_done and not self._feed_started:
            self._feed_started = True
            yield self._discovery(f"{site.FEED_PATH}", self.parse_feed)

    # -- what is already archived ------------------------------------------------------------------
    def _modified_after(self, last_good: str) -> str:
        """Santiago wall time of the last good run's start, less the overlap (see site.py)."""
        from datetime import timedelta

        overlap = timedelta(hours=self.settings.getfloat("INCREMENTAL_OVERLAP_HOURS", 48))
        since = dates.in_santiago(datetime.fromisoformat(last_good)) - overlap
        return since.strftime(site.REST_MODIFIED_AFTER_FORMAT)

    def _in_range(self, day: str | None) -> bool:
        """Whether a publication day is within --since/--until (no day: not excluded)."""
        if not day:
            return True
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _skip(self, url: str) -> None:
        """An article not fetched because the archive has it unchanged (counted once)."""
        if url not in self.skipped:
            self.skipped.add(url)
            self._count("skipped_unchanged")

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

    # -- the REST API ----------------------------------------------------------------------------
    def _rest_request(self, page: int, modified_after: str | None) -> scrapy.Request:
        from urllib.parse import urlencode

        params = {"per_page": site.REST_PER_PAGE, "page": page, "_embed": 1,
                  "orderby": "modified", "order": "desc"}
        if modified_after:
            params["modified_after"] = modified_after
        # core compares after/before with post_date, Santiago wall time, both exclusive
        if self.since:
            params["after"] = (datetime.fromisoformat(self.since) - timedelta(seconds=1)
                               ).strftime(site.REST_MODIFIED_AFTER_FORMAT)
        if self.until:
            params["before"] = (datetime.fromisoformat(self.until) + timedelta(days=1)
                                ).strftime(site.REST_MODIFIED_AFTER_FORMAT)
        return scrapy.Request(
            rebase(f"{site.REST_POSTS_PATH}?{urlencode(params)}", self.base_url),
            callback=self.parse_rest_page, errback=self.rest_failed, dont_filter=True,
            meta={"page": page, "modified_after": modified_after, "discovery": True},
            priority=10)

    async def parse_rest_page(self, response):
        page = response.meta["page"]
        body = response.body
        if not body.lstrip()[:1] == b"[":
            for item in self._rest_unusable(response, "not a REST API posts list"):
                yield item
            return
        posts = await maybe_deferred_to_future(threads.deferToThread(
            read_rest_posts, body, response.url, datetime.now(timezone.utc)))
        self.rest_state = "ok"
        self._held_sitemaps = None  # REST answers: the sitemaps are not needed
        self._count("discovery_ok")
        self._count("rest_pages")
        for request in self._feed_start():
            yield request
        for post in posts:
            if not post.is_article:
                continue
            url = canonical_url(post.url, self.base_url)
            if self._unchanged(url, post.modified or post.published, post.wp_id):
                self._skip(url)
                continue
            self.rest_posts[url] = post  # merged with the page when it is handled
            for request in self._article_request(url, "rest", None):
                yield request
        if page == 1 and self.full:
            self._announce_full(int(response.headers.get("X-WP-Total", b"0") or 0))
        total = int(response.headers.get(site.REST_TOTAL_PAGES_HEADER, b"1") or 1)
        if page < total and not self._limit_reached():
            self._next_rest = self._rest_request(page + 1, response.meta["modified_after"])
            for request in self._rest_next():
                yield request

    REST_BACKLOG = 200  # REST posts waiting for their page before the next REST page is asked

    def _rest_next(self):
        if self._next_rest is not None and len(self.rest_posts) <= self.REST_BACKLOG:
            request, self._next_rest = self._next_rest, None
            yield request

    def _rest_post(self, url: str) -> dict | None:
        """The REST post of the page at url (popped: each is merged once)."""
        return self.rest_posts.pop(canonical_url(url, self.base_url), None)

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
            took = (f"{seconds / 3600:.0f} hours" if seconds >= 7200 else
                    f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds")
            self.logger.warning(
                "full run: the REST API lists %d posts; at one page every %.2g s their pages "
                "take about %s (less what the archive already has unchanged)",
                posts, delay, took)

    def rest_failed(self, failure):
        """An error answer on page 1: the REST API is off (or blocked); the sitemaps stand in.
        A 400 past the last page is WordPress saying there is no such page."""
        request = failure.request
        if failure.check(HttpError) and failure.value.response.status == 400 \
                and request.meta["page"] > 1:
            return
        response = failure.value.response if failure.check(HttpError) else None
        reason = f"HTTP {response.status}" if response is not None else \
            f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield from self._rest_gone(request.url, reason, response)

    def _rest_unusable(self, response, what: str):
        yield from self._rest_gone(response.url, what, response)

    def _rest_gone(self, url: str, reason: str, response):
        self.rest_state = "failed"
        self._count("rest_failed")
        blocked = response is not None and block_kind(response.body, response.headers) is not None
        self.logger.warning("the REST API did not answer (%s): %s", reason,
                            "falling back to the sitemaps" if self.source == "auto"
                            else "no other source was asked for")
        if self.source == "api":
            self._count("discovery_blocked" if blocked else "discovery_failed")
            yield Failure(url=url, reason=f"discovery: REST API: {reason}",
                          status=response.status if response is not None else None)
        if self.source == "auto":
            yield self._discovery(site.ROBOTS_PATH, self.parse_robots, fallback=0)
        yield from self._feed_start()
        yield from self._release_sitemaps()

    def _sitemaps_go(self) -> bool:
        """Sitemaps are read when they are the source (--source html, or the REST API failed),
        and only after the feed walk, so that a page the sitemaps lead to finds its feed item
        (which stands in for what the page lacks or, blocked, for the page)."""
        return (self.source == "html" or self.rest_state == "failed") and self.feed_done

    def _sitemaps(self, requests):
        if self._sitemaps_go():
            yield from requests
        elif self.rest_state != "ok":
            self._held_sitemaps = (self._held_sitemaps or []) + list(requests)

    def _release_sitemaps(self):
        if self._held_sitemaps and self._sitemaps_go():
            held, self._held_sitemaps = self._held_sitemaps, None
            yield from held

    def _feed_finished(self):
        self.feed_done = True
        yield from self._release_sitemaps()

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
            yield from self._sitemaps(self._next_sitemap_path(response.meta["fallback"]))
        yield from self._sitemaps(self._discovery(url, self.parse_sitemap, fallback=0)
                                  for url in sitemaps)

    def _next_sitemap_path(self, fallback: int | None):
        """The next of the usual sitemap paths, tried when robots.txt names none."""
        if fallback is not None and fallback < len(site.SITEMAP_PATHS):
            yield self._discovery(site.SITEMAP_PATHS[fallback], self.parse_sitemap,
                                  fallback=fallback + 1, guessed=True)

    @staticmethod
    def _sitemap_body(response) -> bytes:
        """The sitemap's XML. A .gz sitemap may come inflated already (Scrapy undoes a
        Content-Encoding: gzip): only bytes that are still gzip are gunzipped."""
        body = response.body
        return gunzip(body) if body[:2] == b"\x1f\x8b" else body

    def parse_sitemap(self, response):
        try:
            body = self._sitemap_body(response)
        except OSError:  # gzip's magic, but not gzip after all
            body = response.body
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
            lastmod = entry.get("lastmod")
            if self.since and lastmod and lastmod[:10] < self.since:
                continue  # last modified before --since: published before it too
            yield from self._article_request(entry["loc"], "sitemap", lastmod)

    async def parse_feed(self, response):
        """Feed items: their pages are fetched; the item itself is kept to stand in for a
        page that is blocked (the feed keeps answering during Cloudflare's block periods)."""
        if not response.xpath("//channel/item"):
            if response.meta.get("page", 1) == 1:
                for item in self._discovery_broken(response, "not an RSS feed"):
                    yield item
            for request in self._feed_finished():
                yield request
            return
        self._count("discovery_ok")
        posts = await maybe_deferred_to_future(threads.deferToThread(
            parse_articles, response.body, response.url, datetime.now(timezone.utc)))
        fresh = 0
        for post in posts:
            if not post.get("is_article"):
                continue
            url = canonical_url(post["url"], self.base_url)
            if not self._in_range(post.get("published_date")):
                continue
            if url in self.scheduled:  # REST (or an earlier feed page) has it already
                self.rest_posts.setdefault(url, post)  # REST's post, if any, wins
            elif self._unchanged(url, None):
                self._skip(url)
            else:
                fresh += 1
                self.rest_posts.setdefault(url, post)
                for request in self._article_request(url, "feed", None):
                    yield request
        page = response.meta.get("page", 1)
        older = self.since and posts and all((p.get("published_date") or "9") < self.since
                                             for p in posts)
        # newest first: in an incremental run, a page of archived posts means the rest are too;
        # past --since, every later page is older still
        if (fresh or self.full) and not older and page < self.feed_pages \
                and not self._limit_reached():
            yield self._discovery(
                f"{site.FEED_PATH}?{site.FEED_PAGE_PARAM}={page + 1}", self.parse_feed,
                page=page + 1,
            )
        else:
            for request in self._feed_finished():
                yield request

    def _discovery_broken(self, response, what: str):
        article = parse_article(response.body, response.url)
        reason = article["reason"] if article["reason"].startswith("cloudflare") else what
        self._count("discovery_blocked" if reason.startswith("cloudflare") else "discovery_failed")
        yield Failure(url=response.url, reason=f"discovery: {reason}", status=response.status)

    def discovery_failed(self, failure):
        request = failure.request
        if request.callback == self.parse_feed:  # past the last page, or the feed failed
            yield from self._feed_finished()
        if self._absent(failure):
            if request.meta.get("guessed") and request.meta["fallback"] >= len(site.SITEMAP_PATHS):
                self._count("discovery_failed")
                yield Failure(url=request.url, status=404, reason=(
                    "discovery: no sitemap (robots.txt names none, and "
                    + " and ".join(site.SITEMAP_PATHS) + " answer 404)"))
        else:
            yield from self._fetch_failure(failure, discovery=True)
        if request.callback == self.parse_robots:
            yield from self._sitemaps(self._next_sitemap_path(request.meta.get("fallback")))
        elif request.callback == self.parse_sitemap:
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

    def _article_request(self, link: str, source: str, lastmod: str | None,
                         force: bool = False):
        """The page of an article, unless it is already scheduled, the archive has it as new
        as lastmod (the sitemap's time for this URL), or --max-articles is reached."""
        url = canonical_url(link, self.base_url)
        if url in self.scheduled or self._limit_reached():
            return
        if lastmod and not force and self._unchanged(url, lastmod):
            self._skip(url)
            return
        self.scheduled.add(url)
        self._count(f"scheduled/{source}")
        if force and "p=" in link:  # a shortlink ?p=ID: WordPress redirects to the article
            url = rebase(link, self.base_url)
        yield scrapy.Request(url, callback=self.parse_article, errback=self.article_failed,
                             dont_filter=force, meta={"source": source, "lastmod": lastmod})

    async def parse_article(self, response):
        """Parsed in a thread: a large page must not stall the downloads in flight."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        asked = (response.meta.get("redirect_urls") or [response.url])[0]
        rest = self._rest_post(asked)  # merged by the parser process too
        try:
            article, elapsed, stems, kept = await self.parsers.run(
                timed_parse, response.body, response.url, datetime.now(timezone.utc),
                content_type, rest)
            remember_stems(stems)
            self.crawler.stats.max_value(STAT("parse_max_ms"), elapsed)
        except Exception as err:  # noqa: BLE001 (a parser bug must not lose the rest of the run)
            self._page_parsed(response, None)
            self.logger.exception("parser error on %s", response.url)
            self._count("parser_errors")
            yield Failure(url=response.url, reason=f"parser error: {err!r}", status=response.status,
                          retry="later")
            rest = rest if rest is not None else self._rest_post(asked)
            if rest is not None:  # never lost for a parser bug: kept from REST/feed, marked
                yield Article(**merge({"is_article": False, "reason": "parser error"}, rest))
            for request in self._rest_next():
                yield request
            return
        self._page_parsed(response, kept)
        self._count("pages_ok")
        if rest is None:  # its REST post, read while the page was parsed
            article = merge(article, self._rest_post(asked))
        yield Article(**with_lastmod(article, response.meta.get("lastmod")))
        for request in self._rest_next():
            yield request

    def _page_parsed(self, response, kept) -> None:
        """The page is kept (crawler.pipelines.page_parsed), with its hash and compressed body
        when the parser process made them."""
        from crawler.pipelines import page_parsed

        self.crawler.signals.send_catch_log(page_parsed, response=response,
                                            request=response.request, ready=kept)

    def article_failed(self, failure):
        items = list(self._fetch_failure(failure, discovery=False))
        rest = self._rest_post((failure.request.meta.get("redirect_urls")
                                or [failure.request.url])[0])
        yield from self._rest_next()
        for item in items:
            yield item
            if rest is not None and isinstance(item, Failure):
                # the page failed, REST or the feed has the post: keep it, marked with why
                # (provenance "page"); a later run that reaches the page upgrades it
                self._count("archived_without_page")
                page = {"is_article": False, "reason": item["reason"]}
                yield Article(**merge(page, rest))

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
        retry = None if discovery else "final" if status in (404, 410) else "later"
        yield Failure(url=url, reason=("discovery: " if discovery else "") + reason, status=status,
                      retry=retry)

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
        catalog = getattr(self, "catalog", None)
        if catalog is not None:
            catalog.close()
        parsers = getattr(self, "parsers", None)
        if parsers is not None:
            parsers.close()
