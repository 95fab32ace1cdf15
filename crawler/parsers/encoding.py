"""Bytes to text for pages whose declared charset cannot be trusted.

UTF-8 is tried first and strictly: bytes that decode as UTF-8 are UTF-8 whatever the page
claims (a page declared windows-1252 but saved as UTF-8 reads right). Bytes that do not are
decoded with the declared charset, or windows-1252 when the declaration is UTF-8 (the usual
mistake). Text that still shows mojibake ("polÃ­tica") is repaired by ftfy, which is only
imported for such pages.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# UTF-8 read as windows-1252 or latin-1: "Ã­", "Ã±", "Â«", "â€œ"
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u017d\u017e]|â€")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_UTF8 = {"utf-8", "utf8"}


_MOJIBAKE_BYTES = (b"\xc3\x83", b"\xc3\x82", b"\xc3\xa2\xe2\x82\xac")  # "Ã", "Â", "â€" in UTF-8


def to_utf8(body: bytes, content_type: str | None = None) -> bytes:
    """The page as UTF-8 bytes for lxml, repaired as decode() does; a clean UTF-8 page (the
    common case) is returned as it is, without a round trip through str."""
    if b"\x00" in body:
        body = body.replace(b"\x00", b"")
    # "Ã" and "Â" encode with a \x83 or \x82 byte, rare in Spanish text: two memchr scans
    # clear almost every page before the slower exact look
    suspect = (b"\x83" in body or b"\x82" in body) and any(m in body for m in _MOJIBAKE_BYTES)
    if body[:3] != b"\xef\xbb\xbf" and not suspect:
        try:
            body.decode("utf-8")
            return body
        except UnicodeDecodeError:
            pass
    return decode(body, content_type).encode("utf-8")


def decode(body: bytes, content_type: str | None = None) -> str:
    """The text of a page, NUL bytes removed and mojibake repaired."""
    body = body.replace(b"\x00", b"")
    bom, raw_bom = read_bom(body)
    if bom:
        text = body[len(raw_bom) :].decode(bom, "replace")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode(_fallback(body, content_type), "replace")
    if ("Ã" in text or "Â" in text or "â€" in text) and _MOJIBAKE.search(text):
        text = _repair(text)
    return text


def _repair(text: str) -> str:
    """ftfy on each run of text between tags that shows mojibake: it is slow on a page."""
    import ftfy  # only pages that need it pay for it

    pieces: list[str] = []
    done = 0
    for match in _MOJIBAKE.finditer(text):
        if match.start() < done:
            continue  # inside a run already repaired
        start = max(text.rfind("<", 0, match.start()), text.rfind(">", 0, match.start())) + 1
        start = max(start, done)
        ends = [i for i in (text.find("<", match.end()), text.find(">", match.end())) if i >= 0]
        end = min(ends) if ends else len(text)
        pieces += [text[done:start], ftfy.fix_encoding(text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _fallback(body: bytes, content_type: str | None) -> str:
    declared = http_content_type_encoding(content_type) if content_type else None
    declared = declared or html_body_declared_encoding(body[:4096])
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            name = None
        if name and name not in _UTF8:
            return "cp1252" if name in ("latin-1", "iso8859-1") else name
    return "cp1252"


def strip_xml_declaration(text: str) -> str:
    """lxml refuses str input that starts with an encoding declaration."""
    return _XML_DECLARATION.sub("", text, count=1)
