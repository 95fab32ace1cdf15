"""The one schema of an archived article, and the tables that hold it.

Parser, pipelines, store, exports and the Datasette metadata all read ARTICLE_FIELDS,
so a field is declared here once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class Field:
    name: str
    type: type  # the Python type of a present value (list and dict are stored as JSON text)
    description: str
    required: bool = False  # an article without it is recorded as a failure, not stored


ARTICLE_FIELDS: tuple[Field, ...] = (
    Field("url", str, "Canonical URL of the article (primary key)", required=True),
    Field("wp_id", int, "WordPress post id"),
    Field("is_article", bool, "Whether the page is an article (false for listings, block pages)"),
    Field("reason", str, "Why a page is not an article"),
    Field("title", str, "Headline", required=True),
    Field("subtitle", str, "Standfirst (bajada) shown under the title"),
    Field("published", str, "Publication time, ISO 8601 with the America/Santiago offset",
          required=True),
    Field("published_date", str, "Publication day in Santiago (YYYY-MM-DD)", required=True),
    Field("modified", str, "Last modification time, ISO 8601 with the Santiago offset"),
    Field("section", str, "Display name of the primary category"),
    Field("section_slug", str, "Slug of the primary category"),
    Field("categories", list, "All category names"),
    Field("tags", list, "Tag names"),
    Field("authors", list, "Credited authors"),
    Field("language", str, "Language of the article: es, en or de"),
    Field("body", str, "Plain text body, paragraphs separated by a blank line", required=True),
    Field("image_url", str, "Main image"),
    Field("word_count", int, "Words in the body"),
    Field("embeds", list, "URLs of tweets, videos and other embeds removed from the body"),
    Field("provenance", dict, "Where title, date, section and body were read from"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS if f.required)

# Fields of a parsed page that are about the page, not the article: not stored as columns.
PAGE_ONLY_FIELDS = ("is_article", "reason")

# Columns the archive adds to every article row.
ARCHIVE_COLUMNS: dict[str, tuple[type, str]] = {
    "year": (int, "Publication year in Santiago (for faceting)"),
    "content_hash": (str, "SHA-256 of the stored fields: an unchanged article is not rewritten"),
    "first_seen": (str, "When the archive first stored this article (UTC)"),
    "last_changed": (str, "When the stored fields last changed (UTC)"),
    "run_id": (int, "The crawl run that last wrote this row"),
}

FTS_COLUMNS = ("title", "subtitle", "body")
# unicode61 with remove_diacritics 2 folds case and accents: "politica" finds "Política".
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

ARTICLES = "articles"
FAILURES = "failures"
RUNS = "runs"

SCHEMA_VERSION = 1


def empty_article(url: str) -> dict:
    """An article dict with every field present and empty, as the parser starts it."""
    article: dict = {name: None for name in FIELD_NAMES}
    article.update(url=url, is_article=False, categories=[], tags=[], authors=[], embeds=[],
                   provenance={})
    return article


def article_columns() -> dict[str, type]:
    columns = {f.name: f.type for f in ARTICLE_FIELDS if f.name not in PAGE_ONLY_FIELDS}
    columns.update({name: typ for name, (typ, _) in ARCHIVE_COLUMNS.items()})
    return columns


def column_descriptions() -> dict[str, str]:
    described = {f.name: f.description for f in ARTICLE_FIELDS if f.name not in PAGE_ONLY_FIELDS}
    described.update({name: text for name, (_, text) in ARCHIVE_COLUMNS.items()})
    return described


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables, indexes and full-text index if they are missing (idempotent)."""
    db.execute("PRAGMA journal_mode=WAL")
    if ARTICLES not in db.table_names():
        db[ARTICLES].create(article_columns(), pk="url", not_null={"url"})
    else:  # a newer schema may add columns to an old archive
        present = {c.name for c in db[ARTICLES].columns}
        for name, typ in article_columns().items():
            if name not in present:
                db[ARTICLES].add_column(name, typ)
    articles = db[ARTICLES]
    existing = {tuple(i.columns) for i in articles.indexes}
    for cols in (("wp_id",), ("section_slug",), ("published_date",), ("year",)):
        if cols not in existing:
            articles.create_index(list(cols))
    if not articles.detect_fts():
        articles.enable_fts(list(FTS_COLUMNS), tokenize=FTS_TOKENIZE, create_triggers=True)
    if RUNS not in db.table_names():
        db[RUNS].create(
            {
                "id": int, "started_at": str, "finished_at": str, "base_url": str,
                "status": str, "articles_new": int, "articles_changed": int,
                "articles_unchanged": int, "failures": int, "stats": str,
            },
            pk="id",
        )
    if FAILURES not in db.table_names():
        db[FAILURES].create(
            {"id": int, "run_id": int, "url": str, "reason": str, "status": int, "at": str},
            pk="id",
        )
        db[FAILURES].create_index(["url"])
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def slugify(name: str) -> str:
    """'Medio Ambiente' -> 'medio-ambiente', 'Política' -> 'politica' (WordPress-style slugs)."""
    import re
    import unicodedata

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
