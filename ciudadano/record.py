"""`ciudadano audit`, `withdraw` and `reinstate`: the archive as a record (archive.listings).

Registered on the `ciudadano` group by ciudadano.cli.
"""

from __future__ import annotations

import logging
import sqlite3
import sys

import click

from archive import outcomes as o
from ciudadano.cli import _fail, _reader_errors, db_option, main, run_options
from crawler import site


@main.command()
@db_option
@click.option(
    "--base-url",
    default=site.BASE_URL,
    show_default=True,
    help="The site to audit: the live site or a mirror of it.",
)
@click.option("--no-rest", is_flag=True, help="Do not ask the REST API for the site's counts.")
@click.option(
    "--no-confirm",
    is_flag=True,
    help="Do not fetch the pages of articles the sitemaps stopped listing (they stay "
    "'missed'; no removal is confirmed).",
)
@run_options
def audit(db_path, base_url, no_rest, no_confirm, overrides, log_level, log_file, quiet):
    """Read what the site lists (every post sitemap, and the REST API's counts of posts by
    year and category) and compare it with the archive. What the site lists and the archive
    lacks, or holds older than the sitemap's lastmod, is fetched by the next crawl, newest
    first. Articles the sitemaps no longer list have their page fetched: a 404, a 410 or a
    redirect to the home page or a listing marks them removed (never deleted). About one
    request per 1,000 articles, plus one per publication year: some 330 for the whole site.
    A killed audit keeps what it read; the next one (within 24 hours) goes on from there.

    \b
    Exit status: 0 every sitemap was read, 1 some sitemaps could not be read (nothing is
    marked missed), 2 bad options, 3 no post sitemap could be read, 5 the archive cannot be
    written, 6 interrupted (what was read is kept).
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.audit import STAT, AuditSpider

    settings = _settings(db_path, overrides, log_level, log_file)
    _check_archive(db_path)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(AuditSpider)
    process.crawl(crawler, base_url=base_url, rest=not no_rest, confirm=not no_confirm)
    logging.root.setLevel(settings.get("LOG_LEVEL"))
    process.start()
    audit_id = crawler.stats.get_value(STAT("id"))
    if audit_id is None:
        _fail(f"the audit could not start on {db_path}", o.EXIT_ARCHIVE)
    status, line = _outcome(db_path, audit_id)
    if status != o.EXIT_OK or not quiet:
        click.echo(line, err=True)
    sys.exit(status)


def _settings(db_path, overrides, log_level, log_file):
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_PATH", db_path, priority="cmdline")
    settings.set(
        "LOG_LEVEL", (log_level or ("INFO" if log_file else "WARNING")).upper(), priority="cmdline"
    )
    if log_file:
        settings.set("LOG_FILE", log_file, priority="cmdline")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise click.UsageError(f"-s {override!r}: use NAME=VALUE")
        settings.set(name.strip(), value, priority="cmdline")
    return settings


def _check_archive(db_path) -> None:
    """The archive opens for writing (created when missing), or one line and status 5."""
    from archive.db import ArchiveError, open_for_writing

    try:
        open_for_writing(db_path).close()
    except ArchiveError as err:
        _fail(str(err), err.EXIT_STATUS)


def _outcome(db_path, audit_id: int) -> tuple[int, str]:
    from archive import listings
    from archive.coverage import coverage, headline
    from archive.db import connect_reader

    conn = connect_reader(db_path)
    try:
        (state, listed, sitemaps, failed, total, missed, removed, restored, requests, seconds) = (
            conn.execute(
                "select status, listed, sitemaps, sitemaps_failed, site_total, missed, removed, "
                "restored, requests, seconds from audits where id = ?",
                [audit_id],
            ).fetchone()
        )
        report = coverage(conn)
    finally:
        conn.close()
    line = (
        f"audit {audit_id} into {db_path}: {listed or 0:,} articles listed in "
        f"{sitemaps or 0} sitemaps"
        + (f", {total:,} posts by the REST API" if total is not None else "")
        + f"; {missed or 0} newly missed, {removed or 0} removed, {restored or 0} restored; "
        f"{requests or 0} requests in {seconds or 0:.1f} s"
    )
    if state == listings.COMPLETE and report:
        return o.EXIT_OK, line + "\n" + headline(report)
    if state == listings.INTERRUPTED:
        return (
            o.EXIT_INTERRUPTED,
            line + "\nerror: interrupted; what was read is kept, and "
            "the next audit goes on from there",
        )
    if not sitemaps:
        return o.EXIT_UNREACHABLE, line + "\nerror: no post sitemap could be read (see the log)"
    return o.EXIT_PAGE_ERRORS, (
        line + f"\nerror: {failed} sitemaps could not be read; nothing "
        "was marked missed (see the log)"
    )


@main.command()
@click.argument("url")
@click.option("--reason", required=True, help="Why (e.g. the legal request), kept with it.")
@db_option
def withdraw(url, reason, db_path):
    """Withdraw the article at URL from public view: `serve`, `search` and `export` leave it
    out (export --include-withdrawn keeps it). It stays in the archive, with its versions, its
    kept pages, the reason and the date; `ciudadano reinstate URL` puts it back. Both are
    recorded in the article_events table.

    \b
    Exit status: 0 withdrawn (or already), 1 no such article, 5 the archive cannot be written.
    """
    from archive import listings

    if not reason.strip():
        raise click.BadParameter("give the reason", param_hint="--reason")
    done = _change(db_path, lambda conn: listings.withdraw(conn, url, reason.strip()))
    click.echo(f"withdrawn: {url}" if done else f"already withdrawn: {url}", err=True)


@main.command()
@click.argument("url")
@click.option("--reason", default=None, help="Why, kept with the event.")
@db_option
def reinstate(url, reason, db_path):
    """Put a withdrawn article back in public view (serve, search, exports); recorded in the
    article_events table.

    \b
    Exit status: 0 reinstated (or was not withdrawn), 1 no such article, 5 the archive cannot
    be written.
    """
    from archive import listings

    done = _change(db_path, lambda conn: listings.reinstate(conn, url, reason))
    click.echo(f"reinstated: {url}" if done else f"not withdrawn: {url}", err=True)


def _change(db_path, change):
    from archive.db import check_file, open_for_writing, sqlite_message
    from archive.listings import NotArchived

    with _reader_errors():
        check_file(db_path, must_exist=True)
        conn = open_for_writing(db_path)
    try:
        return change(conn)
    except NotArchived as err:
        _fail(str(err))
    except sqlite3.Error as err:
        _fail(sqlite_message(db_path, err), o.EXIT_ARCHIVE)
    finally:
        conn.close()
