"""A page of search results as the reading room shows it: the matching articles' count, facets
by section, year and author over the whole result, and one page of hits with their snippets.

The ranking and the query language are archive.search's and archive.query's; this adds an
author filter and bounded counts. Every count and facet is read off the full-text index's keys
of the matches, at most MAX_COUNTED of them (newest first): a result that large has its facets
counted over its newest MAX_COUNTED matches, and its total counted within COUNT_SECONDS or else
given as "more than MAX_COUNTED". The page says which (Page.exact, Page.facets_over).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import apsw

from archive.db import ArchiveError
from archive.filters import Slice
from archive.listings import withdrawn_ids
from archive.query import SearchError, parse_query, snippet
from archive.schema import ARTICLES, AUTHORS, KEY_ID_MASK, fts_key_sql
from archive.search import (
    FTS,
    PROGRESS_STEPS,
    RANK_SQL,
    SNIPPET_WORDS,
    SORTS,
    TIME_LIMIT_SECONDS,
    _apsw_message,
    _give_back,
    _key_range,
    _lead,
    _take_readers,
    filtered_expression,
    ranked_ids,
)
from archive.stemming import fold

PER_PAGE = 20
MAX_COUNTED = 1_000
COUNT_SECONDS = 0.12
FACET_SIZE = 10
MAX_RANKED_AMONG = 500  # an author's matches ranked by relevance; beyond, newest first
# Stand-ins for the text's own brackets while snippet() marks hits [like this].
_OPEN, _CLOSE = "\ue000", "\ue001"


@dataclass
class Page:
    total: int = 0
    exact: bool = True  # False: total is a lower bound ("more than")
    facets_over: int | None = None  # None: the whole result; else its newest N matches
    hits: list[dict] = field(default_factory=list)
    facets: dict[str, list[dict]] = field(default_factory=dict)
    page: int = 1
    per_page: int = PER_PAGE
    sorted_by: str | None = None  # "date" when relevance was asked but could not be afforded

    @property
    def pages(self) -> int:
        shown = min(self.total, MAX_COUNTED)
        return max(1, -(-shown // self.per_page))


def results(
    db_path: str | Path,
    query: str,
    where: Slice | None = None,
    author: str | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = PER_PAGE,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> Page:
    """One page of the articles matching query (archive.query's language) in where, by author
    when given; SearchError for a query or page that cannot be run."""
    parsed = parse_query(query)
    if sort not in SORTS:
        raise SearchError(f"sort {sort!r}: use {' or '.join(SORTS)}")
    if page < 1:
        raise SearchError(f"page {page}: pages are numbered from 1")
    if not 1 <= per_page <= 100 or (page - 1) * per_page >= MAX_COUNTED:
        raise SearchError(
            f"only the first {MAX_COUNTED:,} results can be paged through: narrow the search"
        )
    key, conns = _take_readers(db_path)
    deadline = time.monotonic() + time_limit
    for each in conns:
        each.set_progress_handler(_until(deadline), PROGRESS_STEPS)
    try:
        asked = (author, getattr(where, "author", None))
        names = list(parsed.authors) + [a.strip() for a in asked if a and a.strip()]
        return _page(
            conns, query, parsed.expression, where or Slice(), names, sort, page, per_page, deadline
        )
    except apsw.InterruptError:
        raise SearchError(
            f"the search took longer than {time_limit:g} s and was stopped: "
            "use rarer words or a section or date filter"
        ) from None
    except apsw.Error as err:
        raise ArchiveError(_apsw_message(db_path, err)) from err
    finally:
        _give_back(key, conns)


def _page(conns, query, expression, where, names, sort, page, per_page, deadline) -> Page:
    conn = conns[0]
    out = Page(page=page, per_page=per_page)
    match = filtered_expression(conn, expression, where) if expression else None
    if expression and match is None:
        return out  # no such section
    low, high = _key_range(where)
    hidden = withdrawn_ids(conn)
    among = _by_authors(conn, names, where)
    if among is not None and not among:
        return out
    if match is None:  # authors only: their articles, newest first
        keys = [k for k in among if k & KEY_ID_MASK not in hidden]
        out.total, sort = len(keys), "date"
        complete = len(keys) <= MAX_COUNTED
    else:
        keys = [
            k
            for k in _matching_keys(conn, match, low, high, among, MAX_COUNTED + 1 + len(hidden))
            if k & KEY_ID_MASK not in hidden
        ]
        complete = len(keys) <= MAX_COUNTED
        out.total = len(keys)
        if not complete:
            counted = _bounded_count(conn, match, low, high, among, deadline)
            out.exact = counted is not None
            out.total = counted - len(hidden) if counted is not None else MAX_COUNTED
    keys = keys[:MAX_COUNTED]
    if not complete:
        out.facets_over = MAX_COUNTED
    out.facets = _facets(conn, [k & KEY_ID_MASK for k in keys])
    offset = (page - 1) * per_page
    if among is not None and sort != "date" and len(keys) > MAX_RANKED_AMONG:
        sort = out.sorted_by = "date"  # bm25 of each of that many, one by one: too slow
    if sort == "date":
        ids = [k & KEY_ID_MASK for k in keys[offset : offset + per_page]]
    elif among is not None:
        ids = _ranked_among(conn, match, keys, offset, per_page)
    else:
        ranked = ranked_ids(conns, expression, where, offset + per_page + len(hidden), sort)
        ids = [i for i, _ in ranked if i not in hidden][offset : offset + per_page]
    out.hits = _hits(conn, ids, query)
    return out


def _until(deadline: float):
    return lambda: time.monotonic() > deadline


def _by_authors(conn, names: list[str], where: Slice) -> list[int] | None:
    """Index keys, newest first, of the articles in where credited, for each of names, to an
    author whose name has all its words (case and accents ignored: muñoz finds Daniela
    Muñoz); None without names."""
    if not names:
        return None
    ids: set[int] | None = None
    for name in names:
        words = set(fold(name).split())
        matching = [a for a in _authors(conn) if words <= set(fold(a).split())]
        found = {
            i
            for (i,) in conn.execute(
                f"select article_id from {AUTHORS} where author in (select value from json_each(?))",
                [json.dumps(matching)],
            )
        }
        ids = found if ids is None else ids & found
    clauses, params = where.where("a")
    return sorted(
        (
            k
            for (k,) in conn.execute(
                f"select {fts_key_sql('a')} from json_each(?) j cross join {ARTICLES} a "
                "on a.id = j.value" + "".join(f" and {c}" for c in clauses),
                [json.dumps(sorted(ids)), *params],
            )
        ),
        reverse=True,
    )


def _authors(conn) -> list[str]:
    """Every credited author's name (off the index on author)."""
    return [a for (a,) in conn.execute(f"select distinct author from {AUTHORS}")]


def _matching_keys(
    conn, match: str, low: int, high: int, among: list[int] | None, limit: int
) -> list[int]:
    """Keys of the matches, newest first, at most limit."""
    if among is None:
        sql = (
            f"select rowid from {FTS} where {FTS} match ? and rowid >= ? and rowid < ? "
            "order by rowid desc limit ?"
        )
        return [k for (k,) in conn.execute(sql, [match, low, high, limit])]
    sql = (
        f"select rowid from {FTS} where {FTS} match ? and rowid in "
        "(select value from json_each(?)) and rowid >= ? and rowid < ? "
        "order by rowid desc limit ?"
    )
    return [k for (k,) in conn.execute(sql, [match, json.dumps(among), low, high, limit])]


def _bounded_count(conn, match: str, low: int, high: int, among, deadline: float) -> int | None:
    """All the matches counted, or None when that takes longer than COUNT_SECONDS."""
    if among is not None:
        return None  # more than MAX_COUNTED of an author's: said so, not counted
    stop = time.monotonic() + COUNT_SECONDS
    conn.set_progress_handler(lambda: time.monotonic() > stop, PROGRESS_STEPS)
    try:
        return conn.execute(
            f"select count(*) from {FTS} where {FTS} match ? and rowid >= ? and rowid < ?",
            [match, low, high],
        ).fetchone()[0]
    except apsw.InterruptError:
        return None
    finally:  # the search's own deadline again
        conn.set_progress_handler(_until(deadline), PROGRESS_STEPS)


def _ranked_among(conn, match: str, keys: list[int], offset: int, per_page: int) -> list[int]:
    """The best by bm25 among keys, newest first on ties."""
    sql = (
        f"select rowid from {FTS} where {FTS} match ? and rowid in "
        f"(select value from json_each(?)) order by {RANK_SQL}, rowid desc limit ? offset ?"
    )
    return [
        k & KEY_ID_MASK for (k,) in conn.execute(sql, [match, json.dumps(keys), per_page, offset])
    ]


def _facets(conn, ids: list[int]) -> dict[str, list[dict]]:
    """Counts by section, year and author over the articles ids: one lookup of each article
    (its section and year) and one of its authors, by key."""
    listed = json.dumps(ids)
    sections: Counter = Counter()
    names: dict[str, str] = {}
    years: Counter = Counter()
    for name, slug, year in conn.execute(
        f"select a.section, a.section_slug, a.year from json_each(?) j "
        f"cross join {ARTICLES} a on a.id = j.value",
        [listed],
    ):
        sections[slug or ""] += 1
        names.setdefault(slug or "", name or "Sin sección")
        if year is not None:
            years[year] += 1
    authors = [
        {"label": name, "value": name, "count": n}
        for name, n in conn.execute(
            f"select au.author, count(*) from json_each(?) j cross join {AUTHORS} au "
            "on au.article_id = j.value group by au.author order by 2 desc, 1 limit ?",
            [listed, FACET_SIZE],
        )
    ]
    return {
        "section": [
            {"label": names[slug], "value": names[slug] if slug else "", "count": n}
            for slug, n in sorted(sections.items(), key=lambda i: (-i[1], names[i[0]]))
        ][:FACET_SIZE],
        "year": [
            {"label": str(year), "value": str(year), "count": years[year]}
            for year in sorted(years, reverse=True)
        ],
        "author": authors,
    }


def _hits(conn, ids: list[int], query: str) -> list[dict]:
    if not ids:
        return []
    rows = {
        row[0]: row
        for row in conn.execute(
            f"select id, url, title, section, section_slug, published, authors, subtitle, body "
            f"from {ARTICLES} where id in ({', '.join('?' * len(ids))})",
            ids,
        )
    }
    hits = []
    for article_id in ids:
        _, url, title, section, slug, published, authors, subtitle, body = rows[article_id]
        hits.append(
            {
                "id": article_id,
                "url": url,
                "title": title,
                "section": section,
                "section_slug": slug,
                "published": published,
                "authors": json.loads(authors) if authors else [],
                "snippet": (
                    marked_snippet(body, query)
                    or marked_snippet(subtitle, query)
                    or marked_snippet(title, query)
                    or [(_lead(body) or "", False)]
                ),
            }
        )
    return hits


def marked_snippet(text: str | None, query: str) -> list[tuple[str, bool]] | None:
    """archive.query.snippet's passage as (text, is a hit) pieces, for markup that is not
    brackets; the text's own brackets stay text."""
    if not text:
        return None
    found = snippet(text.replace("[", _OPEN).replace("]", _CLOSE), query, SNIPPET_WORDS)
    if found is None:
        return None
    pieces: list[tuple[str, bool]] = []
    for i, part in enumerate(found.replace("]", "[").split("[")):
        if part:
            pieces.append((part.replace(_OPEN, "[").replace(_CLOSE, "]"), i % 2 == 1))
    return pieces


_sections_seen: dict[str, tuple[tuple, list[dict]]] = {}


def _file_state(path: Path) -> tuple:
    """What changes when the archive is written: its file's and its WAL's size and time."""
    state = []
    for name in (path, Path(f"{path}-wal")):
        try:
            stat = name.stat()
            state += [stat.st_ino, stat.st_size, stat.st_mtime_ns]
        except OSError:
            state.append(None)
    return tuple(state)


def sections(db_path: str | Path) -> list[dict]:
    """Every section with its articles, most first (for the filter's list): counted off the
    index on section, again only once the archive was written."""
    path = Path(db_path).resolve()
    state = _file_state(path)
    seen = _sections_seen.get(str(path))
    if seen and seen[0] == state:
        return seen[1]
    key, conns = _take_readers(path)
    try:
        found = [
            {"label": name, "value": name, "count": n}
            for name, n in conns[0].execute(
                f"select section, count(*) from {ARTICLES} where section is not null "
                "group by section order by 2 desc, 1"
            )
        ]
    except apsw.Error as err:
        raise ArchiveError(_apsw_message(db_path, err)) from err
    finally:
        _give_back(key, conns)
    _sections_seen[str(path)] = (state, found)
    return found
