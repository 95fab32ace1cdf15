"""The record: what the site lists against what the archive holds, and what happened to each
article (missed by the site's lists, removed, restored, withdrawn, reinstated).

An audit (crawler.spiders.audit) reads the site's post sitemaps into `listings` and the REST
API's totals into `site_counts`. When an audit has read every sitemap, `reconcile` compares:
an archived article the sitemaps no longer list is *missed* (missing_since), and only a fetch
of its page confirms a removal (`confirm`). Nothing is ever deleted; every change of state is a
row of `article_events`. Withdrawal is the archivist's: `withdraw` hides an article from serve,
search and exports, `reinstate` shows it again.

Every function takes an open sqlite3 connection in autocommit mode (archive.db's) and commits
what it writes before it returns, so an audit killed at any moment keeps what it recorded.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from archive.schema import (
    ALIASES,
    ARTICLES,
    AUDIT_SITEMAPS,
    AUDITS,
    EVENTS,
    HANDED_OUT,
    LISTINGS,
    RETRIES,
    SITE_COUNTS,
)

# audits.status
RUNNING, COMPLETE, PARTIAL, INTERRUPTED, DIED = (
    "running",
    "complete",
    "partial",
    "interrupted",
    "died",
)
# article_events.event
MISSED, REMOVED, RESTORED, LISTED_AGAIN, STILL_ONLINE, WITHDRAWN, REINSTATED = (
    "missed",
    "removed",
    "restored",
    "listed_again",
    "still_online",
    "withdrawn",
    "reinstated",
)
# An audit that died is resumed by the next one within this time (the sitemaps it read are
# not read again); an older one is left as died and the next audit starts afresh.
RESUME_WITHIN = timedelta(hours=24)
# A complete audit that lists fewer than this share of the previous complete one's URLs, and
# of the posts the REST API counts (when it answered), is taken for sitemaps cut short: nothing
# is marked missed from it.
CUT_SHORT_SHARE = 0.5


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@contextmanager
def transaction(conn: sqlite3.Connection):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# -- audits ------------------------------------------------------------------------------------
def start_audit(
    conn: sqlite3.Connection, base_url: str, pid: int | None = None
) -> tuple[int, str, set[str]]:
    """(audit id, its start, the sitemaps it has read already): the audit that died or was
    interrupted less than RESUME_WITHIN ago on the same site is resumed, else a new one starts.
    Audits still 'running' (killed) are marked died first."""
    with transaction(conn):
        conn.execute(f"UPDATE [{AUDITS}] SET status = ? WHERE status = ?", [DIED, RUNNING])
        since = (datetime.now(timezone.utc) - RESUME_WITHIN).replace(microsecond=0).isoformat()
        last = conn.execute(
            f"SELECT id, started_at, status, base_url FROM [{AUDITS}] ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if last and last[2] in (DIED, INTERRUPTED) and last[1] >= since and last[3] == base_url:
            conn.execute(
                f"UPDATE [{AUDITS}] SET status = ?, pid = ? WHERE id = ?", [RUNNING, pid, last[0]]
            )
            done = {
                s
                for (s,) in conn.execute(
                    f"SELECT sitemap FROM [{AUDIT_SITEMAPS}] WHERE audit_id = ?", [last[0]]
                )
            }
            return last[0], last[1], done
        # what an audit lists is marked with its start, to the second: two audits in one
        # second would share the mark (the second would take what the first listed for its
        # own), so a second one waits for the next second (a clock set back is not waited for)
        started = utc_now()
        while last and last[1] == started:
            time.sleep(0.05)
            started = utc_now()
        cursor = conn.execute(
            f"INSERT INTO [{AUDITS}] (started_at, status, base_url, pid) VALUES (?, ?, ?, ?)",
            [started, RUNNING, base_url, pid],
        )
        return (
            cursor.lastrowid,
            conn.execute(
                f"SELECT started_at FROM [{AUDITS}] WHERE id = ?", [cursor.lastrowid]
            ).fetchone()[0],
            set(),
        )


def record_sitemap(
    conn: sqlite3.Connection,
    audit_id: int,
    started_at: str,
    sitemap: str,
    entries: Iterable[tuple[str, str | None]],
) -> int:
    """One post sitemap's (url, lastmod) entries into listings, with the sitemap marked read,
    in one transaction; how many URLs it listed."""
    count = 0
    with transaction(conn):
        for url, lastmod in entries:
            conn.execute(
                f"INSERT INTO [{LISTINGS}] (url, lastmod, sitemap, first_listed, last_listed) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET lastmod = excluded.lastmod, "
                "sitemap = excluded.sitemap, last_listed = excluded.last_listed",
                [url, lastmod, sitemap, started_at, started_at],
            )
            count += 1
        conn.execute(
            f"INSERT OR REPLACE INTO [{AUDIT_SITEMAPS}] VALUES (?, ?, ?, ?)",
            [audit_id, sitemap, count, utc_now()],
        )
    return count


def record_count(
    conn: sqlite3.Connection,
    audit_id: int,
    kind: str,
    key: str,
    count: int,
    name: str | None = None,
) -> None:
    """A count the site gives of itself: kind "total" (X-WP-Total of the posts), "year" (posts
    published that year) or "category" (a category's count)."""
    conn.execute(
        f"INSERT OR REPLACE INTO [{SITE_COUNTS}] VALUES (?, ?, ?, ?, ?)",
        [audit_id, kind, key, name, count],
    )


def finish_audit(conn: sqlite3.Connection, audit_id: int, status: str, **figures) -> None:
    """The audit's end: its status and figures (sitemaps, sitemaps_failed, requests, seconds,
    missed, removed, restored); listed and site_total are counted here."""
    listed = conn.execute(
        f"SELECT count(*) FROM [{LISTINGS}] WHERE last_listed = (SELECT "
        f"started_at FROM [{AUDITS}] WHERE id = ?)",
        [audit_id],
    ).fetchone()[0]
    total = conn.execute(
        f"SELECT count FROM [{SITE_COUNTS}] WHERE audit_id = ? AND kind = 'total'", [audit_id]
    ).fetchone()
    values = {
        "finished_at": utc_now(),
        "status": status,
        "listed": listed,
        "site_total": total[0] if total else None,
        **figures,
    }
    conn.execute(
        f"UPDATE [{AUDITS}] SET {', '.join(f'[{k}] = ?' for k in values)} WHERE id = ?",
        [*values.values(), audit_id],
    )


def _listed_since(started_at: str) -> str:
    """SQL: article a (its URL or an earlier one) is listed by the audit started at ?."""
    return (
        f"(EXISTS (SELECT 1 FROM [{LISTINGS}] l WHERE l.url = a.url AND l.last_listed >= ?) "
        f"OR EXISTS (SELECT 1 FROM [{ALIASES}] x JOIN [{LISTINGS}] l ON l.url = x.url "
        "WHERE x.article_url = a.url AND l.last_listed >= ?))"
    )


def reconcile(conn: sqlite3.Connection, audit_id: int) -> dict[str, int]:
    """After an audit that read every sitemap: articles it does not list are marked missed
    (not removed: that takes a fetch of the page, `confirm`); missed or removed ones it lists
    again are cleared, a removed one marked restored. Skipped (all zero) when the audit lists
    less than CUT_SHORT_SHARE of the previous complete audit, unless the REST API's count of
    posts confirms it: sitemaps cut short."""
    started_at, listed = conn.execute(
        f"SELECT started_at, (SELECT count(*) FROM [{LISTINGS}] WHERE last_listed = started_at) "
        f"FROM [{AUDITS}] WHERE id = ?",
        [audit_id],
    ).fetchone()
    before = conn.execute(
        f"SELECT listed FROM [{AUDITS}] WHERE status = ? AND id < ? ORDER BY id DESC LIMIT 1",
        [COMPLETE, audit_id],
    ).fetchone()
    total = conn.execute(
        f"SELECT count FROM [{SITE_COUNTS}] WHERE audit_id = ? AND kind = 'total'", [audit_id]
    ).fetchone()
    counts = {"missed": 0, "restored": 0, "listed_again": 0}
    if not listed or (
        before
        and before[0]
        and listed < CUT_SHORT_SHARE * before[0]
        and (total is None or listed < CUT_SHORT_SHARE * total[0])
    ):
        return counts
    now = utc_now()
    listed_sql = _listed_since(started_at)
    with transaction(conn):
        for article_id, removed in conn.execute(
            f"SELECT id, removed_at FROM [{ARTICLES}] a WHERE (missing_since IS NOT NULL "
            f"OR removed_at IS NOT NULL) AND {listed_sql}",
            [started_at, started_at],
        ).fetchall():
            if removed:
                conn.execute(
                    f"UPDATE [{ARTICLES}] SET removed_at = NULL, missing_since = NULL, "
                    "restored_at = ? WHERE id = ?",
                    [now, article_id],
                )
                record_event(conn, article_id, RESTORED, f"listed again; removed {removed}")
                counts["restored"] += 1
            else:
                conn.execute(
                    f"UPDATE [{ARTICLES}] SET missing_since = NULL WHERE id = ?", [article_id]
                )
                record_event(conn, article_id, LISTED_AGAIN, "listed again")
                counts["listed_again"] += 1
        for (article_id,) in conn.execute(
            f"SELECT id FROM [{ARTICLES}] a WHERE missing_since IS NULL AND removed_at IS NULL "
            f"AND NOT {listed_sql}",
            [started_at, started_at],
        ).fetchall():
            conn.execute(
                f"UPDATE [{ARTICLES}] SET missing_since = ? WHERE id = ?", [now, article_id]
            )
            record_event(conn, article_id, MISSED, f"not in the sitemaps of audit {audit_id}")
            counts["missed"] += 1
    return counts


def to_confirm(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, url) of the articles missed by the site's lists and not yet found removed: their
    pages are fetched to tell a removal from a list cut short."""
    return conn.execute(
        f"SELECT id, url FROM [{ARTICLES}] WHERE missing_since IS NOT NULL AND "
        "removed_at IS NULL ORDER BY id"
    ).fetchall()


def confirm_removed(conn: sqlite3.Connection, article_id: int, reason: str) -> None:
    """The page of a missed article is gone (reason: how): the article is marked removed,
    with all its versions and kept pages left as they are."""
    with transaction(conn):
        conn.execute(
            f"UPDATE [{ARTICLES}] SET removed_at = ?, removal_reason = ? WHERE id = ?",
            [utc_now(), reason, article_id],
        )
        record_event(conn, article_id, REMOVED, reason)


def confirm_online(conn: sqlite3.Connection, article_id: int, detail: str) -> None:
    """The page of a missed article still answers: not a removal (said once per missing spell)."""
    seen = conn.execute(
        f"SELECT 1 FROM [{EVENTS}] WHERE article_id = ? AND event = ? AND at >= "
        f"(SELECT missing_since FROM [{ARTICLES}] WHERE id = ?)",
        [article_id, STILL_ONLINE, article_id],
    ).fetchone()
    if not seen:
        record_event(conn, article_id, STILL_ONLINE, detail)


def record_event(conn: sqlite3.Connection, article_id: int, event: str, detail: str) -> None:
    conn.execute(
        f"INSERT INTO [{EVENTS}] (article_id, at, event, detail) VALUES (?, ?, ?, ?)",
        [article_id, utc_now(), event, detail],
    )


# -- what the next crawl fetches ---------------------------------------------------------------
def current_audit_start(conn: sqlite3.Connection) -> str | None:
    """When the last audit that read every sitemap started (its listings are the site's)."""
    try:
        return conn.execute(
            f"SELECT max(started_at) FROM [{AUDITS}] WHERE status = ?", [COMPLETE]
        ).fetchone()[0]
    except sqlite3.OperationalError:  # an archive of an older schema, opened read-only
        return None


def wanted_urls(conn: sqlite3.Connection, limit: int) -> list[tuple[str, str | None]]:
    """(url, lastmod) of what the site lists and the archive lacks, or holds older than the
    listing's lastmod, newest first: for the next crawl to fetch. Pages given up (404, 410, or
    too many failures) and those waiting for their retry are left to the retries table. An
    archived article handed out once is not handed out again until another audit lists it
    (its page may not carry the date the sitemap gives: never a refetch every night)."""
    start = current_audit_start(conn)
    if start is None or limit <= 0:
        return []
    found = conn.execute(
        f"SELECT l.url, l.lastmod, a.id IS NOT NULL FROM [{LISTINGS}] l "
        f"LEFT JOIN [{ALIASES}] x ON x.url = l.url "
        f"LEFT JOIN [{ARTICLES}] a ON a.url = coalesce(x.article_url, l.url) "
        f"WHERE l.last_listed >= ? AND NOT EXISTS (SELECT 1 FROM [{RETRIES}] r WHERE r.url = l.url) "
        "AND (a.id IS NULL OR ((json_extract(a.provenance, '$.page') IS NOT NULL "
        "OR unixepoch(l.lastmod) > unixepoch(coalesce(a.modified, a.published))) "
        f"AND NOT EXISTS (SELECT 1 FROM [{HANDED_OUT}] h WHERE h.url = l.url "
        "AND h.at >= l.last_listed))) "
        "ORDER BY unixepoch(l.lastmod) DESC NULLS LAST, l.url LIMIT ?",
        [start, limit],
    ).fetchall()
    now = utc_now()
    with transaction(conn):
        conn.executemany(
            f"INSERT OR REPLACE INTO [{HANDED_OUT}] (url, at) VALUES (?, ?)",
            [(url, now) for url, _, held in found if held],
        )
    return [(url, lastmod) for url, lastmod, _ in found]


# -- withdrawal --------------------------------------------------------------------------------
class NotArchived(LookupError):
    """No article with this URL (nor an earlier URL of it) in the archive."""


def _article_id(conn: sqlite3.Connection, url: str) -> tuple[int, str | None]:
    row = conn.execute(
        f"SELECT id, withdrawn_at FROM [{ARTICLES}] WHERE url = ? OR url = "
        f"(SELECT article_url FROM [{ALIASES}] WHERE url = ?)",
        [url, url],
    ).fetchone()
    if row is None:
        raise NotArchived(f"no article at {url} in the archive")
    return row


def withdraw(conn: sqlite3.Connection, url: str, reason: str) -> bool:
    """Hide the article at url from serve, search and exports, with the reason; False when it
    was withdrawn already (the first reason and date stay)."""
    article_id, withdrawn = _article_id(conn, url)
    if withdrawn:
        return False
    with transaction(conn):
        conn.execute(
            f"UPDATE [{ARTICLES}] SET withdrawn_at = ?, withdrawal_reason = ? WHERE id = ?",
            [utc_now(), reason, article_id],
        )
        record_event(conn, article_id, WITHDRAWN, reason)
    return True


def reinstate(conn: sqlite3.Connection, url: str, reason: str | None = None) -> bool:
    """Show a withdrawn article again; False when it was not withdrawn."""
    article_id, withdrawn = _article_id(conn, url)
    if not withdrawn:
        return False
    with transaction(conn):
        conn.execute(
            f"UPDATE [{ARTICLES}] SET withdrawn_at = NULL, withdrawal_reason = NULL WHERE id = ?",
            [article_id],
        )
        record_event(
            conn,
            article_id,
            REINSTATED,
            f"withdrawn {withdrawn}" + (f"; {reason}" if reason else ""),
        )
    return True


def visible(alias: str = ARTICLES) -> str:
    """SQL: the article (table or alias) is not withdrawn: what serve, search and exports show."""
    return f"{alias}.withdrawn_at IS NULL"


def withdrawn_ids(conn) -> set[int]:
    """Ids of the withdrawn articles (few; an index holds them), for readers that filter by id
    (archive.search). conn: sqlite3 or apsw. An archive of a schema before withdrawal has none."""
    try:
        return {
            i
            for (i,) in conn.execute(f"SELECT id FROM [{ARTICLES}] WHERE withdrawn_at IS NOT NULL")
        }
    except Exception as err:
        if "no such column" in str(err):
            return set()
        raise
