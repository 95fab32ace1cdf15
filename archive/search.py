"""Ranked full-text search over the archive (SQLite FTS5, case- and accent-insensitive)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from archive.filters import FilterError, Slice
from archive.schema import ARTICLES

SNIPPET_TOKENS = 16
# bm25 column weights, in FTS column order: title, subtitle, body
WEIGHTS = (10.0, 4.0, 1.0)


class SearchError(FilterError):
    """A search the archive cannot run; the message is meant for the user."""


def quote_terms(query: str) -> str:
    """The words of a query that is not valid FTS5 syntax, each as a phrase that must occur:
    stray quotes, brackets and dangling operators are dropped."""
    words = [w for w in re.findall(r"\w+\*?", query) if w not in ("AND", "OR", "NOT", "NEAR")]
    return " ".join('"' + w.rstrip("*") + '"' + ("*" if w.endswith("*") else "") for w in words)


def search(
    db_path: str | Path,
    query: str,
    where: Slice | None = None,
    limit: int = 20,
) -> list[dict]:
    """Articles matching query, best first, each with a snippet marking the hits in [brackets].

    The query uses SQLite FTS5 syntax (AND, OR, NOT, "phrases", prefix*); text that is not
    valid syntax is searched as plain words instead of failing.
    """
    if not query.strip():
        raise SearchError("the search query is empty")
    if limit < 1:
        raise SearchError("--limit must be at least 1")
    path = Path(db_path)
    if not path.exists():
        raise SearchError(f"no archive at {path}: run `ciudadano crawl` first")
    clauses, params = (where or Slice()).where("a")
    sql = f"""
        select a.url, a.title, a.section, a.published_date, a.authors,
               snippet({ARTICLES}_fts, -1, '[', ']', '…', {SNIPPET_TOKENS}) as snippet,
               bm25({ARTICLES}_fts, {", ".join(map(str, WEIGHTS))}) as rank
        from {ARTICLES}_fts join {ARTICLES} a on a.rowid = {ARTICLES}_fts.rowid
        where {ARTICLES}_fts match ? {"".join(" and " + c for c in clauses)}
        order by rank limit ?
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            rows = conn.execute(sql, [query, *params, limit]).fetchall()
        except sqlite3.OperationalError:  # not valid FTS5 syntax: search the words as written
            words = quote_terms(query)
            if not words:
                raise SearchError(f"nothing to search for in {query!r}") from None
            rows = conn.execute(sql, [words, *params, limit]).fetchall()
    except sqlite3.OperationalError as err:
        raise SearchError(f"cannot search {path}: {err}") from err
    finally:
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
