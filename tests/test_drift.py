"""The site changing under us: when the theme changes overnight the run keeps archiving (the
generic extractor reads the bodies), and says so in its summary line, in `runs` and in
`ciudadano status`, so the operator hears of it the next morning."""

import json
import sqlite3

from archive import drift
from archive import outcomes as o
from standin.articles import ARTICLES, edited
from standin.server import StandInSite
from tests.conftest import rows, run_command, run_crawl


def edit_all(site: StandInSite, day: str, words: str) -> None:
    site.articles = [
        edited(a, f"2026-11-{day}T08:00:00-03:00", f"{a['title']} ({words})") for a in ARTICLES
    ]


def test_a_theme_change_between_two_runs_raises_the_drift_warning(after_first_run):
    site, db = after_first_run  # the first night's archive
    edit_all(site, "27", "actualizado")
    same_theme = run_crawl(db, site.base_url, source="auto")
    site.theme = "redesign"  # every article page in markup the parser never saw
    edit_all(site, "28", "rediseño")
    redesigned = run_crawl(db, site.base_url, source="auto")
    assert same_theme.returncode == 0 and "warning" not in same_theme.stderr
    # the run still archived every edited article, its body read by the generic extractor
    assert redesigned.returncode == 0, redesigned.stderr
    titles = [t for (t,) in rows(db, "select title from articles")]
    assert len(titles) == len(ARTICLES) and all(t.endswith("(rediseño)") for t in titles)
    # (a post too short for the generic reader is kept from the REST API, its page marked)
    bodies = dict(
        rows(db, "select json_extract(provenance, '$.body'), count(*) from articles group by 1")
    )
    assert set(bodies) <= {"generic:trafilatura", "rest:content"}
    assert bodies["generic:trafilatura"] >= 5
    # the summary line says so: bodies 0% against 100% in the recent runs
    summary = redesigned.stderr.strip().splitlines()[-1]
    assert summary.startswith("crawl run 3 ")
    assert "warning: the site's markup may have changed" in summary
    assert "bodies 0% (recent runs 100%)" in summary
    assert "titles" not in summary  # Yoast's JSON-LD still gives the titles
    # in runs: only the third run has a warning
    warnings = rows(db, "select id, warning from runs order by id")
    assert [w is not None for _, w in warnings] == [False, False, True]
    # and in status
    status = run_command("status", "--db", str(db))
    assert status.returncode == 0
    run_line = next(line for line in status.stdout.splitlines() if line.strip().startswith("#3"))
    assert "warning: the site's markup may have changed" in run_line


def runs_db(tmp_path, *shares_of_runs):
    """An archive's runs table with runs whose stats read so many of 20 articles from the
    theme (title, body, published)."""
    conn = sqlite3.connect(tmp_path / "runs.db")
    conn.execute("create table runs (id integer primary key, status text, stats text)")
    for number, (title, body, published) in enumerate(shares_of_runs, 1):
        stats = {
            o.THEME_READ: 20,
            o.from_theme("title"): title,
            o.from_theme("body"): body,
            o.from_theme("published"): published,
        }
        conn.execute("insert into runs values (?, ?, ?)", [number, o.FINISHED, json.dumps(stats)])
    return conn


def test_a_fall_of_less_than_the_threshold_is_not_an_alarm(tmp_path):
    conn = runs_db(tmp_path, (20, 20, 20), (20, 19, 20), (20, 20, 20))
    # 15 of 20 bodies (75%) against a usual 100%: a fall of 25 points
    now = {
        o.THEME_READ: 20,
        o.from_theme("title"): 20,
        o.from_theme("body"): 15,
        o.from_theme("published"): 20,
    }
    assert drift.warning(conn, 4, now) is None
    now[o.from_theme("body")] = 13  # 65%: 35 points
    assert drift.warning(conn, 4, now) == (
        "the site's markup may have changed: read from the theme's own markup: bodies 65% "
        "(recent runs 100%); articles are being read by the fallbacks"
    )


def test_a_run_too_small_to_tell_says_nothing(tmp_path):
    conn = runs_db(tmp_path, (20, 20, 20))
    few = {o.THEME_READ: 4, o.from_theme("title"): 0, o.from_theme("body"): 0}
    assert drift.warning(conn, 2, few) is None


def test_a_first_run_has_nothing_to_compare_with(tmp_path):
    assert drift.warning(runs_db(tmp_path), 1, {o.THEME_READ: 20}) is None
