"""RSS feed pages (/feed/?paged=N): one article per item, read from content:encoded with the
feed's own boilerplate removed."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree

from crawler import site
from crawler.parsers import text
from crawler.parsers.content import fragment_blocks
from crawler.parsers.encoding import decode, strip_xml_declaration
from crawler.parsers.normalize import (
    Candidates,
    add_categories,
    is_section_name,
    normalize,
    not_article,
    section_slug_for,
)
from crawler.urls import rebase, site_base

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
MEDIA = "{http://search.yahoo.com/mrss/}content"
_GUID_ID = re.compile(r"[?&]p=(\d+)")
_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)


def parse_feed(body: bytes, url: str, fetched_at: datetime | None = None) -> list[dict]:
    markup = strip_xml_declaration(decode(body))
    try:
        root = etree.fromstring(markup.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return [not_article(url, "unreadable feed")]
    channel_language = text.collapse(root.findtext("channel/language"))
    base = site_base(url)
    articles = []
    for item in root.iter("item"):
        link = text.collapse(item.findtext("link"))
        if not link:
            continue
        item_url = rebase(link, base)
        found = item_candidates(item, item_url, channel_language)
        articles.append(normalize(found, item_url, fetched_at))
    return articles


def item_candidates(item: etree._Element, url: str, channel_language: str) -> Candidates:
    found = Candidates()
    found.add("canonical", url, "feed:link")
    guid = _GUID_ID.search(item.findtext("guid") or "")
    found.add("wp_id", guid.group(1) if guid else None, "feed:guid")
    found.add("title", item.findtext("title"), "feed:title")
    found.add("published", text.collapse(item.findtext("pubDate")), "feed:pubDate")
    terms = [text.decoded(c.text) for c in item.findall("category")]  # CDATA, escaped names
    sections = [(name, section_slug_for(name)) for name in terms if is_section_name(name)]
    add_categories(found, sections, url, "feed:category")
    found.add(
        "tags", [name for name in terms if name and not is_section_name(name)], "feed:category"
    )
    found.add("authors", [text.collapse(c.text) for c in item.findall(CREATOR)], "feed:creator")
    segments = [s for s in urlsplit(url).path.split("/") if s]
    found.add("language", site.LANGUAGE_PREFIXES.get(segments[0]) if segments else None, "url")
    found.add("language", channel_language, "feed:language")
    blocks, embeds, html = fragment_blocks(item.findtext(CONTENT) or "", url, feed=True)
    found.add("body", without_boilerplate(blocks), "feed:content:encoded")
    found.add("body_html", html, "feed:content:encoded")
    found.add("embeds", embeds, "feed:content:encoded")
    excerpt, _, _ = fragment_blocks(item.findtext("description") or "")
    found.add("excerpt", " ".join(t for _, t in without_boilerplate(excerpt)), "feed:description")
    for media in (item.find("enclosure"), item.find(MEDIA)):
        if media is not None and (media.get("type") or "image").startswith("image"):
            found.add("image_url", media.get("url"), "feed:enclosure")
    return found


def without_boilerplate(blocks: list[text.Block]) -> list[text.Block]:
    """Without the loose "El Ciudadano" first paragraph and the "La entrada ... se publicó
    primero en El Ciudadano." last line the feed adds to every item."""
    if blocks and blocks[0][1] == site.FEED_LEAD:
        blocks = blocks[1:]
    return [b for b in blocks if not site.FEED_FOOTER.match(b[1])]
