"""Article content (a page's body element, or the HTML of a feed item or REST post) to text
blocks and embed URLs."""

from __future__ import annotations

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler import site
from crawler.parsers import text

# One walk of the container: noise tags, or a class attribute that mentions a noise class
# (checked exactly in _is_noise; a substring test alone would also take "td-a-recent").
NOISE = etree.XPath(
    "descendant::*["
    + " or ".join(f"self::{tag}" for tag in site.BODY_NOISE_TAGS)
    + " or (@class and ("
    + " or ".join(f"contains(@class, '{cls}')" for cls in site.BODY_NOISE_CLASSES)
    + "))]"
)
NOISE_TAGS = frozenset(site.BODY_NOISE_TAGS)
NOISE_CLASSES = frozenset(site.BODY_NOISE_CLASSES)


def _is_noise(el: etree._Element) -> bool:
    return el.tag in NOISE_TAGS or not NOISE_CLASSES.isdisjoint((el.get("class") or "").split())
EMBEDS = tuple((CSSSelector(selector), attr) for selector, attr in site.EMBED_LINKS)
EMBED_WRAPPER = CSSSelector(site.EMBED_WRAPPER_TEXT)


def embed_urls(container: etree._Element) -> list[str]:
    urls: list[str] = []
    for compiled, attr in EMBEDS:
        for el in compiled(container):
            value = (el.get(attr) or "").strip()
            if el.tag == "amp-youtube" and value:
                value = site.YOUTUBE_ID_URL.format(value)
            if value.startswith("//"):
                value = "https:" + value
            if value.startswith("http") and value not in urls:
                urls.append(value)
    for el in EMBED_WRAPPER(container):
        value = text.collapse(el.text)
        if value.startswith("http") and value not in urls:
            urls.append(value)
    return urls


def content_blocks(container: etree._Element) -> tuple[list[text.Block], list[str]]:
    """Blocks of text and embed URLs; noise (ads, sharing, embeds, scripts) is removed from
    the container in place."""
    embeds = embed_urls(container)
    for el in NOISE(container):
        if el.getparent() is not None and _is_noise(el):
            el.drop_tree()
    return text.blocks(container), embeds


def fragment_blocks(markup: str) -> tuple[list[text.Block], list[str]]:
    """The same for a fragment of HTML, as feeds and the REST API carry it."""
    if not markup or not markup.strip():
        return [], []
    try:
        container = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return [], []
    return content_blocks(container)


def fragment_text(markup: str | None) -> str:
    """Plain text of a small fragment such as an excerpt."""
    if not markup or not markup.strip():
        return ""
    try:
        return text.element_text(lxml.html.fragment_fromstring(markup, create_parent="div"))
    except (etree.ParserError, ValueError):
        return text.collapse(markup)
