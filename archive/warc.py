"""WARC export: the kept HTML page of each exported article as a response record, with the
request record that asked for it (warcio), so replay tools (pywb, ReplayWeb.page) and WARC
readers see the pages as the crawl fetched them. Articles whose page was never kept (read from
REST or the feed alone) have no record; the count written says how many had one. The images
the exported articles use and the stylesheets of their pages, when kept (archive.images),
follow as a response record each."""

from __future__ import annotations

import http
import io
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import IO
from urllib.parse import urlsplit

from archive.images import media_of_articles
from archive.raw import latest_page

# Headers that described the bytes on the wire, not the decoded body kept: left out, and the
# length given anew.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def _warc_date(fetched_at: str) -> str:
    moment = datetime.fromisoformat(fetched_at)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_warc(rows: Iterator[dict], out: IO[bytes], conn) -> int:
    """Records for the articles in rows, reading their pages through conn; returns how many
    articles had a page."""
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=True)
    writer.write_record(
        writer.create_warcinfo_record(
            "ciudadano-archive.warc.gz",
            {
                "software": "ciudadano-archive",
                "format": "WARC File Format 1.0",
                "description": "Pages of www.elciudadano.com as archived",
            },
        )
    )
    count = 0
    exported: list[str] = []  # their images follow the pages
    for row in rows:
        exported.append(row["url"])
        page = latest_page(conn, row["url"])
        if page is None:
            continue
        final_url, status, headers, body, fetched_at = page
        _write_exchange(writer, final_url, status, headers, body, fetched_at)
        count += 1
    # the images those articles use and the stylesheets their pages use, as the archive keeps
    # them (archive.images): one response record for each URL
    for url, fetched_at, content_type, body in media_of_articles(conn, exported):
        _write_exchange(writer, url, 200, {"Content-Type": [content_type]}, body, fetched_at)
    return count


def _write_exchange(
    writer, url: str, status: int, headers: dict[str, list[str]], body: bytes, fetched_at: str
) -> None:
    """A response record of body as url answered it, and the request record that asked."""
    from warcio.statusandheaders import StatusAndHeaders

    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    header_list = [
        (name, value)
        for name, values in headers.items()
        if name.lower() not in _WIRE_HEADERS
        for value in values
    ]
    header_list.append(("Content-Length", str(len(body))))
    date = _warc_date(fetched_at)
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=StatusAndHeaders(f"{status} {phrase}", header_list, protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": date},
    )
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target or '/'} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True
        ),
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(response)
    writer.write_record(request)


def warc_writer(uri: str):
    """A writer for archive.export: its own read connection to the archive for the pages."""
    import sqlite3

    def write(rows: Iterator[dict], out: IO[bytes]) -> int:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            return write_warc(rows, out, conn)

    return write
