"""Keeps each article's images (its lead image and those in its body) and the stylesheets its
page uses in the archive (archive.images), fetched in the same run through the crawler's engine,
as Scrapy's own MediaPipeline does: the same robots.txt, throttle, retries and limits as pages.

Only the site's own copies are fetched (crawler.site.media_origin: the site's hosts, and its
uploads named through Jetpack's Photon CDN fetched from the site instead); an image on another
host is linked to its article but not fetched. A URL already kept is never fetched again. A
response that is not kept (not an image by its type and bytes, larger than IMAGES_MAXSIZE, an
HTTP error, robots.txt) is counted (ciudadano/images_failed) and logged; the run goes on.

`-s IMAGES_ENABLED=False` turns it all off.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sqlite3
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive import outcomes as o
from archive.db import open_for_writing, sqlite_message
from archive.images import (
    BODY,
    IMAGE,
    LEAD,
    STYLESHEET,
    NotKept,
    add_media_url,
    is_kept,
    keep_media,
    kept_from,
    kept_urls,
    link_images,
    media_type,
)
from archive.store import utc_now
from crawler import site
from crawler.items import Article
from crawler.middlewares import on_the_site
from crawler.pipelines import page_parsed
from crawler.urls import rebase

log = logging.getLogger(__name__)

# body_html is sanitised (archive.body): its img elements carry a double-quoted src
_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]+)"')
_STYLESHEET_LINK = re.compile(rb"<link\b[^>]*\brel=[\"']?stylesheet\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(rb"\bhref=(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_HEAD_END = b"</head>"
FAILED_REMEMBERED = 50_000


def article_images(item) -> list[tuple[str, str]]:
    """[(absolute URL, role)] of an article's lead image and the images in its body."""
    found = []
    if item.get("image_url"):
        found.append((urljoin(item["url"], item["image_url"].strip()), LEAD))
    for src in _IMG_SRC.findall(item.get("body_html") or ""):
        url = (urljoin(item["url"], html.unescape(src).strip()), BODY)
        if url not in found:
            found.append(url)
    return found


def stylesheet_urls(page: bytes, page_url: str) -> list[str]:
    """The absolute URLs of the stylesheets a page's head links."""
    end = page.find(_HEAD_END)
    head = page if end < 0 else page[:end]
    urls = []
    for link in _STYLESHEET_LINK.findall(head):
        href = _HREF.search(link)
        if href:
            value = next(g for g in href.groups() if g is not None)
            urls.append(urljoin(page_url, html.unescape(value.decode("utf-8", "replace"))))
    return urls


class ImagesPipeline:
    """After the store pipeline: the article's row exists, so its images can be linked to it."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.maxsize = crawler.settings.getint("IMAGES_MAXSIZE")
        self.archive_path = crawler.settings.get("ARCHIVE_PATH")
        self.db: sqlite3.Connection | None = None
        # the theme's few stylesheets kept; an image is looked up in the archive (a whole-site
        # run meets 600,000: memory stays bounded)
        self.stylesheets: set[str] = set()
        self.fetching: dict[str, asyncio.Future] = {}  # URL -> its fetch going on
        # the site's URL fetched -> its download going on: the URLs a page names one upload by
        # (its own, Photon's resized ones) share one request
        self.downloads: dict[str, asyncio.Future] = {}
        # not kept this run: not asked again until the next (the first FAILED_REMEMBERED)
        self.failed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("IMAGES_ENABLED", True):
            raise NotConfigured  # quietly: an operator's choice, not a warning
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.page_parsed, signal=page_parsed)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        self.db = open_for_writing(self.archive_path)
        self.stylesheets = kept_urls(self.db, STYLESHEET)

    async def spider_closed(self, spider, reason) -> None:
        """The fetches still going end first."""
        pending = [f for f in self.fetching.values() if not f.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self.db is not None:
            self.db.close()
            self.db = None

    async def process_item(self, item, spider=None):
        if not isinstance(item, Article) or self.db is None:
            return item
        images = article_images(item)
        await asyncio.gather(*(self._fetched(url, IMAGE) for url, _ in images))
        try:
            link_images(self.db, item["url"], images)
        except sqlite3.Error as err:
            self._not_stored(err)
        return item

    def page_parsed(self, response, request, ready):
        """An article page's stylesheets, fetched beside the crawl (the theme's few: after the
        first page, all known)."""
        for url in stylesheet_urls(response.body, response.url):
            if url not in self.stylesheets and url not in self.fetching:
                self._fetched(url, STYLESHEET)

    def _fetched(self, url: str, kind: str) -> asyncio.Future:
        """The fetch of url going on, or a new one (done at once when kept, failed or not the
        site's)."""
        future = self.fetching.get(url)
        if future is None:
            future = asyncio.ensure_future(self._fetch(url, kind))
            self.fetching[url] = future
            future.add_done_callback(lambda _: self.fetching.pop(url, None))
        return future

    def _known(self, url: str, kind: str) -> bool:
        if url in self.failed:
            return True
        return url in self.stylesheets if kind == STYLESHEET else is_kept(self.db, url)

    def _target(self, url: str) -> str | None:
        """Where to fetch url from: the site's own copy on the host crawled; None when url is
        not the site's."""
        base = self.crawler.spider.base_url
        origin = site.media_origin(url)
        if origin is None and not on_the_site(url, base):
            return None
        return rebase(origin or url, base)

    async def _fetch(self, url: str, kind: str) -> None:
        if self._known(url, kind):
            return
        target = self._target(url)
        if target is None:
            self.stats.inc_value(o.media(kind, o.MEDIA_NOT_THE_SITES))
            return
        try:
            digest = kept_from(self.db, target)
            if digest is not None:  # the same upload, kept under another URL
                add_media_url(
                    self.db, url, digest, target, utc_now(), self.stats.get_value(o.RUN_ID)
                )
                return self._kept(url, kind)
        except sqlite3.Error as err:
            return self._not_stored(err)
        download = self.downloads.get(target)
        if download is None:
            download = asyncio.ensure_future(self._download(target, kind))
            self.downloads[target] = download
            download.add_done_callback(lambda _: self.downloads.pop(target, None))
        outcome = await download
        if isinstance(outcome, str):
            return self._failed(url, kind, outcome)
        content_type, body, fetched_url = outcome
        try:
            keep_media(
                self.db,
                url,
                kind,
                content_type,
                body,
                fetched_url,
                utc_now(),
                self.stats.get_value(o.RUN_ID),
            )
        except sqlite3.Error as err:
            return self._not_stored(err)
        self._kept(url, kind)

    async def _download(self, target: str, kind: str) -> tuple[str, bytes, str] | str:
        """(content type, body, URL that answered) of the content at target, or why it is not
        kept. Redirects are followed on the site alone, as for pages."""
        request = scrapy.Request(target, meta={"download_maxsize": self.maxsize})
        try:
            response = await self.crawler.engine.download_async(request)
            content_type = media_type(
                kind, _header(response, b"Content-Type"), _checked(response, self.maxsize)
            )
        except NotKept as reason:
            return str(reason)
        except Exception as err:  # noqa: BLE001 (robots.txt, too large, network: any is a reason)
            return f"{type(err).__name__}: {err}".rstrip(": ")
        self.stats.inc_value(o.media(kind, o.MEDIA_BYTES), len(response.body))
        return content_type, response.body, response.url

    def _kept(self, url: str, kind: str) -> None:
        if kind == STYLESHEET:
            self.stylesheets.add(url)
        self.stats.inc_value(o.media(kind, o.MEDIA_KEPT))

    def _failed(self, url: str, kind: str, reason: str) -> None:
        if len(self.failed) < FAILED_REMEMBERED:
            self.failed.add(url)
        self.stats.inc_value(o.media(kind, o.MEDIA_FAILED))
        log.info("%s not kept: %s (%s)", kind, url, reason)

    def _not_stored(self, err: sqlite3.Error) -> None:
        if not self.stats.get_value(o.MEDIA_NOT_STORED):
            log.error("could not keep images: %s", sqlite_message(self.archive_path, err))
        self.stats.inc_value(o.MEDIA_NOT_STORED)


def _header(response, name: bytes) -> str:
    return (response.headers.get(name) or b"").decode("latin-1")


def _checked(response, maxsize: int) -> bytes:
    """response's body, or NotKept when it is an HTTP error or larger than maxsize."""
    if response.status != 200:
        raise NotKept(f"HTTP {response.status}")
    if len(response.body) > maxsize:
        raise NotKept(f"larger than {maxsize} bytes")
    return response.body
