"""The audit's cost (issue 18): `ciudadano audit` on a loopback stand-in of BENCH_AUDIT_ARTICLES
(20,000) articles, against an archive that holds them all (one crawl first), politeness off:
its requests by kind, its time and its peak memory; then again after 10 posts were deleted on
the site (their pages fetched to confirm the removals). The requests of an audit of the live
site follow from the same rules: one per post sitemap (Yoast's hold 1,000 URLs: 305 for
305,000 articles), robots.txt (twice: Scrapy's robots.txt check reads it too), the sitemap
index, and, from the REST API, one for the total, one per publication year and one per 100
categories; at the crawl's politeness (one request a second) that is their count in seconds.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections import Counter
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.crawl import FAST, _articles, _ciudadano, _timed

# politeness off, robots.txt obeyed (as the audit always does)
QUICK = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]

ARTICLES = int(os.environ.get("BENCH_AUDIT_ARTICLES", "20000"))
REMOVED = 10
SITE_ARTICLES, SITE_YEARS, YOAST_PER_SITEMAP = 305_000, 2026 - 2004 + 1, 1000


def _kind(path: str) -> str:
    if path.endswith(".xml"):
        return "sitemaps"
    if path.startswith("/wp-json/"):
        return "REST"
    if path == "/robots.txt":
        return "robots.txt"
    return "article pages"


def _requests(paths: list[str]) -> str:
    counts = Counter(_kind(urlsplit(path).path) for path in paths)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def run() -> str:
    from standin.server import StandInSite

    articles = _articles(ARTICLES)
    with (
        tempfile.TemporaryDirectory(prefix="ciudadano-bench-audit-") as tmp,
        StandInSite(articles=articles) as site,
    ):
        db = Path(tmp) / "audit.db"
        _timed(
            [
                *_ciudadano(),
                "crawl",
                "--db",
                str(db),
                "--base-url",
                site.base_url,
                "--feed-pages",
                "0",
                *FAST,
            ]
        )
        audit = [*_ciudadano(), "audit", "--db", str(db), "--base-url", site.base_url, *QUICK]
        before = len(site.requests)
        first = _timed(audit)
        first_paths = site.requests[before:]
        del site.articles[:REMOVED]
        before = len(site.requests)
        second = _timed(audit)
        second_paths = site.requests[before:]
        with closing(sqlite3.connect(db)) as conn:
            listed, removed = conn.execute(
                "select (select listed from audits order by id desc limit 1), "
                "(select count(*) from articles where removed_at is not null)"
            ).fetchone()
    live = SITE_ARTICLES // YOAST_PER_SITEMAP + 1 + 2 + 1 + SITE_YEARS + 1
    return "\n".join(
        [
            f"## Audit: what the site lists, {ARTICLES:,} articles",
            "",
            (
                "`ciudadano audit` against an archive holding every article (politeness off; the "
                f"stand-in's two post sitemaps hold {ARTICLES // 2:,} URLs each). Exit statuses "
                f"{first.status} and {second.status}; {listed:,} listed, {removed} removed "
                f"(of {REMOVED} deleted on the site)."
            ),
            "",
            "| audit | requests | time | peak RSS |",
            "| --- | --- | ---: | ---: |",
            (
                f"| first | {len(first_paths)}: {_requests(first_paths)} | {first.seconds:.1f} s | "
                f"{first.rss_mb} MB |"
            ),
            (
                f"| after {REMOVED} posts deleted | {len(second_paths)}: {_requests(second_paths)} | "
                f"{second.seconds:.1f} s | {second.rss_mb} MB |"
            ),
            "",
            (
                f"The live site ({SITE_ARTICLES:,} articles in Yoast sitemaps of "
                f"{YOAST_PER_SITEMAP:,}, posts since 2004): about {live} requests, some "
                f"{live / 60:.0f} minutes at one request a second, plus one per article the sitemaps "
                "stopped listing."
            ),
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
