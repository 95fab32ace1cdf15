"""Ranked full-text search over the archive (SQLite FTS5: case- and accent-insensitive, Spanish
stems for words, the text as written for phrases and prefixes)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from archive.db import ArchiveError, connect_reader, sqlite_message
from archive.filters import Slice
from archive.query import SearchError, fts_query, snippet
from archive.schema import ARTICLES, FTS_COLUMNS, FTS_STEM_COLUMNS

__all__ = ["SearchError", "search", "RANK_SQL", "SORTS"]

SNIPPET_WORDS = 16
# bm25 weights in the index's column order (title, subtitle, body, then their stems): a hit in
# the title counts most, then the standfirst, then the body.
WEIGHTS = {"title": 10.0, "subtitle": 4.0, "body": 1.0}
RANK_SQL = (f"bm25({ARTICLES}_fts, "
            + ", ".join(str(WEIGHTS[c.removesuffix("_s")]) for c in FTS_COLUMNS + FTS_STEM_COLUMNS)
            + ")")
# relevance (ties: the newest first), or newest first
SORTS = {"relevance": "f.rank, a.published_utc desc", "date": "a.published_utc desc"}

# A search that takes longer than this is stopped with a message: a query the bounds of
# archive.query let through may still be slow on a large archive.
TIME_LIMIT_SECONDS = 10.0
MAX_LIMIT = 10_000


def _lead(text: str | None) -> str | None:
    words = (text or "").split()
    return " ".join(words[:SNIPPET_WORDS]) + ("…" if len(words) > SNIPPET_WORDS else "") or None


def search_sql(clauses: list[str], sort: str) -> str:
    """The ranked search, with the parameters (match expression, *clause params, limit)."""
    return f"""
        select a.url, a.title, a.section, a.published, a.published_date, a.authors,
               a.subtitle, a.body, f.rank
        from (select rowid, {RANK_SQL} as rank from {ARTICLES}_fts
              where {ARTICLES}_fts match ?) f
        join {ARTICLES} a on a.id = f.rowid
        {"where " + " and ".join(clauses) if clauses else ""}
        order by {SORTS[sort]} limit ?
    """


def search(
    db_path: str | Path,
    query: str,
    where: Slice | None = None,
    limit: int = 20,
    time_limit: float = TIME_LIMIT_SECONDS,
    sort: str = "relevance",
) -> list[dict]:
    """Articles matching query, best first (or newest first with sort="date"), each with a
    snippet marking the hits in [brackets].

    The query language is archive.query's; a query that is not valid raises SearchError with
    what to change. A file that is not a readable archive raises archive.db.ArchiveError.
    """
    expression = fts_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"--limit must be between 1 and {MAX_LIMIT}")
    if sort not in SORTS:
        raise SearchError(f"--sort {sort!r}: use {' or '.join(SORTS)}")
    clauses, params = (where or Slice()).where("a")
    conn = connect_reader(db_path)
    timer = threading.Timer(time_limit, conn.interrupt)
    timer.start()
    try:
        rows = conn.execute(search_sql(clauses, sort), [expression, *params, limit]).fetchall()
    except sqlite3.OperationalError as err:
        if "interrupted" in str(err):
            raise SearchError(f"the search took longer than {time_limit:g} s and was stopped: "
                              "use rarer words, fewer prefixes or a section or date filter"
                              ) from None
        raise ArchiveError(sqlite_message(db_path, err, "cannot search")) from err
    except sqlite3.DatabaseError as err:
        raise ArchiveError(sqlite_message(db_path, err, "cannot search")) from err
    finally:
        timer.cancel()
        conn.close()
    return [
        {
            "url": url,
            "title": title,
            "section": section,
            "published": published,
            "published_date": day,
            "authors": json.loads(authors) if authors else [],
            "snippet": (snippet(body, query, SNIPPET_WORDS) or snippet(subtitle, query)
                        or snippet(title, query) or _lead(body)),
            "rank": round(rank, 4),
        }
        for url, title, section, published, day, authors, subtitle, body, rank in rows
    ]
