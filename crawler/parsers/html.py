"""Article pages: every source a page offers for each field (Yoast JSON-LD, OpenGraph and
article: meta, the theme's DOM, visible text), best first, into Candidates."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler import site
from crawler.blocks import block_kind
from crawler.parsers import text
from crawler.parsers.content import body_html, content_blocks
from crawler.parsers.encoding import to_utf8
from crawler.parsers.normalize import Candidates, normalize, not_article

_POSTID = re.compile(r"\bpostid-(\d+)\b")
_POST_ARTICLE_ID = re.compile(r"^post-(\d+)$")
_SHORTLINK_ID = re.compile(r"[?&]p=(\d+)")


class _TagWithClass:
    """CSS `tag.class`, as cssselect matches it (the class one of the attribute's tokens,
    split on XML's four whitespace characters), in about 70% of its time: libxml2 looks for
    the name in each tag's class attribute as it is, and only those few elements are split
    into tokens here, where cssselect's XPath normalizes and concatenates every attribute."""

    _TOKENS = re.compile(r"[ \t\r\n]+")

    def __init__(self, tag: str, name: str):
        self.name = name
        self.xpath = etree.XPath(f"descendant-or-self::{tag}[contains(@class, '{name}')]")

    def __call__(self, root: etree._Element) -> list[etree._Element]:
        return [el for el in self.xpath(root) if self.name in self._TOKENS.split(el.get("class"))]


_TAG_WITH_CLASS = re.compile(r"^([a-z][a-z0-9]*)\.([\w-]+)$")


class Selector:
    """A CSS selector that first checks the page's bytes for the class and attribute names it
    needs: a substring scan costs far less than a walk of the whole tree, and most fallback
    selectors have nothing to find on a given page."""

    def __init__(self, css: str):
        self.css = css
        simple = _TAG_WITH_CLASS.match(css)
        self.compiled = _TagWithClass(*simple.groups()) if simple else CSSSelector(css)
        self.needles = tuple(
            name.encode()
            for pair in re.findall(r"\.([\w-]+)|\[([\w-]+)", css)
            for name in pair
            if name
        )

    def __call__(self, root: etree._Element, markup: bytes | None) -> list[etree._Element]:
        """Matches under root; markup (the page's bytes) is checked first when given."""
        if markup is not None:
            for needle in self.needles:
                if needle not in markup:
                    return []
        return self.compiled(root)


def _compile(selectors: tuple[str, ...]) -> tuple[tuple[str, Selector], ...]:
    return tuple((s, Selector(s)) for s in selectors)


TITLE = _compile(site.TITLE)
BODY = _compile(site.BODY)
SUBTITLE = _compile(site.SUBTITLE)
DATE = _compile(site.DATE)
DATE_TEXT = _compile(site.DATE_TEXT)
CATEGORY = _compile(site.CATEGORY)
AUTHOR = _compile(site.AUTHOR)
TAG = _compile(site.TAG)
JSON_LD = CSSSelector('script[type="application/ld+json"]')
# WordPress prints meta and link elements in the head; looking only there saves two walks of
# the whole page.
META = etree.XPath("/html/head/meta[@content]")
LINKS = etree.XPath("/html/head/link[@rel][@href]")
# huge_tree: libxml2 otherwise stops at 256 nested elements and drops the rest of the page
# (old pages with unclosed <div> or <font> nest that deep)
# One parser per thread: the crawl parses in a pool of threads.
_PARSERS = threading.local()


def _parser() -> lxml.html.HTMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    return parser


# A page over this size is not parsed: its cost would stall the crawl (see text.MAX_BLOCKS)
MAX_PAGE_BYTES = 10 * 1024 * 1024
# An article page (its metadata says so) with none of the theme's body containers
NO_BODY = "no article body"
_CLOSING_TAG = re.compile(rb"</(?:html|body)\s*>", re.IGNORECASE)


def parse_html(
    body: bytes, url: str, fetched_at: datetime | None = None, content_type: str | None = None
) -> dict:
    if len(body) > MAX_PAGE_BYTES:
        return not_article(
            url,
            f"page too large ({len(body) / 1e6:.1f} MB, at most "
            f"{MAX_PAGE_BYTES / 1e6:.1f} MB are parsed)",
        )
    markup = to_utf8(body, content_type)
    if not markup.strip():
        return not_article(url, "empty page")
    try:
        root = lxml.html.document_fromstring(markup, parser=_parser())
    except (etree.ParserError, ValueError):
        return not_article(url, "unparseable page")
    page = Page(root, markup)
    reason = page.not_article_reason()
    if reason == NO_BODY:
        return _generic(page, url, fetched_at, reason)
    if reason:
        return not_article(url, reason)
    return normalize(page.candidates(url), url, fetched_at)


def _generic(page: Page, url: str, fetched_at: datetime | None, reason: str) -> dict:
    """An article page in a template the parser does not know: what its own metadata says,
    with what the generic extractor reads for the rest; not an article without a title, a
    date and a body of some length."""
    from crawler.parsers import generic

    found = page.candidates(url)
    generic.add_candidates(found, page.markup, url)
    article = normalize(found, url, fetched_at)
    if not (
        article["title"]
        and article["published"]
        and (article["word_count"] or 0) >= generic.MIN_WORDS
    ):
        return not_article(url, reason)
    return article


class Page:
    """One parsed HTML page and the metadata blocks it carries."""

    def __init__(self, root: etree._Element, markup: bytes):
        self.root = root
        self.markup = markup
        self.meta = self._meta()
        self.graph = self._json_ld()
        self.article_node = next((n for n in self.graph if _types(n) & site.ARTICLE_TYPES), None)
        body = root.find("body")
        self.body_classes = set((body.get("class") or "").split()) if body is not None else set()
        self.links = [(el.get("rel", "").lower().split(), el.get("href")) for el in LINKS(root)]
        self._containers: dict[str, list[etree._Element]] = {}
        self._category: list[tuple[str, str]] | None = None
        self._category_hrefs: set[str] = set()
        self._region: etree._Element | None | bool = False  # False: not looked for yet

    def region(self) -> etree._Element | None:
        """The smallest element around the first body container that also holds a headline,
        below <body>; None when there is none (field selectors then search the whole page)."""
        if self._region is False:
            self._region = None
            container = next(self.containers(), (None, None))[1]
            for el in container.iterancestors() if container is not None else ():
                if el.tag in ("body", "html"):
                    break
                if el.find(".//" + site.REGION_HEADLINE) is not None:
                    self._region = el
                    break
        return self._region

    def _scopes(self):
        """Where field selectors look: the article's region when there is one, else the page."""
        region = self.region()
        if region is not None:
            yield region, None
        else:
            yield self.root, self.markup

    def containers(self):
        """(selector, element) of the body containers the page has, most trusted first; each
        selector runs only when the ones before it are used up."""
        for selector, compiled in BODY:
            if selector not in self._containers:
                self._containers[selector] = compiled(self.root, self.markup)
            for el in self._containers[selector]:
                yield selector, el

    # -- what kind of page -------------------------------------------------------------------
    def not_article_reason(self) -> str | None:
        kind = block_kind(
            self.markup,
            title=text.collapse(self.title()),
            has_article=(
                self.article_node is not None or next(self.containers(), None) is not None
            ),
        )
        if kind:
            return kind
        for cls, reason in site.NON_ARTICLE_BODY_CLASSES.items():
            if cls in self.body_classes:
                return reason
        if any(_types(n) & site.LISTING_TYPES for n in self.graph) and self.article_node is None:
            return "listing page"
        if next(self.containers(), None) is None:
            body = self.root.find("body")
            if body is None or not "".join(body.itertext()).strip():
                return "empty page"
            return NO_BODY if self._looks_like_article() else "no article markup"
        tail = self.markup[-4096:].lower()
        if (
            b"</html>" not in tail
            and b"</body>" not in tail
            and not _CLOSING_TAG.search(self.markup)
        ):  # e.g. an ad script after </html>
            return "truncated page"
        if self._looks_like_article():
            return None
        return "no article markup"

    def title(self) -> str | None:
        """The <title>: in the head, where it belongs, else anywhere."""
        found = self.root.findtext("head/title")
        return found if found is not None else self.root.findtext(".//title")

    def _looks_like_article(self) -> bool:
        return (
            self.article_node is not None
            or "single-post" in self.body_classes
            or self._meta_first("og:type") == "article"
            or any(_POSTID.match(c) for c in self.body_classes)
        )

    # -- sources -----------------------------------------------------------------------------
    def candidates(self, url: str) -> Candidates:
        found = Candidates()
        node = self.article_node or {}
        self._add_canonical(found)
        self._add_wp_id(found)
        found.add("title", _decoded(node.get("headline")), "json-ld")
        found.add("title", self._meta_first("og:title"), "meta:og:title")
        found.add("title", lambda: self._select_text(TITLE), "html:title")
        found.add("title", self.title, "html:<title>")
        found.add("published", node.get("datePublished"), "json-ld")
        found.add("published", self._meta_first("article:published_time"), "meta")
        found.add("published", lambda: self._select_attr(DATE, "datetime"), "html:time[datetime]")
        found.add("published", lambda: self._select_text(DATE_TEXT), "html:date-text")
        found.add("published", lambda: self._meta_line("date"), "html:meta-line")
        found.add("modified", node.get("dateModified"), "json-ld")
        found.add("modified", self._meta_first("article:modified_time"), "meta")
        found.add("modified", self._meta_first("og:updated_time"), "meta")
        sections = [
            text.decoded(s) for s in _as_list(node.get("articleSection")) if isinstance(s, str)
        ]
        found.add("section", sections[0] if sections else None, "json-ld")
        found.add("section", self._meta_first("article:section"), "meta")
        found.add(
            "section", lambda: next((n for n, _ in self._category_links()), None), "html:category"
        )
        found.add("section", self._section_from_url(url), "url")
        found.add("section_links", self._category_links, "html:category")
        found.add("categories", sections, "json-ld")
        found.add(
            "categories", lambda: [name for name, _ in self._category_links()], "html:category"
        )
        found.add("categories", self.meta.get("article:section", []), "meta")
        found.add("tags", self.meta.get("article:tag", []), "meta")
        found.add("tags", [text.decoded(k) for k in _keywords(node.get("keywords"))], "json-ld")
        found.add("tags", self._tags, "html:tags")
        found.add("authors", self._json_ld_authors(node), "json-ld")
        found.add("authors", lambda: self._select_texts(AUTHOR), "html:author")
        found.add("authors", lambda: self._meta_line("credit"), "html:meta-line")
        found.add("authors", self.meta.get("author", []), "meta")
        found.add("language", _language_from_url(url), "url")
        found.add("language", node.get("inLanguage"), "json-ld")
        found.add("language", self.root.get("lang"), "html:lang")
        found.add("subtitle", self._select_text(SUBTITLE), "html:subtitle")
        found.add("excerpt", self._meta_first("og:description"), "meta:og:description")
        found.add("excerpt", self._meta_first("description"), "meta:description")
        found.add("excerpt", _decoded(node.get("description")), "json-ld")
        self._add_body(found, url)
        found.add("image_url", self._meta_first("og:image"), "meta")
        found.add("image_url", _image(node.get("image")), "json-ld")
        found.add("image_url", _image(node.get("thumbnailUrl")), "json-ld")
        return found

    def _add_body(self, found: Candidates, url: str) -> None:
        """The first body container with text: broken markup can leave an empty one first."""
        for selector, container in self.containers():
            blocks, embeds = content_blocks(container)
            if blocks:
                found.add("body", blocks, f"html:{selector}")
                found.add("body_html", body_html(container, url), f"html:{selector}")
                found.add("embeds", embeds, f"html:{selector}")
                return

    def _meta_line(self, part: str) -> str | None:
        """The date ("date") or credit ("credit") of the meta line old themes print near the
        headline ("Publicado el 14/07/2011 | Por El Ciudadano"), found by its words, whatever
        its class."""
        headline = self._select_first(TITLE)
        if headline is None:
            return None
        pattern = site.META_LINE_DATE if part == "date" else site.META_LINE_BYLINE
        for el in headline.xpath(f"following::*[position() <= {site.META_LINE_LOOKAHEAD}]"):
            words = text.collapse(el.text_content())
            if not words or len(words) > site.META_LINE_MAX_CHARS:
                continue
            match = pattern.search(words)
            if match:
                return match.group(part).strip()
        return None

    def _meta(self) -> dict[str, list[str]]:
        meta: dict[str, list[str]] = {}
        for el in META(self.root):
            key = el.get("property") or el.get("name") or el.get("itemprop")
            if key:
                meta.setdefault(key.strip().lower(), []).append(el.get("content"))
        return meta

    def _meta_first(self, key: str) -> str | None:
        values = self.meta.get(key)
        return values[0] if values else None

    def _json_ld(self) -> list[dict]:
        nodes: list[dict] = []
        for script in JSON_LD(self.root):
            try:
                data = json.loads(script.text or "", strict=False)
            except ValueError:
                continue
            for item in data if isinstance(data, list) else [data]:
                if isinstance(item, dict):
                    graph = item.get("@graph")
                    nodes.extend(
                        n
                        for n in (graph if isinstance(graph, list) else [item])
                        if isinstance(n, dict)
                    )
        return nodes

    def _json_ld_authors(self, node: dict) -> list[str]:
        by_id = {n.get("@id"): n for n in self.graph if isinstance(n.get("@id"), str)}
        names = []
        for author in _as_list(node.get("author")):
            if isinstance(author, dict):
                author = by_id.get(author.get("@id"), author).get("name")
            if isinstance(author, str) and author.strip():
                names.append(text.decoded(author))
        return names

    def _add_canonical(self, found: Candidates) -> None:
        for rel, href in self.links:
            if "canonical" in rel:
                found.add("canonical", href, "html:link[rel=canonical]")
        found.add("canonical", self._meta_first("og:url"), "meta:og:url")

    def _add_wp_id(self, found: Candidates) -> None:
        match = _POSTID.search(" ".join(self.body_classes))
        found.add("wp_id", match.group(1) if match else None, "html:body-class")
        # the <article id="post-N"> around the body: sidebars and related posts hold teasers
        # of other posts in <article id="post-M"> too
        container = next(self.containers(), (None, None))[1]
        for el in container.iterancestors("article") if container is not None else ():
            match = _POST_ARTICLE_ID.match(el.get("id") or "")
            if match:
                found.add("wp_id", match.group(1), "html:article-id")
                break
        for rel, href in self.links:
            if rel == ["shortlink"]:
                match = _SHORTLINK_ID.search(href)
                found.add("wp_id", match.group(1) if match else None, "html:shortlink")

    def _tags(self) -> list[str]:
        """Tag links' names, without the category links that also say rel="tag" (WordPress's
        get_the_term_list marks every term link so; block themes print categories with it)."""
        self._category_links()
        for scope, markup in self._scopes():
            for _, compiled in TAG:
                names = [
                    text.element_text(el)
                    for el in compiled(scope, markup)
                    if (el.get("href") or "") not in self._category_hrefs
                ]
                names = [n for n in names if n]
                if names:
                    return names
        return []

    def _category_links(self) -> list[tuple[str, str]]:
        """(display name, slug) of each category link, in page order, no repeats."""
        if self._category is not None:
            return self._category
        links: list[tuple[str, str]] = []
        for scope, markup in self._scopes():
            for _, compiled in CATEGORY:
                for el in compiled(scope, markup):
                    if el.get("href"):
                        self._category_hrefs.add(el.get("href"))
                    name = text.element_text(el)
                    slug = urlsplit(el.get("href") or "").path.rstrip("/").rsplit("/", 1)[-1]
                    if name and (name, slug) not in links:
                        links.append((name, slug))
                if links:
                    self._category = links
                    return links
        self._category = links
        return links

    @staticmethod
    def _section_from_url(url: str) -> str | None:
        segments = [s for s in urlsplit(url).path.split("/") if s]
        return site.SECTIONS.get(segments[0]) if segments else None

    def _select_first(self, selectors) -> etree._Element | None:
        for scope, markup in self._scopes():
            for _, compiled in selectors:
                matches = compiled(scope, markup)
                if matches:
                    return matches[0]
        return None

    def _select_text(self, selectors) -> str | None:
        el = self._select_first(selectors)
        return text.element_text(el) if el is not None else None

    def _select_attr(self, selectors, attr: str) -> str | None:
        el = self._select_first(selectors)
        return el.get(attr) if el is not None else None

    def _select_texts(self, selectors) -> list[str]:
        for scope, markup in self._scopes():
            for _, compiled in selectors:
                names = [text.element_text(el) for el in compiled(scope, markup)]
                names = [n for n in names if n]
                if names:
                    return names
        return []


def _decoded(value) -> str | None:
    """A JSON-LD string: Yoast writes what WordPress's filters made, entities included."""
    return text.decoded(value) if isinstance(value, str) else None


def _language_from_url(url: str) -> str | None:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return site.LANGUAGE_PREFIXES.get(segments[0]) if segments else None


def _types(node: dict) -> set[str]:
    return {t for t in _as_list(node.get("@type")) if isinstance(t, str)}


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _keywords(value) -> list[str]:
    """JSON-LD keywords: a list, or one comma-separated string."""
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return [k for k in _as_list(value) if isinstance(k, str)]


def _image(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return value if isinstance(value, str) else None
