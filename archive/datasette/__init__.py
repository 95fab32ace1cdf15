"""Datasette as the archivist's front door: metadata built from the archive schema."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

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
    """Run Datasette on the archive until interrupted; returns its exit status."""
    path = Path(db_path)
    with tempfile.TemporaryDirectory(prefix="ciudadano-datasette-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(metadata(path.stem), ensure_ascii=False, indent=2))
        command = [
            sys.executable, "-m", "datasette", "serve", str(path),
            "--metadata", str(meta), "--host", host, "--port", str(port),
            "--setting", "facet_time_limit_ms", "1000",
        ]
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 0
