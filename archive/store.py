"""Writes to the archive: articles, failures and runs.

Every write is committed at once, so a run killed half way keeps everything stored before it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from archive import drift
from archive import outcomes as o
from archive.db import open_for_writing
from archive.model import ArticleError
from archive.outcomes import DIED, RUNNING
from archive.schema import (
    ALIASES,
    ARTICLES,
    FAILURES,
    FTS_HASHSIZE_BULK,
    FTS_HASHSIZE_DEFAULT,
    PAGE_ONLY_FIELDS,
    RETRIES,
    RUNS,
    VERSIONED_FIELDS,
    VERSIONS,
    article_columns,
    fts_hashsize_sql,
    index_sql,
    median_key_sql,
    sample_keys_sql,
)

log = logging.getLogger(__name__)

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
OLDER = "older"  # an import: the archive's own version changed later and is kept


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def utc_instant(iso: str | None) -> str | None:
    """'2024-04-06T23:30:00-03:00' -> '2024-04-06T02:30:00Z': the instant, sortable as text
    (as archive.schema.PUBLISHED_UTC_SQL writes it)."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sql_value(value):
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def content_hash(row: dict) -> str:
    payload = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def imported_row(article: dict, first_seen: str | None, last_changed: str | None) -> dict:
    """The articles row of an exported article (checked by archive.model.checked_article)
    and the archive dates it came with: the same content hash as store_article gives it."""
    seen, changed = _as_utc(first_seen), _as_utc(last_changed)
    if seen and changed and seen > changed:  # one of the two is wrong: which, we cannot know
        raise ArticleError(
            [("first_seen", f"after last_changed: {first_seen!r} is later than {last_changed!r}")]
        )
    row = {k: v for k, v in article.items() if k not in PAGE_ONLY_FIELDS}
    row["year"] = int(row["published_date"][:4])
    now = utc_now()
    row.update(
        content_hash=content_hash(row),
        published_utc=utc_instant(row["published"]),
        run_id=None,
        # an article that changed then was seen by then: never first seen at the import
        first_seen=seen or min(now, changed or now),
        last_changed=changed or now,
    )
    return row


def _as_utc(iso: str | None) -> str | None:
    """An archive date as the archive writes them (utc_now's form), whatever offset it came
    with, so that dates compare as text: '2025-03-05T12:00:00-03:00' ->
    '2025-03-05T15:00:00+00:00'."""
    if not iso:
        return iso
    moment = datetime.fromisoformat(iso)  # checked by the importer: an offset is given
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


class Archive:
    """One SQLite archive file. Creates the file, its folder and its tables when missing;
    refuses (archive.db.ArchiveError) a file that is not an archive."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite_utils.Database(open_for_writing(self.path))
        self._columns = set(article_columns())
        self._upserts: dict[tuple, str] = {}

    def close(self) -> None:
        self.db.close()

    # runs -----------------------------------------------------------------------------
    def start_run(self, base_url: str, pid: int | None = None) -> int:
        table = self.db[RUNS]
        table.insert({"started_at": utc_now(), "base_url": base_url, "status": RUNNING, "pid": pid})
        return table.last_pk

    def mark_dead_runs(self) -> int:
        """Runs still 'running' when a new run holds the archive's lock have died (SIGKILL, a
        reboot): they are marked so. Returns how many."""
        cursor = self.db.execute(f"update {RUNS} set status = ? where status = ?", [DIED, RUNNING])
        return cursor.rowcount

    def update_median_key(self) -> None:
        """Where searches cut the index in two (archive.schema.median_key_sql; a few ms) and
        the windows where they sample how common a query is (sample_keys_sql; 0.3 s at
        305,000 articles)."""
        self.db.execute(median_key_sql())
        self.db.execute(sample_keys_sql())

    def finish_run(
        self, run_id: int, status: str, counts: dict, stats: dict, exit_status: int | None = None
    ) -> str | None:
        """Record the end of run_id; returns the drift alarm's warning, if it has one."""
        warning = drift.warning(self.db.conn, run_id, stats)
        try:
            self.update_median_key()
        except sqlite3.Error as err:  # searches still work, on one core
            log.warning("could not update the search's median key: %s", err)
        self.db[RUNS].update(
            run_id,
            {
                "finished_at": utc_now(),
                "status": status,
                "exit_status": exit_status,
                "articles_new": counts.get(NEW, 0),
                "articles_changed": counts.get(CHANGED, 0),
                "articles_unchanged": counts.get(UNCHANGED, 0),
                "failures": counts.get("failures", 0),
                "stats": json.dumps(
                    {**stats, o.DRIFT_WARNING: warning} if warning else stats,
                    sort_keys=True,
                    default=str,
                ),
                "warning": warning,
            },
        )
        return warning

    # articles -------------------------------------------------------------------------
    def store_article(self, article: dict, run_id: int | None = None) -> str:
        """Insert or update one article; returns NEW, CHANGED or UNCHANGED.

        An unchanged article is not written at all, so a repeated crawl changes nothing.
        """
        row = {k: v for k, v in article.items() if k not in PAGE_ONLY_FIELDS and k in self._columns}
        row["year"] = int(row["published_date"][:4]) if row.get("published_date") else None
        digest = content_hash(row)
        row["published_utc"] = utc_instant(row.get("published"))
        moved_from = self._moved(row["url"], row.get("wp_id"))
        if moved_from:
            with self.db.atomic():
                self.db.execute(
                    f"update {ARTICLES} set url = ? where url = ?", [row["url"], moved_from]
                )
                self.db.execute(
                    f"update {ALIASES} set article_url = ? where article_url = ?",
                    [row["url"], moved_from],
                )
                self.db.execute(
                    f"insert or replace into {ALIASES} (url, article_url, since) values (?, ?, ?)",
                    [moved_from, row["url"], utc_now()],
                )
            log.info("post %s moved from %s to %s", row.get("wp_id"), moved_from, row["url"])
        existing = self._get(row["url"])
        if existing is not None and existing["content_hash"] == digest:
            return UNCHANGED
        now = utc_now()
        row.update(
            content_hash=digest,
            last_changed=now,
            run_id=run_id,
            first_seen=existing["first_seen"] if existing else now,
        )
        if existing is None:
            self._upsert(row)
            return NEW
        with self.db.atomic():
            self._keep_version(row)
            self._upsert(row)
        return CHANGED

    def import_articles(self, rows: list[dict]) -> list[str]:
        """Store exported articles (rows of imported_row), each with its own archive dates:
        for each NEW, CHANGED, UNCHANGED, or OLDER (the stored version changed later and is
        kept; the other goes to its versions). Those the archive does not hold are written at
        once and indexed in one pass; all or none are stored."""
        with self.db.atomic():
            held = {
                url
                for (url,) in self.db.execute(
                    f"select url from {ARTICLES} where url in (select value from json_each(?))",
                    [json.dumps([row["url"] for row in rows])],
                )
            }
            fresh: dict[str, int] = {}
            for n, row in enumerate(rows):
                if row["url"] not in held and row["url"] not in fresh:
                    fresh[row["url"]] = n
            self._insert_indexed([rows[n] for n in fresh.values()])
            new = set(fresh.values())
            return [NEW if n in new else self._import_known(row) for n, row in enumerate(rows)]

    def _import_known(self, row: dict) -> str:
        """row, an exported article whose URL the archive holds, merged: the version changed
        last is kept in articles (a tie: the archive's own), the other among its versions."""
        digest, last_changed, first_seen = self.db.execute(
            f"select content_hash, last_changed, first_seen from {ARTICLES} where url = ?",
            [row["url"]],
        ).fetchone()
        if digest == row["content_hash"]:
            return UNCHANGED
        if (last_changed or "") >= row["last_changed"]:
            self._keep_version_of(row, fetched_at=row["last_changed"])
            return OLDER
        row = {**row, "first_seen": min(filter(None, [first_seen, row["first_seen"]]))}
        self._keep_version(row)
        self._upsert(row)
        return CHANGED

    def _insert_indexed(self, rows: list[dict]) -> None:
        """rows, articles the archive does not hold, inserted in one statement and indexed in
        one pass (archive.schema.index_sql), the index's insert trigger set aside meanwhile:
        1.3 ms of CPU an article instead of 2.3 with the trigger. In the caller's transaction,
        so a kill leaves the trigger as it was."""
        if not rows:
            return
        trigger = f"{ARTICLES}_ai"
        (last,) = self.db.execute(f"select coalesce(max(id), 0) from {ARTICLES}").fetchone()
        (create,) = self.db.execute(
            "select sql from sqlite_master where type = 'trigger' and name = ?", [trigger]
        ).fetchone()
        self.db.execute(f"drop trigger [{trigger}]")
        names = sorted(rows[0])
        self.db.conn.executemany(
            self._upsert_sql(names), ([_sql_value(row[n]) for n in names] for row in rows)
        )
        self.db.execute(fts_hashsize_sql(FTS_HASHSIZE_BULK))
        self.db.execute(index_sql("a.id > ?"), [last])
        self.db.execute(fts_hashsize_sql(FTS_HASHSIZE_DEFAULT))
        self.db.execute(create)

    def _keep_version_of(self, row: dict, fetched_at: str) -> None:
        """row, an older version of a stored article than the stored one, among its versions
        (unless a version with the same content is there)."""
        values = [_sql_value(row.get(f)) for f in VERSIONED_FIELDS]
        digest = content_hash(dict(zip(VERSIONED_FIELDS, values, strict=False)))
        (article_id,) = self.db.execute(
            f"select id from {ARTICLES} where url = ?", [row["url"]]
        ).fetchone()
        if self.db.execute(
            f"select 1 from {VERSIONS} where article_id = ? and version_hash = ?",
            [article_id, digest],
        ).fetchone():
            return
        fields = ", ".join(f"[{f}]" for f in VERSIONED_FIELDS)
        self.db.execute(
            f"insert into {VERSIONS} (article_id, version, fetched_at, run_id, {fields}, "
            f"version_hash) values (?, (select coalesce(max(version), 0) + 1 from {VERSIONS} "
            f"where article_id = ?), ?, null, {', '.join('?' * len(values))}, ?)",
            [article_id, article_id, fetched_at, *values, digest],
        )

    def _keep_version(self, row: dict) -> None:
        """Before an article is overwritten: when a field a reader sees changed (title,
        standfirst, body, section, authors, tags, modified date), its stored version goes to
        article_versions, numbered from 1 (the first version archived)."""
        fields = ", ".join(f"[{f}]" for f in VERSIONED_FIELDS)
        old = self.db.execute(
            f"select id, last_changed, run_id, {fields} from {ARTICLES} where url = ?", [row["url"]]
        ).fetchone()
        if old is None:
            return
        article_id, fetched_at, old_run, *values = old
        if values == [_sql_value(row.get(f)) for f in VERSIONED_FIELDS]:
            return  # bookkeeping changed (provenance, word count): not a new version
        self.db.execute(
            f"insert into {VERSIONS} (article_id, version, fetched_at, run_id, {fields}, "
            f"version_hash) values (?, (select coalesce(max(version), 0) + 1 from {VERSIONS} "
            f"where article_id = ?), ?, ?, {', '.join('?' * len(values))}, ?)",
            [
                article_id,
                article_id,
                fetched_at,
                old_run,
                *values,
                content_hash(dict(zip(VERSIONED_FIELDS, values, strict=False))),
            ],
        )

    def _upsert(self, row: dict) -> None:
        """One prepared INSERT ... ON CONFLICT per article (sqlite-utils' upsert inspects the
        table on every call); lists and dicts as JSON text, as sqlite-utils stores them."""
        names = sorted(row)
        self.db.execute(self._upsert_sql(names), [_sql_value(row[n]) for n in names])

    def _upsert_sql(self, names: list[str]) -> str:
        key = tuple(names)
        sql = self._upserts.get(key)
        if sql is None:
            columns = ", ".join(f"[{n}]" for n in names)
            updates = ", ".join(f"[{n}] = excluded.[{n}]" for n in names if n != "url")
            sql = (
                f"insert into [{ARTICLES}] ({columns}) values ({', '.join('?' * len(names))}) "
                f"on conflict([url]) do update set {updates}"
            )
            self._upserts[key] = sql
        return sql

    def _moved(self, url: str, wp_id: int | None) -> str | None:
        """The URL the same WordPress post is stored under, when it is not url (a new slug
        or section: WordPress redirects the old URL to the new one)."""
        if wp_id is None:
            return None
        known = self.url_for_wp_id(wp_id)
        if known is None or known == url or self._get(url) is not None:
            return None
        return known

    def stored_version(
        self, url: str | None = None, wp_id: int | None = None
    ) -> tuple[str, str | None, str | None, bool] | None:
        """(url, modified, published, page_only) of the stored article with this URL (or an
        old URL of it) or WordPress post id, or None. page_only: it was read without its page
        (blocked), from REST or the feed, and waits for a run that reaches the page."""
        columns = (
            "url, modified, published, json_extract(provenance, '$.page') is not null as page_only"
        )
        rows = []
        if wp_id is not None:
            rows = self.db.execute(
                f"select {columns} from {ARTICLES} where wp_id = ? limit 1", [wp_id]
            ).fetchall()
        if not rows and url is not None:
            rows = self.db.execute(
                f"select {columns} from {ARTICLES} where url = ? or url = "
                f"(select article_url from {ALIASES} where url = ?) limit 1",
                [url, url],
            ).fetchall()
        return tuple(rows[0]) if rows else None

    def last_good_run_started(self) -> str | None:
        """When the last run that finished with status 0 or 1 started (UTC ISO)."""
        rows = self.db.execute(
            f"select started_at from {RUNS} where status = 'finished' and exit_status in (0, 1) "
            "order by id desc limit 1"
        ).fetchall()
        return rows[0][0] if rows else None

    def _get(self, url: str) -> dict | None:
        rows = self.db.execute(
            f"select first_seen, content_hash from {ARTICLES} where url = ?", [url]
        ).fetchall()
        return {"first_seen": rows[0][0], "content_hash": rows[0][1]} if rows else None

    def url_for_wp_id(self, wp_id: int) -> str | None:
        rows = self.db.execute(
            f"select url from {ARTICLES} where wp_id = ? limit 1", [wp_id]
        ).fetchall()
        return rows[0][0] if rows else None

    # retries by later runs ------------------------------------------------------------
    def schedule_retry(
        self, url: str, reason: str, final: bool, first_delay_hours: float, give_up_after: int
    ) -> None:
        """A page that failed: later runs try it again, waiting first_delay_hours, then twice
        as long each time (at most a week), until it succeeds or give_up_after attempts; a
        final failure (404, 410) is given up at once. The reason says why."""
        from datetime import timedelta

        rows = self.db.execute(
            f"select attempts, first_failed from {RETRIES} where url = ?", [url]
        ).fetchall()
        attempts = (rows[0][0] if rows else 0) + 1
        now = datetime.now(timezone.utc).replace(microsecond=0)
        delay = timedelta(hours=min(24 * 7, first_delay_hours * 2 ** (attempts - 1)))
        given_up = final or attempts >= give_up_after
        if given_up:
            reason = f"given up after {attempts} attempt{'s' if attempts > 1 else ''}: {reason}"
        self.db.execute(
            f"insert or replace into {RETRIES} (url, attempts, first_failed, last_failed, "
            "next_try, reason, given_up) values (?, ?, ?, ?, ?, ?, ?)",
            [
                url,
                attempts,
                rows[0][1] if rows else now.isoformat(),
                now.isoformat(),
                None if given_up else (now + delay).isoformat(),
                reason,
                int(given_up),
            ],
        )

    def clear_retry(self, url: str) -> None:
        # a read first: a write transaction for every stored article would cost more
        if self.db.execute(f"select 1 from {RETRIES} where url = ?", [url]).fetchone():
            self.db.execute(f"delete from {RETRIES} where url = ?", [url])

    def due_retries(self, limit: int) -> list[str]:
        """Failed pages whose next try has come, the longest waiting first."""
        return [
            url
            for (url,) in self.db.execute(
                f"select url from {RETRIES} where given_up = 0 and next_try <= ? "
                "order by next_try limit ?",
                [utc_now(), limit],
            )
        ]

    # failures -------------------------------------------------------------------------
    def record_failure(
        self, url: str, reason: str, status: int | None = None, run_id: int | None = None
    ) -> None:
        self.db[FAILURES].insert(
            {"run_id": run_id, "url": url, "reason": reason, "status": status, "at": utc_now()}
        )
