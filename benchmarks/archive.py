"""The archive at the site's real size (issue 7): 305,000 synthetic Spanish articles.

Built once and cached (benchmarks/cache/, about 3 GB; rebuilt when the schema version or the
generator changes), then measured in one run:
- build time and size;
- `ciudadano search` (archive.search.search) latency over a fixed set of 20 queries, median
  and p95 of each query's median of 5 runs; the most common words and the prefixes apart;
- Datasette over HTTP (`ciudadano serve`, a real server in its own process): home, the
  articles table, the search page, p95;
and, for reference in the same run, FTS5 alone counting the matches of each query.

The articles: 600 words on average (lognormal), words drawn from a Zipf distribution over the
Spanish of our fixture pages (most frequent first) followed by a tail of invented words;
sections, authors and dates 2004-2026 skewed as on the site (more recent years larger).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BENCH_CACHE", ROOT / "benchmarks" / "cache"))
ARTICLES = int(os.environ.get("BENCH_ARCHIVE_ARTICLES", "305000"))
GENERATOR_VERSION = 4
SANTIAGO = ZoneInfo("America/Santiago")

SECTIONS = [
    ("Política", 20),
    ("Chile", 18),
    ("Mundo", 12),
    ("Medio Ambiente", 8),
    ("Pueblos", 6),
    ("Cultura", 8),
    ("Economía", 7),
    ("Deportes", 5),
    ("Salud", 5),
    ("Educación", 5),
    ("Opinión", 4),
    ("Sociedad", 4),
    ("Ciencia", 2),
    ("English Edition", 1),
    ("Deutsche Ausgabe", 1),
]
# Query words the benchmark searches for: present in the vocabulary whatever the fixtures hold
PLANTED = [
    "elección",
    "elecciones",
    "electoral",
    "presidencial",
    "presidenciales",
    "pensiones",
    "pensión",
    "constitución",
    "constituyente",
    "segunda",
    "vuelta",
    "derechos",
    "humanos",
    "boric",
    "kast",
    "mapuche",
    "afp",
    "glaciares",
    "litio",
    "carabineros",
]

PHRASES = ["segunda vuelta", "derechos humanos", "reforma de pensiones"]

QUERIES = [  # (label, query, filters)
    ("common word", "de", {}),
    ("common word", "gobierno", {}),
    ("common word", "chile", {}),
    ("word", "elecciones", {}),
    ("word", "presidencial", {}),
    ("rare word", "glaciares", {}),
    ("rare word", "carabineros", {}),
    ("two words", "pensiones afp", {}),
    ("phrase", '"segunda vuelta"', {}),
    ("phrase", '"derechos humanos"', {}),
    ("prefix", "ca*", {}),
    ("prefix", "pensi*", {}),
    ("prefix", "constitu*", {}),
    ("OR", "boric OR kast", {}),
    ("NOT", "pensiones NOT afp", {}),
    ("column", "title:mapuche", {}),
    ("word + section", "litio", {"section": "medio-ambiente"}),
    ("word + dates", "constitución", {"date_from": "2019-10", "date_to": "2022-09"}),
    ("common + section", "gobierno", {"section": "politica"}),
    ("prefix + dates", "elec*", {"date_from": "2021", "date_to": "2021"}),
]


def _vocabulary() -> list[str]:
    """Spanish words of the fixture pages, most frequent first, the planted query words among
    them, then invented words for the long tail."""
    counts: Counter[str] = Counter()
    for expected in (ROOT / "tests" / "fixtures" / "pages").glob("*/expected.json"):
        data = json.loads(expected.read_text(encoding="utf-8"))
        for article in data if isinstance(data, list) else [data]:
            text = " ".join(str(article.get(k) or "") for k in ("title", "subtitle", "body"))
            counts.update(w.lower() for w in re.findall(r"[^\W\d_]{2,}", text))
    words = [w for w, _ in counts.most_common()]
    rng = random.Random(7)
    syllables = [
        "ca",
        "ma",
        "to",
        "ri",
        "pe",
        "lo",
        "sa",
        "mi",
        "ne",
        "du",
        "ra",
        "ve",
        "ción",
        "tes",
        "dor",
        "les",
        "nia",
        "que",
        "bra",
        "stro",
        "gu",
        "ñe",
    ]
    known = set(words)
    while len(words) < 60_000:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in known:
            known.add(word)
            words.append(word)
    for n, word in enumerate(PLANTED):  # from common to rare: ranks 400 .. 27,700
        if word in words:
            words.remove(word)
        words.insert(min(len(words), int(400 * 1.25**n)), word)
    return words


def _articles(count: int):
    """Rows in the archive's columns, deterministic for a given count."""
    from archive.model import slugify

    rng = random.Random(2026)
    vocab = _vocabulary()
    cum = []
    total = 0.0
    for rank in range(1, len(vocab) + 1):
        total += 1 / rank**1.07
        cum.append(total)
    names = [
        f"{a} {b}"
        for a in (
            "Ana",
            "Pedro",
            "María",
            "Juan",
            "Camila",
            "Diego",
            "Rosa",
            "Luis",
            "Javiera",
            "Tomás",
            "Paula",
            "Matías",
        )
        for b in (
            "Soto",
            "Rojas",
            "Muñoz",
            "Díaz",
            "Pérez",
            "Vera",
            "Fuentes",
            "Araya",
            "Silva",
            "Reyes",
            "Castro",
            "Morales",
        )
    ]
    sections = [s for s, _ in SECTIONS]
    section_weights = [w for _, w in SECTIONS]
    start = datetime(2004, 1, 1, tzinfo=timezone.utc).timestamp()
    span = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp() - start
    for n in range(count):
        # more articles in recent years: the n-th article's place in time grows as sqrt
        moment = datetime.fromtimestamp(
            start + span * math.sqrt((n + rng.random()) / count), SANTIAGO
        ).replace(microsecond=0)
        section = rng.choices(sections, section_weights)[0]
        length = max(60, int(rng.lognormvariate(math.log(540), 0.45)))
        body_words = rng.choices(vocab, cum_weights=cum, k=length)
        for phrase in PHRASES:  # set phrases, as news text has them
            if rng.random() < 0.04:
                at = rng.randrange(length)
                body_words[at : at + 1] = phrase.split()
        paragraphs = [
            " ".join(body_words[i : i + 60]).capitalize() + "." for i in range(0, length, 60)
        ]
        title = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(6, 13))).capitalize()
        subtitle = (
            " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(15, 35))).capitalize() + "."
        )
        slug = slugify(title)[:80]
        published = moment.isoformat()
        yield {
            "url": f"https://www.elciudadano.com/{slugify(section)}/{slug}-{n}/"
            f"{moment:%m}/{moment:%d}/",
            "wp_id": 100_000 + n,
            "title": title,
            "subtitle": subtitle,
            "published": published,
            "published_date": moment.date().isoformat(),
            "date_precision": "datetime",
            "published_utc": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "modified": published,
            "section": section,
            "section_slug": slugify(section),
            "categories": json.dumps([section], ensure_ascii=False),
            "tags": json.dumps(rng.sample(PLANTED, 2), ensure_ascii=False),
            "authors": json.dumps([rng.choice(names)], ensure_ascii=False),
            "language": "en"
            if section == "English Edition"
            else "de"
            if section == "Deutsche Ausgabe"
            else "es",
            "body": "\n\n".join(paragraphs),
            "body_html": "\n".join(f"<p>{p}</p>" for p in paragraphs),
            "word_count": length,
            "year": moment.year,
            "provenance": "{}",
            "content_hash": f"{n:064x}",
            "first_seen": "2026-11-25T00:00:00+00:00",
            "last_changed": "2026-11-25T00:00:00+00:00",
        }


def build(path: Path, count: int) -> float:
    """Writes the archive through the archive's own writer connection (its triggers index and
    stem every article); returns the seconds it took."""
    from archive.db import open_for_writing

    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    conn = open_for_writing(path)
    rows = _articles(count)
    first = next(rows)
    columns = list(first)
    sql = f"insert into articles ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    batch = [first]
    done = 0
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            conn.execute("begin")
            conn.executemany(sql, ([r[c] for c in columns] for r in batch))
            conn.execute("commit")
            done += len(batch)
            batch = []
            print(
                f"\rbuilding the archive: {done:,}/{count:,}", end="", file=sys.stderr, flush=True
            )
    conn.execute("begin")
    conn.executemany(sql, ([r[c] for c in columns] for r in batch))
    conn.execute("commit")
    conn.execute("insert into articles_fts(articles_fts) values ('optimize')")
    from archive.schema import median_key_sql, sample_keys_sql

    conn.execute(median_key_sql())
    conn.execute(sample_keys_sql())
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("analyze")
    conn.close()
    print(file=sys.stderr)
    return time.monotonic() - started


def cached_archive(count: int = ARTICLES) -> tuple[Path, float | None]:
    """The cached archive of count articles (built when missing or stale), and its build time
    when it was built now."""
    import hashlib

    from archive.schema import create_schema_sql

    schema = hashlib.sha256(create_schema_sql().encode()).hexdigest()[:8]
    path = CACHE / f"archive-{count}-{schema}-g{GENERATOR_VERSION}.db"
    if path.exists() and not Path(f"{path}.building").exists():
        _search_meta(path)
        return path, _build_seconds(path)
    marker = Path(f"{path}.building")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    seconds = build(path, count)
    Path(f"{path}.seconds").write_text(f"{seconds:.0f}\n")
    marker.unlink()
    return path, seconds


def _build_seconds(path: Path) -> float | None:
    """How long a cached file took to build, as recorded beside it (None: not recorded)."""
    try:
        return float(Path(f"{path}.seconds").read_text())
    except (OSError, ValueError):
        return None


KEPT_VERSION = 1


def cached_kept_pages(count: int = ARTICLES) -> tuple[Path, float | None]:
    """An archive holding only the kept pages of count articles (each synthetic article
    rendered into the stand-in's 150 KB page and kept as the crawl keeps it), built when
    missing; and its build time when built now. Apart from the articles' archive, so neither
    build waits for the other; the two files' sizes add up (a table's pages are its own)."""
    import hashlib

    from archive.schema import create_schema_sql

    schema = hashlib.sha256(create_schema_sql().encode()).hexdigest()[:8]
    path = CACHE / f"kept-{count}-{schema}-g{GENERATOR_VERSION}-k{KEPT_VERSION}.db"
    marker = Path(f"{path}.building")
    if path.exists() and not marker.exists():
        return path, _build_seconds(path)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    path.unlink(missing_ok=True)
    started = time.monotonic()
    _build_kept(path, count)
    seconds = time.monotonic() - started
    Path(f"{path}.seconds").write_text(f"{seconds:.0f}\n")
    marker.unlink()
    return path, seconds


def _stand_in(row: dict) -> dict:
    """A synthetic archive row as the stand-in site's templates take an article."""
    from urllib.parse import urlsplit

    return {
        "key": str(row["wp_id"]),
        "path": urlsplit(row["url"]).path,
        "wp_id": row["wp_id"],
        "title": row["title"],
        "subtitle": row["subtitle"],
        "section": (row["section"], row["section_slug"]),
        "categories": [(row["section"], row["section_slug"])],
        "tags": json.loads(row["tags"]),
        "authors": json.loads(row["authors"]),
        "published": row["published"],
        "modified": row["modified"],
        "image": None,
        "body": row["body_html"],
    }


def _build_kept(path: Path, count: int) -> None:
    from archive.raw import keep_response
    from archive.store import Archive
    from standin import templates

    store = Archive(path)
    recent: list[dict] = []
    headers = {"Content-Type": ["text/html; charset=UTF-8"]}
    store.db.execute("begin")
    for n, row in enumerate(_articles(count)):
        article = _stand_in(row)
        page = templates.article_page(article, recent[-5:]).encode()
        recent = [*recent[-4:], article]
        keep_response(
            store.db,
            row["url"],
            row["url"],
            200,
            headers,
            page,
            "2026-11-25T00:00:00+00:00",
            "html",
            None,
        )
        if n % 5000 == 4999:
            store.db.execute("commit")
            store.db.execute("begin")
            print(f"\rkept pages: {n + 1:,} of {count:,}", end="", file=sys.stderr, flush=True)
    store.db.execute("commit")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(file=sys.stderr)


def _search_meta(path: Path) -> None:
    """What the archive's writers keep for searches, added to an archive cached before they
    kept it (as the next crawl on an older archive does)."""
    import sqlite3

    from archive.schema import META, median_key_sql, sample_keys_sql

    conn = sqlite3.connect(path)
    try:
        if not conn.execute(f"select 1 from {META} where key = 'sample_keys'").fetchone():
            conn.execute(median_key_sql())
            conn.execute(sample_keys_sql())
            conn.commit()
    finally:
        conn.close()


def _median_ms(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _search_latencies(db: Path) -> list[tuple[str, str, float, float, int]]:
    """(label, query, ms of ours, ms of FTS5 counting alone, matches) per query."""
    import apsw

    from archive.db import reader_uri
    from archive.filters import Slice
    from archive.query import fts_query
    from archive.search import search

    # the reference reads the index through the same SQLite as the search (APSW's)
    raw = apsw.Connection(reader_uri(db), flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    out = []
    for label, query, filters in QUERIES:
        where = Slice(filters.get("section"), filters.get("date_from"), filters.get("date_to"))
        search(db, query, where)  # warm the page cache
        ours = _median_ms(lambda query=query, where=where: search(db, query, where))
        expression = fts_query(query)
        count = [0]

        def fts_alone(count=count, expression=expression):
            count[0] = raw.execute(
                "select count(*) from articles_fts where articles_fts match ?", [expression]
            ).fetchone()[0]

        alone = _median_ms(fts_alone)
        out.append((label, query, ours, alone, count[0]))
    raw.close()
    return out


def _datasette_latencies(db: Path) -> dict[str, list[float]]:
    import httpx

    from tests.conftest import free_port

    port = free_port()
    script = Path(sys.executable).parent / "ciudadano"
    server = subprocess.Popen(
        [str(script), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    name = db.stem
    pages = {
        "home": ["/"],
        "articles table": [f"/{name}/articles"],
        "search page": [f"/{name}/search?q={q}" for _, q, f in QUERIES if not f][:12],
    }
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/-/versions.json", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("ciudadano serve did not start") from None
                time.sleep(0.2)
        results: dict[str, list[float]] = {}
        with httpx.Client(base_url=base, timeout=60) as client:
            for label, paths in pages.items():
                times = []
                for path in paths:
                    client.get(path)  # warm
                    for _ in range(3):
                        started = time.perf_counter()
                        response = client.get(path)
                        times.append((time.perf_counter() - started) * 1000)
                        if response.status_code != 200:
                            raise RuntimeError(f"{path}: HTTP {response.status_code}")
                results[label] = times
        return results
    finally:
        server.terminate()
        server.wait(30)


def _export_rates(db: Path) -> dict[str, float]:
    """Articles per second of a whole-archive export, per format (to a file on this disk)."""
    import tempfile

    from archive.export import export

    rates = {}
    with tempfile.TemporaryDirectory(prefix="ciudadano-bench-export-", dir=CACHE) as tmp:
        for fmt in ("jsonl", "parquet"):
            target = Path(tmp) / f"all.{fmt}"
            started = time.perf_counter()
            count = export(db, fmt, str(target))
            rates[fmt] = count / (time.perf_counter() - started)
            rates[f"{fmt}_mb"] = target.stat().st_size / 2**20
            target.unlink()
    return rates


RAW_SAMPLE = 2000


def _raw_sample() -> tuple[float, float, int]:
    """Reparse rate (articles/s, this process: one core) over RAW_SAMPLE stand-in pages kept
    as the crawl keeps them, and their mean kept size in bytes; and how many."""
    import tempfile

    from archive.raw import keep_response
    from archive.store import Archive, utc_now
    from ciudadano.reparse import reparse
    from crawler.parsers import parse_article
    from standin import templates
    from standin.articles import new_article

    start = datetime(2010, 1, 1, 9, 0, tzinfo=SANTIAGO)
    articles = [
        new_article(n, (start + timedelta(hours=7 * n)).isoformat()) for n in range(RAW_SAMPLE)
    ]
    with tempfile.TemporaryDirectory(prefix="ciudadano-bench-raw-") as tmp:
        db = Path(tmp) / "raw.db"
        store = Archive(db)
        base = "https://www.elciudadano.com"
        store.db.execute("begin")
        for n, article in enumerate(articles):
            html = templates.article_page(article, articles[max(0, n - 5) : n]).encode()
            url = base + article["path"]
            parsed = parse_article(html, url)
            store.store_article(parsed)
            keep_response(
                store.db,
                url,
                url,
                200,
                {"Content-Type": ["text/html; charset=UTF-8"]},
                html,
                utc_now(),
                "html",
                None,
            )
        store.db.execute("commit")
        kept = store.db.execute(
            "select avg(length(body)), avg(body_bytes) from responses"
        ).fetchone()
        store.close()
        started = time.perf_counter()
        report = reparse(db)
        rate = report.articles / (time.perf_counter() - started)
    return rate, kept[0], int(kept[1])


def run() -> str:
    db, build_s = cached_archive()
    size_mb = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 2**20
    latencies = _search_latencies(db)
    ours = [ms for _, _, ms, _, _ in latencies]
    common = [ms for label, _, ms, _, _ in latencies if label.startswith("common")]
    prefixes = [ms for label, _, ms, _, _ in latencies if label.startswith("prefix")]
    served = _datasette_latencies(db)
    exports = _export_rates(db)
    reparse_rate, _, _ = _raw_sample()
    kept_db, kept_s = cached_kept_pages()
    kept_mb = sum(p.stat().st_size for p in (kept_db, Path(f"{kept_db}-wal")) if p.exists()) / 2**20
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{kept_db}?mode=ro", uri=True)) as kept_conn:
        pages, page_bytes, kept_bytes = kept_conn.execute(
            "select count(*), avg(body_bytes), avg(length(body)) from responses"
        ).fetchone()
    lines = [
        f"## Archive: {ARTICLES:,} synthetic Spanish articles",
        "",
        f"Built in {format(build_s / 60, '.1f') + ' min' if build_s else 'a time not recorded'}"
        " (cached in benchmarks/cache/ once built); "
        f"{size_mb:,.0f} MB without kept pages (articles, versions, full-text index with stems). "
        f"Every article's page kept as the crawl keeps it (measured: {pages:,} pages of "
        f"{page_bytes / 1024:.0f} KB on average, each synthetic article in the stand-in's page, "
        f"zstd level 3, {kept_bytes / 1024:.1f} KB each as stored; "
        f"built in {format(kept_s / 60, '.1f') + ' min' if kept_s else 'a time not recorded'}): "
        f"{kept_mb:,.0f} MB more, **{size_mb + kept_mb:,.0f} MB with kept pages**.",
        "",
        "| what | median | p95 | target |",
        "| --- | ---: | ---: | ---: |",
        f"| `ciudadano search`, 20 queries | {statistics.median(ours):.1f} ms | "
        f"{p95(ours):.1f} ms | p95 < 50 ms |",
        f"| the most common words ({len(common)}) | {statistics.median(common):.1f} ms | "
        f"{max(common):.1f} ms (worst) | < 150 ms |",
        f"| prefixes of 2+ letters ({len(prefixes)}) | {statistics.median(prefixes):.1f} ms | "
        f"{max(prefixes):.1f} ms (worst) | < 100 ms |",
    ]
    for label, times in served.items():
        lines.append(
            f"| Datasette {label} over HTTP ({len(times)} requests) | "
            f"{statistics.median(times):.0f} ms | {p95(times):.0f} ms | p95 < 300 ms |"
        )
    lines += [
        f"| `ciudadano export --format jsonl`, all {ARTICLES:,} | {exports['jsonl']:,.0f} "
        f"articles/s ({exports['jsonl_mb']:,.0f} MB) | | > 5,000/s |",
        f"| `ciudadano export --format parquet`, all {ARTICLES:,} | {exports['parquet']:,.0f} "
        f"articles/s ({exports['parquet_mb']:,.0f} MB) | | > 5,000/s |",
        f"| `ciudadano reparse`, {RAW_SAMPLE:,} kept stand-in pages, one core | "
        f"{reparse_rate:,.0f} articles/s | | > 300/s |",
    ]
    lines += [
        "",
        "| query | matches | ours ms | FTS5 count alone ms | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, query, ms, alone, count in latencies:
        lines.append(
            f"| {label}: `{query}` | {count:,} | {ms:.1f} | {alone:.1f} | "
            f"{ms / max(alone, 0.01):.1f}x |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
