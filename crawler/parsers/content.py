"""Article content (a page's body element, or the HTML of a feed item or REST post) to text
blocks and embed URLs."""

from __future__ import annotations

import html
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from archive.body import clean_html
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


# One walk for every kind of embed, in document order (an embed before what it wraps).
_EMBED_CANDIDATES = etree.XPath(
    "descendant::*["
    + " or ".join(
        f"self::{tag}" if classes is None else f"(self::{tag} and @class)"
        for tag, classes in site.EMBED_ELEMENTS.items()
    )
    + "]"
)
EMBED_SLOT = "ciudadano-embed"  # an empty element where an embed stood: no text, no block
_EMBED_SLOTS = etree.XPath(f"descendant::{EMBED_SLOT}")


def embed_urls(container: etree._Element) -> list[str]:
    urls: list[str] = []
    for compiled, attr in EMBEDS:
        for el in compiled(container):
            value = _embed_url(el, attr)
            if value and value not in urls:
                urls.append(value)
    for el in EMBED_WRAPPER(container):
        value = text.collapse(el.text)
        if value.startswith("http") and value not in urls:
            urls.append(value)
    return urls


def _embed_url(el: etree._Element, attr: str) -> str | None:
    value = (el.get(attr) or "").strip()
    if el.tag == "amp-youtube" and value:
        value = site.YOUTUBE_ID_URL.format(value)
    if value.startswith("//"):
        value = "https:" + value
    return value if value.startswith("http") else None


def _mark_embeds(container: etree._Element) -> None:
    """Each embed replaced by an empty slot holding the HTML body_html shows in its place."""
    replaced: set[etree._Element] = set()
    for el in _EMBED_CANDIDATES(container):
        classes = site.EMBED_ELEMENTS[el.tag]
        if classes is not None and set(classes).isdisjoint((el.get("class") or "").split()):
            continue
        parent = el.getparent()
        if parent is None or any(outer in replaced for outer in el.iterancestors()):
            continue  # inside an embed already replaced
        if el.tag == "blockquote":  # a tweet's or an Instagram post's own quote
            tail, el.tail = el.tail, None
            markup = etree.tostring(el, encoding="unicode", method="html")
            el.tail = tail
        else:
            found = embed_urls(
                lxml.html.fragment_fromstring(
                    etree.tostring(el, encoding="unicode"), create_parent="div"
                )
            )
            if not found:
                continue
            markup = "".join(
                f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>' for url in found
            )
        slot = container.makeelement(EMBED_SLOT, html=markup)
        slot.tail = el.tail
        parent.replace(el, slot)
        replaced.add(el)


def content_blocks(container: etree._Element) -> tuple[list[text.Block], list[str]]:
    """Blocks of text and embed URLs; noise (ads, sharing, embeds, scripts) is removed from
    the container in place, and each embed leaves a slot for body_html."""
    embeds = embed_urls(container)
    _mark_embeds(container)
    for el in NOISE(container):
        if el.getparent() is not None and _is_noise(el):
            el.drop_tree()
    return text.blocks(container), embeds


_LINKS = etree.XPath("descendant::a[@href] | descendant::img[@src]")
# Elements that stand as blocks of their own; anything else between them is paragraph text.
_BLOCKS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "blockquote",
        "figure",
        "table",
        "div",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "dl",
        EMBED_SLOT,
    }
)


def _loose_text_to_paragraphs(container: etree._Element) -> None:
    """Text standing loose in the body (older posts written with line breaks, not <p>) put
    into paragraphs, split where two <br> meet, as WordPress's own wpautop does."""
    if not (container.text or "").strip() and not any(
        (child.tail or "").strip() for child in container if child.tag not in ("br",)
    ):
        return
    items: list = [container.text] if container.text else []
    for child in container:
        items.append(child)
        if child.tail:
            items.append(child.tail)
            child.tail = None
    container.text = None
    for child in list(container):
        container.remove(child)
    paragraph: etree._Element | None = None
    last_br: etree._Element | None = None

    def add_text(value: str) -> None:
        if len(paragraph):
            paragraph[-1].tail = (paragraph[-1].tail or "") + value
        else:
            paragraph.text = (paragraph.text or "") + value

    for item in items:
        if isinstance(item, str):
            if not item.strip():
                if paragraph is not None:
                    add_text(item)
                continue
            if paragraph is None:
                paragraph = container.makeelement("p")
                container.append(paragraph)
                item = item.lstrip()
            add_text(item)
            last_br = None
        elif item.tag in _BLOCKS:
            paragraph = last_br = None
            container.append(item)
        elif item.tag == "br" and last_br is not None:
            paragraph.remove(last_br)  # two breaks: the paragraph ends
            paragraph = last_br = None
        elif item.tag == "br" and paragraph is None:
            continue
        else:
            if paragraph is None:
                paragraph = container.makeelement("p")
                container.append(paragraph)
            paragraph.append(item)
            last_br = item if item.tag == "br" else None


_PARAGRAPHS = etree.XPath("descendant::p")


def body_html(container: etree._Element, base_url: str | None, feed: bool = False) -> str | None:
    """The body as clean, safe HTML (noise already removed from the container): without the
    navigation paragraphs the text leaves out ('Lee también: ...'; in a feed item, its lead
    and footer lines), links made absolute, then sanitised by nh3 (the Rust library ammonia):
    only BODY_HTML_TAGS and their BODY_HTML_ATTRIBUTES, http(s) and mailto links, no scripts,
    styles, classes, ids, event handlers or tracking attributes. Only the body fragment is
    serialised, never the page."""
    _loose_text_to_paragraphs(container)
    for number, paragraph in enumerate(_PARAGRAPHS(container)):
        words = text.collapse(paragraph.text_content())
        if site.BODY_NOISE_PARAGRAPH.match(words) or (
            feed and (site.FEED_FOOTER.match(words) or (number == 0 and words == site.FEED_LEAD))
        ):
            paragraph.drop_tree()  # its tail, the text after it, stays
    for slot in _EMBED_SLOTS(container):
        shown = lxml.html.fragment_fromstring(slot.get("html"), create_parent="div")
        slot.getparent().replace(slot, shown)
        shown.drop_tag()
    if base_url:
        for el in _LINKS(container):
            attr = "href" if el.tag == "a" else "src"
            value = (el.get(attr) or "").strip()
            if value and not value.startswith(("http://", "https://", "mailto:", "#")):
                try:
                    el.set(attr, urljoin(base_url, value))
                except ValueError:
                    del el.attrib[attr]
    return clean_html(etree.tostring(container, encoding="unicode", method="html")) or None


def fragment_container(markup: str) -> etree._Element | None:
    if not markup or not markup.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def fragment_blocks(
    markup: str, base_url: str | None = None, feed: bool = False
) -> tuple[list[text.Block], list[str], str | None]:
    """The same for a fragment of HTML, as feeds (feed=True) and the REST API carry it:
    blocks, embed URLs and body_html."""
    container = fragment_container(markup)
    if container is None:
        return [], [], None
    blocks, embeds = content_blocks(container)
    return blocks, embeds, body_html(container, base_url, feed) if blocks else None


def fragment_text(markup: str | None) -> str:
    """Plain text of a small fragment such as an excerpt."""
    if not markup or not markup.strip():
        return ""
    container = fragment_container(markup)
    return text.element_text(container) if container is not None else text.collapse(markup)
