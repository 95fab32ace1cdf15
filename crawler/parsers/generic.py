"""The generic extractor: what trafilatura reads on an article page whose template the parser
was never taught (the theme changed overnight, an old template, a page of another site).

Only for the fields the page's own markup, JSON-LD and meta tags do not give, and only ever
below them: its candidates are added last. Marked `generic:trafilatura` in provenance, so the
run's drift alarm counts them. The body it finds goes through the same blocks and the same
cleaner as a theme's body. trafilatura is imported only when a page needs it.
"""

from __future__ import annotations

import logging

from crawler.parsers import content
from crawler.parsers.normalize import Candidates

log = logging.getLogger(__name__)
SOURCE = "generic:trafilatura"
# Fewer words is a headline and a date line read as a body, not an article's text.
MIN_WORDS = 25


def add_candidates(found: Candidates, markup: bytes, url: str) -> None:
    """What the generic extractor reads on the page, added after every other source."""
    import trafilatura

    page = markup.decode("utf-8", "replace")
    try:
        body = trafilatura.extract(
            page,
            url=url,
            output_format="html",
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_formatting=True,
            include_links=True,
        )
        metadata = trafilatura.extract_metadata(page, default_url=url)
    except Exception as err:  # a third-party extractor on untrusted markup: never fatal
        log.warning("%s: the generic extractor failed: %s", url, err)
        return
    if metadata is not None:
        found.add("title", metadata.title, SOURCE)
        found.add("published", metadata.date, SOURCE)
        found.add("authors", _authors(metadata.author), SOURCE)
    blocks, embeds, body_html = content.fragment_blocks(_inner(body), url)
    found.add("body", blocks, SOURCE)
    found.add("body_html", body_html, SOURCE)
    found.add("embeds", embeds, SOURCE)


def _inner(document: str | None) -> str:
    """trafilatura's HTML output without its <html><body> wrapper."""
    if not document:
        return ""
    start, end = document.find("<body>"), document.rfind("</body>")
    return document[start + len("<body>") : end] if start >= 0 and end > start else document


def _authors(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(";") if name.strip()]
