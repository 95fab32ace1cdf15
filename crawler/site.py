"""Everything we know about www.elciudadano.com, as data (see shared/SITE.md).

Code asks this module questions; when the real site disagrees with it, correct it here.
Selectors are CSS, tried in order: the first that matches wins.
"""

from __future__ import annotations

import re

BASE_URL = "https://www.elciudadano.com"
HOSTS = frozenset({"www.elciudadano.com", "elciudadano.com"})
TIMEZONE = "America/Santiago"
SITE_NAME = "El Ciudadano"

# -- discovery -----------------------------------------------------------------------------
ROBOTS_PATH = "/robots.txt"
SITEMAP_PATHS = ("/sitemap_index.xml", "/wp-sitemap.xml")  # Yoast first, then WordPress core
# Which sitemaps of an index list articles (Yoast post-sitemapN.xml, core posts-post-N.xml).
ARTICLE_SITEMAP = re.compile(r"(post-sitemap\d*\.xml|wp-sitemap-posts-post-\d+\.xml)(\.gz)?$")
FEED_PATH = "/feed/"
FEED_PAGE_PARAM = "paged"

# -- URLs ----------------------------------------------------------------------------------
# Article: /{category-slug}/{post-slug}/{MM}/{DD}/  (month and day, no year)
ARTICLE_PATH = re.compile(r"^/(?:(?:en|deustche)/)?[^/]+/[^/]+/(\d{2})/(\d{2})/$")
AMP_SUFFIX = re.compile(r"/amp/?$")
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|igshid|amp|_ga)$")
# Translated editions live under their own first path segment.
LANGUAGE_PREFIXES = {"en": "en", "deustche": "de"}
DEFAULT_LANGUAGE = "es"

# Section slug -> display name, for sections whose name we cannot read from the page.
SECTIONS = {
    "actualidad": "Actualidad",
    "chile": "Chile",
    "politica": "Política",
    "mundo": "Mundo",
    "economia": "Economía",
    "cultura": "Cultura",
    "medio-ambiente": "Medio Ambiente",
    "pueblos": "Pueblos",
    "salud": "Salud",
    "deportes": "Deportes",
    "opinion": "Opinión",
    "en": "English Edition",
    "deustche": "Deutsche Ausgabe",
}

# -- article pages -------------------------------------------------------------------------
TITLE = ("h1.tdb-title-text", "h1.entry-title", "h1.td-post-title", "header h1")
BODY = (
    "div.td-post-content",
    "div.tdb_single_content div.tdb-block-inner",
    "div.entry-content",
    "article .post-content",
)
SUBTITLE = (
    "div.tdb_single_subtitle p",
    "div.tdb_single_subtitle",
    "p.td-post-sub-title",
    "div.td-post-sub-title",
)
# Dates are looked for in the article's own header only: sidebars and related posts carry
# other articles' dates.
DATE = (
    "div.tdb_single_date time[datetime]",
    "div.td-post-header time[datetime]",
    "article header time[datetime]",
    "header.entry-header time[datetime]",
)
DATE_TEXT = (
    "div.tdb_single_date",
    "div.td-post-header span.td-post-date",
    "header.td-post-title span.td-post-date",
    "header.entry-header .posted-on",
    "article header time",
)
CATEGORY = ("a.tdb-entry-category", "ul.td-category li a", "a[rel~=category]")
AUTHOR = ("a.tdb-author-name", "div.td-post-author-name a", "a[rel~=author]", "span.author a")
TAG = ("ul.tdb-tags a", "ul.td-tags a", "a[rel~=tag]")

# Removed from the body before reading its text.
BODY_NOISE = (
    "script", "style", "noscript", "iframe", "form", "ins",
    "div.td-a-rec", "div.td-post-sharing", "div.td_block_related_posts",
    "div.tdb-author-box", "div.td-author-box", "div.sharedaddy", "div.jp-relatedposts",
    "blockquote.twitter-tweet", "blockquote.instagram-media", "figure.wp-block-embed",
    "div.newsletter", "div.td-g-rec", "aside",
)
# Body paragraphs that are navigation, not text (matched on the start of the paragraph).
BODY_NOISE_PARAGRAPH = re.compile(
    r"^\s*(lee también|sigue leyendo|te puede interesar|revisa también|lea también)\b",
    re.IGNORECASE,
)
# Prefixes of author credits.
AUTHOR_PREFIX = re.compile(r"^\s*(por|by|von)\s*:?\s+", re.IGNORECASE)
# " | El Ciudadano", " - El Ciudadano" at the end of a title.
TITLE_SUFFIX = re.compile(r"\s*[|\-–—]\s*El Ciudadano\s*$", re.IGNORECASE)

# -- pages that are not articles -----------------------------------------------------------
BLOCK_TITLES = {
    "attention required! | cloudflare": "cloudflare-block",
    "just a moment...": "cloudflare-challenge",
    "access denied": "cloudflare-block",
}
BLOCK_MARKERS = (
    (b"cf-error-details", "cloudflare-block"),
    (b"Sorry, you have been blocked", "cloudflare-block"),
    (b"cf-challenge", "cloudflare-challenge"),
    (b"challenge-platform", "cloudflare-challenge"),
)
# body classes WordPress gives to pages that list articles
LISTING_BODY_CLASSES = ("category", "tag", "archive", "search", "author", "home", "blog", "date")
NOT_FOUND_BODY_CLASS = "error404"
ARTICLE_TYPES = {"Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle",
                 "OpinionNewsArticle", "AnalysisNewsArticle"}
LISTING_TYPES = {"CollectionPage", "SearchResultsPage", "ProfilePage"}
