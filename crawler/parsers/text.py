"""From a body element to clean paragraphs: blocks, noise, the repeated standfirst, and
hard-wrapped paragraphs joined back.

A block is (kind, text) with kind one of "p" (paragraph), "h" (heading or a paragraph that is
all bold), "li" (list item), "quote" (block quote).
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata

from lxml import etree

from crawler import site

Block = tuple[str, str]
log = logging.getLogger("crawler.parsers")

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
PARAGRAPHS = {"p", "pre", "figcaption", "dt", "dd", "address"}
CONTAINERS = {
    "div",
    "section",
    "article",
    "main",
    "figure",
    "ul",
    "ol",
    "dl",
    "table",
    "tbody",
    "thead",
    "tr",
    "td",
    "th",
    "center",
    "header",
    "footer",
    "details",
}
BOLD = {"strong", "b"}
# A paragraph whose last character is a letter, a digit or one of these stops mid-sentence
# (a hard wrap), e.g. "...el presidente paraguayo Santiago".
_OPEN_END_MARKS = frozenset(",-–")
# A paragraph that starts like this is never the continuation of the one before.
_FRESH_START = re.compile(r"^(fuente|foto|imagen|[-•*–—]|\d+[.)]\s)", re.IGNORECASE)


def collapse(text: str | None) -> str:
    """Every run of white space (NBSP and zero-width included) one space. Entities are not
    touched: text from the DOM is decoded already (decoding it again turns the "&amp;lt;" a
    reader sees as "&lt;" into "<"); see decoded() for strings that carry HTML."""
    if not text:
        return ""
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", "").replace("\ufeff", "")
    if _CONTROLS.search(text):  # a stray \x08 or \x00 is no text, and XML refuses it
        text = _CONTROLS.sub("", text)
    return " ".join(text.split())  # str.split knows every Unicode space, NBSP included


# C0 controls and DEL that are not white space (str.split takes care of \t \n \r \x0b-\x1f)
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f]")


def decoded(text: str | None) -> str:
    """collapse() of a string that carries HTML entities outside a DOM: JSON-LD and REST
    values, term names (WordPress stores them escaped), CDATA. Decoded exactly once."""
    if text and "&" in text and ";" in text:
        text = html.unescape(text)
    return collapse(text)


_NOT_ALNUM = re.compile(r"[\W_]+")


def comparable(text: str) -> str:
    """Letters and digits only, case and accents folded: for matching near-equal texts.
    (NFKD splits an accent off its letter; the pattern then drops it with the punctuation.)"""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text.casefold()))


def element_text(el: etree._Element) -> str:
    return collapse("".join(el.itertext()))


def _is_all_bold(el: etree._Element) -> bool:
    children = [c for c in el if isinstance(c.tag, str) and c.tag != "br"]
    return (
        len(children) == 1
        and children[0].tag in BOLD
        and not collapse(el.text)
        and not collapse(children[0].tail)
    )


# What one page's body may cost: past MAX_BLOCKS blocks the rest is cut (and logged); below
# MAX_DEPTH nested containers a subtree is read as one paragraph (no deeper recursion).
MAX_BLOCKS = 20_000
MAX_DEPTH = 150


class _Full(Exception):
    pass


def blocks(container: etree._Element) -> list[Block]:
    """The container's text as blocks in document order (noise must be removed first)."""
    out: list[Block] = []
    try:
        _walk(container, out, quote=False)
    except _Full:
        log.warning("body cut at %d paragraphs", MAX_BLOCKS)
    return out


def _walk(el: etree._Element, out: list[Block], quote: bool, depth: int = 0) -> None:
    if len(out) >= MAX_BLOCKS:
        raise _Full
    if depth > MAX_DEPTH:
        _emit(out, "quote" if quote else "p", element_text(el))
        return
    inline: list[str] = []
    previous_br = False

    def flush() -> None:
        text = collapse("".join(inline))
        inline.clear()
        _emit(out, "quote" if quote else "p", text)

    inline.append(el.text or "")
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else None  # comments, PIs: no tag
        is_br = tag == "br"
        if tag in HEADINGS:
            flush()
            _emit(out, "h", element_text(child))
        elif tag == "li":
            flush()
            _emit(out, "quote" if quote else "li", element_text(child))
        elif tag == "blockquote":
            flush()
            _walk(child, out, True, depth + 1)
        elif tag in PARAGRAPHS:
            flush()
            text = element_text(child)
            if tag == "figcaption" or "wp-caption-text" in (child.get("class") or ""):
                text = site.CAPTION_CREDIT.sub("", text)
            kind = "quote" if quote else ("h" if tag == "p" and _is_all_bold(child) else "p")
            _emit(out, kind, text)
        elif tag in CONTAINERS:
            flush()
            _walk(child, out, quote, depth + 1)
        elif is_br:
            if previous_br:  # <br><br> in old templates separates paragraphs
                flush()
            else:
                inline.append(" ")
        elif tag is not None:
            inline.append("".join(child.itertext()))
        previous_br = is_br or (previous_br and not collapse(child.tail))
        inline.append(child.tail or "")
    flush()


def _emit(out: list[Block], kind: str, text: str) -> None:
    if text:
        if len(out) >= MAX_BLOCKS:  # siblings too: a container of 600,000 <p> is cut as well
            raise _Full
        out.append((kind, text))


def drop_noise(items: list[Block]) -> list[Block]:
    """Without navigation paragraphs such as 'Lee también: ...'."""
    return [b for b in items if not site.BODY_NOISE_PARAGRAPH.match(b[1])]


def strip_standfirst(items: list[Block], subtitle: str | None) -> list[Block]:
    """Without the standfirst the theme repeats at the start of the body (in up to three
    blocks, whatever its white space, punctuation or markup)."""
    if not subtitle or not items:
        return items
    target = comparable(subtitle)
    seen = ""
    for count, (_, text) in enumerate(items[:3], start=1):
        seen += comparable(text)
        if seen == target:
            return items[count:]
        if not target.startswith(seen):
            break
    return items


def join_wrapped(items: list[Block]) -> list[Block]:
    """One paragraph hard-wrapped into several <p> becomes one again: a paragraph that stops
    mid-sentence joins the next paragraph. Headings, list items and quotes are never joined.
    Linear in the number of paragraphs: the pieces of a joined paragraph are joined once."""
    out: list[Block] = []
    pieces: list[str] = []  # the paragraph being joined, when out[-1] is one

    def close() -> None:
        if len(pieces) > 1:
            out[-1] = ("p", " ".join(pieces))
        pieces.clear()

    for kind, text in items:
        if kind == "p" and pieces and _ends_open(pieces[-1]) and not _FRESH_START.match(text):
            pieces.append(text)
            continue
        close()
        out.append((kind, text))
        if kind == "p":
            pieces.append(text)
    close()
    return out


def _ends_open(paragraph: str) -> bool:
    last = paragraph[-1]
    return last.isalnum() or last in _OPEN_END_MARKS


def body_text(items: list[Block], subtitle: str | None) -> str:
    """The archived body: paragraphs separated by one blank line."""
    cleaned = join_wrapped(strip_standfirst(drop_noise(items), subtitle))
    return "\n\n".join(text for _, text in cleaned)
