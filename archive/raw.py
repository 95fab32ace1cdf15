"""The pages the crawl fetched, kept as they came: status, headers, and the body compressed with
Zstandard (level 3: about 9x on the site's pages, in a fraction of a millisecond).

They let `ciudadano reparse` rebuild the articles with a newer parser without the network, and
`ciudadano export --format warc` hand them to replay tools.
"""

from __future__ import annotations

import hashlib
import json

try:  # Python 3.14 has it in the standard library
    from compression import zstd
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd

from archive.schema import RESPONSES

LEVEL = 3
SOURCES = ("html", "rest", "feed", "sitemap")


def compress(body: bytes) -> bytes:
    return zstd.compress(body, level=LEVEL)


def decompress(blob: bytes) -> bytes:
    return zstd.decompress(blob)


def prepared(body: bytes) -> tuple[str, bytes]:
    """(sha256, compressed body) of a response: the costly part of keeping it, which may run
    on another thread (hashlib and zstd let go of Python's lock)."""
    return hashlib.sha256(body).hexdigest(), compress(body)


def keep_response(
    db,
    url: str,
    final_url: str,
    status: int,
    headers: dict[str, list[str]],
    body: bytes,
    fetched_at: str,
    source: str,
    run_id: int | None,
    ready: tuple[str, bytes] | None = None,
) -> bool:
    """Store one response (db: a sqlite-utils Database or an sqlite3 connection). A body the
    archive already holds for that URL, unchanged, is not stored twice. Returns whether it was
    stored. ready: prepared(body), when computed already."""
    digest, blob = ready or (hashlib.sha256(body).hexdigest(), None)
    last = db.execute(
        f"select sha256 from {RESPONSES} where final_url = ? order by id desc limit 1", [final_url]
    ).fetchone()
    if last is not None and last[0] == digest:
        return False
    db.execute(
        f"insert into {RESPONSES} (url, final_url, status, headers, fetched_at, source, run_id, "
        "body_bytes, sha256, body) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            url,
            final_url,
            status,
            json.dumps(headers, ensure_ascii=False),
            fetched_at,
            source,
            run_id,
            len(body),
            digest,
            blob if blob is not None else compress(body),
        ],
    )
    return True


def latest_page(conn, url: str) -> tuple | None:
    """(final_url, status, headers dict, body bytes, fetched_at) of the newest HTML page stored
    for an article URL, or None."""
    row = conn.execute(
        f"select final_url, status, headers, body, fetched_at from {RESPONSES} "
        "where final_url = ? and source = 'html' order by id desc limit 1",
        [url],
    ).fetchone()
    if row is None:
        return None
    final_url, status, headers, blob, fetched_at = row
    return final_url, status, json.loads(headers or "{}"), decompress(blob), fetched_at


def page_versions(conn, url: str) -> list[tuple[int, str]]:
    """(response id, fetched_at) of every kept version of an article's page, oldest first:
    each one served as it was by the Datasette route /-/ciudadano/kept/DATABASE/ID."""
    return conn.execute(
        f"select id, fetched_at from {RESPONSES} where final_url = ? and "
        "source = 'html' order by id",
        [url],
    ).fetchall()
