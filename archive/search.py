"""Ranked full-text search over the archive (SQLite FTS5: case- and accent-insensitive, Spanish
stems for words, the text as written for phrases and prefixes).

Ranking is FTS5's bm25 with the title weighing most, then the standfirst, then the body; ties
go to the newest article. bm25 gives a word found in more than half of the articles an inverse
document frequency of zero (FTS5 floors it at 1e-6), so for a query that matches most of the
archive ("de", "ca*") relevance cannot tell the matches apart: they are shown newest first,
which the index gives without scoring every match: its keys are in publication order
(archive.schema.fts_key_sql), and so are dates and ties.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import weakref
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import apsw

from archive.db import ArchiveError, reader_uri, sqlite_message
from archive.filters import Slice
from archive.listings import withdrawn_ids
from archive.query import Query, SearchError, parse_query, snippet
from archive.schema import (
    ARTICLES,
    AUTHORS,
    FTS_ALL_COLUMNS,
    FTS_PREFIXES,
    FTS_SECTION,
    KEY_ID_BITS,
    KEY_ID_MASK,
    META,
    fts_key_sql,
    section_match,
    slugify,
)
from archive.stemming import fold

__all__ = ["SORTS", "SearchError", "authors_named", "ranked_ids", "search"]

# The index is read through APSW's own SQLite (a current release, built without the global
# memory statistics whose lock makes two threads of the system's SQLite slower than one): the
# two halves of the index are read on two cores at once. Its connections stay open for the
# process's life, a pair per search at a time, never closed while the file is the archive's:
# a file descriptor closed in a process drops every POSIX lock the process holds on that file
# (and on its -shm), those the other SQLite library (Datasette's) holds for its readers too.
_readers: dict[tuple[str, int, int], list[list[apsw.Connection]]] = {}
_readers_lock = threading.Lock()
_uris: dict[tuple[str, int, int], str] = {}


def _take_readers(db_path: str | Path) -> tuple[tuple[str, int, int], list[apsw.Connection]]:
    path = Path(db_path).resolve()
    try:
        stat = path.stat()
        key = (str(path), stat.st_dev, stat.st_ino)  # a replaced file is another archive
    except OSError:
        key = (str(path), 0, 0)
    with _readers_lock:
        if _readers.get(key):
            return key, _readers[key].pop()
        # the file at this path was replaced: the old one's connections go (closing them
        # drops no lock on the new file, another inode)
        stale = [k for k in _readers if k[0] == key[0] and k != key]
        gone = [conns for k in stale for conns in _readers.pop(k)]
        for k in stale:
            _uris.pop(k, None)
        uri = _uris.get(key)
    for conns in gone:
        for conn in conns:
            conn.close()
    if uri is None:
        # checked once per file and process (reader_uri opens the file, and a descriptor it
        # closes would drop the locks of connections reading it): ArchiveError for what is
        # not a readable archive
        uri = reader_uri(path)
        with _readers_lock:
            _uris[key] = uri
    flags = apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
    try:
        return key, [apsw.Connection(uri, flags=flags) for _ in range(2)]
    except apsw.Error as err:
        raise ArchiveError(_apsw_message(path, err)) from err


def _give_back(key: tuple[str, int, int], conns: list[apsw.Connection]) -> None:
    """The pair back to the idle ones, never closed (as many pairs as searches ever ran at
    once: Datasette's few SQL threads, one for the CLI)."""
    for conn in conns:
        conn.set_progress_handler(None)
    with _readers_lock:
        _readers.setdefault(key, []).append(conns)


def _apsw_message(path: str | Path, err: apsw.Error) -> str:
    return sqlite_message(path, sqlite3.DatabaseError(str(err).split(": ", 1)[-1]), "cannot search")


SNIPPET_WORDS = 16
# bm25 weights in the index's column order (title, subtitle, body, then their stems): a hit in
# the title counts most, then the standfirst, then the body.
WEIGHTS = {"title": 10.0, "subtitle": 4.0, "body": 1.0, FTS_SECTION: 0.0}
FTS = f"{ARTICLES}_fts"
RANK_SQL = (
    f"bm25({FTS}, " + ", ".join(str(WEIGHTS[c.removesuffix("_s")]) for c in FTS_ALL_COLUMNS) + ")"
)
SORTS = ("relevance", "date")
SANTIAGO = ZoneInfo("America/Santiago")

# A search that takes longer than this is stopped with a message: a query the bounds of
# archive.query let through may still be slow on a large archive.
TIME_LIMIT_SECONDS = 10.0
PROGRESS_STEPS = 10_000  # SQLite VM steps between two looks at the clock
MAX_LIMIT = 10_000


def _lead(text: str | None) -> str | None:
    words = (text or "").split()
    return " ".join(words[:SNIPPET_WORDS]) + ("…" if len(words) > SNIPPET_WORDS else "") or None


def _key_range(where: Slice) -> tuple[int, int]:
    """The index keys of articles published in where's dates (Santiago days)."""
    low, high = 0, 1 << 62
    if where.date_from:
        low = _epoch(where.date_from) << KEY_ID_BITS
    if where.date_to:
        high = _epoch(where.date_to, after=True) << KEY_ID_BITS
    return low, high


def _epoch(day: str, after: bool = False) -> int:
    """Seconds since 1970 at the start of a YYYY, YYYY-MM or YYYY-MM-DD in Santiago (after:
    at the end of it)."""
    parts = [int(p) for p in day.split("-")]
    start = date(parts[0], *(parts[1:] + [1, 1])[:2])
    if after:
        if len(parts) == 1:
            start = date(start.year + 1, 1, 1)
        elif len(parts) == 2:
            start = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        else:
            start = start + timedelta(days=1)
    return max(0, int(datetime(start.year, start.month, start.day, tzinfo=SANTIAGO).timestamp()))


def filtered_expression(conn: apsw.Connection, expression: str, where: Slice) -> str | None:
    """The expression restricted to where's section (its slug or its name), inside the index;
    None when no article has that section."""
    if not where.section:
        return expression
    slug = slugify(where.section)
    if conn.execute(f"select 1 from {ARTICLES} where section_slug = ? limit 1", [slug]).fetchone():
        slugs = {slug}
    else:  # a name whose slug on the site is another ("Pueblos" -> pueblos-originarios)
        slugs = {
            s
            for (s,) in conn.execute(
                f"select section_slug from {ARTICLES} where section = ? collate nocase "
                "group by section_slug",
                [where.section],
            )
            if s
        }
    if not slugs:
        return None
    tokens = " OR ".join(section_match(slug) for slug in sorted(slugs))
    return f"({expression}) AND {{{FTS_SECTION}}} : ({tokens})"


ALL_KEYS = (0, 1 << 62)


def _halves(conn: apsw.Connection, low: int, high: int) -> list[tuple[int, int]]:
    """The key range cut in two at the archive's median key (kept by its writers), newer half
    first, when the cut falls inside it; else the range whole."""
    try:
        row = conn.execute(f"select value from {META} where key = 'median_key'").fetchone()
    except apsw.SQLError:  # an archive without archive_meta
        row = None
    split = int(row[0]) if row and row[0] is not None else None
    if split is not None and low < split < high:
        return [(split, high), (low, split)]
    return [(low, high)]


def _at_once(conns: list[apsw.Connection], parts: list, run) -> list:
    """run(conn, part) for every part, each on its own connection, the first in this thread and
    the others in threads of their own (SQLite reads outside Python's lock: two halves of the
    index are read on two cores)."""
    results: list = [None] * len(parts)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = run(conns[i], parts[i])
        except BaseException as err:  # noqa: BLE001 (raised again in the caller's thread)
            errors.append(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, len(parts))]
    for thread in threads:
        thread.start()
    one(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _matches_most(conns: list[apsw.Connection], expression: str) -> bool:
    """Whether the expression matches more than half of the archive: counted in the sample
    windows the writers keep (archive.schema.sample_keys_sql) when there are some, else by
    reading no further than half the archive's matches.

    A prefix longer than the index's prefix indexes costs FTS5 a merge of every term it
    starts at each count, so it is not sampled but bounded: its first letters (a prefix the
    index holds) match at least as much, and when they match at most half, so does it."""
    row = conns[0].execute(f"select max(id) from {ARTICLES}").fetchone()
    half = (row[0] or 0) // 2
    if half < 1000:
        return False  # scoring a small archive whole is cheap
    windows = _sample_windows(conns[0])
    if windows:
        if not _LONG_PREFIX.search(expression):
            return _sampled_most(conns[0], expression, windows)
        if " NOT " not in expression and not _sampled_most(
            conns[0], _LONG_PREFIX.sub(_shorter_prefix, expression), windows
        ):
            return False
    halves = _halves(conns[0], *ALL_KEYS)
    parts = halves if len(halves) <= len(conns) else [ALL_KEYS]
    counts = _at_once(
        conns,
        parts,
        lambda conn, part: conn.execute(
            f"select count(*) from (select 1 from {FTS} where {FTS} match ? and rowid >= ? "
            "and rowid < ? limit ?)",
            [expression, *part, half + 1],
        ).fetchone()[0],
    )
    return sum(counts) > half


_INDEXED_PREFIX = max(int(n) for n in FTS_PREFIXES.split())
_LONG_PREFIX = re.compile(r'"([^"\s]{' + str(_INDEXED_PREFIX + 1) + r',})"\*')


def _shorter_prefix(match: re.Match) -> str:
    return f'"{match.group(1)[:_INDEXED_PREFIX]}"*'


def _sampled_most(
    conn: apsw.Connection, expression: str, windows: list[tuple[int, int, int]]
) -> bool:
    matched = sum(
        conn.execute(
            f"select count(*) from {FTS} where {FTS} match ? and rowid >= ? and rowid < ?",
            [expression, low, high],
        ).fetchone()[0]
        for low, high, _ in windows
    )
    return 2 * matched > sum(size for _, _, size in windows)


def _sample_windows(conn: apsw.Connection) -> list[tuple[int, int, int]]:
    try:
        row = conn.execute(f"select value from {META} where key = 'sample_keys'").fetchone()
        return [tuple(w) for w in json.loads(row[0])] if row and row[0] else []
    except (apsw.SQLError, ValueError, TypeError):
        return []  # an older archive: no sample yet


def ranked_ids(
    conns: list[apsw.Connection], expression: str, where: Slice, limit: int, sort: str = "relevance"
) -> list[tuple[int, float | None]]:
    """(article id, bm25 rank or None) of the best matches of an FTS5 expression in where, in
    order (rank None: newest first, by sort="date" or a query that matches most articles).

    Everything is done inside the index: the section is one of its columns and the dates a
    range of its keys, which are in publication order. With two connections, the two halves
    of the range are read at once and their best merged."""
    low, high = _key_range(where)
    match = filtered_expression(conns[0], expression, where)
    if match is None:
        return []
    halves = _halves(conns[0], low, high)
    parts = halves if len(halves) <= len(conns) else [(low, high)]
    if sort == "date" or _matches_most(conns, expression):
        # newest first, straight from the index's key order; no rank: bm25 would first count
        # every match of every term to weigh it
        found = _at_once(
            conns,
            parts,
            lambda conn, part: conn.execute(
                f"select rowid, null from {FTS} where {FTS} match ? and rowid >= ? and rowid < ? "
                "order by rowid desc limit ?",
                [match, *part, limit],
            ).fetchall(),
        )
        best = sorted((hit for half in found for hit in half), key=lambda h: -h[0])
    else:
        found = _at_once(
            conns,
            parts,
            lambda conn, part: conn.execute(
                f"select rowid, {RANK_SQL} from {FTS} where {FTS} match ? and rowid >= ? "
                "and rowid < ? order by 2, rowid desc limit ?",
                [match, *part, limit],
            ).fetchall(),
        )
        best = sorted((hit for half in found for hit in half), key=lambda h: (h[1], -h[0]))
    return [(key & KEY_ID_MASK, rank) for key, rank in best[:limit]]


def search(
    db_path: str | Path,
    query: str,
    where: Slice | None = None,
    limit: int = 20,
    time_limit: float = TIME_LIMIT_SECONDS,
    sort: str = "relevance",
    withdrawn: bool = False,
) -> list[dict]:
    """Articles matching query, best first (or newest first with sort="date"), each with a
    snippet marking the hits in [brackets]. where.author and the query's author: names keep
    the articles credited to an author whose name has those words (case and accents ignored).

    The query language is archive.query's; a query that is not valid raises SearchError with
    what to change, and so does a filter that names nothing in the archive (a section no
    article has, an author none is credited to). A file that is not a readable archive raises
    archive.db.ArchiveError.
    """
    where = where or Slice()
    # by an author alone, the query may be empty: their articles, newest first
    parsed = parse_query(query) if query.strip() or not where.author else Query(None)
    wanted = (where.author,) * bool(where.author) + parsed.authors
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"--limit must be between 1 and {MAX_LIMIT}")
    if sort not in SORTS:
        raise SearchError(f"--sort {sort!r}: use {' or '.join(SORTS)}")
    key, conns = _take_readers(db_path)
    conn = conns[0]
    deadline = time.monotonic() + time_limit
    for each in conns:  # every statement past the deadline stops (SQLite's progress handler)
        each.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    try:
        hidden = set() if withdrawn else withdrawn_ids(conn)  # archive.listings.withdraw
        where.check_section(conn, ARTICLES)
        if wanted:
            found = _by_authors(
                conns,
                parsed.expression,
                where,
                authors_named(conn, wanted),
                limit + len(hidden),
                sort,
            )
        else:
            found = ranked_ids(conns, parsed.expression, where, limit + len(hidden), sort)
        ranked = [hit for hit in found if hit[0] not in hidden][:limit]
        rows = (
            {
                row[0]: row
                for row in conn.execute(
                    f"select id, url, title, section, published, published_date, authors, subtitle, "
                    f"body from {ARTICLES} where id in ({', '.join('?' * len(ranked))})",
                    [i for i, _ in ranked],
                )
            }
            if ranked
            else {}
        )
    except apsw.InterruptError:
        raise SearchError(
            f"the search took longer than {time_limit:g} s and was stopped: "
            "use rarer words, fewer prefixes or a section or date filter"
        ) from None
    except apsw.Error as err:
        raise ArchiveError(_apsw_message(db_path, err)) from err
    finally:
        _give_back(key, conns)
    results = []
    for article_id, rank in ranked:
        _, url, title, section, published, day, authors, subtitle, body = rows[article_id]
        results.append(
            {
                "id": article_id,
                "url": url,
                "title": title,
                "section": section,
                "published": published,
                "published_date": day,
                "authors": json.loads(authors) if authors else [],
                "snippet": (
                    parsed.expression
                    and (
                        snippet(body, query, SNIPPET_WORDS)
                        or snippet(subtitle, query)
                        or snippet(title, query)
                    )
                    or _lead(body)
                ),
                "rank": None if rank is None else round(rank, 4),
            }
        )
    return results


# The archive's authors, folded, per archive and state of it (PRAGMA data_version changes when
# another connection commits): read once, a few thousand names, where every search by author
# looks for its words without an index of folded names.
# Keyed by the connection itself (weakly: a closed and collected connection takes its entry
# with it; an id() could be reused by the next connection, of another archive).
_author_lists: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The distinct names, one seek of the authors' index each (a few thousand), rather than a
# scan of its every row (one per article and author: 330,000 rows, 3 to 4 times slower).
_DISTINCT_AUTHORS = f"""with recursive names(author) as (
    select min(author) from {AUTHORS}
    union all
    select (select min(author) from {AUTHORS} where author > names.author) from names
    where names.author is not null)
select author from names where author is not null"""


def authors_named(conn: apsw.Connection, wanted: tuple[str, ...]) -> list[list[str]]:
    """For each wanted name, the credited authors whose name has all its words (case and
    accents ignored: muñoz finds Muñoz). SearchError for a name no author has."""
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    cached = _author_lists.get(conn)
    if cached is None or cached[0] != version:
        cached = (
            version,
            [(frozenset(fold(name).split()), name) for (name,) in conn.execute(_DISTINCT_AUTHORS)],
        )
        _author_lists[conn] = cached  # only the newest state of each connection is kept
    names = cached[1]
    found = []
    for text in wanted:
        words = set(fold(text).split())
        matching = [name for folded, name in names if words <= folded]
        if not matching:
            raise SearchError(
                f"author {text!r}: no article of the archive is credited to an author of that name"
            )
        found.append(matching)
    return found


def _by_authors(
    conns: list[apsw.Connection],
    expression: str | None,
    where: Slice,
    authors: list[list[str]],
    limit: int,
    sort: str,
) -> list[tuple[int, float | None]]:
    """(article id, rank or None) of the articles credited to one of each list of authors,
    matching expression (or all of them when None) in where: best first, or newest first."""
    conn = conns[0]
    keys = _author_keys(conn, authors, where)
    if not keys:
        return []
    if expression is None:
        return [(k & KEY_ID_MASK, None) for k in keys[:limit]]
    # The matches in the keys' range, in the order asked, read until limit of them are the
    # author's: FTS5 asked about each key instead (rowid IN ...) would weigh every term
    # anew for each, seconds for an author of a thousand articles.
    match = filtered_expression(conn, expression, where)
    wanted = set(keys)
    ranked = sort == "relevance" and not _matches_most(conns, expression)
    order = "order by 2, rowid desc" if ranked else "order by rowid desc"
    found = []
    for key, rank in conn.execute(
        f"select rowid, {RANK_SQL if ranked else 'null'} from {FTS} where {FTS} match ? "
        f"and rowid >= ? and rowid <= ? {order}",
        [match, keys[-1], keys[0]],
    ):
        if key in wanted:
            found.append((key & KEY_ID_MASK, rank))
            if len(found) == limit:
                break
    return found


def credited_sql(names: int) -> str:
    """The index keys of the articles credited to one of so many names (the authors' index
    finds them: tests/test_query_language.py reads its plan)."""
    return (
        f"select {fts_key_sql('a')} from {AUTHORS} au join {ARTICLES} a "
        f"on a.id = au.article_id where au.author in ({', '.join('?' * names)})"
    )


def _author_keys(conn: apsw.Connection, authors: list[list[str]], where: Slice) -> list[int]:
    """Index keys of the articles in where credited to one of each list of authors (author:a
    author:b: to both), newest first; by the index on article_authors."""
    keys = None
    for names in authors:
        found = {k for (k,) in conn.execute(credited_sql(len(names)), names)}
        keys = found if keys is None else keys & found
    low, high = _key_range(where)
    keys = sorted((k for k in keys if low <= k < high), reverse=True)
    clauses, params = where.where(ARTICLES)
    if keys and where.section:  # the dates are the keys' range already
        wanted = {
            i
            for (i,) in conn.execute(
                f"select id from {ARTICLES} where {' and '.join(clauses)} and id in "
                "(select value & ? from json_each(?))",
                [*params, KEY_ID_MASK, json.dumps(keys)],
            )
        }
        keys = [k for k in keys if k & KEY_ID_MASK in wanted]
    return keys
