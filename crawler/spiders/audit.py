"""The audit: what the site lists, against the archive (`ciudadano audit`; archive.listings).

It reads every post sitemap (robots.txt -> Yoast's sitemap_index.xml or WordPress core's
wp-sitemap.xml -> post-sitemapN.xml / wp-sitemap-posts-post-N.xml) into `listings`, and, when
the REST API answers, the site's own counts: X-WP-Total of the posts, of the posts of each
publication year, and each category's count. Once every sitemap is read, the archive's articles
the sitemaps no longer list are marked missed, and their pages fetched (without following
redirects): 404, 410, or a redirect to the home page or a listing marks one removed.

Same settings as the crawl (robots.txt, throttle, retries, the site's hosts only); no item
pipelines: what it learns is written as it goes, one transaction per sitemap, so an audit
killed half way keeps what it read, and the next one resumes past the sitemaps it read.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from itertools import chain
from typing import ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.sitemap import sitemap_urls_from_robots

from archive import listings
from crawler import site
from crawler.blocks import block_kind
from crawler.sitemaps import SitemapError, iter_sitemap_entries
from crawler.urls import canonical_url, rebase, site_hosts

STAT = "ciudadano/audit/{}".format
REDIRECTS = [301, 302, 303, 307, 308]
GONE = [404, 410]
REST_CATEGORIES_PATH = site.REST_POSTS_PATH.rsplit("/", 1)[0] + "/categories"


class AuditSpider(scrapy.Spider):
    name = "audit"
    custom_settings: ClassVar[dict] = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}}

    def __init__(
        self,
        base_url: str = site.BASE_URL,
        rest: bool | str = True,
        confirm: bool | str = True,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.base_url = base_url.rstrip("/")
        self.rest = rest not in (False, "0", "false", "no")
        self.confirm = confirm not in (False, "0", "false", "no")
        self.site_hosts = site_hosts(self.base_url)
        self.allowed_domains = sorted(self.site_hosts)
        self.conn = None
        self.confirming = False
        self.started = time.monotonic()
        self.figures = {"sitemaps": 0, "sitemaps_failed": 0}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self):
        from archive.db import open_for_writing

        self.conn = open_for_writing(self.settings.get("ARCHIVE_PATH"))
        self.audit_id, self.started_at, self.read_before = listings.start_audit(
            self.conn, self.base_url
        )
        self._count("resumed_sitemaps", len(self.read_before))
        yield self._request(site.ROBOTS_PATH, self.parse_robots, fallback=0)
        if self.rest:
            yield self._rest_count(
                self.parse_rest_total, order="asc", orderby="date", _fields="id,date"
            )
            yield self._request(self._categories_path(1), self.parse_categories, page=1)

    # -- sitemaps ----------------------------------------------------------------------------
    def _request(self, path_or_url: str, callback, **meta) -> scrapy.Request:
        return scrapy.Request(
            rebase(path_or_url, self.base_url),
            callback=callback,
            errback=self.failed,
            dont_filter=True,
            meta=meta,
        )

    def parse_robots(self, response):
        named = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not named:
            yield from self._guess(0)
        for url in named:
            yield self._request(url, self.parse_sitemap)

    def _guess(self, index: int):
        """The usual sitemap paths, tried in turn when robots.txt names none."""
        if index < len(site.SITEMAP_PATHS):
            yield self._request(site.SITEMAP_PATHS[index], self.parse_sitemap, fallback=index + 1)

    def parse_sitemap(self, response):
        name = urlsplit(response.url).path
        entries = iter_sitemap_entries(
            response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE")
        )
        try:
            first = next(entries, None)
            if first is not None and first.kind == "sitemap":
                yield from self._children(first, entries)
            elif site.ARTICLE_SITEMAP.search(name):
                self._record(name, first, entries)
        except SitemapError as err:
            self._sitemap_failed(response.url, str(err))
            yield from self._guess(response.meta.get("fallback", len(site.SITEMAP_PATHS)))

    def _children(self, first, entries):
        for entry in chain([first], entries):
            name = urlsplit(entry.loc).path
            if not site.ARTICLE_SITEMAP.search(name):
                continue
            if name in self.read_before:  # read by the audit this one resumes
                continue
            yield self._request(entry.loc, self.parse_sitemap)

    def _record(self, name: str, first, entries) -> None:
        def articles():
            for entry in chain([first], entries) if first is not None else ():
                url = canonical_url(entry.loc, self.base_url)
                if site.ARTICLE_PATH.match(urlsplit(url).path):
                    yield url, entry.lastmod

        count = listings.record_sitemap(self.conn, self.audit_id, self.started_at, name, articles())
        self.figures["sitemaps"] += 1
        self._count("listed", count)

    def _sitemap_failed(self, url: str, why: str) -> None:
        self.figures["sitemaps_failed"] += 1
        self.logger.warning("could not read the sitemap %s: %s", url, why)

    # -- the REST API's counts ----------------------------------------------------------------
    def _rest_count(self, callback, year: int | None = None, **params) -> scrapy.Request:
        query = {"per_page": 1, "_fields": "id", **params}
        return self._request(f"{site.REST_POSTS_PATH}?{urlencode(query)}", callback, year=year)

    @staticmethod
    def _total(response) -> int | None:
        value = response.headers.get("X-WP-Total")
        return int(value) if value and value.isdigit() else None

    def parse_rest_total(self, response):
        total = self._total(response)
        if total is None:
            return
        listings.record_count(self.conn, self.audit_id, "total", "posts", total)
        try:
            first_year = int(response.json()[0]["date"][:4])
        except (ValueError, LookupError, TypeError):
            return
        for year in range(first_year, datetime.now(timezone.utc).year + 1):
            # core's after/before compare post_date (the site's time) and are exclusive
            yield self._rest_count(
                self.parse_rest_year,
                year,
                after=f"{year - 1}-12-31T23:59:59",
                before=f"{year + 1}-01-01T00:00:00",
            )

    def parse_rest_year(self, response):
        total = self._total(response)
        if total is not None:
            listings.record_count(
                self.conn, self.audit_id, "year", str(response.meta["year"]), total
            )

    def _categories_path(self, page: int) -> str:
        query = {"per_page": site.REST_PER_PAGE, "page": page, "_fields": "id,name,slug,count"}
        return f"{REST_CATEGORIES_PATH}?{urlencode(query)}"

    def parse_categories(self, response):
        try:
            terms = response.json()
        except ValueError:
            return
        for term in terms if isinstance(terms, list) else ():
            if isinstance(term, dict) and term.get("slug") and isinstance(term.get("count"), int):
                listings.record_count(
                    self.conn,
                    self.audit_id,
                    "category",
                    term["slug"],
                    term["count"],
                    term.get("name"),
                )
        pages = response.headers.get(site.REST_TOTAL_PAGES_HEADER, b"1")
        page = response.meta["page"]
        if pages.isdigit() and page < int(pages):
            yield self._request(
                self._categories_path(page + 1), self.parse_categories, page=page + 1
            )

    # -- missed articles: their pages tell ------------------------------------------------------
    def idle(self, spider=None):
        """Every listing is read: compare, then fetch the pages of the missed articles."""
        if self.confirming or not self._complete():
            return
        self.confirming = True
        found = listings.reconcile(self.conn, self.audit_id)
        self.figures.update(missed=found["missed"], restored=found["restored"])
        if not self.confirm:
            return
        scheduled = 0
        for article_id, url in listings.to_confirm(self.conn):
            self.crawler.engine.crawl(
                scrapy.Request(
                    rebase(url, self.base_url),
                    callback=self.parse_page,
                    errback=self.failed,
                    dont_filter=True,
                    meta={
                        "article_id": article_id,
                        "dont_redirect": True,
                        "handle_httpstatus_list": REDIRECTS + GONE,
                    },
                )
            )
            scheduled += 1
        if scheduled:
            raise DontCloseSpider

    def _complete(self) -> bool:
        return (
            bool(self.figures["sitemaps"] or self.read_before)
            and not self.figures["sitemaps_failed"]
        )

    def parse_page(self, response):
        article_id = response.meta["article_id"]
        self._count("pages_confirmed")
        if response.status in GONE:
            self._removed(article_id, f"HTTP {response.status}")
        elif response.status in REDIRECTS:
            target = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
            path = urlsplit(target).path or "/"
            if path == "/":
                self._removed(article_id, f"redirects to the home page ({target})")
            elif not site.ARTICLE_PATH.match(path):
                self._removed(article_id, f"redirects to a listing ({target})")
            else:  # moved to a new URL: the crawl follows it
                listings.confirm_online(self.conn, article_id, f"redirects to {target}")
        elif block_kind(response.body, response.headers):
            self._count("pages_blocked")  # nothing learnt: the next audit asks again
        else:
            listings.confirm_online(self.conn, article_id, f"the page answers {response.status}")

    def _removed(self, article_id: int, reason: str) -> None:
        listings.confirm_removed(self.conn, article_id, reason)
        self.figures["removed"] = self.figures.get("removed", 0) + 1

    def failed(self, failure):
        request = failure.request
        if request.callback == self.parse_sitemap:
            response = getattr(failure.value, "response", None)
            if response is not None and response.status == 404 and "fallback" in request.meta:
                yield from self._guess(request.meta["fallback"])  # not there: the next path
                return
            self._sitemap_failed(request.url, failure.getErrorMessage())
        elif request.callback == self.parse_robots:
            yield from self._guess(0)
        elif request.callback == self.parse_page:
            self._count("pages_unanswered")  # nothing learnt: the next audit asks again
        else:
            self._count("rest_failed")

    def _count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(STAT(key), n)

    def closed(self, reason) -> None:
        if self.conn is None:
            return
        if reason == "finished":
            status = listings.COMPLETE if self._complete() else listings.PARTIAL
        else:
            status = listings.INTERRUPTED
        stats = self.crawler.stats
        listings.finish_audit(
            self.conn,
            self.audit_id,
            status,
            requests=stats.get_value("downloader/request_count", 0),
            seconds=round(time.monotonic() - self.started, 1),
            **self.figures,
        )
        stats.set_value(STAT("status"), status)
        stats.set_value(STAT("id"), self.audit_id)
        self.conn.close()
