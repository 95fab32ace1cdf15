"""One article from the sources that read it: the page, and the REST API post or feed item.

The rules, written once:
- ids and dates (wp_id, published, modified) from REST: exact, in UTC, from WordPress itself;
- everything a reader sees (title, body, section, authors, tags, image, embeds) from the page,
  the article as published, with what the page lacks taken from REST;
- the standfirst from whichever has it (the page's block first, then REST's ACF field);
- a feed item only fills what the page lacks (its pubDate is exact, but the page's own dates
  come first);
- a post whose page is blocked or failed is stored from REST or the feed alone, marked in
  provenance (`"page": <why>`), and a later run that reaches the page replaces it.
`provenance` says where each field came from.
"""

from __future__ import annotations

FROM_REST = ("wp_id", "published", "published_date", "date_precision", "modified")
# What only the post's content gives (its costly part to read).
FROM_CONTENT = ("body", "body_html", "word_count")
FILL_FROM_REST = (
    "title",
    "subtitle",
    "section",
    "section_slug",
    "categories",
    "tags",
    "authors",
    "language",
    "body",
    "body_html",
    "image_url",
    "word_count",
)


def merge(page: dict | None, rest) -> dict:
    """The archived article from the page's parse and the REST post's or feed item's: rest is
    a normalised article dict, a crawler.parsers.rest.RestPost (read lazily), or None."""
    from_rest = None
    if rest is not None and not isinstance(rest, dict):  # a RestPost
        if not rest.is_article:
            return page
        page_ok = page is not None and page.get("is_article")
        if page_ok and all(page.get(name) not in (None, "", []) for name in FILL_FROM_REST):
            return _merge_dates(page, rest.cheap())  # the page has the rest: no more REST
        # the post's content (and its standfirst) is read only when the page lacks what it
        # gives
        lacks = lambda name: not page_ok or page.get(name) in (None, "", [])
        rest = rest.article(
            content=any(lacks(name) for name in FROM_CONTENT), subtitle=lacks("subtitle")
        )
        from_rest = True
    if rest is None or not rest.get("is_article"):
        return page
    if page is None or not page.get("is_article"):
        article = dict(rest)
        provenance = dict(rest.get("provenance") or {})
        provenance["page"] = (page or {}).get("reason") or "not fetched"
        article["provenance"] = provenance
        return article
    article = dict(page)
    provenance = dict(page.get("provenance") or {})
    rest_provenance = rest.get("provenance") or {}
    if from_rest is None:  # a dict: a REST post's article, or a feed item's
        from_rest = str(rest_provenance.get("body") or "").startswith("rest:")
    for name in FROM_REST if from_rest else ():
        if rest.get(name) not in (None, "", []):
            article[name] = rest[name]
            if name in rest_provenance:
                provenance[name] = rest_provenance[name]
    for name in FILL_FROM_REST + (() if from_rest else FROM_REST):
        if article.get(name) in (None, "", []) and rest.get(name) not in (None, "", []):
            article[name] = rest[name]
            provenance[name] = rest_provenance.get(name, "rest")
    article["provenance"] = provenance
    return _standfirst_once(article, page)


def _standfirst_once(article: dict, page: dict) -> dict:
    """A standfirst another source gave (the page had none: REST's ACF field, a feed's written
    excerpt, the stored article's) is removed from the start of the page's body, where the
    page printed it as the first paragraph."""
    if not article.get("subtitle") or page.get("subtitle") or not page.get("body"):
        return article
    from crawler.parsers.normalize import without_standfirst

    return without_standfirst(article, article["subtitle"])


def _merge_dates(page: dict, cheap: dict) -> dict:
    article = dict(page)
    provenance = dict(page.get("provenance") or {})
    for name in FROM_REST:
        if cheap.get(name) not in (None, "", []):
            article[name] = cheap[name]
    provenance["published"] = cheap["provenance"]["published"]
    article["provenance"] = provenance
    return article


def merge_stored(page: dict, stored: dict) -> dict:
    """A page parsed anew (`ciudadano reparse`) with what the archive holds from REST or the
    feed, by the rules above: ids and dates read from REST stay, and what the page lacks is
    filled from the stored article."""
    article = dict(page)
    provenance = dict(page.get("provenance") or {})
    stored_provenance = stored.get("provenance") or {}
    for name in FROM_REST:
        # the id and dates came together from one REST post; provenance names the date's source
        source = str(stored_provenance.get(name) or stored_provenance.get("published") or "")
        if source.startswith("rest:") and stored.get(name) not in (None, "", []):
            article[name] = stored[name]
            if name in stored_provenance:
                provenance[name] = stored_provenance[name]
    for name in FILL_FROM_REST + FROM_REST:
        if article.get(name) in (None, "", []) and stored.get(name) not in (None, "", []):
            article[name] = stored[name]
            if name in stored_provenance:  # where the stored value came from, as it said
                provenance[name] = stored_provenance[name]
    article["provenance"] = provenance
    return _standfirst_once(article, page)


def with_lastmod(article: dict | None, lastmod: str | None) -> dict | None:
    """An article that no source dated (not its page, REST or the feed) takes its sitemap
    lastmod, the last resort, marked in provenance: an article is not lost for want of a
    date."""
    if not article or not article.get("is_article") or article.get("published") or not lastmod:
        return article
    from crawler.parsers.dates import iso, parse_machine_date, precision

    moment = parse_machine_date(lastmod)
    if moment is None:
        return article
    article = dict(article)
    article.update(
        published=iso(moment),
        published_date=moment.date().isoformat(),
        date_precision=precision(lastmod),
    )
    article["provenance"] = dict(article.get("provenance") or {}, published="sitemap:lastmod")
    return article
