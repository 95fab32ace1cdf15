"""The `ciudadano` command: crawl, parse, search, export, serve.

Commands are thin: they parse options, call the library, and turn errors into one line on
stderr and a documented exit status.
"""

from __future__ import annotations

import functools
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

from archive import outcomes as o
from archive.db import sqlite_message
from archive.filters import FilterError, Slice, first_day, last_day
from crawler import site

log = logging.getLogger("ciudadano")

DEFAULT_DB = "data/elciudadano.db"

db_option = click.option(
    "--db",
    "db_path",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The SQLite archive file.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="For programs: JSON (one object per line for lists)."
)


def run_options(command):
    """The options of a command that runs Scrapy (crawl, audit): -s NAME=VALUE, --log-level,
    --log-file, --quiet."""
    for option in reversed(
        (
            click.option(
                "-s",
                "--set",
                "overrides",
                multiple=True,
                metavar="NAME=VALUE",
                help="Override a Scrapy setting for this run (repeatable).",
            ),
            click.option(
                "--log-level",
                default=None,
                type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
                help="Default: INFO into --log-file, WARNING on the terminal.",
            ),
            click.option(
                "--log-file",
                type=click.Path(dir_okay=False),
                default=None,
                help="Write the log here instead of stderr.",
            ),
            click.option(
                "--quiet",
                is_flag=True,
                help="Print the summary only when the exit status is not 0 (for cron mail).",
            ),
        )
    ):
        command = option(command)
    return command


def date_range(command):
    """--since and --until, the same on every command: YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    (checked by archive.filters.Slice). --from and --to, their names before, still work and
    are not shown."""

    @functools.wraps(command)
    def merged(*args, since, until, old_from, old_to, **kwargs):
        for new, old, names in (
            (since, old_from, "--since and --from"),
            (until, old_to, "--until and --to"),
        ):
            if new and old:
                raise click.UsageError(f"{names} are one option: give it once")
        return command(*args, date_from=since or old_from, date_to=until or old_to, **kwargs)

    for option in (
        click.option("--to", "old_to", hidden=True, default=None),
        click.option("--from", "old_from", hidden=True, default=None),
        click.option(
            "--until",
            metavar="DATE",
            default=None,
            help="Published on or before (YYYY[-MM[-DD]], Santiago).",
        ),
        click.option(
            "--since",
            metavar="DATE",
            default=None,
            help="Published on or after (YYYY[-MM[-DD]], Santiago).",
        ),
    ):
        merged = option(merged)
    return merged


class _Commands(click.Group):
    """Click's usage errors as one line `error: ...` with their status (2), like every other
    error of the command line (Click prints the usage, a hint and `Error:` on four lines)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as err:
            hint = ""
            if err.ctx:
                command = " ".join(["ciudadano", *err.ctx.command_path.split()[1:]])
                hint = f"; see `{command} --help`"
                if isinstance(err, click.NoSuchOption):  # suggest no hidden alias
                    shown = {
                        name
                        for param in err.ctx.command.params
                        if not getattr(param, "hidden", False)
                        for name in param.opts
                    }
                    err.possibilities = [p for p in err.possibilities or () if p in shown]
            _fail(err.format_message().replace("\n", " ") + hint, err.exit_code)
        except click.ClickException as err:
            _fail(err.format_message(), err.exit_code)
        except click.Abort:
            _fail("interrupted", o.EXIT_INTERRUPTED)
        sys.exit(status if isinstance(status, int) else o.EXIT_OK)


def _http_url(ctx, param, value):
    """A click callback: value if it is an http(s) URL with a host, else a usage error."""
    from urllib.parse import urlsplit

    if value is None:
        return value
    if isinstance(value, tuple):  # a repeatable option: each of its values
        return tuple(_http_url(ctx, param, each) for each in value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError as err:
        raise click.BadParameter(f"{value!r} is not a URL: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http(s) URL (e.g. https://example.org)")
    return value


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ciudadano-archive")
def main() -> None:
    """ciudadano-archive: a searchable SQLite archive of www.elciudadano.com."""


@main.command()
@db_option
@click.option(
    "--base-url",
    default=site.BASE_URL,
    show_default=True,
    callback=_http_url,
    help="The site to crawl: the live site or a mirror of it.",
)
@click.option(
    "--max-articles",
    type=click.IntRange(min=1),
    default=None,
    help="Stop scheduling article pages after this many (default: all).",
)
@click.option(
    "--feed-pages",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many RSS feed pages (10 newest articles each) to read.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Walk the whole site, not only what changed since the last good run "
    "(resumable: what is stored unchanged is not fetched again).",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "html", "api", "feed"]),
    default="auto",
    show_default=True,
    help="Where to discover articles: auto (REST API, sitemaps if it fails, and the "
    "feed), html (sitemaps and feed), api (REST only), feed (RSS only).",
)
@date_range
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    callback=_http_url,
    help="Fetch just this article (repeatable); shortlinks ?p=ID and AMP URLs too.",
)
@run_options
def crawl(
    db_path,
    base_url,
    max_articles,
    feed_pages,
    full,
    source,
    date_from,
    date_to,
    urls,
    overrides,
    log_level,
    log_file,
    quiet,
):
    """Crawl the site into the archive: new and edited articles are stored, unchanged ones
    are left alone, and every failure is recorded in the failures table.

    \b
    --since and --until walk the whole range, like --full.

    \b
    Exit status:
      0  the run finished and every page was fetched
      1  the run finished, but some pages could not be fetched (see the failures table)
      2  bad options
      3  the site could not be reached (no robots.txt, sitemap or feed answered)
      4  the site is blocking us (Cloudflare block or challenge pages)
      5  the archive could not be written (disk full, read-only, not an archive)
      6  interrupted by a signal (SIGTERM, Ctrl-C); what was stored is kept
      7  another crawl, an import or a reparse is writing to this archive; this run did
         nothing
      8  article pages blocked; posts archived from the REST API or feed alone
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.elciudadano import ElCiudadanoSpider

    settings = get_project_settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_PATH", db_path, priority="cmdline")
    # on the terminal: warnings, or with --quiet only errors (cron mails what is printed)
    level = log_level or ("INFO" if log_file else "ERROR" if quiet else "WARNING")
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

    try:
        where = Slice(None, date_from, date_to)
    except FilterError as err:  # a crawl has no status for a filter: its options are bad
        raise click.UsageError(str(err)) from None
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
        sys.exit(o.EXIT_ARCHIVE)
    settings.set("ARCHIVE_RUN_ID", run_id, priority="cmdline")
    try:
        _hangup_is_terminate()
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(ElCiudadanoSpider)
        not_started = []  # the crawl's own failure to start: a setting it cannot use
        process.crawl(
            crawler,
            base_url=base_url,
            max_articles=max_articles,
            feed_pages=feed_pages,
            mode="full" if full else "incremental",
            source=source,
            urls=list(urls),
            since=where.date_from and first_day(where.date_from).isoformat(),
            until=where.date_to and last_day(where.date_to).isoformat(),
        ).addErrback(not_started.append)
        # Scrapy's handler drops what is below LOG_LEVEL, but only after each logger made the
        # record (a few every page: "Crawled", "Scraped"); below the root's level none is made.
        # Scrapy sets the root's level to NOTSET as the crawl starts, so this comes after.
        logging.root.setLevel(settings.get("LOG_LEVEL"))
        if not log_file:  # the handler Scrapy has put on the root logger by now
            _network_errors_in_one_line()
        process.start()
        stats = crawler.stats.get_stats()
        status, message = crawl_status(stats, base_url)
        if not_started and stats.get(o.FINISH_REASON) is None:
            status, message = (
                o.EXIT_USAGE,
                (
                    f"the crawl could not start: {not_started[0].getErrorMessage()} (check the "
                    "-s settings)"
                ),
            )
        warning = None
        try:
            warning = archive.finish_run(
                run_id, o.run_status(status), _counts(stats), stats, exit_status=status
            )
        except sqlite3.Error as err:
            if status == o.EXIT_OK:
                status, message = o.EXIT_ARCHIVE, sqlite_message(db_path, err)
    finally:
        _end_crawl(archive, lock)
    if status != o.EXIT_OK or not quiet or warning:  # cron mails a drift warning too
        summary = _summary(stats, run_id, time.monotonic() - started, db_path)
        click.echo(summary + (f"; warning: {warning}" if warning else ""), err=True)
    if status != o.EXIT_OK:
        click.echo(f"error: {message}", err=True)
    sys.exit(status)


class _OneLineNetworkErrors(logging.Filter):
    """On the terminal, a page that could not be downloaded is one line, not the traceback
    Scrapy logs it with (robots.txt's 60 lines when the site is unreachable): the exception
    says all (connection refused, DNS lookup failed, timed out). A log file keeps it whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _is_network_error(exc):
            record.msg = f"{record.getMessage()} ({type(exc).__name__})"
            record.args = ()
            record.exc_info = record.exc_text = None
        return True


def _is_network_error(exc: BaseException) -> bool:
    """Whether exc (or what it was raised from) is a download that failed: Scrapy's own
    exceptions (DownloadConnectionRefusedError, ...) and twisted's connection errors."""
    from twisted.internet.error import ConnectError, DNSLookupError, TimeoutError

    while exc is not None:
        if (
            isinstance(exc, (ConnectError, DNSLookupError, TimeoutError))
            or type(exc).__module__ == "scrapy.exceptions"
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _network_errors_in_one_line() -> None:
    """_OneLineNetworkErrors on the handlers Scrapy has put on the root logger. Scrapy's
    robots.txt middleware is not heard on the terminal: when robots.txt cannot be fetched it
    logs an ERROR naming the request that happened to ask first (a REST page), and the crawl
    says what it could not fetch itself, robots.txt included (a log file keeps both)."""
    for handler in logging.root.handlers:
        handler.addFilter(_OneLineNetworkErrors())
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)


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

    _default_folder(db_path)
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


def _default_folder(db_path: str) -> None:
    """The default archive's folder (data/) is made for it; another --db's must exist."""
    if db_path == DEFAULT_DB:
        Path(DEFAULT_DB).parent.mkdir(exist_ok=True)


def _end_crawl(archive, lock) -> None:
    try:
        archive.close()
    finally:
        lock.release()


def _counts(stats: dict) -> dict:
    get = o.reader(stats)
    return {
        "new": get(o.ARTICLES_NEW),
        "changed": get(o.ARTICLES_CHANGED),
        "unchanged": get(o.ARTICLES_UNCHANGED),
        "failures": get(o.FAILURES),
    }


def crawl_status(stats: dict, base_url: str) -> tuple[int, str]:
    """The exit status of a crawl, and what to tell the operator, from its stats."""
    get = o.reader(stats)
    reason = stats.get(o.FINISH_REASON)
    if get(o.ARCHIVE_ERRORS) or reason == o.ARCHIVE_WRITE_FAILED:
        stored = get(o.ARTICLES_NEW, o.ARTICLES_CHANGED)
        return o.EXIT_ARCHIVE, (
            f"{stats.get(o.ARCHIVE_ERROR) or 'the archive could not be written'}; "
            f"the run stopped there ({stored} articles were stored before it)"
        )
    if reason in (None, "shutdown"):  # no reason: a second signal forced the stop
        return o.EXIT_INTERRUPTED, (
            "interrupted by a signal (SIGTERM or Ctrl-C); what was stored is kept, and the "
            "next run goes on"
        )
    if not get(o.DISCOVERY_OK) and not get(o.scheduled("url")):
        if get(o.DISCOVERY_BLOCKED):
            return o.EXIT_BLOCKED, f"{base_url} is blocking the crawler (Cloudflare)"
        return o.EXIT_UNREACHABLE, (
            f"could not reach {base_url}: no robots.txt, sitemap or feed answered "
            f"({_why_unreachable(stats)})"
        )
    if get(o.BLOCKED) and get(o.BLOCKED) > get(o.PAGES_OK, o.FETCH_ERRORS):
        if get(o.ARCHIVED_WITHOUT_PAGE):
            return o.EXIT_BLOCKED_FALLBACK, (
                f"{base_url} is blocking article pages (Cloudflare): "
                f"{get(o.ARCHIVED_WITHOUT_PAGE)} posts were archived from the REST API or the "
                "feed without their pages; later runs fetch the pages"
            )
        return o.EXIT_BLOCKED, (
            f"{base_url} is blocking the crawler (Cloudflare): {get(o.BLOCKED)} article pages "
            "answered with block or challenge pages"
        )
    errors = get(o.FETCH_ERRORS, o.BLOCKED, o.DISCOVERY_FAILED, o.DISCOVERY_BLOCKED)
    if errors:
        return o.EXIT_PAGE_ERRORS, f"{errors} pages could not be fetched (see the failures table)"
    archived = get(o.ARTICLES_NEW, o.ARTICLES_CHANGED, o.ARTICLES_UNCHANGED)
    attempted = get(o.PAGES_OK, o.FETCH_ERRORS, o.BLOCKED)
    if attempted and not archived:
        return o.EXIT_PAGE_ERRORS, (
            f"{attempted} article pages were fetched but no article was archived: "
            f"{get(o.NOT_ARTICLES)} were not articles (see the failures table)"
        )
    if not attempted and not get(o.SKIPPED_UNCHANGED):
        return o.EXIT_PAGE_ERRORS, (
            "no article was found: the REST API, sitemaps and feed listed none"
        )
    return o.EXIT_OK, "ok"


# What Scrapy's exception names say, in words (the first name found in the class's wins).
_NETWORK_ERRORS = (
    ("ConnectionRefused", "connection refused"),
    ("DNSLookup", "its host name was not found"),
    ("CannotResolveHost", "its host name was not found"),
    ("NoRoute", "no route to the host"),
    ("Timeout", "timed out"),
    ("TimedOut", "timed out"),
    ("SSL", "TLS handshake failed"),
    ("TLS", "TLS handshake failed"),
)


def _why_unreachable(stats: dict) -> str:
    """Why nothing answered, from Scrapy's stats: the commonest download error in words, or
    the HTTP statuses the site answered with."""
    errors = {
        key.rsplit(".", 1)[-1]: n
        for key, n in stats.items()
        if key.startswith("downloader/exception_type_count/")
    }
    if errors:
        name = max(errors, key=errors.get)
        return next((words for part, words in _NETWORK_ERRORS if part in name), name)
    statuses = sorted(
        key.rsplit("/", 1)[-1]
        for key in stats
        if key.startswith("downloader/response_status_count/")
    )
    return ", ".join(f"HTTP {status}" for status in statuses) or "see the log above"


def _summary(stats: dict, run_id: int, seconds: float, db_path: str) -> str:
    get = o.reader(stats)
    return (
        f"crawl run {run_id} into {db_path}: {get(o.ARTICLES_NEW)} new, "
        f"{get(o.ARTICLES_CHANGED)} changed, {get(o.ARTICLES_UNCHANGED)} unchanged, "
        f"{get(o.SKIPPED_UNCHANGED)} not fetched (unchanged), "
        f"{get(o.NOT_ARTICLES)} not articles, {get(o.FAILURES)} failures recorded, "
        f"in {seconds:.1f} s"
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--url", required=True, callback=_http_url, help="The URL the page was fetched from.")
@click.option(
    "--fetched-at",
    default=None,
    help="When it was fetched (ISO 8601), for relative dates; default now.",
)
def parse(file, url, fetched_at):
    """Print the normalised articles in FILE ('-' for stdin), one JSON object per line.

    FILE may be an article page (one line), an RSS feed page or a WordPress REST API posts
    response (one line per article); which it is, is told from its content. Exits 0 for
    anything readable, articles and non-articles (is_article false, with a reason) alike; a
    warning line on stderr names each field left empty on an article.
    """
    from crawler.parsers import parse_articles

    when = datetime.now(timezone.utc)
    if fetched_at:
        try:
            when = datetime.fromisoformat(fetched_at)
        except ValueError:
            raise click.BadParameter(
                f"{fetched_at!r} is not ISO 8601", param_hint="--fetched-at"
            ) from None
    try:
        body = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as err:
        _fail(f"cannot read {file}: {err.strerror or err}")
    with _warnings_to_stderr():
        articles = parse_articles(body, url, fetched_at=when)
    for article in articles:
        click.echo(json.dumps(article, ensure_ascii=False))


@main.command()
@click.argument("query", required=False, default="")
@db_option
@click.option("--section", default=None, help="Only this section (name or slug).")
@click.option(
    "--author",
    default=None,
    metavar="NAME",
    help="Only articles credited to this author (words of the name; case and "
    "accents ignored: muñoz finds Muñoz). Without QUERY: their articles.",
)
@date_range
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date"]),
    default="relevance",
    show_default=True,
    help="Best matches first (hits in the title count most, ties newest first), or newest first.",
)
@json_option
@click.option(
    "--include-withdrawn",
    "withdrawn",
    is_flag=True,
    help="Also articles withdrawn from public view (ciudadano withdraw).",
)
def search(query, db_path, section, author, date_from, date_to, limit, sort, as_json, withdrawn):
    """Search the archive, best matches first. Case and accents are ignored (politica finds
    Política), and words are matched in any form (elecciones finds elección). QUERY: words,
    "a phrase" (words as written), prefix* (2+ letters), a OR b, a NOT b, (grouping),
    NEAR(a b) or NEAR(a b, 5) (at most 10 or 5 words apart), title:word, author:name.
    At most 500 characters, 32 terms and 4 prefixes; 10 s at most.

    \b
    Exit status: 0 found (or found nothing), 1 the query or a filter is not valid,
    2 bad options, 5 the archive cannot be read.
    """
    from archive.search import search as run_search

    if not query.strip() and not author:
        raise click.UsageError("give a QUERY, or --author NAME, or both")
    with _reader_errors():
        results = run_search(
            db_path,
            query,
            Slice(section, date_from, date_to, author),
            limit,
            sort=sort,
            withdrawn=withdrawn,
        )
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
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["csv", "jsonl", "json", "parquet", "warc"])
)
@click.option(
    "--out",
    default="-",
    show_default=True,
    help="Output file ('-' for stdout); written in full or not at all.",
)
@db_option
@click.option("--section", default=None, help="Only this section (name or slug).")
@date_range
@click.option(
    "--language",
    type=click.Choice(["es", "en", "de"]),
    default=None,
    help="Only articles in this language.",
)
@click.option(
    "--query", default=None, help="Only articles matching this search (as in `ciudadano search`)."
)
@click.option(
    "--bom",
    is_flag=True,
    help="CSV: start with a byte order mark, for "
    "spreadsheet programs that otherwise misread UTF-8.",
)
@click.option(
    "--keep-formulas",
    is_flag=True,
    help="CSV: leave cells starting with = + - @ "
    "as they are (by default they get a leading ' so a spreadsheet shows them as "
    "text instead of running them).",
)
@click.option("--quiet", is_flag=True, help="No progress line on a terminal.")
@click.option(
    "--include-withdrawn",
    "withdrawn",
    is_flag=True,
    help="Also articles withdrawn from public view (ciudadano withdraw).",
)
def export(
    fmt,
    out,
    db_path,
    section,
    date_from,
    date_to,
    language,
    query,
    bom,
    keep_formulas,
    quiet,
    withdrawn,
):
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
        _check_section(db_path, where)
        if sys.stderr.isatty() and not quiet and out != "-":
            total = count_rows(reader_uri(db_path), where, language, query, withdrawn)

            def progress(n: int) -> None:
                click.echo(
                    f"\rexporting: {n:,}/{total:,} articles ({100 * n // max(total, 1)}%)",
                    err=True,
                    nl=False,
                )

        try:
            count = run_export(
                db_path,
                fmt,
                out,
                where,
                language,
                query,
                progress=progress,
                bom=bom,
                formulas=keep_formulas,
                withdrawn=withdrawn,
            )
        except KeyboardInterrupt:
            _fail(
                "export interrupted" + (f"; {out} was left as it was" if out != "-" else ""),
                o.EXIT_INTERRUPTED,
            )
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
@date_range
@click.option("--quiet", is_flag=True, help="No progress line on a terminal.")
def reparse(db_path, date_from, date_to, quiet):
    """Rebuild articles from the pages the archive kept, with this version's parser and no
    network; reports how many changed and which fields. Dates and ids read from the REST API
    stay; an article whose page was never kept is left as it is.

    \b
    Exit status: 0 done, 1 a filter is not valid, 5 the archive cannot be read or written,
    6 interrupted (articles rebuilt so far stay), 7 a crawl, an import or another reparse
    is writing to the archive.
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
            _fail("reparse interrupted; the articles rebuilt so far are kept", o.EXIT_INTERRUPTED)
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

    Every line is checked as a crawled article is (types, dates, http(s) URLs) and its
    body_html cleaned; a line that is not UTF-8, not JSON or not a valid article is named,
    `error: FILE line N: field: what is wrong`, and skipped: every other line is imported.

    \b
    Exit status: 0 every line imported, 1 some lines were skipped (each named; the rest is
    imported), 5 the archive cannot be written, 6 interrupted (whole batches of 5,000 lines
    imported so far stay).
    """
    from ciudadano.imports import import_jsonl

    _default_folder(db_path)
    with _reader_errors(), _signals_interrupt():
        try:
            report = import_jsonl(file, db_path)
        except KeyboardInterrupt:
            _fail("import interrupted; the articles imported so far are kept", o.EXIT_INTERRUPTED)
        except OSError as err:
            _fail(f"cannot read {file}: {err.strerror or err}")
    for problem in report.problems:
        click.echo(f"error: {file} {problem}", err=True)
    click.echo(f"{file}: {report.summary()}", err=True)
    if report.problems:
        sys.exit(o.EXIT_INVALID)


@main.command()
@click.argument("article")
@db_option
@json_option
@click.option(
    "--include-withdrawn",
    "withdrawn",
    is_flag=True,
    help="Show it even if it was withdrawn from public view (ciudadano withdraw).",
)
def show(article, db_path, as_json, withdrawn):
    """Print one article as a reader reads it: headline; date (Santiago time), section and
    authors; standfirst; the body's paragraphs; its URL. ARTICLE: its id (as `search --json`
    prints it), its URL (an earlier URL, a shortlink ?p=ID, or the same path on a mirror too).
    --json: every field, one object.

    \b
    Exit status: 0 shown, 1 no such article (or withdrawn), 2 bad options, 5 the archive
    cannot be read.
    """
    from archive.reading import find_article, render_article

    with _reader_errors():
        found = find_article(db_path, article, withdrawn)
    click.echo(json.dumps(found, ensure_ascii=False) if as_json else render_article(found))


@main.command()
@db_option
@json_option
def sections(db_path, as_json):
    """List the archive's sections, the largest first: articles, name and slug (the slug or
    the name is what --section takes).

    \b
    Exit status: 0 listed, 5 the archive cannot be read.
    """
    from archive.reading import sections as read_sections

    with _reader_errors():
        found = read_sections(db_path)
    for section in found:
        if as_json:
            click.echo(json.dumps(section, ensure_ascii=False))
        else:
            click.echo(
                f"{section['articles']:>8}  {section['section'] or '(no section)'}"
                + (f"  ({section['slug']})" if section["slug"] else "")
            )


@main.command()
@db_option
@click.option(
    "--runs",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="How many of the last runs to show.",
)
@json_option
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
    from archive.db import reader_uri

    with _reader_errors():
        reader_uri(db_path)  # ArchiveError before the port: a missing archive is said first
        sock = _listening(host, port)
        try:
            status = run_serve(db_path, sock=sock)
        except KeyboardInterrupt:  # Ctrl-C is how it is stopped (uvicorn raises it again)
            status = o.EXIT_OK
    sys.exit(status)


def _listening(host: str, port: int):
    """A socket listening on host:port, or one `error:` line and status 1 (a busy port)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as err:
        _fail(f"cannot listen on {host}:{port}: {err.strerror or err}", o.EXIT_INVALID)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {err.strerror or err}", o.EXIT_INVALID)
    return sock


def _check_section(db_path: str, where: Slice) -> None:
    from archive.db import connect_reader

    conn = connect_reader(db_path)
    try:
        where.check_section(conn)
    finally:
        conn.close()


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


import ciudadano.record  # noqa: F401 (registers audit, withdraw, reinstate)

if __name__ == "__main__":
    main()
