"""Pure parsing: bytes and URL in, normalised article dicts out. No network, no Scrapy.

    from crawler.parsers import parse_article, parse_articles
    article = parse_article(page_bytes, "https://www.elciudadano.com/actualidad/.../11/21/")
    articles = parse_articles(feed_bytes, "https://www.elciudadano.com/feed/?paged=2")

An article page, an RSS feed page and a REST API posts response are told apart by their
content; all three go through one normalisation (crawler.parsers.normalize).
"""

from __future__ import annotations

from datetime import datetime

from crawler.parsers.feed import parse_feed
from crawler.parsers.html import parse_html
from crawler.parsers.normalize import not_article
from crawler.parsers.rest import parse_rest

__all__ = ["document_kind", "parse_article", "parse_articles"]


def document_kind(body: bytes, content_type: str | None = None) -> str:
    """ "rest", "feed" or "html", from the content type or the first bytes."""
    kind = (content_type or "").lower()
    if "json" in kind:
        return "rest"
    if "rss" in kind or "atom" in kind:
        return "feed"
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "rest"
    lowered = head.lower()
    if b"<rss" in lowered or (lowered.startswith(b"<?xml") and b"<html" not in lowered):
        return "feed"
    return "html"


def parse_articles(
    body: bytes, url: str, fetched_at: datetime | None = None, content_type: str | None = None
) -> list[dict]:
    """Every article in the document at url: one for an article page (is_article false, with
    a reason, for a page that is not one), one per item of a feed page or REST response."""
    kind = document_kind(body, content_type)
    if kind == "rest":
        return parse_rest(body, url, fetched_at)
    if kind == "feed":
        return parse_feed(body, url, fetched_at)
    return [parse_html(body, url, fetched_at, content_type)]


def parse_article(
    body: bytes, url: str, fetched_at: datetime | None = None, content_type: str | None = None
) -> dict:
    """The article of the page at url (for a feed or REST response, its first article)."""
    articles = parse_articles(body, url, fetched_at, content_type)
    return articles[0] if articles else not_article(url, "no articles in the document")
