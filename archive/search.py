"""Ranked full-text search over the archive (SQLite FTS5: case- and accent-insensitive, Spanish
stems for words, the text as written for phrases and prefixes).

Ranking is FTS5's bm25 with the title weighing most, then the standfirst, then the body; ties
go to the newest article. bm25 gives a word found in more than half of the articles an inverse
document frequency of zero (FTS5 floors it at 1e-6), so for a query that matches most of the
archive ("de", "ca*") relevance cannot tell the matches apart: they are shown newest first,
found by walking the archive from its newest article instead of scoring every match.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from archive.db import ArchiveError, connect_reader, sqlite_message
from archive.filters import Slice
from archive.query import SearchError, fts_query, snippet
from archive.schema import ARTICLES, FTS_COLUMNS, FTS_STEM_COLUMNS

__all__ = ["SearchError", "search", "ranked_ids", "SORTS"]

SNIPPET_WORDS = 16
# bm25 weights in the index's column order (title, subtitle, body, then their stems): a hit in
# the title counts most, then the standfirst, then the body.
WEIGHTS = {"title": 10.0, "subtitle": 4.0, "body": 1.0}
FTS = f"{ARTICLES}_fts"
RANK_SQL = (f"bm25({FTS}, "
            + ", ".join(str(WEIGHTS[c.removesuffix("_s")]) for c in FTS_COLUMNS + FTS_STEM_COLUMNS)
            + ")")
SORTS = ("relevance", "date")
# Ties in rank at the end of a page are broken by date among this many more matches.
TIE_SLACK = 50

# A search that takes longer than this is stopped with a message: a query the bounds of
# archive.query let through may still be slow on a large archive.
TIME_LIMIT_SECONDS = 10.0
MAX_LIMIT = 10_000


def _lead(text: str | None) -> str | None:
    words = (text or "").split()
    return " ".join(words[:SNIPPET_WORDS]) + ("…" if len(words) > SNIPPET_WORDS else "") or None


def _matches_most(conn: sqlite3.Connection, expression: str) -> bool:
    """Whether the expression matches more than half of the archive (read no further than
    that many matches)."""
    row = conn.execute(f"select max(id) from {ARTICLES}").fetchone()
    half = (row[0] or 0) // 2
    if half < 1000:
        return False  # scoring a small archive whole is cheap
    seen = conn.execute(f"select count(*) from (select 1 from {FTS} where {FTS} match ? "
                        "limit ?)", [expression, half + 1]).fetchone()[0]
    return seen > half


def ranked_ids(conn: sqlite3.Connection, expression: str, where: Slice, limit: int,
               sort: str = "relevance") -> list[tuple[int, float]]:
    """(article id, bm25 rank) of the best matches of an FTS5 expression, in order."""
    clauses, params = where.where("a")
    filters = "".join(f" and {c}" for c in clauses)
    if _matches_most(conn, expression):
        return _newest_matching(conn, expression, filters, params, limit)
    if sort == "date":
        return conn.execute(
            f"select a.id, {RANK_SQL} from {FTS} join {ARTICLES} a on a.id = {FTS}.rowid "
            f"where {FTS} match ? {filters} order by a.published_utc desc limit ?",
            [expression, *params, limit]).fetchall()
    if not clauses:
        # rank inside the index alone, then break ties by date among a few more; when the
        # ties go on past those few (identical articles), rank them all with their dates below
        best = conn.execute(
            f"select rowid, {RANK_SQL} as rank from {FTS} where {FTS} match ? "
            f"order by rank limit ?", [expression, limit + TIE_SLACK]).fetchall()
        if len(best) < limit + TIE_SLACK or best[min(limit, len(best)) - 1][1] < best[-1][1]:
            if not best:
                return []
            dates = dict(conn.execute(
                f"select id, published_utc from {ARTICLES} where id in "
                f"({', '.join('?' * len(best))})", [i for i, _ in best]).fetchall())
            best.sort(key=lambda hit: dates.get(hit[0]) or "", reverse=True)  # newest first,
            best.sort(key=lambda hit: hit[1])  # then by rank: a stable sort keeps ties so
            return best[:limit]
    return conn.execute(
        f"select f.rowid, f.rank from (select rowid, {RANK_SQL} as rank from {FTS} "
        f"where {FTS} match ?) f join {ARTICLES} a on a.id = f.rowid where 1 {filters} "
        "order by f.rank, a.published_utc desc limit ?",
        [expression, *params, limit]).fetchall()


def _newest_matching(conn, expression: str, filters: str, params: list, limit: int):
    """The newest articles the expression matches, for an expression that matches most of
    them: walk the archive newest first and check each article against the index."""
    check = f"select {RANK_SQL} from {FTS} where {FTS} match ? and rowid = ?"
    found = []
    newest = conn.execute(f"select a.id from {ARTICLES} a where 1 {filters} "
                          "order by a.published_utc desc", params)
    for (article_id,) in newest:
        rank = conn.execute(check, [expression, article_id]).fetchone()
        if rank is not None:
            found.append((article_id, rank[0]))
            if len(found) == limit:
                break
    newest.close()
    return found


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
    conn = connect_reader(db_path)
    timer = threading.Timer(time_limit, conn.interrupt)
    timer.start()
    try:
        ranked = ranked_ids(conn, expression, where or Slice(), limit, sort)
        rows = {row[0]: row for row in conn.execute(
            f"select id, url, title, section, published, published_date, authors, subtitle, "
            f"body from {ARTICLES} where id in ({', '.join('?' * len(ranked))})",
            [i for i, _ in ranked])} if ranked else {}
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
    results = []
    for article_id, rank in ranked:
        _, url, title, section, published, day, authors, subtitle, body = rows[article_id]
        results.append({
            "id": article_id,
            "url": url,
            "title": title,
            "section": section,
            "published": published,
            "published_date": day,
            "authors": json.loads(authors) if authors else [],
            "snippet": (snippet(body, query, SNIPPET_WORDS) or snippet(subtitle, query)
                        or snippet(title, query) or _lead(body)),
            "rank": round(rank, 4),
        })
    return results
