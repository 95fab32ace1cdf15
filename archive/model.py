"""The article: its fields, an empty one, and slugs. Parsers and the archive both import it;
it knows nothing of storage."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    type: type  # the Python type of a present value (list and dict are stored as JSON text)
    description: str
    required: bool = False  # an article without it is recorded as a failure, not stored


ARTICLE_FIELDS: tuple[Field, ...] = (
    Field("url", str, "Canonical URL of the article (unique in the archive)", required=True),
    Field("wp_id", int, "WordPress post id"),
    Field("is_article", bool, "Whether the page is an article (false for listings, block pages)"),
    Field("reason", str, "Why a page is not an article"),
    Field("title", str, "Headline", required=True),
    Field("subtitle", str, "Standfirst (bajada) shown under the title"),
    Field("published", str, "Publication time, ISO 8601 with the America/Santiago offset",
          required=True),
    Field("published_date", str, "Publication day in Santiago (YYYY-MM-DD)", required=True),
    Field("date_precision", str, "How precise published is: datetime, or day (the source "
          "gave only the date; the time shown is the day's first hour)"),
    Field("modified", str, "Last modification time, ISO 8601 with the Santiago offset"),
    Field("section", str, "Display name of the primary category"),
    Field("section_slug", str, "Slug of the primary category"),
    Field("categories", list, "All category names"),
    Field("tags", list, "Tag names"),
    Field("authors", list, "Credited authors"),
    Field("language", str, "Language of the article: es, en or de"),
    Field("body", str, "Plain text body, paragraphs separated by a blank line", required=True),
    Field("body_html", str, "The body as clean, safe HTML: paragraphs, subheads, lists, "
          "quotes, links, emphasis, images and captions (no scripts, styles or tracking)"),
    Field("image_url", str, "Main image"),
    Field("word_count", int, "Words in the body"),
    Field("embeds", list, "URLs of tweets, videos and other embeds removed from the body"),
    Field("provenance", dict, "Where title, date, section and body were read from"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS if f.required)

# Fields of a parsed page that are about the page, not the article: not stored as columns.
PAGE_ONLY_FIELDS = ("is_article", "reason")


def empty_article(url: str) -> dict:
    """An article dict with every field present and empty, as the parser starts it."""
    article: dict = {name: None for name in FIELD_NAMES}
    article.update(url=url, is_article=False, categories=[], tags=[], authors=[], embeds=[],
                   provenance={})
    return article


def slugify(name: str) -> str:
    """'Medio Ambiente' -> 'medio-ambiente', 'Política' -> 'politica' (WordPress-style slugs)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
