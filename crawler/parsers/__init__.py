"""Pure parsing: bytes and URL in, the normalised article dict out. No network, no Scrapy.

    from crawler.parsers import parse_article
    article = parse_article(page_bytes, "https://www.elciudadano.com/actualidad/.../11/21/")
"""

from __future__ import annotations

from datetime import datetime

from crawler.parsers.html import parse_html

__all__ = ["parse_article"]


def parse_article(body: bytes, url: str, fetched_at: datetime | None = None,
                  content_type: str | None = None) -> dict:
    """The normalised article read from the page at url (is_article false, with a reason, for
    anything that is not an article)."""
    return parse_html(body, url, fetched_at, content_type)
