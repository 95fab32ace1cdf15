"""The article: its fields and the rule each field's value obeys (checked_article: the same
rules for a crawled, reparsed or imported article), an empty one, and slugs. Parsers and the
archive both import it; it knows nothing of storage."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

# Dates an article may carry: a year outside these is a mistake (and 9999 overflows the
# conversion to UTC).
YEARS = range(1900, 2101)
BIGGEST_INTEGER = 2**63 - 1  # SQLite's
LANGUAGES = ("es", "en", "de")
DATE_PRECISIONS = ("datetime", "day")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def text(value) -> str | None:
    """What is wrong with value as text, or None when nothing is (so for every rule)."""
    return None if isinstance(value, str) else f"not text: {_shown(value)}"


def http_url(value) -> str | None:
    """Only http(s) URLs with a host: never javascript:, data:, file: or a bare path."""
    if isinstance(value, str) and value.isprintable() and " " not in value:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises for a port that is not a number from 0 to 65535)
            if parts.scheme in ("http", "https") and parts.hostname:
                return None
        except ValueError:  # a malformed port or IPv6 host
            pass
    return f"not an http(s) URL: {_shown(value)}"


def whole_number(value, least: int = 0) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and least <= value <= BIGGEST_INTEGER:
        return None
    return f"not a whole number from {least} to 2**63-1: {_shown(value)}"


def post_id(value) -> str | None:
    return whole_number(value, least=1)


def boolean(value) -> str | None:
    return None if isinstance(value, bool) else f"not true or false: {_shown(value)}"


def moment(value) -> str | None:
    """An ISO 8601 date and time with its UTC offset, in YEARS."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return f"not an ISO 8601 date and time with its offset: {_shown(value)}"
    return None if parsed.year in YEARS else f"year out of range: {_shown(value)}"


def day(value) -> str | None:
    """An ISO 8601 day, YYYY-MM-DD, in YEARS."""
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        return f"not a day (YYYY-MM-DD): {_shown(value)}"
    return None if parsed.year in YEARS else f"year out of range: {_shown(value)}"


def one_of(*choices: str) -> Callable[[object], str | None]:
    def rule(value) -> str | None:
        return (
            None
            if value in choices and isinstance(value, str)
            else f"not one of {', '.join(choices)}: {_shown(value)}"
        )

    return rule


def list_of(item: Callable[[object], str | None]) -> Callable[[object], str | None]:
    def rule(value) -> str | None:
        if not isinstance(value, list):
            return f"not a list: {_shown(value)}"
        for n, element in enumerate(value):
            wrong = item(element)
            if wrong:
                return f"item {n + 1}: {wrong}"
        return None

    return rule


def text_map(value) -> str | None:
    """An object of text values (provenance: where each field was read from)."""
    if not isinstance(value, dict):
        return f"not an object: {_shown(value)}"
    wrong = [k for k, v in value.items() if not isinstance(v, str)]
    return f"not text: {wrong[0]}: {_shown(value[wrong[0]])}" if wrong else None


@dataclass(frozen=True)
class Field:
    name: str
    type: type  # the Python type of a present value (list and dict are stored as JSON text)
    description: str
    required: bool = False  # an article without it is recorded as a failure, not stored
    rule: Callable[[object], str | None] = text  # what is wrong with a present value, or None


ARTICLE_FIELDS: tuple[Field, ...] = (
    Field(
        "url",
        str,
        "Canonical URL of the article (unique in the archive)",
        required=True,
        rule=http_url,
    ),
    Field("wp_id", int, "WordPress post id", rule=post_id),
    Field(
        "is_article",
        bool,
        "Whether the page is an article (false for listings, block pages)",
        rule=boolean,
    ),
    Field("reason", str, "Why a page is not an article"),
    Field("title", str, "Headline", required=True),
    Field("subtitle", str, "Standfirst (bajada) shown under the title"),
    Field(
        "published",
        str,
        "Publication time, ISO 8601 with the America/Santiago offset",
        required=True,
        rule=moment,
    ),
    Field(
        "published_date", str, "Publication day in Santiago (YYYY-MM-DD)", required=True, rule=day
    ),
    Field(
        "date_precision",
        str,
        "How precise published is: datetime, or day (the source "
        "gave only the date; the time shown is the day's first hour)",
        rule=one_of(*DATE_PRECISIONS),
    ),
    Field(
        "modified", str, "Last modification time, ISO 8601 with the Santiago offset", rule=moment
    ),
    Field("section", str, "Display name of the primary category"),
    Field("section_slug", str, "Slug of the primary category"),
    Field("categories", list, "All category names", rule=list_of(text)),
    Field("tags", list, "Tag names", rule=list_of(text)),
    Field("authors", list, "Credited authors", rule=list_of(text)),
    Field("language", str, "Language of the article: es, en or de", rule=one_of(*LANGUAGES)),
    Field("body", str, "Plain text body, paragraphs separated by a blank line", required=True),
    Field(
        "body_html",
        str,
        "The body as clean, safe HTML: paragraphs, subheads, lists, "
        "quotes, links, emphasis, images and captions (no scripts, styles or tracking)",
    ),
    Field("image_url", str, "Main image", rule=http_url),
    Field("word_count", int, "Words in the body", rule=whole_number),
    Field(
        "embeds",
        list,
        "URLs of tweets, videos and other embeds removed from the body",
        rule=list_of(http_url),
    ),
    Field("provenance", dict, "Where title, date, section and body were read from", rule=text_map),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in ARTICLE_FIELDS if f.required)

# Fields of a parsed page that are about the page, not the article: not stored as columns.
PAGE_ONLY_FIELDS = ("is_article", "reason")


class ArticleError(ValueError):
    """An article that breaks the model's rules: problems holds (field, what is wrong) pairs
    (the field "" for what is wrong with the whole), and the message says them all."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{name}: {wrong}" if name else wrong for name, wrong in problems)
        )


def article_problems(article: dict) -> list[tuple[str, str]]:
    """(field, what is wrong) for every field of article that breaks its rule; a required
    field that is missing, None or blank is "missing". The same rules for a crawled, a
    reparsed and an imported article."""
    problems = []
    for field in ARTICLE_FIELDS:
        value = article.get(field.name)
        if value is None or (field.required and isinstance(value, str) and not value.strip()):
            if field.required:
                problems.append((field.name, "missing"))
            continue
        wrong = field.rule(value)
        if wrong:
            problems.append((field.name, wrong))
    published, day_ = article.get("published"), article.get("published_date")
    if not problems and published and day_ and published[:10] != day_:
        wrong = f"not the day of published ({published[:10]}): {_shown(day_)}"
        problems.append(("published_date", wrong))
    return problems


def checked_article(record: dict) -> dict:
    """The model's fields of record, checked by their rules (ArticleError says what breaks
    them) and body_html cleaned as a crawl cleans it (archive.body), whoever wrote it."""
    if not isinstance(record, dict):
        raise ArticleError([("", f"not a JSON object: {_shown(record)}")])
    problems = article_problems(record)
    if problems:
        raise ArticleError(problems)
    article = {name: record.get(name) for name in FIELD_NAMES}
    if article["body_html"] is not None:
        from archive.body import clean_html

        article["body_html"] = clean_html(article["body_html"]) or None
    return article


def empty_article(url: str) -> dict:
    """An article dict with every field present and empty, as the parser starts it."""
    article: dict = {name: None for name in FIELD_NAMES}
    article.update(
        url=url, is_article=False, categories=[], tags=[], authors=[], embeds=[], provenance={}
    )
    return article


def slugify(name: str) -> str:
    """'Medio Ambiente' -> 'medio-ambiente', 'Política' -> 'politica' (WordPress-style slugs)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
