"""What keeping images costs (issue 18): the same loopback stand-in of BENCH_IMAGES_ARTICLES
(1,000) articles crawled twice into new archives, with `-s IMAGES_ENABLED=False` and with
images kept. Each article has a lead image of its own and a body image from a pool of
SHARED_POOL charts that many articles share; the stand-in's pictures are small (96x64 PNGs of
noise, about 18 KB: standin.templates.image). Reported: the archive's bytes per article with
and without images, per 1,000 articles and for the whole site (305,000 articles, SITE.md) at
the same mix, the image requests and the crawl's time.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from benchmarks.crawl import FAST, _articles, _ciudadano, _timed

ARTICLES = int(os.environ.get("BENCH_IMAGES_ARTICLES", "1000"))
SHARED_POOL = 50
WHOLE_SITE = 305_000
LIVE = "https://www.elciudadano.com"


def _illustrated(count: int) -> list[dict]:
    articles = _articles(count)
    for n, article in enumerate(articles):
        article["image"] = f"{LIVE}/wp-content/uploads/fotos/foto-{n}.jpg"
        article["body"] += (
            f'<figure class="wp-block-image"><img src="{LIVE}/wp-content/'
            f'uploads/graficos/grafico-{n % SHARED_POOL}.png" alt=""></figure>\n'
        )
    return articles


def _archive_bytes(db: Path) -> int:
    """The archive's size on disk once its write-ahead log is folded in."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def _crawl(site, db: Path, images: bool) -> dict:
    before = len(site.requests)
    timed = _timed(
        [
            *_ciudadano(),
            "crawl",
            "--db",
            str(db),
            "--base-url",
            site.base_url,
            "--feed-pages",
            "1",
            *FAST,
            "-s",
            f"IMAGES_ENABLED={images}",
        ]
    )
    asked = site.requests[before:]
    with closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("select count(*) from articles").fetchone()[0]
        kept, kept_bytes = conn.execute(
            "select count(*), coalesce(sum(size), 0) from media where kind = 'image'"
        ).fetchone()
    return {
        "seconds": timed.seconds,
        "status": timed.status,
        "articles": stored,
        "bytes": _archive_bytes(db),
        "images": kept,
        "image_bytes": kept_bytes,
        "image_requests": sum(1 for p in asked if p.startswith("/wp-content/uploads/")),
    }


def run() -> str:
    from standin.server import StandInSite

    with (
        tempfile.TemporaryDirectory(prefix="ciudadano-bench-images-") as tmp,
        StandInSite(articles=_illustrated(ARTICLES)) as site,
    ):
        without = _crawl(site, Path(tmp) / "without.db", images=False)
        with_images = _crawl(site, Path(tmp) / "with.db", images=True)
    lines = [
        (
            f"## Images: a loopback stand-in of {ARTICLES:,} articles, each with its own lead image "
            f"and one of {SHARED_POOL} shared charts in its body"
        ),
        "",
        (
            "| archive | exit | articles | bytes per article | per 1,000 articles | whole site "
            f"({WHOLE_SITE:,}) | image requests | crawl |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, m in (("without images", without), ("with images", with_images)):
        per_article = m["bytes"] / max(m["articles"], 1)
        lines.append(
            f"| {label} | {m['status']} | {m['articles']:,} | {per_article / 1024:,.1f} KB | "
            f"{per_article * 1000 / 2**20:,.1f} MB | {per_article * WHOLE_SITE / 2**30:,.1f} GB"
            f" | {m['image_requests']:,} | {m['seconds']:.1f} s |"
        )
    extra = (with_images["bytes"] - without["bytes"]) / max(with_images["articles"], 1)
    images = max(with_images["images"], 1)
    mean_image = with_images["image_bytes"] / images
    overhead = (with_images["bytes"] - without["bytes"] - with_images["image_bytes"]) / images
    lines += [
        "",
        (
            f"{with_images['images']:,} images kept ({with_images['image_requests']:,} requests: "
            f"each shared chart asked once), {mean_image / 1024:.1f} KB each on average: "
            f"images add {extra / 1024:.1f} KB an article here, of which "
            f"{max(overhead, 0) / 1024:.2f} KB an image is the archive's own (rows, indexes, "
            "pages), the rest the images' bytes as served. At the site's own image sizes, the "
            f"whole site costs the archive without images plus {WHOLE_SITE:,} x (images an article) "
            "x (their mean size)."
        ),
    ]
    return "\n".join(lines)
