"""The archive as a record, on the stand-in: an audit of what the site lists, takedowns
(removed, restored, never deleted) and withdrawal. Real crawls and audits over HTTP, real
SQLite files; every expected value read off the stand-in's articles by hand."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from standin.articles import ARTICLES, by_key
from standin.server import StandInSite
from tests.conftest import FAST, ciudadano, rows, run_command, run_crawl, serving
from tests.forked import ForkedProcess

# The stand-in's post sitemaps list its 10 articles and, as the live site's do, some pages a
# crawl must survive: the blocked, challenged, deleted (404) and robots-disallowed pages are
# article-shaped URLs (/section/slug/MM/DD/), the section listing /chile/ is not. So the site
# "lists" 14 articles.
LISTED = 14
SEED = by_key("seed-kast-milei")
TILTIL = by_key("chile-tiltil-relave")


def command(*args: str) -> subprocess.CompletedProcess:
    return run_command(*args)


def audit(db, site: StandInSite, *extra: str) -> subprocess.CompletedProcess:
    return command("audit", "--db", str(db), "--base-url", site.base_url, *FAST, *extra)


def status(db) -> str:
    result = command("status", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return result.stdout


def archived_urls(db) -> set[str]:
    return {url for (url,) in rows(db, "select url from articles")}


def events(db, url: str) -> list[tuple[str, str]]:
    return rows(
        db,
        "select e.event, e.detail from article_events e join articles a on "
        "a.id = e.article_id where a.url = ? order by e.rowid",
        url,
    )


@pytest.fixture()
def site():
    with StandInSite(articles=list(ARTICLES)) as site:
        yield site


def test_an_audit_finds_what_the_archive_lacks_and_the_next_crawl_fetches_it(site, tmp_path):
    db = tmp_path / "a.db"
    first = run_crawl(db, site.base_url, "--url", site.base_url + SEED["path"])
    assert first.returncode == 0, first.stderr
    result = audit(db, site)
    assert result.returncode == 0, result.stderr
    assert "14 articles listed in 2 sitemaps, 10 posts by the REST API" in result.stderr
    assert "coverage: 1 of the 14 articles the site lists (7.14%)" in result.stderr
    assert rows(db, "select count(*) from listings") == [(LISTED,)]
    assert rows(db, "select count(*) from missing_articles") == [(LISTED - 1,)]
    # an incremental run of the REST API alone (no feed) would find nothing changed since the
    # first run: what it fetches, it fetches because the audit listed it
    second = run_crawl(db, site.base_url, "--feed-pages", "0", source="auto")
    assert "9 new" in second.stderr, second.stderr
    assert archived_urls(db) == {site.base_url + a["path"] for a in ARTICLES}
    shown = status(db)
    # the 4 trap pages stay missing: 10 / 14 = 71.428...%, rounded down
    assert "coverage: 10 of the 14 articles the site lists (71.42%)" in shown
    assert "2025 9 of 9 (100.00%)" in shown  # nine of the stand-in's posts are of 2025
    report = json.loads(command("status", "--db", str(db), "--json").stdout)["coverage"]
    assert sorted(report["missing_newest"]) == sorted(
        site.base_url + p
        for p in (
            "/chile/bloqueado-por-cloudflare/11/20/",
            "/mundo/pagina-con-desafio/11/19/",
            "/chile/articulo-borrado/10/01/",
            "/privado/borrador-interno/01/01/",
        )
    )


def test_what_the_site_lists_newer_than_the_archive_is_wanted_newest_first(after_crawl, crawled):
    from archive.db import open_for_writing
    from archive.listings import wanted_urls
    from standin.articles import edited

    site, db = after_crawl
    assert crawled[1].returncode == 1  # the traps fail, as always
    assert audit(db, site).returncode == 0
    conn = open_for_writing(db)
    lacking = [url for url, _ in wanted_urls(conn, 100)]
    conn.close()
    # the archive has every article as the sitemap dates it; of the traps, the 404 and the
    # blocked pages wait in the retries table: only the page robots.txt disallows is wanted
    assert lacking == [site.base_url + "/privado/borrador-interno/01/01/"]
    index = site.articles.index(TILTIL)
    site.articles[index] = edited(TILTIL, "2026-01-02T10:00:00-03:00", "Tiltil: nuevo título")
    assert audit(db, site).returncode == 0
    conn = open_for_writing(db)
    wanted = [url for url, _ in wanted_urls(conn, 100)]
    # handed out once until the next audit: a page that does not carry the sitemap's date is
    # not fetched again every night
    again = [url for url, _ in wanted_urls(conn, 100)]
    conn.close()
    # the edited one first: its lastmod (2026-01-02) is the newest the sitemaps give
    assert wanted == [site.base_url + TILTIL["path"], *lacking]
    assert again == lacking


def test_a_post_deleted_on_the_site_is_marked_removed_and_restored_when_it_returns(after_crawl):
    site, db = after_crawl
    assert audit(db, site).returncode == 0
    url = site.base_url + TILTIL["path"]
    kept = rows(db, "select count(*) from responses where url = ?", url)
    site.articles.remove(TILTIL)  # WordPress deletes it: no sitemap lists it, its page 404s
    gone = audit(db, site)
    assert gone.returncode == 0, gone.stderr
    assert "1 newly missed, 1 removed, 0 restored" in gone.stderr
    ((missing_since, removed_at, reason, title),) = rows(
        db,
        "select missing_since, removed_at, removal_reason, title from articles where url = ?",
        url,
    )
    assert missing_since and removed_at and reason == "HTTP 404"
    assert title == TILTIL["title"]  # kept, never deleted
    assert rows(db, "select count(*) from responses where url = ?", url) == kept
    assert [e for e, _ in events(db, url)] == ["missed", "removed"]
    assert f"removed since {removed_at}: {url} (HTTP 404" in status(db)
    assert rows(db, "select url from removed_articles") == [(url,)]
    # a second audit asks nothing more of it
    again = audit(db, site)
    assert "0 newly missed, 0 removed, 0 restored" in again.stderr
    site.articles.append(TILTIL)
    back = audit(db, site)
    assert "0 newly missed, 0 removed, 1 restored" in back.stderr
    assert rows(
        db,
        "select removed_at, missing_since, restored_at is not null from articles where url = ?",
        url,
    ) == [(None, None, 1)]
    assert [e for e, _ in events(db, url)] == ["missed", "removed", "restored"]
    assert "removed since" not in status(db)


def test_a_redirect_to_the_home_page_is_a_removal_and_an_unlisted_live_page_is_not(after_crawl):
    site, db = after_crawl
    assert audit(db, site).returncode == 0
    seed, tiltil = site.base_url + SEED["path"], site.base_url + TILTIL["path"]
    site.articles.remove(SEED)
    site.redirects[SEED["path"]] = "/"
    # no sitemap lists it any more, yet its page still answers: sitemaps can be cut short
    page = httpx.get(tiltil).content
    site.articles.remove(TILTIL)
    site.pages[TILTIL["path"]] = page
    result = audit(db, site)
    assert "2 newly missed, 1 removed" in result.stderr, result.stderr
    assert rows(db, "select removal_reason from articles where url = ?", seed) == [
        (f"redirects to the home page ({site.base_url}/)",)
    ]
    assert rows(
        db, "select missing_since is not null, removed_at from articles where url = ?", tiltil
    ) == [(1, None)]
    assert events(db, tiltil) == [
        ("missed", "not in the sitemaps of audit 2"),
        ("still_online", "the page answers 200"),
    ]


def test_an_audit_whose_sitemaps_fail_marks_nothing_missed(after_crawl):
    site, db = after_crawl
    site.errors["/post-sitemap2.xml"] = 500
    result = audit(db, site)
    assert result.returncode == 1
    assert "1 sitemaps could not be read; nothing was marked missed" in result.stderr
    assert rows(db, "select count(*) from articles where missing_since is not null") == [(0,)]


def test_withdraw_hides_an_article_from_search_export_and_serve_and_reinstate_shows_it(
    after_crawl,
):
    site, db = after_crawl
    url = site.base_url + TILTIL["path"]

    def searched(*extra):
        out = command("search", "Tiltil", "--db", str(db), "--json", *extra).stdout
        return [json.loads(line)["url"] for line in out.splitlines()]

    def exported(*extra):
        out = command("export", "--format", "jsonl", "--db", str(db), *extra).stdout
        return [json.loads(line)["url"] for line in out.splitlines()]

    assert searched() == [url]
    assert url in exported()
    done = command("withdraw", url, "--reason", "orden judicial 123-2026", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert searched() == []
    assert searched("--include-withdrawn") == [url]
    assert url not in exported()
    assert len(exported()) == len(ARTICLES) - 1
    assert url in exported("--include-withdrawn")
    ((article_id, reason),) = rows(
        db, "select id, withdrawal_reason from articles where url = ?", url
    )
    assert reason == "orden judicial 123-2026"  # kept in the file, with its reason
    with serving(db) as base:
        assert httpx.get(f"{base}/-/article/{db.stem}/{article_id}").status_code == 404
        hits = httpx.get(f"{base}/{db.stem}/search.json?q=Tiltil&_shape=array").json()
        assert hits == []
        # nor in the articles table's pages, its row page, or the results page
        table = httpx.get(f"{base}/{db.stem}/articles.json?_shape=array&_size=max").json()
        assert len(table) == len(ARTICLES) - 1 and url not in {a["url"] for a in table}
        assert httpx.get(f"{base}/{db.stem}/articles/{article_id}").status_code == 404
        assert httpx.get(f"{base}/{db.stem}/articles/{article_id}.json").status_code == 404
        listed = httpx.get(f"{base}/-/buscar/{db.stem}.json?q=Tiltil")
        assert listed.status_code == 200 and url not in json.dumps(listed.json())
        # and the kept images' bytes are not a table page of blobs
        assert httpx.get(f"{base}/{db.stem}/media").status_code == 403
    back = command("reinstate", url, "--db", str(db))
    assert back.returncode == 0, back.stderr
    assert searched() == [url]
    assert url in exported()
    assert [e for e, _ in events(db, url)] == ["withdrawn", "reinstated"]


def test_withdraw_of_an_article_not_in_the_archive_says_so(after_crawl):
    site, db = after_crawl
    result = command(
        "withdraw", "https://example.invalid/no/such/01/01/", "--reason", "x", "--db", str(db)
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: no article at https://example.invalid/no/such/01/01/ in the archive"
    )


def test_an_audit_killed_half_way_keeps_what_it_read_and_the_next_one_goes_on(after_crawl):
    import signal

    from tests.conftest import wait_until

    site, db = after_crawl
    site.hang.add("/post-sitemap2.xml")  # the second sitemap never answers
    killed = ForkedProcess(
        [*ciudadano(), "audit", "--db", str(db), "--base-url", site.base_url, *FAST]
    )
    try:
        wait_until(lambda: rows(db, "select count(*) from audit_sitemaps") == [(1,)])
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    # the newest half of the 10 articles, and the 4 article-shaped trap pages
    assert rows(db, "select sitemap, urls from audit_sitemaps") == [("/post-sitemap.xml", 9)]
    site.hang.clear()
    before = len(site.requests)
    result = audit(db, site)
    assert result.returncode == 0, result.stderr
    read = [p for p in site.requests[before:] if p.endswith(".xml")]
    assert read == ["/sitemap_index.xml", "/post-sitemap2.xml"]  # the first is not read again
    assert rows(db, "select id, status from audits") == [(1, "complete")]
    assert "coverage: 10 of the 14 articles the site lists" in result.stderr


def test_an_audit_stopped_by_sigterm_says_so_and_keeps_what_it_read(after_crawl):
    import signal

    from tests.conftest import wait_until

    site, db = after_crawl
    site.hang.add("/post-sitemap2.xml")
    # the hung sitemap's request is waited for, as a graceful stop does, up to its timeout
    stopped = ForkedProcess(
        [*ciudadano(), "audit", "--db", str(db), "--base-url", site.base_url, *FAST]
        + ["-s", "DOWNLOAD_TIMEOUT=2"]
    )
    try:
        wait_until(lambda: rows(db, "select count(*) from audit_sitemaps") == [(1,)])
        stopped.send_signal(signal.SIGTERM)
        _, err = stopped.communicate(timeout=120)
    finally:
        stopped.kill()
        site.hang.clear()
    assert stopped.returncode == 6, err
    assert "error: interrupted; what was read is kept" in err
    assert rows(db, "select status from audits") == [("interrupted",)]
    assert rows(db, "select count(*) from articles where missing_since is not null") == [(0,)]
