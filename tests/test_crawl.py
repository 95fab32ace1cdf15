"""A real crawl of the stand-in site, as the operator runs it: the console script, HTTP on
127.0.0.1, a real SQLite archive."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from standin.articles import ARTICLES
from standin.server import (
    BLOCKED_PATH,
    CHALLENGE_PATH,
    DISALLOWED_PATH,
    GONE_PATH,
    LISTING_PATH,
    StandInSite,
)
from tests.conftest import copy_archive, rows, run_crawl

VALID = ARTICLES  # the page without a date too: the feed's pubDate stands in (provenance says)


def archived_urls(db) -> list[str]:
    return [url for (url,) in rows(db, "select url from articles order by url")]


def test_every_article_is_archived_exactly_once(crawled, stand_in):
    db, result = crawled
    base = stand_in.base_url
    assert sorted(archived_urls(db)) == sorted(base + a["path"] for a in VALID)
    # reached through both the sitemaps and the feed (with utm_ parameters), stored once
    assert rows(db, "select count(*), count(distinct wp_id) from articles") == [(10, 10)]


def test_articles_are_stored_on_the_crawled_host_with_their_fields(crawled, stand_in):
    db, _ = crawled
    (row,) = rows(
        db,
        "select title, section, section_slug, published, published_date, authors, "
        "language, year, subtitle from articles where wp_id = 1170412",
    )
    assert row == (
        "Comunidades de Tiltil denuncian nuevo derrame de relave",
        "Chile",
        "chile",
        "2025-07-14T22:30:00-04:00",
        "2025-07-14",
        '["Camila Rojas"]',
        "es",
        2025,
        "Vecinos acusan que la empresa minera no informó a tiempo del incidente.",
    )


def test_block_pages_listings_and_errors_are_failures_not_articles(crawled, stand_in):
    db, result = crawled
    base = stand_in.base_url
    urls = archived_urls(db)
    for path in (BLOCKED_PATH, CHALLENGE_PATH, GONE_PATH, LISTING_PATH, DISALLOWED_PATH):
        assert base + path not in urls
    failures = dict(rows(db, "select url, reason from failures"))
    assert failures[base + BLOCKED_PATH] == "cloudflare-block (HTTP 403)"
    assert failures[base + CHALLENGE_PATH] == "cloudflare-challenge (HTTP 503)"
    assert failures[base + GONE_PATH] == "HTTP 404"
    assert failures[base + LISTING_PATH] == "not an article: listing page"
    assert failures[base + DISALLOWED_PATH] == "not fetched: disallowed by robots.txt"
    # the page that lost its date is archived with the feed item's pubDate, and says so
    nodate = next(a for a in ARTICLES if a.get("template") == "nodate")
    assert base + nodate["path"] not in failures
    assert rows(
        db,
        "select published, json_extract(provenance, '$.published') from articles where url = ?",
        base + nodate["path"],
    ) == [("2025-01-10T12:00:00-03:00", "feed:pubDate")]


def test_robots_txt_is_obeyed(crawled, stand_in):
    assert stand_in.fetched("/robots.txt") >= 1
    assert stand_in.fetched(DISALLOWED_PATH) == 0


def test_a_5xx_is_retried_and_the_article_kept(crawled, stand_in):
    db, _ = crawled
    flaky = next(a for a in ARTICLES if a.get("flaky"))
    assert stand_in.fetched(flaky["path"]) == flaky["flaky"] + 1
    assert rows(db, "select count(*) from articles where wp_id = ?", flaky["wp_id"]) == [(1,)]


def test_exit_status_and_summary_tell_the_operator(crawled):
    db, result = crawled
    # three pages could not be fetched (403 block, 503 challenge, 404): status 1, and why
    assert result.returncode == 1, result.stderr[-2000:]
    assert "10 new, 0 changed, 0 unchanged" in result.stderr
    assert "3 pages could not be fetched" in result.stderr
    (run,) = rows(db, "select status, articles_new, failures, finished_at is not null from runs")
    assert run == ("finished", 10, 5, 1)


def test_a_second_crawl_fetches_no_unchanged_article_and_changes_nothing(
    crawled, stand_in, tmp_path
):
    db = copy_archive(crawled[0], tmp_path / "twice.db")
    before = rows(db, "select * from articles order by url")
    fetched = len(stand_in.requests)
    second = run_crawl(db, stand_in.base_url)
    again = stand_in.requests[fetched:]
    # every archived article's sitemap lastmod is what the archive has: no page fetched
    assert not any(urlsplit(p).path in {a["path"] for a in VALID} for p in again), again
    assert "0 new, 0 changed, 0 unchanged, 10 not fetched (unchanged)" in second.stderr
    assert rows(db, "select * from articles order by url") == before
    assert rows(db, "select count(*) from runs") == [(2,)]


def test_max_articles_limits_the_crawl(tmp_path):
    db = tmp_path / "three.db"
    with StandInSite() as site:  # not the shared one: its request log is read above
        result = run_crawl(db, site.base_url, "--max-articles", "3", "--feed-pages", "1")
    assert rows(db, "select count(*) from articles") == [(3,)], result.stderr[-2000:]


def crawl_blocked_site(db, feed_pages: int):
    """A crawl of the stand-in in a Cloudflare block period: every page and /wp-json/ blocked,
    the feed still answering (SITE.md)."""
    with StandInSite(blocked=True) as blocked:
        return run_crawl(db, blocked.base_url, "--feed-pages", str(feed_pages), source="auto")


def test_a_blocked_site_exits_4_and_stores_nothing(tmp_path):
    db = tmp_path / "blocked.db"
    result = crawl_blocked_site(db, feed_pages=0)
    assert result.returncode == 4, result.stderr[-2000:]
    assert "blocking" in result.stderr
    assert rows(db, "select count(*) from articles") == [(0,)]
    reasons = {r for (r,) in rows(db, "select reason from failures")}
    assert "discovery: cloudflare-block (HTTP 403)" in reasons


def test_during_a_block_the_feed_items_are_archived_marked_and_the_run_exits_8(tmp_path):
    db = tmp_path / "feed-only.db"
    result = crawl_blocked_site(db, feed_pages=1)
    assert result.returncode == 8, result.stderr[-2000:]
    assert "archived from the REST API or the feed without their pages" in result.stderr
    newest = sorted(ARTICLES, key=lambda a: a["published"], reverse=True)[:4]  # feed page 1
    got = rows(
        db,
        "select title, json_extract(provenance, '$.page'), "
        "json_extract(provenance, '$.body') from articles order by published desc",
    )
    assert [g[0] for g in got] == [a["title"] for a in newest]
    assert {g[1] for g in got} == {"cloudflare-block (HTTP 403)"}
    assert {g[2] for g in got} == {"feed:content:encoded"}


def test_an_unreachable_site_exits_3_with_a_clear_message(tmp_path):
    import json

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = tmp_path / "none.db"
    result = run_crawl(db, f"http://127.0.0.1:{port}", source="auto")
    assert result.returncode == 3, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: could not reach http://127.0.0.1:{port}: no robots.txt, sitemap "
        "or feed answered (connection refused)"
    ]
    assert "Dumping Scrapy stats" not in result.stderr  # no page of statistics on a terminal
    stats = json.loads(rows(db, "select stats from runs")[0][0])
    # each refused request is retried once, not up the backoff ladder (2+4+8+16 s): half the
    # attempts were retries
    assert stats["retry/count"] * 2 == stats["downloader/exception_count"]


def test_an_unusable_archive_exits_5_before_crawling(stand_in, tmp_path):
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not an SQLite file" * 100)
    result = run_crawl(bad, stand_in.base_url)
    assert result.returncode == 5
    assert "is not an SQLite database" in result.stderr
    assert bad.read_bytes() == b"this is not an SQLite file" * 100  # left as it was


@pytest.fixture(scope="session")  # once, even if xdist interleaves modules
def core_sitemaps_quiet_run(tmp_path_factory):
    """A quiet crawl (for cron, its log in a file) of a WordPress without Yoast, whose only
    sitemaps are core's, and without the feed: (site, archive, process, log file)."""
    folder = tmp_path_factory.mktemp("core-sitemaps")
    db, log = folder / "core.db", folder / "crawl.log"
    with StandInSite(core_sitemaps=True) as core:
        result = run_crawl(
            db, core.base_url, "--feed-pages", "0", "--quiet", "--log-file", str(log)
        )
    return core, db, result, log


def test_wordpress_core_sitemaps_are_found_when_yoast_is_absent(core_sitemaps_quiet_run):
    core, db, result, log = core_sitemaps_quiet_run
    assert core.fetched("/sitemap_index.xml") == 1 and core.fetched("/wp-sitemap.xml") == 1
    assert core.fetched("/wp-sitemap-posts-page-1.xml") == 0  # pages are not articles
    assert result.returncode == 0, log.read_text()[-2000:]
    # without the feed, and with no lastmod in WordPress core's sitemaps, the page that lost
    # its date has nothing to take it from: a failure
    dated = [a for a in ARTICLES if a.get("template") != "nodate"]
    assert rows(db, "select count(*) from articles") == [(len(dated),)]


def test_quiet_crawls_print_nothing_on_success_for_cron(core_sitemaps_quiet_run):
    _, _, result, log = core_sitemaps_quiet_run
    assert result.returncode == 0
    assert result.stdout == "" and "crawl run" not in result.stderr
    assert "Spider closed (finished)" in log.read_text()


def test_a_page_no_source_dates_takes_its_sitemap_lastmod_and_says_so(tmp_path):
    # the page lost its date, REST is not asked and the feed not read: the sitemap's lastmod
    # for the URL (its modified time, 2025-01-10T12:00:00-03:00 in the stand-in) is the last
    # resort, and the article is kept, not lost
    from standin.server import StandInSite

    nodate = next(a for a in ARTICLES if a.get("template") == "nodate")
    db = tmp_path / "lastmod.db"
    with StandInSite(articles=[nodate]) as site:
        result = run_crawl(db, site.base_url, "--feed-pages", "0")
    assert "1 new" in result.stderr, result.stderr[-2000:]  # (and the stand-in's traps)
    assert rows(
        db,
        "select published, date_precision, json_extract(provenance, '$.published') from articles",
    ) == [(nodate.get("modified") or "2025-01-10T12:00:00-03:00", "datetime", "sitemap:lastmod")]
