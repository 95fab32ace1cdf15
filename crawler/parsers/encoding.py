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


def decode(body: bytes, content_type: str | None = None) -> str:
    """The text of a page, NUL bytes removed and mojibake repaired."""
    body = body.replace(b"\x00", b"")
    bom, raw_bom = read_bom(body)
    if bom:
        text = body[len(raw_bom):].decode(bom, "replace")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode(_fallback(body, content_type), "replace")
    if ("Ã" in text or "Â" in text or "â€" in text) and _MOJIBAKE.search(text):
        text = _repair(text)
    return text


def _repair(text: str) -> str:
    """ftfy on the lines that show mojibake only: it is slow on a whole page."""
    import ftfy  # only pages that need it pay for it

    return "".join(ftfy.fix_encoding(line) if _MOJIBAKE.search(line) else line
                   for line in text.splitlines(keepends=True))


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
