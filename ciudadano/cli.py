"""The `ciudadano` command: crawl, parse, search, export, serve.

Commands are thin: they parse options, call the library, and turn errors into one line on
stderr and a documented exit status.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click

from archive.db import sqlite_message
from archive.filters import FilterError, Slice
from crawler import site

log = logging.getLogger("ciudadano")

DEFAULT_DB = "data/elciudadano.db"

# Exit statuses of `ciudadano crawl`.
EXIT_OK = 0
EXIT_PAGE_ERRORS = 1  # the run finished, but some pages could not be fetched
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3  # neither robots.txt, a sitemap nor the feed answered
EXIT_BLOCKED = 4  # the site answered with Cloudflare block or challenge pages
EXIT_ARCHIVE = 5  # the archive could not be written (disk full, read-only, corrupt)
EXIT_INTERRUPTED = 6  # a signal (SIGTERM, Ctrl-C, a reboot, `timeout`) stopped the run
EXIT_LOCKED = 7  # another crawl is writing to the same archive: this one did nothing
EXIT_BLOCKED_FALLBACK = 8  # pages blocked; posts archived from the REST API or feed alone

db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
    help="The SQLite archive file.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ciudadano-archive")
def main() -> None:
    """ciudadano-archive: a searchable SQLite archive of www.elciudadano.com."""


@main.command()
@db_option
@click.option("--base-url", default=site.BASE_URL, show_default=True,
              help="The site to crawl: the live site or a mirror of it.")
@click.option("--max-articles", type=click.IntRange(min=1), default=None,
              help="Stop scheduling article pages after this many (default: all).")
@click.option("--feed-pages", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many RSS feed pages (10 newest articles each) to read.")
@click.option("--full", is_flag=True,
              help="Walk the whole site, not only what changed since the last good run "
                   "(resumable: what is stored unchanged is not fetched again).")
@click.option("--source", type=click.Choice(["auto", "html", "api", "feed"]), default="auto",
              show_default=True,
              help="Where to discover articles: auto (REST API, sitemaps if it fails, and the "
                   "feed), html (sitemaps and feed), api (REST only), feed (RSS only).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only articles published on or after this day (YYYY-MM-DD, Santiago): "
                   "the whole range, like --full.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only articles published on or before this day (YYYY-MM-DD).")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Fetch just this article (repeatable); shortlinks ?p=ID and AMP URLs too.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting for this run (repeatable).")
@click.option("--log-level", default=None,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Default: INFO into --log-file, WARNING on the terminal.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Write the log here instead of stderr.")
@click.option("--quiet", is_flag=True,
              help="Print the summary only when the exit status is not 0 (for cron mail).")
def crawl(db_path, base_url, max_articles, feed_pages, full, source, since, until, urls,
          overrides, log_level, log_file, quiet):
    """Crawl the site into the archive: new and edited articles are stored, unchanged ones
    are left alone, and every failure is recorded in the failures table.

    \b
    Exit status:
      0  the run finished and every page was fetched
      1  the run finished, but some pages could not be fetched (see the failures table)
      2  bad options
      3  the site could not be reached (no robots.txt, sitemap or feed answered)
      4  the site is blocking us (Cloudflare block or challenge pages)
      5  the archive could not be written (disk full, read-only, not an archive)
      6  interrupted by a signal (SIGTERM, Ctrl-C); what was stored is kept
      7  another crawl is writing to this archive; this run did nothing
      8  article pages blocked; posts archived from the REST API or feed alone
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.elciudadano import ElCiudadanoSpider

    settings = get_project_settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_PATH", db_path, priority="cmdline")
    level = log_level or ("INFO" if log_file else "WARNING")
    if sys.stderr.isatty() and not quiet:
        settings.set("PROGRESS", True, priority="cmdline")
    settings.set("LOG_LEVEL", level.upper(), priority="cmdline")
    if log_file:
        settings.set("LOG_FILE", log_file, priority="cmdline")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise click.UsageError(f"-s {override!r}: use NAME=VALUE")
        settings.set(name.strip(), value, priority="cmdline")
    from archive.db import ArchiveError

    if since and until and since > until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    try:
        archive, lock = _open_for_crawl(db_path)
    except ArchiveError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(err.EXIT_STATUS)
    started = time.monotonic()
    try:
        died = archive.mark_dead_runs()
        if died:
            log.warning("%d earlier run(s) had died while running; marked 'died'", died)
        run_id = archive.start_run(base_url, pid=os.getpid())
    except sqlite3.Error as err:
        _end_crawl(archive, lock)
        click.echo(f"error: {sqlite_message(db_path, err)}", err=True)
        sys.exit(EXIT_ARCHIVE)
    settings.set("ARCHIVE_RUN_ID", run_id, priority="cmdline")
    try:
        _hangup_is_terminate()
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(ElCiudadanoSpider)
        process.crawl(crawler, base_url=base_url, max_articles=max_articles,
                      feed_pages=feed_pages, mode="full" if full else "incremental",
                      source=source, urls=list(urls),
                      since=since.date().isoformat() if since else None,
                      until=until.date().isoformat() if until else None)
        # Scrapy's handler drops what is below LOG_LEVEL, but only after each logger made the
        # record (a few every page: "Crawled", "Scraped"); below the root's level none is made.
        # Scrapy sets the root's level to NOTSET as the crawl starts, so this comes after.
        logging.root.setLevel(settings.get("LOG_LEVEL"))
        process.start()
        stats = crawler.stats.get_stats()
        status, message = crawl_status(stats, base_url)
        try:
            archive.finish_run(run_id, RUN_STATUS.get(status, "finished"), _counts(stats), stats,
                               exit_status=status)
        except sqlite3.Error as err:
            if status == EXIT_OK:
                status, message = EXIT_ARCHIVE, sqlite_message(db_path, err)
    finally:
        _end_crawl(archive, lock)
    if status != EXIT_OK or not quiet:
        click.echo(_summary(stats, run_id, time.monotonic() - started, db_path), err=True)
    if status != EXIT_OK:
        click.echo(f"error: {message}", err=True)
    sys.exit(status)


RUN_STATUS = {EXIT_INTERRUPTED: "interrupted", EXIT_ARCHIVE: "failed"}


def _hangup_is_terminate() -> None:
    """SIGHUP (the terminal or ssh session closed) stops a crawl as SIGTERM does: cleanly,
    status 6. Scrapy handles SIGINT and SIGTERM; this passes SIGHUP on as SIGTERM."""
    import signal

    signal.signal(signal.SIGHUP, lambda signum, frame: os.kill(os.getpid(), signal.SIGTERM))


def _open_for_crawl(db_path: str):
    """The archive and its crawl lock. An existing file is locked before anything is written
    to it; a new one is created first (an empty file cannot be told from another program's)."""
    from archive.db import CrawlLock, check_file
    from archive.store import Archive

    lock = CrawlLock(db_path)
    if check_file(Path(db_path), must_exist=False):  # before any connection: see check_file
        lock.acquire()
        try:
            return Archive(db_path), lock
        except BaseException:
            lock.release()
            raise
    archive = Archive(db_path)
    try:
        lock.acquire()
    except BaseException:
        archive.close()
        raise
    return archive, lock


def _end_crawl(archive, lock) -> None:
    try:
        archive.close()
    finally:
        lock.release()


def _counts(stats: dict) -> dict:
    get = lambda key: stats.get(f"ciudadano/{key}", 0)  # noqa: E731
    return {"new": get("articles_new"), "changed": get("articles_changed"),
            "unchanged": get("articles_unchanged"), "failures": get("failures")}


def crawl_status(stats: dict, base_url: str) -> tuple[int, str]:
    """The exit status of a crawl, and what to tell the operator, from its stats."""
    get = lambda key: stats.get(f"ciudadano/{key}", 0)  # noqa: E731
    reason = stats.get("finish_reason")
    if get("archive_errors") or reason == "archive_write_failed":
        stored = get("articles_new") + get("articles_changed")
        return EXIT_ARCHIVE, (
            f"{stats.get('ciudadano/archive_error') or 'the archive could not be written'}; "
            f"the run stopped there ({stored} articles were stored before it)")
    if reason in (None, "shutdown"):  # no reason: a second signal forced the stop
        return EXIT_INTERRUPTED, (
            "interrupted by a signal (SIGTERM or Ctrl-C); what was stored is kept, and the "
            "next run goes on")
    if not get("discovery_ok") and not get("scheduled/url"):
        if get("discovery_blocked"):
            return EXIT_BLOCKED, f"{base_url} is blocking the crawler (Cloudflare)"
        return EXIT_UNREACHABLE, (
            f"could not reach {base_url}: no robots.txt, sitemap or feed answered "
            "(see the log above)"
        )
    if get("blocked") and get("blocked") > get("pages_ok") + get("fetch_errors"):
        if get("archived_without_page"):
            return EXIT_BLOCKED_FALLBACK, (
                f"{base_url} is blocking article pages (Cloudflare): "
                f"{get('archived_without_page')} posts were archived from the REST API or the "
                "feed without their pages; later runs fetch the pages")
        return EXIT_BLOCKED, (
            f"{base_url} is blocking the crawler (Cloudflare): {get('blocked')} article pages "
            "answered with block or challenge pages"
        )
    errors = get("fetch_errors") + get("blocked") + get("discovery_failed") + get("discovery_blocked")
    if errors:
        return EXIT_PAGE_ERRORS, f"{errors} pages could not be fetched (see the failures table)"
    archived = get("articles_new") + get("articles_changed") + get("articles_unchanged")
    attempted = get("pages_ok") + get("fetch_errors") + get("blocked")
    if attempted and not archived:
        return EXIT_PAGE_ERRORS, (
            f"{attempted} article pages were fetched but no article was archived: "
            f"{get('not_articles')} were not articles (see the failures table)")
    if not attempted and not get("skipped_unchanged"):
        return EXIT_PAGE_ERRORS, "no article was found: the REST API, sitemaps and feed listed none"
    return EXIT_OK, "ok"


def _summary(stats: dict, run_id: int, seconds: float, db_path: str) -> str:
    get = lambda key: stats.get(f"ciudadano/{key}", 0)  # noqa: E731
    return (
        f"crawl run {run_id} into {db_path}: {get('articles_new')} new, "
        f"{get('articles_changed')} changed, {get('articles_unchanged')} unchanged, "
        f"{get('skipped_unchanged')} not fetched (unchanged), "
        f"{get('not_articles')} not articles, {get('failures')} failures recorded, "
        f"in {seconds:.1f} s"
    )


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--url", required=True, help="The URL the page was fetched from.")
@click.option("--fetched-at", default=None,
              help="When it was fetched (ISO 8601), for relative dates; default now.")
def parse(file, url, fetched_at):
    """Print the normalised articles in FILE ('-' for stdin), one JSON object per line.

    FILE may be an article page (one line), an RSS feed page or a WordPress REST API posts
    response (one line per article); which it is, is told from its content. Exits 0 for
    anything readable, articles and non-articles (is_article false, with a reason) alike; a
    warning line on stderr names each field left empty on an article.
    """
    from urllib.parse import urlsplit

    from crawler.parsers import parse_articles

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError as err:
        raise click.BadParameter(f"{url!r} is not a URL: {err}", param_hint="--url") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    when = datetime.now(timezone.utc)
    if fetched_at:
        try:
            when = datetime.fromisoformat(fetched_at)
        except ValueError:
            raise click.BadParameter(f"{fetched_at!r} is not ISO 8601",
                                     param_hint="--fetched-at") from None
    with _warnings_to_stderr():
        articles = parse_articles(file.read(), url, fetched_at=when)
    for article in articles:
        click.echo(json.dumps(article, ensure_ascii=False))


@main.command()
@click.argument("query")
@db_option
@click.option("--section", default=None, help="Only this section (name or slug).")
@click.option("--from", "date_from", default=None, help="Published on or after (YYYY[-MM[-DD]]).")
@click.option("--to", "date_to", default=None, help="Published on or before (YYYY[-MM[-DD]]).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Best matches first (hits in the title count most, ties "
              "newest first), or newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def search(query, db_path, section, date_from, date_to, limit, sort, as_json):
    """Search the archive, best matches first. Case and accents are ignored (politica finds
    Política), and words are matched in any form (elecciones finds elección). QUERY: words,
    "a phrase" (words as written), prefix* (2+ letters), a OR b, a NOT b, (grouping),
    title:word. At most 500 characters, 32 terms and 4 prefixes; 10 s at most.

    \b
    Exit status: 0 found (or found nothing), 1 the query or a filter is not valid,
    2 bad options, 5 the archive cannot be read.
    """
    from archive.search import search as run_search

    with _reader_errors():
        results = run_search(db_path, query, Slice(section, date_from, date_to), limit,
                             sort=sort)
    for hit in results:
        if as_json:
            click.echo(json.dumps(hit, ensure_ascii=False))
        else:
            click.echo(f"{hit['published_date']}  {hit['section'] or '-'}  {hit['title']}")
            click.echo(f"    {hit['url']}")
            click.echo(f"    {hit['snippet']}")
    if not as_json:
        click.echo(f"{len(results)} result{'s' if len(results) != 1 else ''}", err=True)


@main.command()
@click.option("--format", "fmt", required=True,
              type=click.Choice(["csv", "jsonl", "json", "parquet", "warc"]))
@click.option("--out", default="-", show_default=True,
              help="Output file ('-' for stdout); written in full or not at all.")
@db_option
@click.option("--section", default=None, help="Only this section (name or slug).")
@click.option("--since", "--from", "date_from", default=None,
              help="Published on or after (YYYY[-MM[-DD]]).")
@click.option("--until", "--to", "date_to", default=None,
              help="Published on or before (YYYY[-MM[-DD]]).")
@click.option("--language", type=click.Choice(["es", "en", "de"]), default=None,
              help="Only articles in this language.")
@click.option("--query", default=None, help="Only articles matching this search (as in "
              "`ciudadano search`).")
@click.option("--bom", is_flag=True, help="CSV: start with a byte order mark, for "
              "spreadsheet programs that otherwise misread UTF-8.")
@click.option("--keep-formulas", is_flag=True, help="CSV: leave cells starting with = + - @ "
              "as they are (by default they get a leading ' so a spreadsheet shows them as "
              "text instead of running them).")
@click.option("--quiet", is_flag=True, help="No progress line on a terminal.")
def export(fmt, out, db_path, section, date_from, date_to, language, query, bom,
           keep_formulas, quiet):
    """Export articles as CSV, JSON Lines, JSON or Parquet, oldest first (by publication
    instant), or their kept pages as WARC (gzipped records: request and response). In CSV,
    list fields (authors, tags, categories) are JSON arrays in their cell.

    \b
    A file is written whole or not at all (an interrupted export leaves it as it was); a
    device or FIFO is written to, a symlink's target gets the export.
    Exit status: 0 written, 1 a filter is not valid or the output cannot be written,
    2 bad options, 5 the archive cannot be read, 6 interrupted (nothing was written).
    """
    from archive.db import reader_uri
    from archive.export import count_rows
    from archive.export import export as run_export

    progress = None
    with _reader_errors(), _signals_interrupt():
        where = Slice(section, date_from, date_to)
        if sys.stderr.isatty() and not quiet and out != "-":
            total = count_rows(reader_uri(db_path), where, language, query)

            def progress(n: int) -> None:
                click.echo(f"\rexporting: {n:,}/{total:,} articles ({100 * n // max(total, 1)}%)",
                           err=True, nl=False)
        try:
            count = run_export(db_path, fmt, out, where, language, query, progress=progress,
                               bom=bom, formulas=keep_formulas)
        except KeyboardInterrupt:
            _fail("export interrupted" + (f"; {out} was left as it was" if out != "-" else ""),
                  EXIT_INTERRUPTED)
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            sys.stderr.close()
            os._exit(0)
    if progress:
        click.echo("", err=True)
    if out != "-":
        what = "articles' pages" if fmt == "warc" else "articles"
        click.echo(f"{count} {what} written to {out}", err=True)


@main.command()
@db_option
@click.option("--since", "date_from", default=None,
              help="Only articles published on or after (YYYY[-MM[-DD]]).")
@click.option("--until", "date_to", default=None,
              help="Only articles published on or before (YYYY[-MM[-DD]]).")
@click.option("--quiet", is_flag=True, help="No progress line on a terminal.")
def reparse(db_path, date_from, date_to, quiet):
    """Rebuild articles from the pages the archive kept, with this version's parser and no
    network; reports how many changed and which fields. Dates and ids read from the REST API
    stay; an article whose page was never kept is left as it is.

    \b
    Exit status: 0 done, 1 a filter is not valid, 5 the archive cannot be read or written,
    6 interrupted (articles rebuilt so far stay), 7 a crawl is writing to the archive.
    """
    from ciudadano.reparse import reparse as run_reparse

    progress = None
    if sys.stderr.isatty() and not quiet:
        def progress(done: int, total: int) -> None:
            click.echo(f"\rreparsing: {done:,}/{total:,} articles", err=True, nl=False)
    with _reader_errors(), _signals_interrupt():
        where = Slice(None, date_from, date_to)
        try:
            report = run_reparse(db_path, where, progress)
        except KeyboardInterrupt:
            _fail("reparse interrupted; the articles rebuilt so far are kept", EXIT_INTERRUPTED)
    if progress:
        click.echo("", err=True)
    for line in report.not_articles[:20]:
        click.echo(f"no longer an article, kept as it was: {line}", err=True)
    click.echo(f"reparsed {report.summary()}", err=True)


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@db_option
def import_(file, db_path):
    """Restore articles exported with `ciudadano export --format jsonl` (a backup, a move to
    another machine, two archives merged). Importing the same file again changes nothing; an
    article the archive holds in a newer version keeps it, and the other version is kept
    among its versions.

    \b
    Exit status: 0 imported, 1 some lines were not articles (each named; the rest is
    imported), 5 the archive cannot be written, 6 interrupted (what was imported stays).
    """
    from ciudadano.imports import import_jsonl

    with _reader_errors(), _signals_interrupt():
        try:
            report = import_jsonl(file, db_path)
        except KeyboardInterrupt:
            _fail("import interrupted; the articles imported so far are kept",
                  EXIT_INTERRUPTED)
        except OSError as err:
            _fail(f"cannot read {file}: {err.strerror or err}")
    for problem in report.problems[:20]:
        click.echo(problem, err=True)
    if len(report.problems) > 20:
        click.echo(f"... and {len(report.problems) - 20} more", err=True)
    click.echo(f"{file}: {report.summary()}", err=True)
    if report.problems:
        sys.exit(1)


@main.command()
@db_option
@click.option("--runs", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="How many of the last runs to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(db_path, runs, as_json):
    """What the archive holds and how the last runs went: articles, newest article, the last
    runs (interrupted and died ones too), the last run's failures, whether it was blocked and
    what it fell back to.

    \b
    Exit status: 0 shown, 5 the archive cannot be read.
    """
    from archive.status import render
    from archive.status import status as read_status

    with _reader_errors():
        report = read_status(db_path, runs)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else render(report))


@main.command()
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(db_path, port, host):
    """Open the archive in Datasette, read-only: full-text search, facets on section, year
    and author. Runs in this process until stopped (Ctrl-C, SIGTERM).

    \b
    Exit status: 0 stopped, 1 the port cannot be used, 5 the archive cannot be read.
    """
    from archive.datasette import serve as run_serve

    with _reader_errors():
        sys.exit(run_serve(db_path, port=port, host=host))


def _fail(message: str, status: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


@contextmanager
def _reader_errors():
    """What a reader command can meet, as one line and its exit status."""
    from archive.db import ArchiveError

    try:
        yield
    except ArchiveError as err:
        _fail(str(err), err.EXIT_STATUS)
    except FilterError as err:  # a query, a filter or an output the user can change
        _fail(str(err))


@contextmanager
def _signals_interrupt():
    """SIGTERM and SIGHUP interrupt like Ctrl-C, so cleanup runs (the default would kill)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _WarningLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"warning: {record.getMessage()}", err=True)


@contextmanager
def _warnings_to_stderr():
    """The parser's warnings, and every field it left empty, as 'warning: ...' lines."""
    handler = _WarningLines(level=logging.DEBUG)
    parsers = logging.getLogger("crawler.parsers")
    missing = logging.getLogger("crawler.parsers.missing")
    levels = parsers.level, missing.level
    parsers.addHandler(handler)
    parsers.setLevel(logging.WARNING)
    missing.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        parsers.removeHandler(handler)
        parsers.setLevel(levels[0])
        missing.setLevel(levels[1])


if __name__ == "__main__":
    main()
