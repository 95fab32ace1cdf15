"""Nightly runs at the site's real size: the REST API says what changed, nothing unchanged is
fetched, and a post read only from REST (its page blocked) is kept and upgraded later. Real
crawls of the stand-in over HTTP on 127.0.0.1 into real SQLite files; a second night starts
from a copy of conftest's shared first run."""

from __future__ import annotations

import json
import signal
import sqlite3
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from standin.articles import ARTICLES, by_key, edited, new_article
from standin.server import StandInSite
from tests.conftest import copy_archive, rows, run_crawl, start_crawl, stored, wait_until

SANTIAGO = ZoneInfo("America/Santiago")
PATHS = {a["path"] for a in ARTICLES}


def article_pages(site: StandInSite, since: int = 0, paths: set[str] | None = None) -> list[str]:
    """Paths of article pages the site served from request number since on."""
    wanted = paths if paths is not None else {a["path"] for a in site.articles}
    return [urlsplit(p).path for p in site.requests[since:] if urlsplit(p).path in wanted]


def rest_requests(requests: list[str]) -> list[dict]:
    return [
        parse_qs(urlsplit(p).query) for p in requests if urlsplit(p).path == "/wp-json/wp/v2/posts"
    ]


def sitemap_requests(requests: list[str]) -> int:
    return sum(1 for p in requests if urlsplit(p).path == "/sitemap_index.xml")


def now_in_santiago(minutes_ago: int = 0) -> str:
    moment = datetime.now(SANTIAGO).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return moment.isoformat()


def test_a_first_run_reads_the_rest_api_and_archives_every_post(first_run, first_run_site):
    db, result, asked = first_run
    assert sitemap_requests(asked) == 0  # REST answered: no sitemap needed
    (query,) = rest_requests(asked)
    assert "modified_after" not in query and query["per_page"] == ["100"]
    assert result.returncode == 0, result.stderr[-2000:]
    base = first_run_site.base_url
    assert sorted(u for (u,) in rows(db, "select url from articles")) == sorted(
        base + p for p in PATHS
    )
    # the page of this post lost its date; WordPress knows it (12:00 on 10 January, UTC-3)
    (row,) = rows(
        db, "select published, published_date, provenance from articles where wp_id = 1140001"
    )
    assert row[:2] == ("2025-01-10T12:00:00-03:00", "2025-01-10")
    assert json.loads(row[2])["published"] == "rest:date_gmt"


def test_an_incremental_run_fetches_only_the_new_and_edited_posts(after_first_run):
    site, db = after_first_run
    before = len(site.requests)
    added = [new_article(n, now_in_santiago(minutes_ago=10 * n)) for n in (1, 2, 3)]
    site.articles.extend(added)
    pensiones, cobre = by_key("politica-pensiones-senado"), by_key("economia-cobre-precio")
    site.articles[site.articles.index(pensiones)] = edited(
        pensiones, now_in_santiago(), "La reforma de pensiones vuelve al Senado con cambios"
    )
    site.articles[site.articles.index(cobre)] = edited(
        cobre, now_in_santiago(), "El cobre alcanza su precio más alto en dos años"
    )
    result = run_crawl(db, site.base_url, source="auto")
    fetched = article_pages(site, before)
    queries = rest_requests(site.requests[before:])
    sitemaps = sitemap_requests(site.requests[before:])
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(fetched) == sorted(
        [a["path"] for a in added] + [pensiones["path"], cobre["path"]]
    )
    assert len(queries) == 1 and "modified_after" in queries[0] and sitemaps == 0
    assert "3 new, 2 changed" in result.stderr
    titles = {t for (t,) in rows(db, "select title from articles")}
    assert {
        "La reforma de pensiones vuelve al Senado con cambios",
        "El cobre alcanza su precio más alto en dos años",
        "Nota nueva número 1",
        "Nota nueva número 3",
    } <= titles
    assert rows(db, "select count(*) from articles") == [(len(PATHS) + 3,)]
    # the two edited posts keep the version first archived
    assert sorted(
        rows(
            db,
            "select v.version, v.title, a.title from article_versions v "
            "join articles a on a.id = v.article_id",
        )
    ) == sorted(
        [
            (1, pensiones["title"], "La reforma de pensiones vuelve al Senado con cambios"),
            (1, cobre["title"], "El cobre alcanza su precio más alto en dos años"),
        ]
    )


def test_a_run_with_nothing_new_fetches_no_article_page(after_first_run):
    site, db = after_first_run
    before = len(site.requests)
    result = run_crawl(db, site.base_url, source="auto")
    assert article_pages(site, before) == []
    assert len(site.requests) - before <= 4  # robots.txt (ours and Scrapy's), REST, feed
    assert result.returncode == 0, result.stderr[-2000:]


def test_when_the_rest_api_is_blocked_the_sitemaps_stand_in(tmp_path):
    db = tmp_path / "no-rest.db"
    with StandInSite(rest_blocked=True) as site:
        result = run_crawl(db, site.base_url, source="auto")
        assert site.fetched("/sitemap_index.xml") == 1
    assert "falling back to the sitemaps" in result.stderr
    assert rows(db, "select count(*) from articles") == [(len(PATHS),)]


@pytest.fixture(scope="session")  # once, even if xdist interleaves modules
def pages_blocked_run(tmp_path_factory):
    """A run while every page and sitemap is blocked and the REST API and the feed answer:
    (site, archive, process). The site stays up for the session; its archive is only read."""
    db = tmp_path_factory.mktemp("blocked-pages") / "blocked-pages.db"
    with StandInSite(html_blocked=True) as site:
        yield site, db, run_crawl(db, site.base_url, source="auto")


def test_posts_whose_pages_are_blocked_are_kept_from_rest_and_upgraded_later(
    pages_blocked_run, tmp_path
):
    site, blocked_db, blocked = pages_blocked_run
    db = copy_archive(blocked_db, tmp_path / "blocked-pages.db")
    kept = rows(db, "select count(*), count(json_extract(provenance, '$.page')) from articles")
    site.html_blocked = False  # the block period ends, and the retry wait has passed
    conn = sqlite3.connect(db)
    conn.execute("update retries set next_try = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    before = len(site.requests)
    try:
        lifted = run_crawl(db, site.base_url, source="auto")
    finally:
        site.html_blocked = True
    upgraded = sorted(set(article_pages(site, before)))
    assert blocked.returncode == 8, blocked.stderr[-2000:]
    assert kept == [(len(PATHS), len(PATHS))]  # every post kept, each marked page-less
    assert lifted.returncode == 0, lifted.stderr[-2000:]
    assert upgraded == sorted(PATHS)
    bodies = rows(
        db,
        "select count(*) from articles where json_extract(provenance, '$.page') "
        "is null and json_extract(provenance, '$.body') like 'html:%'",
    )
    assert bodies == [(len(PATHS) - 1,)] or bodies == [(len(PATHS),)]


def test_a_changed_slug_moves_the_row_and_keeps_the_old_url(after_first_run):
    site, db = after_first_run
    tiltil = by_key("chile-tiltil-relave")
    new_path = "/chile/tiltil-denuncia-derrame-de-relave-minero/07/14/"
    site.articles[site.articles.index(tiltil)] = {
        **tiltil,
        "path": new_path,
        "modified": now_in_santiago(),
    }
    site.redirects[tiltil["path"]] = new_path  # WordPress redirects the old slug
    result = run_crawl(db, site.base_url, source="auto")
    base = site.base_url
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db, "select url from articles where wp_id = ?", tiltil["wp_id"]) == [
        (base + new_path,)
    ]
    assert rows(db, "select article_url from aliases where url = ?", base + tiltil["path"]) == [
        (base + new_path,)
    ]
    assert rows(db, "select count(*) from articles") == [(len(PATHS),)]


def test_url_fetches_just_those_pages_shortlinks_and_amp_too(tmp_path):
    db = tmp_path / "urls.db"
    seed, tiltil = by_key("seed-kast-milei"), by_key("chile-tiltil-relave")
    with StandInSite() as site:
        result = run_crawl(
            db,
            site.base_url,
            "--url",
            f"{site.base_url}/?p={tiltil['wp_id']}",
            "--url",
            f"{site.base_url}{seed['path']}amp/",
            source="auto",
        )
        assert rest_requests(site.requests) == [] and site.fetched("/feed/") == 0
        base = site.base_url
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(u for (u,) in rows(db, "select url from articles")) == sorted(
        [base + seed["path"], base + tiltil["path"]]
    )


@pytest.fixture(scope="session")  # once, even if xdist interleaves modules
def killed_full_run(tmp_path_factory):
    """A --full run at one page every 0.5 s, killed once it stored 3 articles: (site,
    archive, what the run printed). The site stays up for the session."""
    db = tmp_path_factory.mktemp("killed-full-run") / "full.db"
    with StandInSite() as site:
        crawl = start_crawl(db, site.base_url, "--full", "-s", "DOWNLOAD_DELAY=0.5", source="auto")
        try:
            wait_until(lambda: stored(db) >= 3)
        finally:
            crawl.send_signal(signal.SIGKILL)
            _, printed = crawl.communicate()
        yield site, db, printed


def test_a_killed_full_run_goes_on_without_fetching_again_what_it_stored(killed_full_run, tmp_path):
    site, killed_db, _ = killed_full_run
    db = copy_archive(killed_db, tmp_path / "full.db")
    kept = {urlsplit(u).path for (u,) in rows(db, "select url from articles")}
    before = len(site.requests)
    result = run_crawl(db, site.base_url, "--full", source="auto")
    again = set(article_pages(site, before))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (again & kept), again & kept
    assert again | kept == PATHS


def test_status_tells_the_operator_how_the_runs_went(pages_blocked_run):
    from click.testing import CliRunner

    from ciudadano.cli import main

    _, db, _ = pages_blocked_run
    shown = CliRunner().invoke(main, ["status", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert f"{len(PATHS)} articles, newest published 2025-11-22T19:40:00-03:00" in shown.output
    assert f"{len(PATHS)} articles read without their page" in shown.output
    assert "#1" in shown.output and "finished (exit 8)" in shown.output
    assert "fell back to the REST API or feed without pages" in shown.output
    assert "cloudflare-block (HTTP 403)" in shown.output
    assert f"{len(PATHS)} failed pages to be tried again by later runs, 0 given up" in shown.output
    report = json.loads(CliRunner().invoke(main, ["status", "--db", str(db), "--json"]).output)
    assert report["runs"][0]["blocked_pages"] == len(PATHS)


def test_a_failed_page_is_tried_again_by_later_runs_until_it_succeeds(tmp_path):
    db = tmp_path / "retries.db"
    cobre = by_key("economia-cobre-precio")
    gone = by_key("cultura-old-template")
    with StandInSite(errors={cobre["path"]: 500, gone["path"]: 404}) as site:
        first = run_crawl(db, site.base_url, "-s", "RETRY_TIMES=1", source="auto")
        base = site.base_url
        queued = rows(
            db,
            "select url, attempts, given_up, reason, next_try > last_failed "
            "from retries order by url",
        )
        before = len(site.requests)
        soon = run_crawl(db, site.base_url, "-s", "RETRY_TIMES=1", source="auto")
        assert cobre["path"] not in article_pages(site, before)  # not due yet: not asked
        del site.errors[cobre["path"]]  # the server is mended
        conn = sqlite3.connect(db)  # ... and the wait has passed
        conn.execute("update retries set next_try = '2000-01-01T00:00:00+00:00'")
        conn.commit()
        conn.close()
        before = len(site.requests)
        later = run_crawl(db, site.base_url, source="auto")
        asked = article_pages(site, before)
    assert first.returncode == 1 and soon.returncode == 0, (
        first.stderr[-1000:],
        soon.stderr[-1000:],
    )
    assert queued == [
        (base + gone["path"], 1, 1, "given up after 1 attempt: HTTP 404", None),
        (base + cobre["path"], 1, 0, "HTTP 500", 1),
    ]
    assert later.returncode == 0, later.stderr[-2000:]
    assert asked == [cobre["path"]]  # the due one, and not the given-up one
    assert rows(db, "select count(*) from articles where url = ?", base + cobre["path"]) == [(1,)]
    assert rows(db, "select url from retries") == [(base + gone["path"],)]


def test_retry_after_is_honoured_in_seconds_and_as_a_date_and_a_long_wait_waits_for_later(tmp_path):
    from email.utils import format_datetime

    db = tmp_path / "throttled.db"
    seed, tiltil = by_key("seed-kast-milei"), by_key("chile-tiltil-relave")
    cobre = by_key("economia-cobre-precio")

    # a date 2 to 3 s after the 429 is sent (HTTP dates have whole seconds), however late the
    # crawl reaches the page on a busy machine
    def soon() -> str:
        return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=3), usegmt=True)

    throttle = {seed["path"]: (1, "1"), tiltil["path"]: (1, soon), cobre["path"]: (1, "3600")}
    with StandInSite(throttle=throttle) as site:
        result = run_crawl(db, site.base_url, "-s", "RETRY_BACKOFF_BASE=0", source="auto")
        times = {
            p: [t for t, q in site.times if urlsplit(q).path == p]
            for p in (seed["path"], tiltil["path"], cobre["path"])
        }
        base = site.base_url
    assert result.returncode == 1, result.stderr[-2000:]  # the one left for later
    # asked again only after the wait the site asked for (ordering of two clock readings)
    assert len(times[seed["path"]]) == 2 and times[seed["path"]][1] - times[seed["path"]][0] >= 1
    assert len(times[tiltil["path"]]) == 2
    assert times[tiltil["path"]][1] - times[tiltil["path"]][0] >= 1
    assert len(times[cobre["path"]]) == 1  # an hour's wait is not spent inside the run
    assert rows(db, "select reason, given_up from retries where url = ?", base + cobre["path"]) == [
        ("HTTP 429", 0)
    ]


def test_a_full_run_says_how_long_it_will_take_at_the_configured_politeness(killed_full_run):
    _, _, printed = killed_full_run  # said at the start, before the pages
    # 10 posts, one page every 0.5 s: 5 seconds
    assert (
        f"full run: the REST API lists {len(PATHS)} posts; at one page every 0.5 s their "
        "pages take about 5 seconds"
    ) in printed, printed[-2000:]


def test_since_and_until_archive_the_posts_published_in_those_days(tmp_path):
    db = tmp_path / "range.db"
    with StandInSite() as site:
        result = run_crawl(
            db, site.base_url, "--since", "2025-07-14", "--until", "2025-09-07", source="auto"
        )
        (query,) = rest_requests(site.requests)
    assert result.returncode == 0, result.stderr[-2000:]
    # published (Santiago) 2025-07-14 22:30, 2025-08-19 09:05, 2025-09-07 01:30; the range's
    # edges included, 2025-06-02 and 2025-10-03 not
    assert sorted(t for (t,) in rows(db, "select published_date from articles")) == [
        "2025-07-14",
        "2025-08-19",
        "2025-09-07",
    ]
    assert query["after"] == ["2025-07-13T23:59:59"] and query["before"] == ["2025-09-08T00:00:00"]


def test_on_a_terminal_a_progress_line_is_shown_and_under_cron_none(tmp_path, first_run):
    from tests.conftest import FAST, ciudadano, on_a_terminal

    with StandInSite(delay=0.1) as site:
        status, text = on_a_terminal(
            [
                *ciudadano(),
                "crawl",
                "--db",
                str(tmp_path / "tty.db"),
                "--base-url",
                site.base_url,
                *FAST,
                "-s",
                "CONCURRENT_REQUESTS=1",
                "-s",
                "PROGRESS_INTERVAL=0.15",
            ]
        )
    _, piped, _ = first_run  # the same crawl with its output in a pipe, as under cron
    assert status == 0, text[-2000:]
    lines = [part for part in text.split("\r") if "pages/s" in part]
    assert len(lines) >= 2, text[-2000:]  # rewritten in place, more than once
    assert f"{len(PATHS)}/{len(PATHS)} pages, {len(PATHS)} articles ({len(PATHS)} new" in text
    assert "pages/s" not in piped.stderr  # not a terminal: no progress line
