"""A crawl against hostile servers on 127.0.0.1 (issue 17, the crawler): discovery and
redirects that lead off the site, a port other code can talk to, a job file a killed crawl
leaves, a log flooded by dropped duplicates. Each test failed before its fix: the other host's
sitemaps were fetched and kept, a redirect to another port of 127.0.0.1 was followed, Scrapy's
remote-control server listened during every crawl and its job file outlived a SIGKILL, and
each duplicate printed the whole article.

169.254.169.254 (a cloud's metadata address) is never contacted: the crawl's http_proxy is a
server of the test's own, so a request that got past the crawl's gate would reach that server
instead, and be seen."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from standin.articles import ARTICLES
from standin.server import StandInSite
from tests.conftest import rows, run_crawl, start_crawl, stored, wait_until
from tests.faults.test_crawl_faults import _final_stats, _refresh_page
from tests.faults.test_reader_faults import children_of

VALID = [a for a in ARTICLES if a.get("template") != "nodate"]
LIVE = "https://www.elciudadano.com"
METADATA = "http://169.254.169.254"


@pytest.fixture
def trap_proxy(monkeypatch):
    """The crawl's HTTP proxy for every host but 127.0.0.1 and localhost: a server that only
    records what reaches it (nothing must)."""
    with StandInSite() as trap:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            monkeypatch.setenv(name, trap.base_url)
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.setenv(name, "127.0.0.1,localhost")
        yield trap


def _index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    ).encode()


# -- 2: discovery stays on the site ----------------------------------------------------------
def test_sitemaps_that_name_other_hosts_are_refused_before_any_connection(tmp_path, trap_proxy):
    db = tmp_path / "hostile.db"
    with StandInSite() as other:
        other_port = other.base_url.rsplit(":", 1)[1]
        off_site = [
            f"http://localhost:{other_port}/sitemap_index.xml",  # robots.txt's
            f"{METADATA}/latest/meta-data/sitemap.xml",
            f"http://127.0.0.1:{other_port}/post-sitemap2.xml",  # the index's
            f"{METADATA}/post-sitemap3.xml",
        ]
        robots = (
            "User-agent: *\nDisallow: /privado/\n\n"
            f"Sitemap: {off_site[0]}\nSitemap: {off_site[1]}\n"
            f"Sitemap: {LIVE}/sitemap_index.xml\n"
        ).encode()
        index = _index(f"{LIVE}/post-sitemap.xml", off_site[2], off_site[3])
        with StandInSite(pages={"/robots.txt": robots, "/sitemap_index.xml": index}) as site:
            result = run_crawl(db, site.base_url, "--feed-pages", "0")
            base = site.base_url
        assert other.requests == []
    assert trap_proxy.requests == []  # 169.254.169.254 never left the crawl
    kept = rows(db, "select url, final_url from responses")
    assert kept and all(u.startswith(base + "/") and f.startswith(base + "/") for u, f in kept)
    failures = dict(rows(db, "select url, reason from failures"))
    for url in off_site:
        assert "off the site" in failures[url], result.stderr[-2000:]
    from crawler.middlewares import OFFSITE_REFUSED

    assert _final_stats(db)[OFFSITE_REFUSED] >= len(off_site)
    assert stored(db) > 0  # the site's own sitemap was read, its articles archived


def test_an_article_a_sitemap_lists_off_the_site_is_given_up_at_once(tmp_path, trap_proxy):
    # it was queued for later runs ("retry later"), eight times over weeks
    db = tmp_path / "elsewhere.db"
    elsewhere = f"{METADATA}/chile/nota-ajena/01/02/"
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{elsewhere}</loc><lastmod>2025-01-02T10:00:00-03:00</lastmod></url>"
        "</urlset>"
    ).encode()
    pages = {
        "/sitemap_index.xml": _index(f"{LIVE}/post-sitemap.xml", f"{LIVE}/post-sitemap2.xml"),
        "/post-sitemap2.xml": sitemap,
    }
    with StandInSite(pages=pages) as site:
        run_crawl(db, site.base_url, "--feed-pages", "0")
    assert trap_proxy.requests == []
    assert rows(db, "select given_up from retries where url = ?", elsewhere) == [(1,)]
    assert "off the site" in rows(db, "select reason from failures where url = ?", elsewhere)[0][0]


# -- 3: the site is scheme, host and port ----------------------------------------------------
def test_a_redirect_or_meta_refresh_to_another_port_of_the_same_address_is_refused(
    tmp_path, trap_proxy
):
    db = tmp_path / "port.db"
    redirected = "/chile/se-fue-a-otro-puerto/11/20/"
    refreshed = "/chile/refresco-a-otro-puerto/11/20/"
    with StandInSite() as other:  # the same address, another port: another site
        elsewhere = other.base_url
        with StandInSite(
            redirects={redirected: elsewhere + VALID[0]["path"]},
            pages={refreshed: _refresh_page(elsewhere + VALID[1]["path"])},
        ) as site:
            base = site.base_url
            result = run_crawl(db, base, "--url", base + redirected, "--url", base + refreshed)
        assert other.requests == []
    assert result.returncode == 1, result.stderr[-2000:]
    assert dict(rows(db, "select url, reason from failures")) == {
        base + redirected: f"redirected off the site to {elsewhere}{VALID[0]['path']}",
        base + refreshed: f"redirected off the site to {elsewhere}{VALID[1]['path']}",
    }
    assert stored(db) == 0
    assert all(f.startswith(base + "/") for (f,) in rows(db, "select final_url from responses"))


def test_the_site_is_its_scheme_host_and_port_www_or_not():
    from crawler.middlewares import origin, site_origins

    live = site_origins("https://www.elciudadano.com")
    assert origin("https://elciudadano.com/chile/") in live
    assert origin("https://www.elciudadano.com:443/chile/") in live  # the default port
    assert origin("http://www.elciudadano.com/chile/") not in live  # another scheme and port
    assert origin("https://www.elciudadano.com:8443/chile/") not in live
    assert origin("https://elciudadano.com.evil.example/") not in live
    local = site_origins("http://127.0.0.1:8080")
    assert origin("http://127.0.0.1:8080/robots.txt") in local
    assert origin("http://127.0.0.1:8081/robots.txt") not in local
    assert origin("http://127.0.0.1/robots.txt") not in local
    assert origin("http://localhost:8080/robots.txt") not in local


# -- 5: nothing listens, nothing is left behind ----------------------------------------------
def _listening(pids: list[int]) -> list[str]:
    """The TCP ports these processes listen on, as local addresses (hex, as /proc gives)."""
    inodes = set()
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pids[0]}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(fields[1])
    return found


def test_a_crawl_listens_on_no_port_and_writes_no_job_file(tmp_path, monkeypatch):
    state = tmp_path / "state"  # where Scrapy writes its job files (platformdirs)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    db = tmp_path / "quiet.db"
    with StandInSite(delay=0.3) as slow:
        crawl = start_crawl(db, slow.base_url, "-s", "CONCURRENT_REQUESTS=1")
        try:
            wait_until(lambda: stored(db) >= 1)
            listening = _listening([crawl.pid, *children_of(crawl.pid)])
            files = sorted(state.rglob("*.json"))
        finally:
            crawl.kill()
            crawl.wait()
    assert listening == []
    assert files == []
    assert sorted(state.rglob("*.json")) == []  # nor after a SIGKILL


def test_a_job_file_a_sigkilled_crawl_left_is_removed_by_the_next_run(tmp_path, monkeypatch):
    # a crawl with the remote control on (as every crawl had it before) killed with SIGKILL
    # leaves its job file (its port and token); the next run removes it
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    jobs = state / "scrapy" / "job_files"
    db = tmp_path / "killed.db"
    with StandInSite(delay=0.3) as slow:
        crawl = start_crawl(
            db, slow.base_url, "-s", "CONCURRENT_REQUESTS=1", "-s", "REMOTE_CONTROL_ENABLED=True"
        )
        try:
            wait_until(lambda: stored(db) >= 1 and any(jobs.glob("*.json")))
        finally:
            crawl.send_signal(signal.SIGKILL)
            crawl.wait()
        left = [json.loads(p.read_text()) for p in jobs.glob("*.json")]
        assert [job["pid"] for job in left] == [crawl.pid]
        url = slow.base_url + VALID[0]["path"]
        result = run_crawl(db, slow.base_url, "--url", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list(jobs.iterdir()) == []


# -- 6: a dropped duplicate is one line ------------------------------------------------------
def test_each_dropped_duplicate_is_one_short_line(tmp_path):
    article = VALID[0]
    copies = ["/chile/copia-uno/11/20/", "/chile/copia-dos/11/20/"]
    with StandInSite() as site:
        base = site.base_url
        with urllib.request.urlopen(base + article["path"]) as page:
            html = page.read()
        site.pages.update({path: html for path in copies})  # the same post at two more URLs
        result = run_crawl(
            tmp_path / "dupes.db",
            base,
            "--log-level",
            "INFO",
            "--url",
            base + article["path"],
            *[arg for path in copies for arg in ("--url", base + path)],
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'body'" not in result.stderr  # the article itself is not printed
    # each copy names the post's own URL (its canonical link): the same article twice more
    drops = [line for line in result.stderr.splitlines() if "Dropped" in line]
    assert [line.split("] ", 1)[1] for line in drops] == 2 * [
        f"INFO: Dropped {base}{article['path']}: a duplicate: already archived in this run"
    ]
    assert stored(tmp_path / "dupes.db") == 1
