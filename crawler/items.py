"""Scrapy items, built from the one schema in archive/schema.py."""

from __future__ import annotations

import scrapy

from archive.model import ARTICLE_FIELDS

# One field per schema field; the description travels with it for exporters and docs.
Article = type(
    "Article",
    (scrapy.Item,),
    {f.name: scrapy.Field(description=f.description) for f in ARTICLE_FIELDS},
)
Article.__doc__ = "A normalised article, as crawler.parsers.parse_article returns it."


class Failure(scrapy.Item):
    """A page that could not be archived, and why; stored in the failures table."""

    url = scrapy.Field()
    reason = scrapy.Field()
    status = scrapy.Field()
    # "later": tried again by later runs with backoff; "final": given up (404, 410); None:
    # not an article, disallowed, a discovery page: nothing to try again
    retry = scrapy.Field()
