"""What to fetch next, from what the REST API, robots.txt, the sitemaps and the RSS feed said.

A plain object: what a source answered goes in (bytes, or posts its parser read), decisions
come out: a Fetch (a URL to request, and what it is) or a Problem (a discovery failure to
record). No Scrapy, no network, no archive: whether the archive holds a page unchanged, and the
counting of outcomes, are callables passed in. The spider (crawler.spiders.elciudadano) turns
Fetches into requests and feeds their answers back.

Three sources (see README, "How a crawl works"):
- the REST API, newest modification first: in an incremental run only what was modified since
  the last good run (less an overlap), in a full run everything, 100 posts a request;
- the sitemaps (robots.txt -> Yoast or WordPress core), each URL with its own lastmod: walked
  when the REST API does not answer, or with source "html", read as a stream
  (crawler.sitemaps) and handed out in batches;
- the RSS feed, newest first, paged until a page holds only posts already archived.
An article page is fetched only when the archive has no version of it as new as the source
says it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urljoin

from archive.outcomes import (
    DISCOVERY_BLOCKED,
    DISCOVERY_FAILED,
    DISCOVERY_OK,
    MODE_FULL,
    MODE_INCREMENTAL,
    REST_FAILED,
    REST_PAGES,
    SKIPPED_UNCHANGED,
    scheduled,
)
from crawler import site
from crawler.blocks import block_kind
from crawler.sitemaps import NotASitemap, SitemapEntry, SitemapTooLarge, iter_sitemap_entries
from crawler.urls import canonical_url, rebase

log = logging.getLogger(__name__)

SOURCES = ("auto", "html", "api", "feed")
# What a Fetch is: its answer goes back to the Discovery method of the same name
ROBOTS, SITEMAP, FEED, REST, ARTICLE = "robots", "sitemap", "feed", "rest", "article"


@dataclass(frozen=True)
class Fetch:
    """A URL to request (absolute, on the crawled host), and what discovery needs back with
    its answer."""

    url: str
    kind: str  # ROBOTS, SITEMAP, FEED, REST or ARTICLE
    page: int = 1  # of the feed or the REST API
    # robots.txt or a sitemap: the index into site.SITEMAP_PATHS to try when it names none
    fallback: int | None = None
    guessed: bool = False  # one of site.SITEMAP_PATHS, not named by robots.txt
    modified_after: str | None = None  # REST: the incremental run's bound
    source: str | None = None  # an article: which source listed it
    lastmod: str | None = None  # an article: the modification time its source gives
    force: bool = False  # an article: fetched even if archived (--url, retries)


@dataclass(frozen=True)
class Problem:
    """A discovery request that failed; recorded in the failures table."""

    url: str
    reason: str
    status: int | None = None


Decision = Fetch | Problem


def nothing_archived(url: str, modified: str | None, wp_id: int | None) -> bool:
    """The default unchanged(): every page is fetched."""
    return False


def sitemap_urls_from_robots(body: bytes, base_url: str) -> list[str]:
    """The Sitemap: lines of robots.txt, absolute."""
    text = body.decode("utf-8", "replace")
    return [
        urljoin(base_url, line.split(":", 1)[1].strip())
        for line in text.splitlines()
        if line.lstrip().lower().startswith("sitemap:")
    ]


class Discovery:
    """The state of one run's discovery. Each method takes what one request answered and
    returns what to do next: Fetches, in the order to make them, and Problems to record.

    unchanged(url, modified, wp_id): whether the archive holds the article at least as new as
    modified (None: archived at all); count(key): one more of a stat (archive.outcomes)."""

    # REST posts (or feed items) waiting for their page before the next REST page is asked for
    REST_BACKLOG = 200
    # sitemap entries read between two batches handed to the spider
    SITEMAP_BATCH = 500

    def __init__(
        self,
        base_url: str,
        *,
        source: str = "auto",
        full: bool = True,
        feed_pages: int = 10,
        max_articles: int | None = None,
        since: str | None = None,
        until: str | None = None,
        unchanged: Callable[[str, str | None, int | None], bool] = nothing_archived,
        count: Callable[[str], None] = lambda key: None,
    ):
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.full = full
        self.feed_pages = feed_pages
        self.max_articles = max_articles
        # publication days (YYYY-MM-DD, Santiago), inclusive: the whole range, as a full run
        self.since = since or None
        self.until = until or None
        self.unchanged = unchanged
        self.count = count
        self.scheduled: set[str] = set()
        self.skipped: set[str] = set()
        self.rest_state = "pending" if source in ("auto", "api") else "unused"
        self.held_sitemaps: list[Fetch] | None = None  # until REST has answered
        # REST posts (or feed items) whose page is still to be handled, by canonical URL; the
        # next REST page is asked for only when few are left (bounded memory at 305,000)
        self.rest_posts: dict[str, object] = {}
        self.next_rest: Fetch | None = None
        self.feed_started = False
        self.feed_done = source not in ("auto", "html", "feed") or feed_pages <= 0

    # -- the start ---------------------------------------------------------------------------
    def start(
        self,
        urls: Iterable[str] = (),
        retries: Iterable[str] = (),
        listed: Iterable[tuple[str, str | None]] = (),
        modified_after: str | None = None,
    ) -> list[Decision]:
        """What a run asks for first: the given URLs alone, or the pages due to be tried
        again and those the last audit found listed and not archived ((url, lastmod), newest
        first), then the REST API's first page (or robots.txt, or the feed).
        modified_after: an incremental run's bound (see site.REST_MODIFIED_AFTER_FORMAT)."""
        self.count(MODE_FULL if self.full else MODE_INCREMENTAL)
        urls = list(urls)
        if urls:
            return [f for url in urls for f in self.article(url, "url", None, force=True)]
        out: list[Decision] = [
            f for url in retries for f in self.article(url, "retry", None, force=True)
        ]
        out += [f for url, lastmod in listed for f in self.article(url, "listing", lastmod)]
        if self.source == "html":  # with auto, robots.txt is read only if REST fails
            out.append(self._fetch(site.ROBOTS_PATH, ROBOTS, fallback=0))
        if self.source in ("auto", "api"):
            # the feed waits for REST's first page: its posts then come with REST's data
            out.append(self._rest_fetch(1, None if self.full else modified_after))
        elif self.source in ("html", "feed"):
            out += self._feed_start()
        return out

    def _fetch(self, path_or_url: str, kind: str, **fields) -> Fetch:
        return Fetch(rebase(path_or_url, self.base_url), kind, **fields)

    # -- the REST API ----------------------------------------------------------------------------
    def _rest_fetch(self, page: int, modified_after: str | None) -> Fetch:
        params = {
            "per_page": site.REST_PER_PAGE,
            "page": page,
            "_embed": 1,
            "orderby": "modified",
            "order": "desc",
        }
        if modified_after:
            params["modified_after"] = modified_after
        # core compares after/before with post_date, Santiago wall time, both exclusive
        if self.since:
            params["after"] = (datetime.fromisoformat(self.since) - timedelta(seconds=1)).strftime(
                site.REST_MODIFIED_AFTER_FORMAT
            )
        if self.until:
            params["before"] = (datetime.fromisoformat(self.until) + timedelta(days=1)).strftime(
                site.REST_MODIFIED_AFTER_FORMAT
            )
        return self._fetch(
            f"{site.REST_POSTS_PATH}?{urlencode(params)}",
            REST,
            page=page,
            modified_after=modified_after,
        )

    def rest(self, fetch: Fetch, posts: list, total_pages: int) -> list[Decision]:
        """A page of the REST API, read (crawler.parsers.rest.rest_posts): the posts whose
        pages are to be fetched, and the next page once few of them wait."""
        self.rest_state = "ok"
        self.held_sitemaps = None  # REST answers: the sitemaps are not needed
        self.count(DISCOVERY_OK)
        self.count(REST_PAGES)
        out = list(self._feed_start())
        for post in posts:
            if not post.is_article:
                continue
            url = canonical_url(post.url, self.base_url)
            if self.unchanged(url, post.modified or post.published, post.wp_id):
                self._skip(url)
                continue
            self.rest_posts[url] = post  # merged with the page when it is handled
            out += self.article(url, "rest", None)
        if fetch.page < total_pages and not self.limit_reached():
            self.next_rest = self._rest_fetch(fetch.page + 1, fetch.modified_after)
            out += self.rest_next()
        return out

    def rest_next(self) -> list[Fetch]:
        """The next REST page, once few of the posts read so far wait for their page."""
        if self.next_rest is not None and len(self.rest_posts) <= self.REST_BACKLOG:
            fetch, self.next_rest = self.next_rest, None
            return [fetch]
        return []

    def rest_post(self, url: str):
        """The REST post (or feed item) of the page at url, popped: each is merged once."""
        return self.rest_posts.pop(canonical_url(url, self.base_url), None)

    def rest_failed(
        self, fetch: Fetch, reason: str, status: int | None = None, body: bytes = b"", headers=None
    ) -> list[Decision]:
        """The REST API answered with an error, or not with a posts list: it is off (or
        blocked), and the sitemaps stand in. A 400 past the last page is WordPress saying
        there is no such page."""
        if status == 400 and fetch.page > 1:
            return []
        self.rest_state = "failed"
        self.count(REST_FAILED)
        log.warning(
            "the REST API did not answer (%s): %s",
            reason,
            "falling back to the sitemaps"
            if self.source == "auto"
            else "no other source was asked for",
        )
        out: list[Decision] = []
        if self.source == "api":
            blocked = block_kind(body, headers) is not None
            out.append(
                self._problem(
                    fetch.url,
                    f"REST API: {reason}",
                    status,
                    DISCOVERY_BLOCKED if blocked else DISCOVERY_FAILED,
                )
            )
        if self.source == "auto":
            out.append(self._fetch(site.ROBOTS_PATH, ROBOTS, fallback=0))
        return out + self._feed_start() + self._release_sitemaps()

    # -- robots.txt and the sitemaps ----------------------------------------------------------
    def robots(self, fetch: Fetch, body: bytes) -> list[Decision]:
        """robots.txt: the sitemaps it names, or else the usual sitemap paths."""
        self.count(DISCOVERY_OK)
        named = sitemap_urls_from_robots(body, fetch.url)
        out = [] if named else self._sitemaps(self._next_sitemap_path(fetch))
        return out + self._sitemaps([self._fetch(url, SITEMAP, fallback=0) for url in named])

    def sitemap(
        self, fetch: Fetch, body: bytes | Iterable[bytes], max_size: int = 0, headers=None
    ) -> Iterator[list[Decision]]:
        """A sitemap (or sitemap index, gzipped or not), read as a stream: batches of
        decisions, the first ones while most of it is still unread. The caller may stop
        iterating at any time (the crawl is stopping). max_size: the most XML read (inflated,
        for a .gz), as for any response."""
        batch: list[Decision] = []
        read = 0
        try:
            for entry in iter_sitemap_entries(body, max_size):
                if not read:
                    self.count(DISCOVERY_OK)
                read += 1
                batch += self._sitemap_entry(entry)
                if read % self.SITEMAP_BATCH == 0:
                    yield batch
                    batch = []
                if self.limit_reached():
                    break
        except NotASitemap as err:
            head = body if isinstance(body, bytes) else b""
            batch += self.broken(fetch, str(err), head, headers)
            batch += self._next_sitemap_path(fetch)
        except SitemapTooLarge as err:
            batch.append(self._problem(fetch.url, str(err), None, DISCOVERY_FAILED))
        yield batch

    def _sitemap_entry(self, entry: SitemapEntry) -> list[Decision]:
        if entry.kind == "sitemap":
            found = site.ARTICLE_SITEMAP.search(entry.loc)
            return [self._fetch(entry.loc, SITEMAP)] if found else []
        if self.since and entry.lastmod and entry.lastmod[:10] < self.since:
            return []  # last modified before --since: published before it too
        return self.article(entry.loc, "sitemap", entry.lastmod)

    def _next_sitemap_path(self, after: Fetch) -> list[Fetch]:
        """The next of the usual sitemap paths (from after.fallback on, other than after's
        own URL), tried when robots.txt or a sitemap named by it leads to none."""
        fallback = after.fallback
        while fallback is not None and fallback < len(site.SITEMAP_PATHS):
            guess = self._fetch(
                site.SITEMAP_PATHS[fallback], SITEMAP, fallback=fallback + 1, guessed=True
            )
            if guess.url != after.url:
                return [guess]
            fallback += 1
        return []

    def _sitemaps_go(self) -> bool:
        """Sitemaps are read when they are the source (source "html", or the REST API
        failed), and only after the feed walk, so that a page the sitemaps lead to finds its
        feed item (which stands in for what the page lacks or, blocked, for the page)."""
        return (self.source == "html" or self.rest_state == "failed") and self.feed_done

    def _sitemaps(self, fetches: list[Fetch]) -> list[Fetch]:
        if self._sitemaps_go():
            return fetches
        if self.rest_state != "ok":
            self.held_sitemaps = (self.held_sitemaps or []) + fetches
        return []

    def _release_sitemaps(self) -> list[Fetch]:
        if self.held_sitemaps and self._sitemaps_go():
            held, self.held_sitemaps = self.held_sitemaps, None
            return held
        return []

    # -- the RSS feed ----------------------------------------------------------------------------
    def _feed_start(self) -> list[Fetch]:
        if self.feed_done or self.feed_started:
            return []
        self.feed_started = True
        return [self._fetch(site.FEED_PATH, FEED)]

    def feed(
        self, fetch: Fetch, posts: list[dict] | None, body: bytes = b"", headers=None
    ) -> list[Decision]:
        """A feed page, read (crawler.parsers.feed.parse_feed; None: not a feed at all):
        the pages of its new items, and the next page while they are new."""
        if not posts:
            out = self.broken(fetch, "not an RSS feed", body, headers) if fetch.page == 1 else []
            return out + self._feed_finished()
        self.count(DISCOVERY_OK)
        out: list[Decision] = []
        fresh = 0
        for post in posts:
            if not post.get("is_article") or not self.in_range(post.get("published_date")):
                continue
            url = canonical_url(post["url"], self.base_url)
            if url in self.scheduled:  # REST (or an earlier feed page) has it already
                self.rest_posts.setdefault(url, post)  # REST's post, if any, wins
            elif self.unchanged(url, None, None):
                self._skip(url)
            else:
                fresh += 1
                self.rest_posts.setdefault(url, post)
                out += self.article(url, "feed", None)
        older = self.since and all((p.get("published_date") or "9") < self.since for p in posts)
        # newest first: in an incremental run, a page of archived posts means the rest are too;
        # past --since, every later page is older still
        if (
            (fresh or self.full)
            and not older
            and fetch.page < self.feed_pages
            and not self.limit_reached()
        ):
            next_page = fetch.page + 1
            out.append(
                self._fetch(
                    f"{site.FEED_PATH}?{site.FEED_PAGE_PARAM}={next_page}", FEED, page=next_page
                )
            )
        else:
            out += self._feed_finished()
        return out

    def _feed_finished(self) -> list[Fetch]:
        self.feed_done = True
        return self._release_sitemaps()

    # -- failures --------------------------------------------------------------------------
    def broken(self, fetch: Fetch, what: str, body: bytes, headers=None) -> list[Problem]:
        """A discovery page that answered, but not with what was asked for: a block page says
        so (Cloudflare), anything else is what (an article page at a sitemap URL, say)."""
        blocked = block_kind(body, headers)
        return [
            self._problem(
                fetch.url, blocked or what, None, DISCOVERY_BLOCKED if blocked else DISCOVERY_FAILED
            )
        ]

    def absent(self, fetch: Fetch, status: int | None) -> bool:
        """A 404 for robots.txt, for a guessed sitemap path or for the feed page after the last
        is how a site says "none", not a failure."""
        return status == 404 and (fetch.kind == ROBOTS or fetch.page > 1 or fetch.guessed)

    def failed(self, fetch: Fetch, status: int | None) -> list[Decision]:
        """A discovery request (not REST's) failed; the caller records it unless absent()."""
        out: list[Decision] = list(self._feed_finished()) if fetch.kind == FEED else []
        if (
            self.absent(fetch, status)
            and fetch.guessed
            and fetch.fallback >= len(site.SITEMAP_PATHS)
        ):
            out.append(
                self._problem(
                    fetch.url,
                    (
                        "no sitemap (robots.txt names none, and "
                        + " and ".join(site.SITEMAP_PATHS)
                        + " answer 404)"
                    ),
                    404,
                    DISCOVERY_FAILED,
                )
            )
        if fetch.kind == ROBOTS:
            out += self._sitemaps(self._next_sitemap_path(fetch))
        elif fetch.kind == SITEMAP:
            out += self._next_sitemap_path(fetch)
        return out

    def _problem(self, url: str, reason: str, status: int | None, key: str) -> Problem:
        self.count(key)
        return Problem(url, f"discovery: {reason}", status)

    # -- articles ------------------------------------------------------------------------------
    def limit_reached(self) -> bool:
        return self.max_articles is not None and len(self.scheduled) >= self.max_articles

    def in_range(self, day: str | None) -> bool:
        """Whether a publication day is within since/until (no day: not excluded)."""
        if not day:
            return True
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _skip(self, url: str) -> None:
        """An article not fetched because the archive has it unchanged (counted once)."""
        if url not in self.skipped:
            self.skipped.add(url)
            self.count(SKIPPED_UNCHANGED)

    def article(
        self, link: str, source: str, lastmod: str | None, force: bool = False
    ) -> list[Fetch]:
        """The page of an article, unless it is already scheduled, the archive has it as new
        as lastmod (its source's time for it), or max_articles is reached."""
        url = canonical_url(link, self.base_url)
        if url in self.scheduled or self.limit_reached():
            return []
        if lastmod and not force and self.unchanged(url, lastmod, None):
            self._skip(url)
            return []
        self.scheduled.add(url)
        self.count(scheduled(source))
        if force and "p=" in link:  # a shortlink ?p=ID: WordPress redirects to the article
            url = rebase(link, self.base_url)
        return [Fetch(url, ARTICLE, source=source, lastmod=lastmod, force=force)]
