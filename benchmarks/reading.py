"""The reading room at the site's size (issue 19), over HTTP against a real `ciudadano serve`:
- the results page (/-/buscar/DB) with its count and facets, for the archive benchmark's 20
  queries (common words included), newest-first and by relevance;
- the article page (/-/article/DB/ID) of 50 articles spread over the archive;
- the diff of two versions (/-/cambios/DB/ID): 20 articles of the archive with one paragraph
  edited, and a hostile pair (two 12,000-word bodies of the same few words), served from a
  small archive of their own (the page reads an article and its versions by key: its cost is
  the texts', not the archive's size; the cached archive is never written);
- the coverage page (/-/cobertura/DB), whole and for one section.
Each URL is asked once to warm, then REPEATS times; p95 over every request of a kind.
BENCH_READING_ARCHIVE=PATH measures that archive instead of the cached one (e.g. one cached
under an earlier schema, instead of building anew).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.archive import QUERIES, cached_archive, p95

REPEATS = 5
TARGETS = {"results page": 300, "article page": 100, "diff": 300, "coverage page": 500}
LIST_COLUMNS = ("authors", "tags", "categories", "embeds", "provenance")


def _timed(client, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        client.get(path)  # warm
        for _ in range(REPEATS):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return times


def _search_paths(name: str) -> list[str]:
    paths = []
    for _, query, filters in QUERIES:
        params = {
            "q": query,
            "section": filters.get("section"),
            "since": filters.get("date_from"),
            "until": filters.get("date_to"),
        }
        for sort in ("relevance", "date"):
            kept = {k: v for k, v in {**params, "sort": sort}.items() if v}
            paths.append(f"/-/buscar/{name}?{urlencode(kept)}")
    return paths


def _spread_ids(db: Path, count: int) -> list[int]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        top = conn.execute("select max(id) from articles").fetchone()[0]
        return [1 + i * (top - 1) // (count - 1) for i in range(count)]


def _edited_archive(db: Path, ids: list[int], folder: Path) -> Path:
    """A small archive holding the given articles of db, each with a second version (one
    paragraph edited), and one article of two hostile 12,000-word versions (the last id)."""
    from archive.store import Archive

    target = folder / "versiones.db"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        originals = [
            dict(conn.execute("select * from articles where id = ?", [i]).fetchone()) for i in ids
        ]
    store = Archive(target)
    for article in originals:
        for name in LIST_COLUMNS:
            article[name] = json.loads(article[name]) if article[name] else article[name]
        article["is_article"] = True
        store.store_article(article)
        paragraphs = article["body"].split("\n\n")
        middle = len(paragraphs) // 2
        paragraphs[middle] = "Corrección: " + paragraphs[middle].replace(" de ", " del ", 2)
        store.store_article(
            {
                **article,
                "body": "\n\n".join(paragraphs),
                "title": article["title"] + " (actualizado)",
            }
        )
    hostile = {k: v for k, v in originals[0].items() if k != "id"}
    hostile.update(url=originals[0]["url"] + "-hostil", wp_id=None)
    for version in range(2):
        common = ["de", "la", "el"]
        hostile["body"] = " ".join(
            common[(i + version) % 3] if i % (4 + version) else "y" for i in range(12_000)
        )
        store.store_article(dict(hostile))
    store.close()
    return target


def _ids(db: Path) -> tuple[list[int], int]:
    with closing(sqlite3.connect(db)) as conn:
        edited = [
            i
            for (i,) in conn.execute(
                "select article_id from article_versions group by article_id order by 1"
            )
        ]
    return edited[:-1], edited[-1]


def run() -> str:
    import httpx

    from tests.conftest import serving

    given = os.environ.get("BENCH_READING_ARCHIVE")
    db = Path(given) if given else cached_archive()[0]
    name = db.stem
    with serving(db) as base, httpx.Client(base_url=base, timeout=60) as client:
        served = {
            "results page": _timed(client, _search_paths(name)),
            "article page": _timed(client, [f"/-/article/{name}/{i}" for i in _spread_ids(db, 50)]),
            "coverage page": _timed(
                client, [f"/-/cobertura/{name}", f"/-/cobertura/{name}?section=politica"]
            ),
        }
    with tempfile.TemporaryDirectory(prefix="ciudadano-bench-") as folder:
        small = _edited_archive(db, _spread_ids(db, 21), Path(folder))
        edited, hostile = _ids(small)
        with serving(small) as base, httpx.Client(base_url=base, timeout=60) as client:
            served["diff"] = _timed(client, [f"/-/cambios/{small.stem}/{i}" for i in edited])
            worst = _timed(client, [f"/-/cambios/{small.stem}/{hostile}"])
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        count = conn.execute("select count(*) from articles").fetchone()[0]
    lines = [
        f"## The reading room: {count:,} articles, over HTTP",
        "",
        "| page | requests | median | p95 | target |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, times in served.items():
        lines.append(
            f"| {label} | {len(times)} | {statistics.median(times):.0f} ms | "
            f"{p95(times):.0f} ms | p95 < {TARGETS[label]} ms |"
        )
    lines.append(
        f"| diff of two 12,000-word versions of the same few words | {len(worst)} | "
        f"{statistics.median(worst):.0f} ms | {max(worst):.0f} ms (worst) | "
        f"< {TARGETS['diff']} ms |"
    )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
