"""What an article's body_html may contain, whoever wrote it (a crawl, a reparse, an import):
the article as it read, sanitised by nh3 (the Rust library ammonia), allow-list based."""

from __future__ import annotations

import re

# What body_html keeps: the article as it read (paragraphs, subheads, lists, quotes, links,
# emphasis, images and their captions, tables); everything else is unwrapped to its text, and
# these lose their content too.
BODY_HTML_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "q",
    "cite",
    "code",
    "pre",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
}
BODY_HTML_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
BODY_HTML_DROPPED = {
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "template",
    "svg",
    "form",
    "button",
    "select",
    "textarea",
}


def clean_html(markup: str) -> str:
    """markup with only BODY_HTML_TAGS and their BODY_HTML_ATTRIBUTES, safe links only."""
    import nh3

    clean = nh3.clean(
        markup,
        tags=BODY_HTML_TAGS,
        attributes=BODY_HTML_ATTRIBUTES,
        clean_content_tags=BODY_HTML_DROPPED,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
    return _EMPTY_ELEMENTS.sub("", clean).strip()


_EMPTY_ELEMENTS = re.compile(r"<(p|li|h[2-6]|strong|em|b|i|a)>\s*</\1>")
