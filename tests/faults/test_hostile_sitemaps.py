"""Sitemaps as an attacker (or a broken site) serves them, to a real crawl over HTTP on
127.0.0.1 (issues 16 and 17): a gzip bomb, a sitemap of a million URLs, a sitemap or feed URL
that answers an article page. Each failed before its fix: the bomb was inflated whole (the
crawl's memory grew with it), the million URLs were parsed into one tree before the first
article was asked for and the run could not stop in time, and an article page at a sitemap or
feed URL raised inside discovery, which then never read the sitemaps.

Memory is measured as the crawl's peak resident set size, read from the kernel (VmHWM) while
it runs, not with a clock."""

from __future__ import annotations

import gzip
import signal
import time
from pathlib import Path

import pytest

from standin import templates
from standin.articles import ARTICLES
from standin.server import StandInSite
from tests.conftest import crawl_command, rows, stored
from tests.forked import ForkedProcess

LIVE = "https://www.elciudadano.com"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
MB = 1024 * 1024
# What a hostile sitemap may add to the peak memory of a crawl of a one-URL sitemap: the bomb
# inflated whole took a crawl past 1 GB, the million URLs read at once added 70 MB (here, where
# such a crawl peaks at 90 MB); read as a stream, each adds less than 10 MB.
EXTRA_RSS_LIMIT_MB = 40
MILLION = 1_000_000


def _crawl(
    db: Path, base_url: str, *extra: str, stop_when=None, timeout: float = 240
) -> tuple[int, str, float]:
    """A crawl (source html, no feed) as the operator runs it: (exit status, stderr, peak RSS
    in MB). stop_when: a predicate polled while it runs; once true, the crawl gets SIGTERM."""
    crawl = ForkedProcess(crawl_command(db, base_url, "--feed-pages", "0", *extra))
    deadline = time.monotonic() + timeout
    peak = 0.0
    try:
        while crawl.poll() is None:
            peak = max(peak, _peak_rss_mb(crawl.pid))
            if stop_when is not None and stop_when():
                crawl.send_signal(signal.SIGTERM)
                stop_when = None
            if time.monotonic() > deadline:
                raise AssertionError(f"the crawl did not end in {timeout} s")
            time.sleep(0.05)
    finally:
        if crawl.returncode is None:
            crawl.kill()
            crawl.wait()
    return crawl.returncode, crawl.communicate(30)[1], peak


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (the kernel's VmHWM, which only grows: the
    last reading before the process ends is its peak, however briefly it lasted). Not the
    rusage wait4 gives: that starts from the peak of the process it was forked from."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0  # a zombie: its memory is gone


def _robots(*sitemaps: str) -> bytes:
    return (
        "User-agent: *\nDisallow: /wp-admin/\n"
        + "".join(f"Sitemap: {LIVE}{path}\n" for path in sitemaps)
    ).encode()


def _urlset(*paths: str) -> bytes:
    entries = "".join(f"<url><loc>{LIVE}{path}</loc></url>" for path in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{entries}</urlset>'.encode()


@pytest.fixture(scope="module")
def baseline_peak(tmp_path_factory) -> float:
    """The peak memory (MB) of the same crawl over a gzipped sitemap of one article."""
    db = tmp_path_factory.mktemp("baseline") / "one.db"
    pages = {
        "/robots.txt": _robots("/post-sitemap.xml.gz"),
        "/post-sitemap.xml.gz": gzip.compress(_urlset(ARTICLES[0]["path"])),
    }
    with StandInSite(pages=pages) as site:
        status, stderr, peak = _crawl(db, site.base_url)
    assert status == 0 and stored(db) == 1, stderr[-2000:]
    return peak


# -- issue 17, 1: a gzipped sitemap is inflated under the response size cap ------------------------
@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """post-sitemap.xml.gz: one real article, then 512 MB of XML comments (valid, endless),
    as 512 gzip members of 1 MB each (gzip(1) reads them as one file): about 1 MB on the wire."""
    head = _urlset(ARTICLES[0]["path"]).removesuffix(b"</urlset>")
    padding = gzip.compress(b"<!-- relleno -->" * (MB // 16), 1)
    return gzip.compress(head) + padding * 512 + gzip.compress(b"</urlset>")


def test_a_gzip_bomb_sitemap_stops_at_the_size_cap_with_a_clear_failure(
    tmp_path, gzip_bomb, baseline_peak
):
    db = tmp_path / "bomb.db"
    pages = {"/robots.txt": _robots("/post-sitemap.xml.gz"), "/post-sitemap.xml.gz": gzip_bomb}
    with StandInSite(pages=pages) as site:
        status, stderr, peak = _crawl(db, site.base_url)
        base = site.base_url
    assert status == 1, stderr[-2000:]
    assert rows(db, "select status, exit_status from runs") == [("finished", 1)]
    assert rows(db, "select url, reason from failures") == [
        (
            base + "/post-sitemap.xml.gz",
            "discovery: sitemap larger than 32 MB (DOWNLOAD_MAXSIZE); read up to there",
        )
    ]
    # what the sitemap listed before the bomb is archived
    assert rows(db, "select url from articles") == [(base + ARTICLES[0]["path"],)]
    assert peak < baseline_peak + EXTRA_RSS_LIMIT_MB, (peak, baseline_peak)


# -- issue 17, 4: a sitemap of a million URLs is read as a stream ----------------------------------
@pytest.fixture(scope="module")
def million_urls() -> bytes:
    """post-sitemap.xml.gz listing 1,000,000 articles (about 3 MB of gzip, 60 MB of XML): more
    than the 32 MB cap once inflated, so the reading would end half way (with a failure)."""
    entries = (f"<url><loc>{LIVE}/chile/nota-{i}/01/01/</loc></url>\n" for i in range(MILLION))
    xml = "".join([f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>', *entries, "</urlset>"])
    return gzip.compress(xml.encode(), 1)


def _article_requests(site: StandInSite) -> int:
    with site._lock:
        return sum(1 for path in site.requests if path.startswith("/chile/nota-"))


def test_a_million_url_sitemap_is_fetched_while_read_and_a_sigterm_stops_the_run(
    tmp_path, million_urls, baseline_peak
):
    db = tmp_path / "million.db"
    pages = {"/robots.txt": _robots("/post-sitemap.xml.gz"), "/post-sitemap.xml.gz": million_urls}
    with StandInSite(pages=pages) as site:
        status, stderr, peak = _crawl(
            db, site.base_url, stop_when=lambda: _article_requests(site) >= 50
        )
        asked = _article_requests(site)
        last = site.fetched(f"/chile/nota-{MILLION - 1}/01/01/")
    assert status == 6, stderr[-2000:]
    assert rows(db, "select status, exit_status from runs") == [("interrupted", 6)]
    # the articles were asked for in the sitemap's order, while most of it was still unread
    assert 50 <= asked < 100_000 and last == 0
    assert peak < baseline_peak + EXTRA_RSS_LIMIT_MB, (peak, baseline_peak)


def test_a_million_url_sitemap_with_max_articles_ends_the_run_once_they_are_fetched(
    tmp_path, million_urls, baseline_peak
):
    db = tmp_path / "million-max.db"
    pages = {"/robots.txt": _robots("/post-sitemap.xml.gz"), "/post-sitemap.xml.gz": million_urls}
    with StandInSite(pages=pages) as site:
        status, stderr, peak = _crawl(db, site.base_url, "--max-articles", "20")
        asked = _article_requests(site)
    # the stand-in knows none of these articles: 20 pages answered 404, and the run says so
    assert status == 1, stderr[-2000:]
    assert rows(db, "select status from runs") == [("finished",)]
    assert asked == 20
    assert rows(db, "select count(*) from failures where reason = 'HTTP 404'") == [(20,)]
    assert peak < baseline_peak + EXTRA_RSS_LIMIT_MB, (peak, baseline_peak)


def test_a_sitemap_larger_than_scrapys_slot_is_read_at_the_pace_of_the_fetching(
    tmp_path, baseline_peak
):
    # an 11 MB sitemap of 150,000 URLs: Scrapy stops fetching while its callbacks hold more
    # than 5 MB of responses, so the whole sitemap went into the scheduler (389 MB) before the
    # first article was asked for
    import json

    db = tmp_path / "large.db"
    body = _urlset(*(f"/chile/nota-{i}/01/01/" for i in range(150_000)))
    pages = {"/robots.txt": _robots("/post-sitemap.xml"), "/post-sitemap.xml": body}
    with StandInSite(pages=pages) as site:
        status, stderr, peak = _crawl(
            db, site.base_url, stop_when=lambda: _article_requests(site) >= 100
        )
    assert status == 6, stderr[-2000:]
    (stats,) = rows(db, "select stats from runs")[0]
    assert json.loads(stats)["ciudadano/scheduled/sitemap"] < 20_000, json.loads(stats)
    assert peak < baseline_peak + EXTRA_RSS_LIMIT_MB, (peak, baseline_peak)


# -- issue 16: a sitemap or feed URL that answers an article page ----------------------------------
def _article_page() -> bytes:
    return templates.article_page(ARTICLES[1], []).encode()


def test_a_sitemap_url_answering_an_article_page_is_a_failure_and_the_next_path_is_tried(tmp_path):
    db = tmp_path / "sitemap-is-a-page.db"
    with StandInSite(pages={"/sitemap_index.xml": _article_page()}) as site:
        status, stderr, _ = _crawl(db, site.base_url)
        base = site.base_url
        assert site.fetched("/wp-sitemap.xml") == 1  # WordPress core's, after Yoast's
    assert status == 1, stderr[-2000:]
    failures = dict(rows(db, "select url, reason from failures"))
    assert (
        failures[base + "/sitemap_index.xml"]
        == "discovery: not a sitemap (its root element is <html>)"
    )
    assert "Traceback" not in stderr


def test_a_feed_answering_an_article_page_is_a_failure_and_the_sitemaps_are_still_read(tmp_path):
    db = tmp_path / "feed-is-a-page.db"
    with StandInSite(pages={"/feed/": _article_page()}) as site:
        status, stderr, _ = _crawl(db, site.base_url, "--feed-pages", "10")
        base = site.base_url
        assert site.fetched("/post-sitemap.xml") == 1
    assert status == 1, stderr[-2000:]  # the stand-in's traps, and the feed
    failures = dict(rows(db, "select url, reason from failures"))
    assert failures[base + "/feed/"] == "discovery: not an RSS feed"
    # the sitemaps' articles are archived (the undated one too, by its lastmod)
    assert stored(db) == len(ARTICLES)
