"""Sitemaps read as a stream: (loc, lastmod) entries handed out as the XML is read, a gzipped
sitemap inflated piece by piece under a size cap, never the whole document in memory at once.

    from crawler.sitemaps import iter_sitemap_entries
    for entry in iter_sitemap_entries(body, max_size=32 * 1024 * 1024):
        entry.loc, entry.lastmod, entry.kind   # kind: "url" (a urlset) or "sitemap" (an index)

A sitemap of a million URLs is read in constant memory; a gzip bomb stops at max_size. The XML
is parsed without the network, without entity expansion and with libxml2's size limits on
(no huge_tree): an XXE or a billion laughs gets nowhere. No Scrapy, no network: bytes in.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 64 * 1024  # bytes fed to the XML parser at a time (inflated bytes, for a .gz)
KINDS = {"urlset": "url", "sitemapindex": "sitemap"}  # root element -> its entries' element


class SitemapEntry(NamedTuple):
    loc: str
    lastmod: str | None
    kind: str  # "url": a page (the root is a urlset); "sitemap": a child of a sitemapindex


class SitemapError(ValueError):
    """The document cannot be read as a sitemap; the message says why, for a person."""


class NotASitemap(SitemapError):
    """Not XML, or XML whose root is neither a urlset nor a sitemapindex."""


class SitemapTooLarge(SitemapError):
    """More than max_size bytes of XML (once inflated): reading stopped there."""


def iter_sitemap_entries(
    data: bytes | Iterable[bytes], max_size: int = 0
) -> Iterator[SitemapEntry]:
    """Every entry of the sitemap in data, in document order, as it is read.

    data: the sitemap's bytes, or its bytes in pieces (say, as they come off a socket); gzip
    (a .xml.gz served as such) is recognised by its first two bytes and inflated as it is read.
    max_size: at most this many bytes of XML are read (0: no limit), the same cap as any
    response: past it, SitemapTooLarge is raised after the entries read so far were handed out.
    NotASitemap is raised, at the end, for a document that is not a sitemap (an HTML page,
    an RSS feed, garbage). Entries without a <loc> are skipped; text is stripped.
    """
    parser = etree.XMLPullParser(
        events=("end",),
        tag=("{*}url", "{*}sitemap"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    read = 0
    for chunk in _xml_chunks(data):
        read += len(chunk)
        if max_size and read > max_size:
            raise SitemapTooLarge(
                f"sitemap larger than {_megabytes(max_size)} (DOWNLOAD_MAXSIZE); read up to there"
            )
        parser.feed(chunk)
        yield from _entries(parser)
    try:
        root = parser.close()
    except etree.XMLSyntaxError:
        root = None
    yield from _entries(parser)
    if root is None or _local(root.tag) not in KINDS:
        what = "not XML" if root is None else f"its root element is <{_local(root.tag)}>"
        raise NotASitemap(f"not a sitemap ({what})")


def _entries(parser: etree.XMLPullParser) -> Iterator[SitemapEntry]:
    """The entries the parser has finished, each dropped from the tree once read."""
    for _, element in parser.read_events():
        parent = element.getparent()
        kind = KINDS.get(_local(parent.tag)) if parent is not None else None
        if kind == _local(element.tag):
            fields = {_local(child.tag): child.text for child in element}
            loc = (fields.get("loc") or "").strip()
            if loc:
                yield SitemapEntry(loc, (fields.get("lastmod") or "").strip() or None, kind)
        element.clear()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def _xml_chunks(data: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """data's XML in pieces of at most CHUNK bytes, inflated if data is gzip."""
    pieces = _pieces(data)
    first = next(pieces, b"")
    if first[:2] != GZIP_MAGIC:
        yield first
        yield from pieces
        return
    yield from _inflated(_chain(first, pieces))


def _pieces(data: bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])
    else:
        yield from (bytes(piece) for piece in data if piece)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _inflated(compressed: Iterator[bytes]) -> Iterator[bytes]:
    """gzip inflated CHUNK bytes at a time (never more held at once, whatever the ratio);
    members one after another, as gzip(1) reads them."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for piece in compressed:
            while piece:
                out = inflater.decompress(piece, CHUNK)
                if out:
                    yield out
                if inflater.eof:  # a member ended: the next one (if any) starts afresh
                    piece = inflater.unused_data
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    piece = inflater.unconsumed_tail
        tail = inflater.flush()  # what the last piece left pending: one match at most
        if tail:
            yield tail
    except zlib.error:
        raise NotASitemap("not a sitemap (broken gzip)") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
