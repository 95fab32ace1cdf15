"""Faults a crawl meets: redirects, signals, a second crawl, a page that costs too much.
Each failed before its fix: the crawl lost articles silently, called a killed run "finished",
ran two crawls on one archive, or stalled every download while it parsed one page."""

from __future__ import annotations

import signal

import pytest

from standin.articles import ARTICLES
from standin.server import StandInSite
from tests.conftest import rows, run_crawl, start_crawl, stored, wait_until

VALID = [a for a in ARTICLES if a.get("template") != "nodate"]


def _path(article: dict) -> str:
    return article["path"]


# -- redirects ------------------------------------------------------------------------------
def test_articles_redirected_off_the_site_are_failures_and_the_run_says_so(tmp_path):
    # every article answers 301 to another host: the articles are not archived, and that must
    # be said (a row each in failures, exit 1), not a silent exit 0 with 0 articles
    with StandInSite() as probe:
        other = probe.base_url.replace("127.0.0.1", "localhost")
    redirects = {_path(a): other + _path(a) for a in ARTICLES}
    with StandInSite(redirects=redirects) as moved:
        result = run_crawl(tmp_path / "moved.db", moved.base_url, "--feed-pages", "0")
        base = moved.base_url
    assert result.returncode == 1, result.stderr[-2000:]
    failures = dict(rows(tmp_path / "moved.db", "select url, reason from failures"))
    for article in VALID:
        assert (
            failures[base + _path(article)] == f"redirected off the site to {other}{_path(article)}"
        )
    assert stored(tmp_path / "moved.db") == 0


OLD_SLUG = "/chile/slug-antiguo-del-articulo/07/14/"
LOOP_A, LOOP_B = "/chile/bucle-a/01/01/", "/chile/bucle-b/01/01/"
CHAIN = [f"/chile/cadena-{i}/01/01/" for i in range(13)]


@pytest.fixture(scope="session")  # once, even if xdist interleaves modules
def redirected_run(tmp_path_factory):
    """One crawl of a site whose sitemap lists an old slug redirected to an article, a
    redirect loop and a chain of 12 redirects: (site, archive, process)."""
    redirects = {OLD_SLUG: _path(VALID[1]), LOOP_A: LOOP_B, LOOP_B: LOOP_A}
    redirects.update({CHAIN[i]: CHAIN[i + 1] for i in range(12)})
    db = tmp_path_factory.mktemp("redirects") / "redirects.db"
    with StandInSite(redirects=redirects, extra_urls=[OLD_SLUG, LOOP_A, CHAIN[0]]) as site:
        result = run_crawl(db, site.base_url, "--feed-pages", "0")
    return site, db, result


def test_a_redirect_within_the_site_is_followed_to_the_new_canonical_url(redirected_run):
    site, db, result = redirected_run
    base = site.base_url
    assert site.fetched(OLD_SLUG) == 1
    assert result.returncode == 1, result.stderr[-2000:]  # the stand-in's traps (and loops)
    urls = [u for (u,) in rows(db, "select url from articles")]
    assert base + _path(VALID[1]) in urls and base + OLD_SLUG not in urls
    assert base + OLD_SLUG not in dict(rows(db, "select url, reason from failures"))


def test_redirect_loops_and_long_chains_are_failures_with_their_own_reason(redirected_run):
    site, db, _ = redirected_run
    base = site.base_url
    failures = dict(rows(db, "select url, reason from failures"))
    assert failures[base + LOOP_A].startswith(f"redirect loop: {base}{LOOP_A} -> {base}{LOOP_B}")
    assert failures[base + CHAIN[0]].startswith("more than 10 redirects")
    assert "robots.txt" not in failures[base + CHAIN[0]]


def _refresh_page(target: str) -> bytes:
    """A page that sends the reader on, as a host's "this page has moved" notice does."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={target}">'
        f"<title>Redirigiendo…</title></head><body><p>Esta página se mudó.</p>"
        f"</body></html>"
    ).encode()


def test_a_meta_refresh_within_the_site_is_followed_to_the_article(tmp_path):
    article = VALID[2]
    moved = "/chile/pagina-que-se-mudo/03/02/"
    with StandInSite(pages={moved: _refresh_page(_path(article))}) as site:
        result = run_crawl(tmp_path / "refresh.db", site.base_url, "--url", site.base_url + moved)
        base = site.base_url
        assert site.fetched(moved) == 1 and site.fetched(_path(article)) == 1
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(tmp_path / "refresh.db", "select url, title from articles") == [
        (base + _path(article), article["title"])
    ]


def test_a_meta_refresh_off_the_site_is_a_failure_not_an_article(tmp_path):
    # before, Scrapy's own meta refresh middleware followed it to any host, and the other
    # host's page was archived as if it were the site's
    moved = "/chile/pagina-que-se-mudo/03/02/"
    with StandInSite() as other:
        elsewhere = other.base_url.replace("127.0.0.1", "localhost") + _path(VALID[2])
        with StandInSite(pages={moved: _refresh_page(elsewhere)}) as site:
            result = run_crawl(tmp_path / "off.db", site.base_url, "--url", site.base_url + moved)
            base = site.base_url
        assert other.fetched(_path(VALID[2])) == 0
    assert result.returncode == 1, result.stderr[-2000:]
    assert rows(tmp_path / "off.db", "select url, reason from failures") == [
        (base + moved, f"redirected off the site to {elsewhere}")
    ]
    assert stored(tmp_path / "off.db") == 0


# -- signals and dead runs ---------------------------------------------------------------------
def _interrupted_by(sig, tmp_path):
    db = tmp_path / "signalled.db"
    with StandInSite(delay=0.3) as slow:
        crawl = start_crawl(db, slow.base_url, "-s", "CONCURRENT_REQUESTS=1")
        try:
            wait_until(lambda: stored(db) >= 1)
            crawl.send_signal(sig)
            _, stderr = crawl.communicate(timeout=60)
        finally:
            crawl.kill()
            crawl.wait()
    return crawl.returncode, stderr, db


def test_sigterm_mid_crawl_exits_6_and_the_run_is_interrupted(tmp_path):
    status, stderr, db = _interrupted_by(signal.SIGTERM, tmp_path)
    assert status == 6, stderr[-2000:]
    assert "interrupted by a signal" in stderr
    assert rows(db, "select status, exit_status, finished_at is not null from runs") == [
        ("interrupted", 6, 1)
    ]
    assert 1 <= stored(db) < len(VALID)  # what was stored is kept


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_or_a_closed_terminal_mid_crawl_exits_6_too(tmp_path, sig):
    status, stderr, db = _interrupted_by(sig, tmp_path)
    assert status == 6, stderr[-2000:]
    assert rows(db, "select status from runs") == [("interrupted",)]


def test_a_finished_run_is_recorded_with_its_exit_status(crawled):
    db, result = crawled
    assert rows(db, "select status, exit_status from runs") == [("finished", result.returncode)]


def test_a_sigkilled_run_is_shown_as_died_by_the_next_run(tmp_path):
    db = tmp_path / "killed.db"
    with StandInSite(delay=0.3) as slow:
        crawl = start_crawl(db, slow.base_url, "-s", "CONCURRENT_REQUESTS=1")
        wait_until(lambda: stored(db) >= 1)
        crawl.kill()
        crawl.wait()
        assert rows(db, "select status from runs") == [("running",)]
        result = run_crawl(db, slow.base_url, "--feed-pages", "0")
    assert result.returncode == 1, result.stderr[-2000:]  # the stand-in's traps
    assert rows(db, "select status from runs order by id") == [("died",), ("finished",)]
    # the second run went on: every article, the one whose page lost its date too (dated by
    # its sitemap lastmod, the feed not being read)
    assert stored(db) == len(ARTICLES)


# -- one crawl at a time ------------------------------------------------------------------------
def test_a_second_crawl_on_the_same_archive_exits_7_at_once(tmp_path):
    db = tmp_path / "busy.db"
    # the first crawl stays busy, however long the second takes to start: one of its pages
    # never answers (for a minute), until the test has done with it
    hanging = "/chile/pagina-que-no-termina/11/20/"
    with StandInSite(hang={hanging}, extra_urls=[hanging]) as slow:
        first = start_crawl(db, slow.base_url, "-s", "DOWNLOAD_TIMEOUT=60", script=True)
        try:
            wait_until(lambda: stored(db) >= 1)
            second = run_crawl(db, slow.base_url)
            assert second.returncode == 7, second.stderr[-2000:]
            assert second.stderr.strip().splitlines() == [
                f"error: a crawl (pid {first.pid}) is writing to {db} (it holds the archive's "
                "lock); nothing was done"
            ]
            first.kill()  # a dead run must not leave the lock stuck
            first.wait()
            slow.hang.clear()  # the page is missing now (404): one more of the traps
            third = run_crawl(db, slow.base_url, "--feed-pages", "0")
        finally:
            first.kill()
            first.wait()
    assert third.returncode == 1, third.stderr[-2000:]  # the stand-in's traps, not the lock
    assert rows(db, "select count(*) from runs") == [(2,)]  # the refused run wrote nothing


# -- a page that costs too much ------------------------------------------------------------------
def _huge_article(paragraphs: int) -> bytes:
    body = "".join(f"<p>palabra{i}</p>" for i in range(paragraphs))
    return (
        '<!DOCTYPE html><html lang="es-CL"><head><title>Página enorme | El Ciudadano</title>'
        '<meta property="og:type" content="article"></head>'
        '<body class="post-template-default single single-post postid-999001">'
        '<article><h1 class="entry-title">Página enorme</h1>'
        '<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre de 2025</time>'
        f'<div class="entry-content">{body}</div></article></body></html>'
    ).encode()


def test_parsing_a_huge_page_does_not_stall_the_downloads(tmp_path):
    # the parse of one huge page runs beside the reactor: the longest time the reactor was
    # held stays well under the time that parse took (measured in the same run); parsing in
    # the reactor thread held it for the whole parse
    huge = "/chile/pagina-enorme/11/20/"
    with StandInSite(pages={huge: _huge_article(30_000)}, extra_urls=[huge]) as site:
        result = run_crawl(
            tmp_path / "huge.db", site.base_url, "--feed-pages", "0", "--log-level", "DEBUG"
        )
    stats = _final_stats(tmp_path / "huge.db")
    parse_ms, stall_ms = stats["ciudadano/parse_max_ms"], stats["ciudadano/reactor_stall_max_ms"]
    assert parse_ms > 200, result.stderr[-1000:]  # the huge page really cost something
    assert stall_ms < parse_ms * 0.75, (stall_ms, parse_ms)


def _final_stats(db) -> dict:
    import json

    (stats,) = rows(db, "select stats from runs order by id desc limit 1")[0]
    return json.loads(stats)


def test_a_parser_process_that_dies_fails_its_page_alone(tmp_path):
    # the worker parsing a page dies (killed here, as a crash in C code would kill it): that
    # page is a failure (and kept as it came), the run goes on parsing in threads, every other
    # article is archived
    import os

    from archive.raw import decompress
    from tests.faults.test_reader_faults import children_of

    slow = "/chile/pagina-lenta-de-analizar/11/20/"
    db = tmp_path / "dead-parser.db"
    page = _huge_article(400_000)  # 7 MB
    with StandInSite(pages={slow: page}, extra_urls=[slow]) as site:
        crawl = start_crawl(db, site.base_url, "--feed-pages", "0")
        try:
            wait_until(lambda: site.fetched(slow) >= 1, timeout=60, every=0.01)
            workers = children_of(crawl.pid)
            assert workers, "no parser process"
            # the 7 MB page is being parsed (it takes seconds) once the parser has spent 0.3 s
            # of CPU since it was fetched: the site's other pages take milliseconds each
            spent = cpu_seconds(workers)
            wait_until(lambda: cpu_seconds(workers) - spent >= 0.3, timeout=120, every=0.01)
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            _, stderr = crawl.communicate(timeout=120)
        finally:
            crawl.kill()
            crawl.wait()
    failures = dict(rows(db, "select url, reason from failures"))
    assert failures[site.base_url + slow].startswith("parser error"), failures
    (kept,) = rows(db, "select body from responses where final_url = ?", site.base_url + slow)
    assert decompress(kept[0]) == (page.encode() if isinstance(page, str) else page)
    dated = [a for a in ARTICLES if a.get("template") != "nodate"]
    assert stored(db) >= len(dated), stderr[-2000:]
    assert "the parser process died" in stderr


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time the processes have used so far (0 for one that is gone)."""
    import os

    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def test_a_page_that_never_answers_times_out_and_is_tried_again_later(tmp_path):
    hanging = "/chile/pagina-que-nunca-responde/11/20/"
    db = tmp_path / "hang.db"
    with StandInSite(hang={hanging}, extra_urls=[hanging]) as site:
        result = run_crawl(
            db,
            site.base_url,
            "--feed-pages",
            "0",
            "-s",
            "DOWNLOAD_TIMEOUT=1",
            "-s",
            "RETRY_TIMES=1",
        )
        base = site.base_url
    assert result.returncode == 1, result.stderr[-2000:]
    (reason,) = rows(db, "select reason from failures where url = ?", base + hanging)[0]
    assert "Timeout" in reason, reason
    assert rows(db, "select given_up from retries where url = ?", base + hanging) == [(0,)]
    # the other pages were not held up: every article (the undated page by its lastmod)
    assert stored(db) == len(ARTICLES)
