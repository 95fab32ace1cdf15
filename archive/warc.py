"""WARC export: the kept HTML page of each exported article as a response record, with the
request record that asked for it (warcio), so replay tools (pywb, ReplayWeb.page) and WARC
readers see the pages as the crawl fetched them. Articles whose page was never kept (read from
REST or the feed alone) have no record; the count written says how many had one."""

from __future__ import annotations

import http
import io
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import IO
from urllib.parse import urlsplit

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
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter


    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record(
        "ciudadano-archive.warc.gz", {"software": "ciudadano-archive",
                                      "format": "WARC File Format 1.0",
                                      "description": "Pages of www.elciudadano.com as archived"}))
    count = 0
    for row in rows:
        page = latest_page(conn, row["url"])
        if page is None:
            continue
        final_url, status, headers, body, fetched_at = page
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        header_list = [(name, value) for name, values in headers.items()
                       if name.lower() not in _WIRE_HEADERS for value in values]
        header_list.append(("Content-Length", str(len(body))))
        date = _warc_date(fetched_at)
        response = writer.create_warc_record(
            final_url, "response", payload=io.BytesIO(body),
            http_headers=StatusAndHeaders(f"{status} {phrase}", header_list,
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date})
        parts = urlsplit(final_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            final_url, "request",
            http_headers=StatusAndHeaders(f"GET {target or '/'} HTTP/1.1",
                                          [("Host", parts.netloc)], is_http_request=True),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To":
                               response.rec_headers.get_header("WARC-Record-ID")})
        writer.write_record(response)
        writer.write_record(request)
        count += 1
    return count


def warc_writer(uri: str):
    """A writer for archive.export: its own read connection to the archive for the pages."""
    import sqlite3

    def write(rows: Iterator[dict], out: IO[bytes]) -> int:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            return write_warc(rows, out, conn)

    return write
