"""The names of a crawl's outcomes, each defined once: the stats the spider and the pipelines
count (Scrapy's stats collector, kept in the `runs.stats` column), the status a run is
recorded with (`runs.status`), and the exit statuses of the `ciudadano` commands (the README's
*Exit status* tables).

Everything that writes or reads one of them (the spider, the pipelines, the progress line,
`ciudadano crawl` and `ciudadano status`) uses these names, never the strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

# -- stats: Scrapy stat keys, all under one prefix ---------------------------------------------

PREFIX = "ciudadano/"

# how the run was started
MODE_FULL = PREFIX + "mode_full"  # walked the whole site (--full, --since/--until, first run)
MODE_INCREMENTAL = PREFIX + "mode_incremental"  # only what changed since the last good run

# discovery: the REST API, sitemaps and the feed
DISCOVERY_OK = PREFIX + "discovery_ok"  # a discovery source (REST page, sitemap, feed) answered
DISCOVERY_FAILED = PREFIX + "discovery_failed"  # a discovery source failed (not blocked)
DISCOVERY_BLOCKED = PREFIX + "discovery_blocked"  # a discovery source answered a block page
REST_PAGES = PREFIX + "rest_pages"  # pages of the REST API's posts listing read
REST_FAILED = PREFIX + "rest_failed"  # the REST API did not answer: fell back to sitemaps
SCHEDULED_PREFIX = PREFIX + "scheduled/"  # + the source: article pages scheduled from it
SKIPPED_UNCHANGED = PREFIX + "skipped_unchanged"  # not fetched: unchanged since it was stored
ROBOTS_DISALLOWED = PREFIX + "robots_disallowed"  # not fetched: robots.txt disallows it
OFFSITE_REFUSED = PREFIX + "offsite_refused"  # not fetched: not on the site's scheme, host, port

# article pages
PAGES_OK = PREFIX + "pages_ok"  # article pages fetched and parsed
FETCH_ERRORS = PREFIX + "fetch_errors"  # article pages that could not be fetched
BLOCKED = PREFIX + "blocked"  # article pages answered with Cloudflare block/challenge pages
PARSER_ERRORS = PREFIX + "parser_errors"  # pages the parser raised on (recorded as failures)
ARCHIVED_WITHOUT_PAGE = PREFIX + "archived_without_page"  # posts stored from REST/feed alone
NOT_ARTICLES = PREFIX + "not_articles"  # pages that were not articles (listings, no date)
PARSE_MAX_MS = PREFIX + "parse_max_ms"  # the slowest parse of the run, in ms
REACTOR_STALL_MAX_MS = PREFIX + "reactor_stall_max_ms"  # the longest the crawl thread stalled

# the archive
ARTICLES_NEW = PREFIX + "articles_new"  # articles stored for the first time
ARTICLES_CHANGED = PREFIX + "articles_changed"  # articles stored in a new version
ARTICLES_UNCHANGED = PREFIX + "articles_unchanged"  # fetched again, found unchanged
FAILURES = PREFIX + "failures"  # rows written to the failures table
RESPONSES_KEPT = PREFIX + "responses_kept"  # pages kept as fetched (the raw pages)
RESPONSES_NOT_KEPT = PREFIX + "responses_not_kept"  # pages that could not be kept
ARCHIVE_ERRORS = PREFIX + "archive_errors"  # writes to the archive that failed
ARCHIVE_ERROR = PREFIX + "archive_error"  # the first of them, as one line (a string)
RUN_ID = PREFIX + "run_id"  # the run's row in the runs table

# images and stylesheets (crawler.images): IMAGE or STYLESHEET + one of the suffixes
MEDIA_KEPT, MEDIA_BYTES, MEDIA_FAILED = "s_kept", "s_bytes", "s_failed"
MEDIA_NOT_THE_SITES = "s_not_the_sites"  # named by a page, not on the site: not fetched
MEDIA_NOT_STORED = PREFIX + "media_not_stored"  # fetched, but the archive could not store it


def media(kind: str, suffix: str) -> str:
    """The stat of kind ("image", "stylesheet"): media("image", MEDIA_KEPT) is images kept."""
    return PREFIX + kind + suffix


# where the fields came from (the drift alarm: archive.drift)
THEME_READ = PREFIX + "theme/read"  # articles stored from their own page
THEME_FIELDS = ("title", "body", "published")  # fields whose source the alarm watches
DRIFT_WARNING = PREFIX + "drift_warning"  # the alarm's words, when it rang (a string)


def from_theme(field: str) -> str:
    """The stat counting articles whose field came from the theme's own markup."""
    return PREFIX + "theme/" + field


# Scrapy's own reason for closing the spider: "finished", "shutdown" (a signal), or ours:
FINISH_REASON = "finish_reason"
ARCHIVE_WRITE_FAILED = "archive_write_failed"  # the reason the pipeline closes the spider with


def scheduled(source: str) -> str:
    """The stat counting the article pages scheduled from source (rest, sitemap, feed, url)."""
    return SCHEDULED_PREFIX + source


def count(stats: Mapping, *keys: str) -> int:
    """The sum of the stats named by keys (a stat never counted is 0)."""
    return sum(stats.get(key) or 0 for key in keys)


def reader(stats: Mapping) -> Callable[..., int]:
    """count() bound to stats: `get = reader(stats); get(PAGES_OK, FETCH_ERRORS)`."""
    return partial(count, stats)


def scheduled_total(stats: Mapping) -> int:
    """Article pages scheduled from every source."""
    return sum(value for key, value in stats.items() if key.startswith(SCHEDULED_PREFIX))


# -- run statuses: the runs table's `status` column ---------------------------------------------

RUNNING = "running"  # started, not ended yet (or ended without a word: see DIED)
FINISHED = "finished"  # ran to its end; its exit status says how well
INTERRUPTED = "interrupted"  # a signal (SIGTERM, Ctrl-C, SIGHUP) stopped it; what it stored stays
FAILED = "failed"  # the archive could not be written; it stopped there
DIED = "died"  # found still RUNNING by a later run: killed (SIGKILL) or the machine went down
RUN_STATUSES = (RUNNING, FINISHED, INTERRUPTED, FAILED, DIED)

# -- exit statuses of the commands (README: *Exit status*) --------------------------------------

EXIT_OK = 0
EXIT_PAGE_ERRORS = 1  # crawl: the run finished, but some pages could not be fetched
EXIT_INVALID = 1  # other commands: a query, filter, file, output or port that cannot be used
EXIT_USAGE = 2  # bad options
EXIT_UNREACHABLE = 3  # crawl: neither robots.txt, a sitemap nor the feed answered
EXIT_BLOCKED = 4  # crawl: the site answered with Cloudflare block or challenge pages
EXIT_ARCHIVE = 5  # the archive could not be opened, read or written (not ours, damaged, full)
EXIT_INTERRUPTED = 6  # a signal (SIGTERM, Ctrl-C, SIGHUP) stopped it; what was done stays
EXIT_LOCKED = 7  # another writer (a crawl, an import, a reparse) holds the archive: did nothing
EXIT_BLOCKED_FALLBACK = 8  # crawl: pages blocked; posts archived from the REST API or feed alone


def run_status(exit_status: int) -> str:
    """The status a crawl ending with exit_status is recorded with in the runs table."""
    return {EXIT_INTERRUPTED: INTERRUPTED, EXIT_ARCHIVE: FAILED, EXIT_USAGE: FAILED}.get(
        exit_status, FINISHED
    )
