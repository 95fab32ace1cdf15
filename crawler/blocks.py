"""The one classifier of Cloudflare block and challenge pages, used by the downloader
middleware (no retry), the spider (a blocked page or discovery request) and the parser (never
an article). What the pages look like is declared in crawler.site."""

from __future__ import annotations

import re

from crawler import site

# A block page says what it is early: its head and first screen are well within this.
HEAD_BYTES = 20_000
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
BLOCK, CHALLENGE = "cloudflare-block", "cloudflare-challenge"


def block_kind(
    body: bytes, headers=None, title: str | None = None, has_article: bool = False
) -> str | None:
    """ "cloudflare-block", "cloudflare-challenge" or None (not a block page).

    headers: a mapping of response headers (Scrapy's or a dict), when there is a response;
    title: the page's title when the caller has parsed it already; has_article: the parser
    found an article in the page, whose markers then do not count (Cloudflare adds its
    challenge-platform script to pages it lets through)."""
    if headers is not None:
        mitigated = _header(headers, site.BLOCK_HEADER)
        if mitigated and mitigated.lower() == "challenge":
            return CHALLENGE
    head = body[:HEAD_BYTES]
    if title is None:
        match = _TITLE.search(head)
        title = match.group(1).decode("utf-8", "replace") if match else ""
    kind = site.BLOCK_TITLES.get(" ".join(title.split()).lower())
    if kind:
        return kind
    if has_article:
        return None
    for marker, marker_kind in site.BLOCK_MARKERS:
        if marker in head:
            return marker_kind
    return None


def _header(headers, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, list):  # Scrapy's getlist shape
        value = value[0] if value else None
        return value.decode("latin-1") if isinstance(value, bytes) else value
    return value
