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


if __name__ == "__main__":
    print(run())
