"""The gate that keeps every request on the site, retries with exponential backoff (Scrapy's
RetryMiddleware retries at once), and redirects (HTTP and meta refresh) that stay on the site."""

from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from w3lib import html

from archive import outcomes
from crawler.blocks import block_kind
from crawler.urls import site_hosts

log = logging.getLogger(__name__)

# requests refused before any connection: off the site (SiteOnlyMiddleware)
OFFSITE_REFUSED = outcomes.OFFSITE_REFUSED

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of url, a default port made explicit: what makes two URLs one
    site. A port that is not one gives no host (no site has it)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return scheme, "", None
    return scheme, parts.hostname or "", DEFAULT_PORTS.get(scheme) if port is None else port


@lru_cache(maxsize=8)
def site_origins(base: str) -> frozenset[tuple[str, str, int | None]]:
    """The origins of the site crawled from base: base's scheme and port on each of its hosts
    (www. and the bare domain: crawler.urls.site_hosts)."""
    scheme, _, port = origin(base)
    return frozenset((scheme, host, port) for host in site_hosts(base))


def on_the_site(url: str, base: str) -> bool:
    return origin(url) in site_origins(base)


class OffSite(IgnoreRequest):
    """A request off the site, refused before any connection."""


class SiteOnlyMiddleware:
    """The gate every request passes, first of the downloader middlewares: only the site's own
    origins (site_origins) are fetched, whatever asked for them: robots.txt's Sitemap lines, a
    sitemap index's children, redirects, meta refresh, robots.txt itself. It stands in for
    Scrapy's OffsiteMiddleware, which lets a dont_filter request through and ignores the port.
    A refused request fails with OffSite (its errback records it), counted in
    OFFSITE_REFUSED and logged."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        base = self.crawler.spider.base_url
        if on_the_site(request.url, base):
            return None
        self.crawler.stats.inc_value(OFFSITE_REFUSED)
        log.info("refused %s: off the site (%s)", request.url, base)
        raise OffSite(f"off the site ({base})")


class BackoffRetryMiddleware(RetryMiddleware):
    """Wait RETRY_BACKOFF_BASE * 2**n seconds (at most RETRY_BACKOFF_MAX, at least what a
    Retry-After header asks) before the n-th retry of a 5xx, 429 or network error."""

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    def _delay(self, request, retry_after: float = 0.0) -> float:
        retries = request.meta.get("retry_times", 0)
        return min(self.backoff_max, max(retry_after, self.backoff_base * 2**retries))

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor, task  # the reactor Scrapy installed

            await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        if block_kind(response.body, response.headers):
            return response  # a block or challenge does not lift by asking again at once
        retry_after = _seconds(response.headers.get(b"Retry-After"))
        if retry_after > self.backoff_max:  # not in this run: a later run tries it again
            log.info(
                "%s asks to wait %.0f s (Retry-After): left for a later run",
                request.url,
                retry_after,
            )
            return response
        delay = self._delay(request, retry_after)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        log.info("retrying %s in %.1f s (HTTP %s)", request.url, delay, response.status)
        await self._sleep(delay)
        return retry

    # A host that does not resolve or refuses connections is not busy: one quick retry (a
    # passing DNS or network blip), not the backoff ladder, so an unreachable site is told in
    # seconds.
    UNREACHABLE_RETRIES = 1

    async def process_exception(self, request, exception, spider=None):
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        if (
            _unreachable(exception)
            and request.meta.get("retry_times", 0) >= self.UNREACHABLE_RETRIES
        ):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        delay = self._delay(request)
        log.info("retrying %s in %.1f s (%s)", request.url, delay, exception.__class__.__name__)
        await self._sleep(delay)
        return retry


def _unreachable(exception) -> bool:
    """Refused or unresolvable: Scrapy's own exceptions (2.13+) and Twisted's."""
    import scrapy.exceptions
    from twisted.internet.error import ConnectionRefusedError, DNSLookupError

    kinds = (ConnectionRefusedError, DNSLookupError) + tuple(
        getattr(scrapy.exceptions, name)
        for name in ("DownloadConnectionRefusedError", "CannotResolveHostError")
        if hasattr(scrapy.exceptions, name)
    )
    return isinstance(exception, kinds)


def _seconds(value: bytes | None) -> float:
    """Retry-After as seconds: delta-seconds, or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return 0.0  # unreadable: our own backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class RedirectFailure(IgnoreRequest):
    """A redirect the crawl does not follow; its message is the failure's reason."""


class _OnTheSite:
    """Redirects within the site (its scheme, host and port; www and the bare domain) are
    followed; one off the site, a loop or too long a chain fails the request with a
    RedirectFailure, which the spider records, instead of dropping it unseen. (The gate,
    SiteOnlyMiddleware, would refuse an off-site one too: this says why, at once.)"""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if not on_the_site(redirected.url, self.crawler.spider.base_url):
            raise RedirectFailure(f"redirected off the site to {redirected.url}")
        if redirected.url in chain:
            raise RedirectFailure("redirect loop: " + " -> ".join([*chain, redirected.url]))
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            raise RedirectFailure(
                f"more than {self.max_redirect_times} redirects "
                f"({chain[0]} -> ... -> {redirected.url})"
            ) from None

    def handle_referer(self, request, response) -> None:
        """The crawl sends no Referer (settings: RefererMiddleware is off), redirected or not."""
        request.headers.pop("Referer", None)

    def _engine_started(self) -> None:
        """Scrapy's looks for RefererMiddleware here and warns on every run that it is off:
        it is off on purpose (handle_referer above)."""


class SiteRedirectMiddleware(_OnTheSite, RedirectMiddleware):
    """HTTP redirects (3xx with a Location), on the site only (_OnTheSite)."""


class SiteMetaRefreshMiddleware(_OnTheSite, MetaRefreshMiddleware):
    """A page's <meta http-equiv="refresh" content="N; url=...">, on the site only
    (_OnTheSite), read from the page's first HEAD_BYTES bytes. Scrapy's own decodes the whole
    page (150 KB an article) to look at its first 4,096 characters, and nothing else in the
    crawl process reads an article as text: the parser process does."""

    HEAD_BYTES = 4096

    def process_response(self, request, response, spider=None):
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlsplit(request.url).scheme not in ("http", "https")
        ):
            return response
        encoding = response.encoding
        head = response.body[: self.HEAD_BYTES].decode(encoding, "replace")
        base = html.get_base_url(head, response.url, encoding)
        interval, url = html.get_meta_refresh(head, base, encoding, ignore_tags=self._ignore_tags)
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlsplit(redirected.url).scheme not in ("http", "https"):
            return response
        if interval < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response
