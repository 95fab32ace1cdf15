"""Ranked full-text search over the archive (SQLite FTS5, case- and accent-insensitive)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from archive.db import ArchiveError, connect_reader, sqlite_message
from archive.filters import Slice
from archive.query import SearchError, fts_query
from archive.schema import ARTICLES

__all__ = ["SearchError", "search"]

SNIPPET_TOKENS = 16
# bm25 column weights, in FTS column order: title, subtitle, body
WEIGHTS = (10.0, 4.0, 1.0)


# A search that takes longer than this is stopped with a message: a query the bounds of
# archive.query let through may still be slow on a large archive.
TIME_LIMIT_SECONDS = 10.0
MAX_LIMIT = 10_000


def search(
    db_path: str | Path,
    query: str,
    where: Slice | None = None,
    limit: int = 20,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> list[dict]:
    """Articles matching query, best first, each with a snippet marking the hits in [brackets].

    The query language is archive.query's; a query that is not valid raises SearchError with
    what to change. A file that is not a readable archive raises archive.db.ArchiveError.
    """
    expression = fts_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"--limit must be between 1 and {MAX_LIMIT}")
    clauses, params = (where or Slice()).where("a")
    sql = f"""
        select a.url, a.title, a.section, a.published_date, a.authors,
               snippet({ARTICLES}_fts, -1, '[', ']', '…', {SNIPPET_TOKENS}) as snippet,
               bm25({ARTICLES}_fts, {", ".join(map(str, WEIGHTS))}) as rank
        from {ARTICLES}_fts join {ARTICLES} a on a.rowid = {ARTICLES}_fts.rowid
        where {ARTICLES}_fts match ? {"".join(" and " + c for c in clauses)}
        order by rank limit ?
    """
    conn = connect_reader(db_path)
    timer = threading.Timer(time_limit, conn.interrupt)
    timer.start()
    try:
        rows = conn.execute(sql, [expression, *params, limit]).fetchall()
    except sqlite3.OperationalError as err:
        if "interrupted" in str(err):
            raise SearchError(f"the search took longer than {time_limit:g} s and was stopped: "
                              "use rarer words, fewer prefixes or a section or date filter"
                              ) from None
        if "fts5" in str(err) or "syntax" in str(err):
            raise SearchError(f"the archive cannot run this query: {err}") from None
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
            "published_date": day,
            "authors": json.loads(authors) if authors else [],
            "snippet": snippet,
            "rank": round(rank, 4),
        }
        for url, title, section, day, authors, snippet, rank in rows
    ]
