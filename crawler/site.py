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
# Current tagDiv Cloud templates first, then the older Newspaper template, pre-tagDiv themes,
# AMP, and the markup WordPress core emits in any theme (block themes included).
TITLE = (
    "h1.tdb-title-text",
    "h1.entry-title",
    "h1.td-post-title",
    "h1.wp-block-post-title",
    "h1.amp-wp-title",
    "article h1",
    "header h1",
)
BODY = (
    "div.td-post-content",
    "div.tdb_single_content div.tdb-block-inner",
    "div.entry-content",
    "div.wp-block-post-content",
    "div.amp-wp-article-content",
    "div.post-content",
    "article .post-entry",
)
SUBTITLE = (
    "div.tdb_single_subtitle",
    "p.td-post-sub-title",
    "div.td-post-sub-title",
    "p.bajada",
    "div.bajada",
    "p.entry-subtitle",
)
# Dates are looked for in the article's own header only: sidebars and related posts carry
# other articles' dates.
DATE = (
    "div.tdb_single_date time[datetime]",
    "div.td-post-header time[datetime]",
    "div.wp-block-post-date time[datetime]",
    "header.amp-wp-article-header time[datetime]",
    "article header time[datetime]",
    "header.entry-header time[datetime]",
)
DATE_TEXT = (
    "div.tdb_single_date",
    "div.td-post-header span.td-post-date",
    "header.td-post-title span.td-post-date",
    "header.entry-header .posted-on",
    "header.entry-header .entry-date",
    "div.entry-meta .posted-on",
    "p.post-meta",
    "article header time",
)
CATEGORY = (
    "a.tdb-entry-category",
    "ul.td-category li a",
    "div.taxonomy-category a",
    ".amp-wp-tax-category a",
    "span.cat-links a",
    "a[rel~=category]",
)
AUTHOR = (
    "a.tdb-author-name",
    "div.td-post-author-name a",
    ".wp-block-post-author__name",
    "span.amp-wp-byline",
    "span.byline .author",
    "a[rel~=author]",
    "span.author a",
    "p.autor",
)
TAG = (
    "ul.tdb-tags a",
    "ul.td-tags a",
    "div.taxonomy-post_tag a",
    ".amp-wp-tax-tag a",
    "span.tags-links a",
    "a[rel~=tag]:not([rel~=category])",
)

# The article's own region: the smallest element around its body that also holds the
# headline (h1). Field selectors look only there when it exists: a small subtree, and no menu
# or sidebar teasers that could answer for the article.
REGION_HEADLINE = "h1"

# Embeds: kept as URLs in the article's `embeds`, removed from the body text.
EMBED_LINKS = (
    ("blockquote.twitter-tweet a[href*='/status/']", "href"),
    ("blockquote.instagram-media", "data-instgrm-permalink"),
    ("iframe[src]", "src"),
    ("amp-youtube", "data-videoid"),
)
EMBED_WRAPPER_TEXT = "figure.wp-block-embed div.wp-block-embed__wrapper"
# Where an embed stood, body_html keeps it: a tweet's or an Instagram post's own quote (its
# text, author and link, as WordPress stores it under the widget), or else a link to it.
# Tag -> the classes that make it an embed (None: any such element).
EMBED_ELEMENTS = {
    "figure": ("wp-block-embed",),
    "blockquote": ("twitter-tweet", "instagram-media"),
    "iframe": None,
    "amp-youtube": None,
}
YOUTUBE_ID_URL = "https://www.youtube.com/watch?v={}"

# Removed from the body before reading its text: these elements, and any element with one
# of these classes.
BODY_NOISE_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "ins",
    "amp-ad",
    "amp-youtube",
    "aside",
    "button",
    "svg",
)
BODY_NOISE_CLASSES = (
    "td-a-rec",
    "td-g-rec",
    "td-post-sharing",
    "td_block_related_posts",
    "tdb-author-box",
    "td-author-box",
    "author-box",
    "saboxplugin-wrap",
    "sharedaddy",
    "jp-relatedposts",
    "yarpp-related",
    "twitter-tweet",
    "instagram-media",
    "wp-block-embed",
    "newsletter",
    "td_block_newsletter",
    "mc4wp-form",
)
# Body paragraphs that are navigation, not text (matched on the start of the paragraph).
BODY_NOISE_PHRASES = (
    "lee también",
    "lea también",
    "sigue leyendo",
    "te puede interesar",
    "revisa también",
    "también te puede interesar",
    "suscríbete a nuestro newsletter",
)
BODY_NOISE_PARAGRAPH = re.compile(
    r"^\s*(" + "|".join(re.escape(p) for p in BODY_NOISE_PHRASES) + r")\b", re.IGNORECASE
)
# A photo credit at the end of a caption, or the whole caption.
CAPTION_CREDIT = re.compile(
    r"\s*[(\[|–—-]?\s*(foto|fotos|imagen|crédito|credito|photo|foto referencial)s?\s*:"
    r"[^)\]]*[)\]]?\s*$",
    re.IGNORECASE,
)
# Prefixes of author credits.
# The meta line old themes print near the headline, whatever its class: "Publicado el
# 14/07/2011 | Por El Ciudadano". Looked for in the elements that follow the headline.
META_LINE_LOOKAHEAD = 40  # elements after the headline, in document order
META_LINE_MAX_CHARS = 200  # a longer text is not a meta line
META_LINE_DATE = re.compile(
    r"\b(?:publicad[oa]|fecha)\s*(?:el|:)?\s*(?P<date>[^|•·]+)", re.IGNORECASE
)
META_LINE_BYLINE = re.compile(
    r"(?:^|[|•·]\s*)(?P<credit>(?:por|escrito por)\s*:?\s+[^|•·]+)", re.IGNORECASE
)
AUTHOR_PREFIX = re.compile(r"^\s*(por|by|von|escrito por)\s*:?\s+", re.IGNORECASE)
# Between the people of one credit: commas always; "y", "and", "und", "&" only between full
# names ("Felipe Soto y Daniela Muñoz", not "José Ortega y Gasset").
AUTHOR_LIST_SEPARATOR = re.compile(r"\s*[,;]\s*")
AUTHOR_PAIR_SEPARATOR = re.compile(r"\s+(?:y|and|und|&)\s+", re.IGNORECASE)
# The source a credit names after the people: not an author.
AUTHOR_SOURCE_TAIL = re.compile(
    r"\s*[,;]?\s*\b(?:con informaci[oó]n de|con datos de|with information from|"
    r"mit material von)\b.*$",
    re.IGNORECASE,
)
# " | El Ciudadano", " - El Ciudadano" at the end of a title.
TITLE_SUFFIX = re.compile(r"\s*[|\-–—]\s*El Ciudadano\s*$", re.IGNORECASE)

# -- images and stylesheets ----------------------------------------------------------------
# WordPress keeps uploads on the site's own hosts (/wp-content/uploads/..., as every saved page
# shows; the theme's stylesheets under /wp-content/themes/). Jetpack (the REST API's
# jetpack_featured_media_url) may name them through its Photon CDN instead:
# https://i0.wp.com/www.elciudadano.com/wp-content/uploads/x.jpg?resize=696,392 is the upload
# x.jpg resized. The crawl fetches every image from the site's own copy (media_origin), so the
# only hosts it asks are HOSTS (the one crawled), under the same robots.txt and throttle.
PHOTON_HOSTS = frozenset({"i0.wp.com", "i1.wp.com", "i2.wp.com", "i3.wp.com"})


def media_origin(url: str) -> str | None:
    """The site's own URL of an image or stylesheet the site's pages name (on HOSTS, or one of
    the site's uploads through Photon), query dropped for Photon; None for any other host."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    if parts.hostname in HOSTS:
        return url
    host, _, path = parts.path.lstrip("/").partition("/")
    if parts.hostname in PHOTON_HOSTS and host in HOSTS:
        return urlunsplit(("https", host, "/" + path, "", ""))
    return None


# -- the RSS feed --------------------------------------------------------------------------
# The loose first paragraph and the last line WordPress adds to every item of the feed.
FEED_LEAD = "El Ciudadano"
FEED_FOOTER_PHRASE = "se publicó primero en"
FEED_FOOTER = re.compile(rf"^La entrada .+ {FEED_FOOTER_PHRASE} El Ciudadano\.?$", re.DOTALL)

# -- the REST API ----------------------------------------------------------------------------
REST_POSTS_PATH = "/wp-json/wp/v2/posts"
REST_PER_PAGE = 100  # the most WordPress allows
REST_TOTAL_PAGES_HEADER = "X-WP-TotalPages"
# WordPress core filters modified_after on post_modified, the site's local time, and "after"
# is exclusive (class-wp-rest-posts-controller.php: 'column' => 'post_modified'): the value is
# sent as Santiago wall time without an offset.
REST_MODIFIED_AFTER_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Custom fields that hold the standfirst, most trusted first.
REST_SUBTITLE_FIELDS = ("bajada_titulo", "resume")

# -- pages that are not articles -----------------------------------------------------------
BLOCK_TITLES = {
    "attention required! | cloudflare": "cloudflare-block",
    "just a moment...": "cloudflare-challenge",
    "access denied": "cloudflare-block",
}
# Cloudflare marks its challenge responses so (cf-mitigated: challenge).
BLOCK_HEADER = "cf-mitigated"
BLOCK_MARKERS = (
    (b"cf-error-details", "cloudflare-block"),
    (b"Sorry, you have been blocked", "cloudflare-block"),
    (b"cf-challenge", "cloudflare-challenge"),
    (b"challenge-platform", "cloudflare-challenge"),
)
# Body classes WordPress gives to pages that are not articles, and what we call them.
NON_ARTICLE_BODY_CLASSES = {
    "error404": "not found page",
    "search": "search page",
    "tag": "tag page",
    "author": "author page",
    "category": "listing page",
    "archive": "listing page",
    "date": "listing page",
    "home": "listing page",
    "blog": "listing page",
}
ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "BlogPosting",
    "ReportageNewsArticle",
    "OpinionNewsArticle",
    "AnalysisNewsArticle",
}
LISTING_TYPES = {"CollectionPage", "SearchResultsPage", "ProfilePage"}
