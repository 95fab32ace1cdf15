"""The one normalisation: candidate values read from any source -> the archived article.

An extractor (HTML page today; feed item and REST post next) only says what each source offers
for each field, best source first. Choosing, cleaning and recording provenance happen here,
once, so the same post read from anywhere comes out the same.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from archive.model import empty_article, slugify
from crawler import site
from crawler.parsers import content, dates, text
from crawler.urls import canonical_url, site_base

log = logging.getLogger(__name__)
# Fields left empty are told on their own logger, at DEBUG: a crawl of 300,000 pages does not
# want them, `ciudadano parse` shows them as warnings.
missing_log = logging.getLogger("crawler.parsers.missing")

# Fields whose provenance is recorded.
AUDITED = ("title", "published", "section", "body")
# Left empty, these are told on missing_log (url and is_article are always set).
EXPECTED = (
    "wp_id",
    "title",
    "subtitle",
    "published",
    "modified",
    "section",
    "authors",
    "body",
    "image_url",
)


class Candidates:
    """What each source offers for each field, in the order the sources are trusted.

    A value may be a function of no arguments: it is called only when every source before it
    gave nothing, so a page whose JSON-LD has the title never runs the title selectors.
    """

    def __init__(self) -> None:
        self._values: dict[str, list[tuple[Any, str]]] = defaultdict(list)

    def add(self, field: str, value: Any, source: str) -> None:
        if _empty(value):
            return
        self._values[field].append((value, source))

    def get(self, field: str) -> Iterator[tuple[Any, str]]:
        for value, source in self._values.get(field, ()):
            if callable(value):
                value = value()
                if _empty(value):
                    continue
            yield value, source


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def normalize(found: Candidates, url: str, fetched_at: datetime | None = None) -> dict:
    """The archived article from what an extractor found in the page fetched from url."""
    article = empty_article(_url(found, url))
    article["is_article"] = True
    provenance: dict[str, str] = {}
    article["wp_id"] = _first(found, "wp_id", _as_int)[0]
    article["title"], provenance["title"] = _first(found, "title", _clean_title)
    published, provenance["published"] = _first(found, "published", _date(fetched_at))
    if published is not None:
        article["published"] = dates.iso(published)
        article["published_date"] = published.date().isoformat()
        article["date_precision"] = _precision(found, provenance["published"])
        _check_url_day(published, url)
    modified = _first(found, "modified", _date(fetched_at))[0]
    article["modified"] = dates.iso(modified) if modified else None
    article["section"], provenance["section"] = _first(found, "section", text.collapse)
    edition = _edition(article["url"])
    if edition:  # a translation belongs to its edition, whatever Spanish categories it carries
        article["section"], provenance["section"] = site.SECTIONS[edition], "url:edition"
    article["section_slug"] = edition or _section_slug(found, article["section"])
    article["categories"] = _names(found, "categories", article["section"], every_source=True)
    article["tags"] = _names(found, "tags")
    article["authors"] = _authors(found)
    article["language"] = _first(found, "language", _language)[0] or site.DEFAULT_LANGUAGE
    article["subtitle"], article["body"], provenance["body"] = _subtitle_and_body(found)
    article["body_html"] = _body_html(found, provenance["body"], article["subtitle"])
    article["embeds"] = _names(found, "embeds")
    article["image_url"] = _first(found, "image_url", text.collapse)[0]
    article["word_count"] = len(article["body"].split()) if article["body"] else None
    article["provenance"] = {k: v for k, v in provenance.items() if v}
    for name in EXPECTED:
        if article[name] in (None, []):
            missing_log.debug("%s: no %s found", article["url"], name)
    return article


def not_article(url: str, reason: str) -> dict:
    article = empty_article(canonical_url(url, site_base(url)))
    article["reason"] = reason
    return article


def add_categories(found: Candidates, terms: list[tuple[str, str]], url: str, source: str) -> None:
    """Categories of a feed item or REST post as (name, slug): the primary one is the one
    the permalink is filed under (its first path segment), else the first."""
    if not terms:
        return
    segments = [s for s in urlsplit(url).path.split("/") if s]
    filed_under = segments[0] if segments else None
    primary = next((t for t in terms if t[1] == filed_under), terms[0])
    found.add("section", primary[0], source)
    found.add("section_links", terms, source)
    found.add(
        "categories", [primary[0]] + [name for name, _ in terms if name != primary[0]], source
    )


def is_section_name(name: str) -> bool:
    """Whether a term name is one of the site's sections (feeds mix categories and tags)."""
    return slugify(name) in site.SECTIONS or name in site.SECTIONS.values()


def section_slug_for(name: str) -> str:
    for slug, display in site.SECTIONS.items():
        if display == name:
            return slug
    return slugify(name)


# -- one small function per field -------------------------------------------------------------
def _first(found: Candidates, field: str, clean) -> tuple[Any, str | None]:
    """The first candidate that survives cleaning, and its source."""
    for value, source in found.get(field):
        cleaned = clean(value)
        if cleaned not in (None, "", []):
            return cleaned, source
    return None, None


def _url(found: Candidates, fetched_url: str) -> str:
    base = site_base(fetched_url)
    fetched_host = urlsplit(fetched_url).netloc
    for value, _ in found.get("canonical"):
        host = urlsplit(value).hostname
        if host in site.HOSTS or urlsplit(value).netloc == fetched_host:
            return canonical_url(value, base)
    return canonical_url(fetched_url, base)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clean_title(value: str) -> str:
    title = text.collapse(value)
    if "ciudadano" in title[-16:].lower():  # the suffix regex only where it can match
        title = site.TITLE_SUFFIX.sub("", title)
    return title


def _precision(found: Candidates, source: str | None) -> str:
    """The precision of the published candidate that was taken (from source)."""
    for value, from_ in found.get("published"):
        if from_ == source:
            return dates.precision(value)
    return "datetime"


def _date(fetched_at: datetime | None):
    def parse(value: str | datetime) -> datetime | None:
        if isinstance(value, datetime):
            return dates.in_santiago(value)
        return dates.parse_machine_date(value) or dates.parse_text_date(value, fetched_at)

    return parse


def _check_url_day(published: datetime, url: str) -> None:
    month_day = dates.url_month_day(site.ARTICLE_PATH.match(urlsplit(url).path))
    if not dates.agrees_with_url(published, month_day):
        log.warning(
            "%s: published %s (Santiago) disagrees with the URL's month/day %02d/%02d",
            url,
            dates.iso(published),
            *month_day,
        )


def _edition(url: str) -> str | None:
    """'en' or 'deustche' for an article of a translated edition (its first path segment)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[0] if segments and segments[0] in site.LANGUAGE_PREFIXES else None


def _section_slug(found: Candidates, section: str | None) -> str | None:
    if not section:
        return None
    wanted = text.comparable(section)
    for links, _ in found.get("section_links"):
        for name, slug in links:
            if slug and text.comparable(name) == wanted:
                return slug
    return section_slug_for(section)


def _names(
    found: Candidates, field: str, first: str | None = None, every_source: bool = False
) -> list[str]:
    """The names the most trusted source with any gives (or every source, merged), in order,
    without near-duplicates; first (the section, for categories) leads."""
    sources = (
        [v for v, _ in found.get(field)]
        if every_source
        else [next((v for v, _ in found.get(field)), [])]
    )
    names: list[str] = [first] if first else []
    seen = {text.comparable(n) for n in names}
    for value in (
        v for values in sources for v in (values if isinstance(values, (list, tuple)) else [values])
    ):
        name = text.collapse(value)
        key = text.comparable(name) or name
        if name and key not in seen:
            seen.add(key)
            names.append(name)
    return names


def _authors(found: Candidates) -> list[str]:
    """The credit of the most trusted source that has one; 'Por ' prefixes removed."""
    for values, _ in found.get("authors"):
        names = []
        for value in values if isinstance(values, (list, tuple)) else [values]:
            credit = site.AUTHOR_PREFIX.sub("", text.collapse(value))
            credit = site.AUTHOR_SOURCE_TAIL.sub("", credit)
            for part in _people(credit):
                if part and part not in names:
                    names.append(part)
        if names:
            return names
    return []


def _people(credit: str) -> list[str]:
    """The people of one credit: split at commas, and at "y"/"and" only when every side is
    a full name of two words or more."""
    people: list[str] = []
    for piece in site.AUTHOR_LIST_SEPARATOR.split(credit):
        piece = site.AUTHOR_PREFIX.sub("", piece).strip()
        pair = site.AUTHOR_PAIR_SEPARATOR.split(piece)
        if len(pair) > 1 and all(len(p.split()) >= 2 for p in pair):
            people.extend(p.strip() for p in pair)
        elif piece:
            # "Camila Rojas, Pedro Pérez y Ana Díaz": the last piece holds a pair
            people.append(piece)
    return people


def _language(value: str) -> str | None:
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _blocks(blocks: list[text.Block]) -> list[text.Block] | None:
    return blocks if any(t for _, t in blocks) else None


_FIRST_PARAGRAPH = re.compile(r"\s*<p>((?:(?!</?p>).)*)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _body_html(found: Candidates, source: str | None, subtitle: str | None) -> str | None:
    """The body_html read with the body (same source), without the standfirst at its start,
    as the body text (navigation paragraphs are out already: content.body_html)."""
    markup = next((value for value, from_ in found.get("body_html") if from_ == source), None)
    return _html_without_standfirst(markup, subtitle)


def without_standfirst(article: dict, subtitle: str) -> dict:
    """The article without the standfirst another source gave (REST's ACF field, a feed's
    written excerpt) at the start of its body and body_html: a standfirst is kept once."""
    body = article.get("body")
    if not body or not subtitle:
        return article
    items = [("p", paragraph) for paragraph in body.split("\n\n")]
    rest = text.strip_standfirst(items, subtitle)
    if rest is items or not rest:
        return article
    article = dict(article)
    article["body"] = "\n\n".join(paragraph for _, paragraph in rest)
    article["word_count"] = len(article["body"].split())
    article["body_html"] = _html_without_standfirst(article.get("body_html"), subtitle)
    return article


def _html_without_standfirst(markup: str | None, subtitle: str | None) -> str | None:
    if not markup or not subtitle:
        return markup or None
    target = text.comparable(subtitle)
    first = _FIRST_PARAGRAPH.match(markup)
    if first is None:
        return markup
    start = text.comparable(_TAG.sub(" ", first.group(1)))
    if start == target:  # the usual case: the standfirst as the first paragraph
        return markup[first.end() :].strip() or None
    if not (start and target.startswith(start)):
        return markup
    # the standfirst in up to three blocks, as text.strip_standfirst
    container = content.fragment_container(markup)
    if container is None:
        return markup
    seen, lead = "", []
    for el in [el for el in container if isinstance(el.tag, str)][:3]:
        seen += text.comparable(text.element_text(el))
        lead.append(el)
        if seen == target:
            for each in lead:
                each.drop_tree()  # drop_tree keeps the text that follows it
            inner = (container.text or "") + "".join(
                etree.tostring(el, encoding="unicode", method="html") for el in container
            )
            return inner.strip() or None
        if not target.startswith(seen):
            break
    return markup


# The post's own excerpt field as WordPress serves it (not a page's meta description, which
# a theme or an SEO plugin may fill with anything).
WORDPRESS_EXCERPTS = frozenset({"feed:description", "rest:excerpt"})
_EXCERPT_MORE = re.compile(r"\s*(\[(…|\.\.\.)\]|…|\.\.\.)$")


def _written_excerpt(excerpt: str | None, items: list) -> bool:
    """True when an excerpt was written for the post, not cut from it: WordPress's automatic
    excerpt is the body's first 55 words (then "[…]"), so its last words are in the body; a
    written one (the site's standfirst) is not."""
    if not excerpt or not items:
        return False
    words = _EXCERPT_MORE.sub("", excerpt).split()
    if not words:
        return False
    body = " " + " ".join(" ".join(t.split()) for _, t in items) + " "
    return " " + " ".join(words[-8:]) + " " not in body


def _subtitle_and_body(found: Candidates) -> tuple[str | None, str | None, str | None]:
    """The standfirst is kept once, as subtitle, and removed from the start of the body. An
    explicit standfirst block wins; else an excerpt counts as the standfirst when the body
    starts with it, or when it is WordPress's excerpt of the post and was written for it."""
    items, source = _first(found, "body", _blocks)
    items = items or []
    subtitle = _first(found, "subtitle", text.collapse)[0]
    if subtitle is None:
        for value, origin in found.get("excerpt"):
            excerpt = text.collapse(value)
            rest = text.strip_standfirst(items, excerpt) if excerpt else items
            # WordPress's automatic excerpt of a short post is the whole post: not a standfirst
            if (rest is not items and rest) or (
                origin in WORDPRESS_EXCERPTS and _written_excerpt(excerpt, items)
            ):
                subtitle = excerpt
                break
    body = text.body_text(items, subtitle) or None
    return subtitle, body, source
