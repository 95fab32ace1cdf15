"""Datasette as the archivist's front door: metadata built from the archive schema."""

from __future__ import annotations

import sys
from pathlib import Path

from archive.datasette.plugin import DIFF_FUNCTION, SEARCH_FUNCTION
from archive.db import reader_uri
from archive.schema import (
    ARTICLES,
    AUTHORS,
    FAILURES,
    MEDIA,
    RETRIES,
    RUNS,
    VERSIONED_FIELDS,
    VERSIONS,
    column_descriptions,
)

SITE_URL = "https://www.elciudadano.com/"


def metadata(db_name: str) -> dict:
    """Datasette metadata: titles, column help, facets on section, year and author, search."""
    return {
        "title": "Archivo de El Ciudadano",
        "description_html": front_page(db_name),
        "source": "El Ciudadano",
        "source_url": SITE_URL,
        "databases": {
            db_name: {
                "tables": {
                    ARTICLES: {
                        "description": (
                            "One row per article. Search it ranked, in any word "
                            f"form, at /{db_name}/search?q=..."
                        ),
                        "label_column": "title",
                        "sort_desc": "published_utc",
                        # both indexed: counted from the index, not from 305,000 rows
                        "facets": ["section", "year"],
                        "size": 50,
                        "columns": column_descriptions(),
                    },
                    FAILURES: {
                        "description": "Pages that could not be archived, with the reason.",
                        "sort_desc": "at",
                        "facets": ["reason", "status"],
                    },
                    RUNS: {"description": "Every crawl run and its counts.", "sort_desc": "id"},
                    f"{ARTICLES}_fts": {"hidden": True},
                    # the kept images' bytes, up to 8 MB a row: served one by one by the
                    # plugin's media route, never a page of them
                    MEDIA: {"hidden": True, "allow": False},
                    AUTHORS: {"description": "Each article's credited authors, one per row."},
                    VERSIONS: {
                        "description": "Earlier versions of articles that changed: "
                        "see the canned queries article_versions and version_diff."
                    },
                },
                "queries": canned_queries(),
            }
        },
    }


def front_page(db: str) -> str:
    """The archive's description where Datasette shows it: where to search, in Spanish (the
    home page itself is the plugin's index.html)."""
    return (
        "<p>Los artículos del medio chileno El Ciudadano, archivados y normalizados por "
        f'ciudadano-archive. <a href="/-/buscar/{db}">Buscar en el archivo</a> · '
        f'<a href="/-/cobertura/{db}">Cobertura</a></p>'
    )


def _all_versions() -> str:
    """A CTE v: the versions of article :id, the current one (in articles) last."""
    fields = ", ".join(f"[{f}]" for f in VERSIONED_FIELDS)
    return (
        f"with v as (\n  select version, fetched_at, {fields}, version_hash\n"
        f"  from {VERSIONS} where article_id = :id\n  union all\n"
        f"  select (select coalesce(max(version), 0) + 1 from {VERSIONS} "
        f"where article_id = :id),\n    last_changed, {fields}, content_hash\n"
        f"  from {ARTICLES} where id = :id\n)"
    )


def canned_queries() -> dict:
    """The archivist's questions, as Datasette canned queries (/DB/NAME). Parameters left
    empty are not applied."""
    dates = (
        "(:since = '' or published_date >= :since) and "
        "(:until = '' or published_date <= :until || '~')"
    )
    return {
        "search": {
            "title": "Search the archive",
            "hide_sql": True,
            "description": (
                "Ranked full-text search, the same as `ciudadano search`: case, accents and "
                'word forms ignored (elecciones finds elección); "a phrase", prefix* (2+ '
                "letters), a OR b, a NOT b, title:word. Optional: section (name or slug), "
                "since and until (YYYY, YYYY-MM or YYYY-MM-DD), sort (relevance or date)."
            ),
            "sql": (
                f"select a.id, a.title, a.published, a.section, a.authors,\n"
                f"  json_extract(hit.value, '$.snippet') as snippet,\n"
                f"  json_extract(hit.value, '$.rank') as rank, a.url\n"
                f"from json_each({SEARCH_FUNCTION}(:q, :section, :since, :until, :sort)) hit\n"
                f"join {ARTICLES} a on a.id = json_extract(hit.value, '$.id')\n"
                f"order by hit.key"
            ),
        },
        "articles_per_day": {
            "title": "Articles per day",
            "sql": (
                f"select published_date as day, count(*) as articles from {ARTICLES}\n"
                f"where {dates}\ngroup by day order by day desc"
            ),
        },
        "articles_per_month": {
            "title": "Articles per month",
            "sql": (
                f"select substr(published_date, 1, 7) as month, count(*) as articles\n"
                f"from {ARTICLES} where {dates}\ngroup by month order by month desc"
            ),
        },
        "articles_per_section": {
            "title": "Articles per section",
            "sql": (
                f"select section, count(*) as articles, min(published_date) as first,\n"
                f"  max(published_date) as last from {ARTICLES} where {dates}\n"
                "group by section order by articles desc"
            ),
        },
        "articles_per_author": {
            "title": "Articles per author",
            "sql": (
                f"select au.author, count(*) as articles, min(a.published_date) as first,\n"
                f"  max(a.published_date) as last from {AUTHORS} au\n"
                f"join {ARTICLES} a on a.id = au.article_id where {dates}\n"
                "group by au.author order by articles desc limit 500"
            ),
        },
        "article_versions": {
            "title": "An article's versions",
            "description": (
                "Every version of the article with this id, oldest first; the "
                "last is the one in articles. Compare two with version_diff."
            ),
            "sql": (
                f"{_all_versions()}\nselect version, fetched_at, title, modified, "
                "length(body) as body_characters, version_hash from v order by version"
            ),
        },
        "version_diff": {
            "title": "What changed between two versions of an article",
            "description": (
                "Word by word: [-removed-] {+added+}. from: a version number "
                "(empty: the one before to); to: a version number (empty: the "
                "newest)."
            ),
            "sql": (
                f"{_all_versions()},\n"
                "b as (select * from v where version = coalesce(nullif(:to, ''),\n"
                "  (select max(version) from v))),\n"
                "a as (select * from v where version = coalesce(nullif(:from, ''),\n"
                "  (select version from b) - 1))\n"
                + "\nunion all\n".join(
                    f"select '{f}' as field, a.version as from_version, b.version as "
                    f"to_version,\n  {DIFF_FUNCTION}(a.[{f}], b.[{f}]) as diff from a, b"
                    for f in VERSIONED_FIELDS
                )
            ),
        },
        "latest_runs": {
            "title": "Latest crawl runs",
            "sql": (
                f"select id, started_at, finished_at, status, exit_status, articles_new,\n"
                f"  articles_changed, articles_unchanged, failures from {RUNS}\n"
                "order by id desc limit 50"
            ),
        },
        "open_failures": {
            "title": "Pages waiting to be tried again, or given up",
            "sql": (
                f"select url, attempts, first_failed, last_failed, next_try, reason,\n"
                f"  given_up from {RETRIES} order by given_up, next_try"
            ),
        },
    }


def serve(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1", sock=None) -> int:
    """Run Datasette on the archive in this process until stopped; returns the exit status.
    sock: a socket already listening (the CLI binds it first, to refuse a busy port in one
    line before saying anything started); then host and port are its own.

    In this process, not a child: stopping `ciudadano serve` (Ctrl-C, SIGTERM) stops the
    server, and nothing is left running. The archive is opened read-only, as immutable on
    read-only media. Raises archive.db.ArchiveError when it is not a readable archive.
    """
    import asyncio

    import uvicorn
    from datasette.app import Datasette
    from datasette.plugins import pm

    from archive.datasette import plugin

    path = Path(db_path).resolve()
    immutable = reader_uri(path).endswith("immutable=1")
    if not pm.is_registered(plugin):
        pm.register(plugin, name="ciudadano-archive")
    ds = Datasette(
        files=[] if immutable else [str(path)],
        immutables=[str(path)] if immutable else [],
        metadata=metadata(path.stem),
        # suggested facets would try every column over every row
        settings={
            "facet_time_limit_ms": 1000,
            "sql_time_limit_ms": 3000,
            "suggest_facets": False,
            "truncate_cells_html": 200,
            "default_facet_size": 8,
        },
    )
    asyncio.run(ds.invoke_startup())
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    if sock is not None:
        host, port = sock.getsockname()[:2]
    print(f"Datasette on http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr, flush=True)
    server.run(sockets=[sock] if sock is not None else None)
    return 0 if server.started else 1
