"""Images and stylesheets kept in the archive: each content once, keyed by its SHA-256
(the media table), whatever URLs it came from (media_urls) and however many articles use it
(article_images: an article's lead image and the images in its body).

Their bytes are untrusted: an image is kept only when its first bytes say it is one of
IMAGE_TYPES (never decoded here, nor anywhere in the archive), a stylesheet only when it is
text; the type kept is the one its bytes show, not the one its server claimed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from archive.schema import ARTICLE_IMAGES, ARTICLES, MEDIA, MEDIA_URLS

IMAGE = "image"
STYLESHEET = "stylesheet"
LEAD, BODY = "lead", "body"  # an image's role in an article

# Image formats a browser shows, by their magic bytes. SVG is left out: it is a document that
# may carry scripts.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif")
_AVIF_BRANDS = (b"avif", b"avis")


class NotKept(ValueError):
    """Why a response is not kept (its message is the reason counted)."""


def sniff_image(body: bytes) -> str | None:
    """The image type body's magic bytes show, or None when they show none of IMAGE_TYPES."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:8] == b"ftyp" and body[8:12] in _AVIF_BRANDS:
        return "image/avif"
    return None


def media_type(kind: str, declared: str, body: bytes) -> str:
    """The content type to keep body under, or NotKept: an image must be declared image/*
    and be one of IMAGE_TYPES by its bytes; a stylesheet declared text/css and be text."""
    declared = declared.split(";")[0].strip().lower()
    if kind == IMAGE:
        if not declared.startswith("image/"):
            raise NotKept(f"not an image ({declared or 'no type'})")
        found = sniff_image(body)
        if found is None:
            raise NotKept(f"not an image (its bytes are not {declared})")
        return found
    if declared != "text/css":
        raise NotKept(f"not a stylesheet ({declared or 'no type'})")
    if b"\x00" in body or body.lstrip()[:1] == b"<":
        raise NotKept("not a stylesheet (its bytes are not CSS)")
    return "text/css"


def keep_media(
    db,
    url: str,
    kind: str,
    content_type: str,
    body: bytes,
    fetched_url: str,
    fetched_at: str,
    run_id: int | None,
) -> str:
    """Store body (once for its SHA-256) as fetched from url; returns its SHA-256. db: an
    sqlite3 connection in autocommit mode (each statement is its own transaction)."""
    digest = hashlib.sha256(body).hexdigest()
    db.execute(
        f"insert or ignore into {MEDIA} (sha256, kind, content_type, size, fetched_at, "
        "body) values (?, ?, ?, ?, ?, ?)",
        [digest, kind, content_type, len(body), fetched_at, body],
    )
    add_media_url(db, url, digest, fetched_url, fetched_at, run_id)
    return digest


def add_media_url(
    db, url: str, digest: str, fetched_url: str, fetched_at: str, run_id: int | None
) -> None:
    """Record that url names the content digest (kept already), fetched from fetched_url."""
    db.execute(
        f"insert or replace into {MEDIA_URLS} (url, sha256, fetched_url, fetched_at, "
        "run_id) values (?, ?, ?, ?, ?)",
        [url, digest, fetched_url, fetched_at, run_id],
    )


def kept_from(db, fetched_url: str) -> str | None:
    """The SHA-256 of a content kept as fetched from fetched_url (the site's own copy of an
    upload, whichever URL a page named it by), or None."""
    row = db.execute(
        f"select sha256 from {MEDIA_URLS} where fetched_url = ? limit 1", [fetched_url]
    ).fetchone()
    return row[0] if row else None


def kept_urls(db, kind: str) -> set[str]:
    """The URLs of kind already kept (a crawl fetches them no more)."""
    return {
        url
        for (url,) in db.execute(
            f"select u.url from {MEDIA_URLS} u join {MEDIA} m using (sha256) where m.kind = ?",
            [kind],
        )
    }


def is_kept(db, url: str) -> bool:
    return db.execute(f"select 1 from {MEDIA_URLS} where url = ?", [url]).fetchone() is not None


def link_images(db, article_url: str, images: list[tuple[str, str]]) -> int:
    """Record that the article at article_url uses images [(url, role)], kept or not (one
    not kept shows as absent). Returns how many links were new."""
    row = db.execute(f"select id from {ARTICLES} where url = ?", [article_url]).fetchone()
    if row is None:
        return 0
    return sum(
        db.execute(
            f"insert or ignore into {ARTICLE_IMAGES} (article_id, url, role) values (?, ?, ?)",
            [row[0], url, role],
        ).rowcount
        for url, role in images
    )


def media_by_url(conn, urls: list[str]) -> dict[str, str]:
    """url -> SHA-256 of those of urls the archive keeps."""
    found: dict[str, str] = {}
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        found.update(
            conn.execute(
                f"select url, sha256 from {MEDIA_URLS} where url in "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        )
    return found


def media_content(conn, digest: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of the kept content with that SHA-256, or None."""
    row = conn.execute(
        f"select content_type, body from {MEDIA} where sha256 = ?", [digest]
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None


def has_media(conn) -> bool:
    """Whether the archive has the media tables (an archive older than them has not)."""
    return (
        conn.execute("select 1 from sqlite_master where name = ?", [MEDIA]).fetchone() is not None
    )


def media_totals(conn) -> dict[str, dict[str, int]]:
    """{kind: {"count": n, "bytes": b}} of what the archive keeps (images, stylesheets)."""
    totals = {kind: {"count": 0, "bytes": 0} for kind in (IMAGE, STYLESHEET)}
    if not has_media(conn):
        return totals
    for kind, count, size in conn.execute(
        f"select kind, count(*), coalesce(sum(size), 0) from {MEDIA} group by kind"
    ):
        totals[kind] = {"count": count, "bytes": size}
    return totals


def media_of_articles(conn, article_urls: list[str]) -> Iterator[tuple[str, str, str, bytes]]:
    """(url, fetched_at, content type, bytes) of the kept images the articles at article_urls
    use and of every kept stylesheet, each URL once, one at a time (for a WARC export)."""
    if not has_media(conn):
        return
    urls: set[str] = set()
    for start in range(0, len(article_urls), 500):
        chunk = article_urls[start : start + 500]
        urls.update(
            url
            for (url,) in conn.execute(
                f"select i.url from {ARTICLE_IMAGES} i join {ARTICLES} a on a.id = i.article_id "
                f"where a.url in ({', '.join('?' * len(chunk))})",
                chunk,
            )
        )
    urls.update(
        url
        for (url,) in conn.execute(
            f"select u.url from {MEDIA_URLS} u join {MEDIA} m using (sha256) where m.kind = ?",
            [STYLESHEET],
        )
    )
    for url in sorted(urls):
        row = conn.execute(
            f"select u.fetched_at, m.content_type, m.body from {MEDIA_URLS} u "
            f"join {MEDIA} m using (sha256) where u.url = ?",
            [url],
        ).fetchone()
        if row is not None:
            yield url, row[0], row[1], bytes(row[2])
