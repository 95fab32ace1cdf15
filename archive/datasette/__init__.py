"""Datasette as the archivist's front door: metadata built from the archive schema."""

from __future__ import annotations

import sys
from pathlib import Path

from archive.db import reader_uri
from archive.schema import ARTICLES, FAILURES, RUNS, column_descriptions

SITE_URL = "https://www.elciudadano.com/"


def metadata(db_name: str) -> dict:
    """Datasette metadata: titles, column help, facets on section, year and author, search."""
    return {
        "title": "Archivo de El Ciudadano",
        "description": (
            "Articles of the Chilean news site El Ciudadano, crawled and normalised by "
            "ciudadano-archive. Search ignores case and accents: politica finds Política."
        ),
        "source": "El Ciudadano",
        "source_url": SITE_URL,
        "databases": {
            db_name: {
                "tables": {
                    ARTICLES: {
                        "description": "One row per article, keyed by its canonical URL.",
                        "label_column": "title",
                        "sort_desc": "published",
                        "facets": ["section", "year", {"array": "authors"}],
                        "fts_table": f"{ARTICLES}_fts",
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
                }
            }
        },
    }


def serve(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1") -> int:
    """Run Datasette on the archive in this process until stopped; returns the exit status.

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
        settings={"facet_time_limit_ms": 1000, "sql_time_limit_ms": 1000},
    )
    asyncio.run(ds.invoke_startup())
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    print(f"Datasette on http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr, flush=True)
    server.run()
    return 0 if server.started else 1
