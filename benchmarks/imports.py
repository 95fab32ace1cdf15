"""`ciudadano import` restoring a whole archive (issue 17): the JSON Lines export of the
archive benchmark's synthetic articles (benchmarks.archive, BENCH_IMPORT_ARTICLES of them,
305,000 by default: the site's size), imported into a new archive by the real command, every
line validated and cleaned, the full-text index with stems built. The file is written once and
cached in benchmarks/cache/; each round imports it into a new archive, and the table gives the
median of ROUNDS rounds, and the CPU time the import and its worker processes used (on a
shared machine, what the work itself costs).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.archive import CACHE, GENERATOR_VERSION, _articles

ARTICLES = int(os.environ.get("BENCH_IMPORT_ARTICLES", "305000"))
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))
TARGET = 1000  # articles/s: a restore of the whole archive in under 5 minutes
# Articles of the export measured stage by stage (in this process, one core, no contention).
STAGE_ARTICLES = int(os.environ.get("BENCH_IMPORT_STAGE_ARTICLES", "5000"))


def cached_export(count: int = ARTICLES) -> Path:
    """The export of count synthetic articles, as `ciudadano export --format jsonl` writes
    it (archive.export.write_jsonl over the archive's columns); written when missing."""
    from archive.export import export_columns, write_jsonl

    path = CACHE / f"export-{count}-g{GENERATOR_VERSION}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = export_columns()
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as out:
        write_jsonl(({c: row.get(c) for c in columns} for row in _articles(count)), out)
    partial.replace(path)
    return path


def _imported(source: Path, db: Path) -> tuple[float, float, str]:
    """Seconds `ciudadano import` took to restore source into a new archive db, the CPU
    seconds it and its workers used, and what it printed last (its summary)."""
    script = Path(sys.executable).parent / "ciudadano"
    before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [str(script), "import", str(source), "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, _children_cpu() - before, done.stderr.strip().splitlines()[-1]


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run() -> str:
    source = cached_export()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="ciudadano-bench-import-", dir=CACHE) as tmp:
        for number in range(ROUNDS):
            db = Path(tmp) / f"restored-{number}.db"
            rounds.append(_imported(source, db))
            for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                leftover.unlink(missing_ok=True)
    seconds = [s for s, _, _ in rounds]
    median = statistics.median(seconds)
    rate = ARTICLES / median
    cpu = statistics.median(c for _, c, _ in rounds)
    return "\n".join(
        [
            *_stages(source),
            f"## Import: a restore of {ARTICLES:,} synthetic articles",
            "",
            (
                f"`ciudadano import` of the JSONL export ({source.stat().st_size / 2**20:,.0f} MB) "
                "into a new archive: every line validated, body_html cleaned, the full-text index "
                f"with stems built. {ROUNDS} rounds; printed: {rounds[-1][2]}"
            ),
            "",
            "| what | median | rounds | CPU (all processes) | target |",
            "| --- | ---: | ---: | ---: | ---: |",
            (
                f"| `ciudadano import`, {ARTICLES:,} articles | {median:,.1f} s, {rate:,.0f} "
                f"articles/s | {', '.join(f'{s:,.1f} s' for s in seconds)} | {cpu:,.1f} s, "
                f"{1000 * cpu / ARTICLES:.2f} ms an article | >= {TARGET:,}/s "
                f"({'met' if rate >= TARGET else 'NOT met'}) |"
            ),
            "",
        ]
    )


def _stages(source: Path) -> list[str]:
    """Where an import's CPU goes, stage by stage, on the first STAGE_ARTICLES articles: what
    the worker processes do to a line (read, check, clean, stem) and what the one process
    that writes the archive does (store, index), and what the index alone costs as built now
    and with less in it. An import on two cores can go no faster than the larger of (writer)
    and (writer + worker) / 2 allow: the floor this table gives."""
    from itertools import islice

    from archive.schema import STEM_FUNCTION
    from archive.store import Archive
    from ciudadano.imports import BATCH_CHUNKS, CHUNK, _stemmed_ahead, checked_chunk

    with open(source, "rb") as lines:
        numbered = list(enumerate(islice(lines, STAGE_ARTICLES), 1))
    count = len(numbered)
    started = time.process_time()
    chunks = [checked_chunk(numbered[n : n + CHUNK]) for n in range(0, count, CHUNK)]
    worker = (time.process_time() - started) / count * 1000
    with tempfile.TemporaryDirectory(prefix="ciudadano-bench-stages-", dir=CACHE) as tmp:
        archive = Archive(Path(tmp) / "stages.db")
        stems: dict[str, str] = {}
        archive.db.conn.create_function(STEM_FUNCTION, 1, _stemmed_ahead(stems))
        started = time.process_time()
        for n in range(0, len(chunks), BATCH_CHUNKS):
            group = chunks[n : n + BATCH_CHUNKS]
            for _, _, stemmed in group:
                stems.update(stemmed)
            archive.import_articles([row for rows, _, _ in group for row in rows])
            stems.clear()
        writer = (time.process_time() - started) / count * 1000
        indexes = _index_costs(archive, Path(tmp))
        archive.close()
    floor = 1000 / max(writer, (writer + worker) / 2)
    rows = [
        f"| a worker: read, check, clean, stem a line | {worker:.2f} ms |",
        f"| the writer: store and index an article | {writer:.2f} ms |",
        *(f"| of which, alone: {what} | {ms:.2f} ms |" for what, ms in indexes),
        f"| the fastest two cores allow, max(writer, (writer + worker) / 2) | "
        f"{floor:,.0f} articles/s |",
    ]
    return [
        f"## Import: where the time goes ({count:,} articles, CPU an article, one process)",
        "",
        "| stage | CPU |",
        "| --- | ---: |",
        *rows,
        "",
    ]


def _index_costs(archive, tmp: Path) -> list[tuple[str, float]]:
    """CPU an article of the full-text index alone, filled from the archive's articles with
    their stems ready: as the archive builds it, and as it would cost with less in it."""
    import sqlite3

    from archive.schema import FTS_PREFIXES, FTS_TOKENIZE
    from archive.stemming import stems_of

    texts = []
    for key, title, subtitle, body, section in archive.db.execute(
        "select id, title, subtitle, body, replace(section_slug, '-', '') from articles"
    ).fetchall():
        stems = stems_of(title, subtitle, body)
        texts.append(
            (key, title, subtitle, body, *map(stems.get, (title, subtitle, body)), section)
        )
    raw, stemmed = ["title", "subtitle", "body"], ["title_s", "subtitle_s", "body_s"]
    variants = [
        (f"the index as built (words and stems, prefixes '{FTS_PREFIXES}')", FTS_PREFIXES, True),
        ("the same, prefixes '3' only", "3", True),
        ("the same, no prefixes", "", True),
        (f"words only, no stems (prefixes '{FTS_PREFIXES}')", FTS_PREFIXES, False),
    ]
    costs = []
    for number, (what, prefixes, with_stems) in enumerate(variants):
        columns = raw + (stemmed if with_stems else []) + ["section"]
        db = sqlite3.connect(tmp / f"index-{number}.db")
        prefix = f", prefix='{prefixes}'" if prefixes else ""
        db.execute(
            f"create virtual table f using fts5({', '.join(columns)}, "
            f"tokenize='{FTS_TOKENIZE}'{prefix}, content='')"
        )
        db.execute("insert into f (f, rank) values ('hashsize', 536870912)")
        marks = ", ".join("?" * (len(columns) + 1))
        insert = f"insert into f (rowid, {', '.join(columns)}) values ({marks})"
        pick = (lambda t: t) if with_stems else (lambda t: (*t[:4], t[7]))
        started = time.process_time()
        with db:
            db.executemany(insert, map(pick, texts))
        costs.append((what, (time.process_time() - started) / len(texts) * 1000))
        db.close()
    return costs


if __name__ == "__main__":
    print(run())
