"""`ciudadano import`: articles from a JSON Lines export back into an archive.

For a backup restored, an archive moved to another machine, or two archives merged. Each line
is one article as `ciudadano export --format jsonl` wrote it; the archive's own dates
(first_seen, last_changed) come back with it, so export -> import -> export gives the same
file. An article already archived with the same content is left as it is; where the two
differ, the version changed last is kept in articles and the other goes to its versions.

The file comes from elsewhere, so every line is checked by the rules a crawled article obeys
(archive.model: types, dates, http(s) URLs) and its body_html cleaned as a crawl cleans it. A
line that is not UTF-8, not JSON or not a valid article is reported with its number and what
is wrong, and skipped; every other line is imported.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO

from archive.db import CrawlLock
from archive.model import ArticleError, checked_article, moment
from archive.schema import FTS_COLUMNS, STEM_FUNCTION
from archive.stemming import stem_text, stems_of
from archive.store import CHANGED, NEW, OLDER, UNCHANGED, Archive, imported_row

# Lines checked at a time, and chunks of them stored in one transaction (a killed import keeps
# every batch it committed, whole; the index writes one segment a batch).
CHUNK = 1000
BATCH_CHUNKS = 5
# Processes that check chunks and stem their text while this one writes the archive (a file
# of one chunk is checked here, with none): the archive's writes take about as long as the
# checks, so more than a few would only wait. They are stopped at once when the import ends.
WORKERS = max(1, min(3, (os.cpu_count() or 1) - 1))
STOPPING = {signal.SIGINT, signal.SIGHUP, signal.SIGTERM}
PR_SET_PDEATHSIG = 1
# The import's page cache (KiB): the index's merges read back what they wrote.
CACHE_KIB = 256 * 1024
# The archive's own dates an export carries beside the article's fields.
ARCHIVE_DATES = ("first_seen", "last_changed")


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "line N: field: what is wrong"

    def summary(self) -> str:
        imported = sum(self.counts.values())
        parts = ", ".join(f"{self.counts.get(k, 0)} {k}" for k in (NEW, CHANGED, UNCHANGED, OLDER))
        return (
            f"{imported} imported ({parts}; older: the archive's own version is newer and "
            f"was kept), {len(self.problems)} lines skipped"
        )


def import_jsonl(file: str | Path, db_path: str | Path, workers: int = WORKERS) -> ImportReport:
    """Import every article of a JSONL file ("-" for stdin); a line that is not a valid
    article is reported with its number and skipped, never the whole file."""
    report = ImportReport()
    path = Path(db_path)
    if not path.exists():
        Archive(path).close()  # the lock needs the file; SQLite must make it
    with CrawlLock(path):  # no crawl writes while the file comes in
        archive = Archive(path)
        try:
            archive.db.execute(f"pragma cache_size = -{CACHE_KIB}")
            stems: dict[str, str] = {}
            archive.db.conn.create_function(
                STEM_FUNCTION, 1, _stemmed_ahead(stems), deterministic=True
            )
            with _opened(file) as source:
                chunks = _chunks(enumerate(source, 1))
                for rows, problems, stemmed in _batches(_checked_chunks(chunks, workers)):
                    report.problems += problems
                    stems.update(stemmed)
                    for outcome in archive.import_articles(rows):
                        report.counts[outcome] = report.counts.get(outcome, 0) + 1
                    stems.clear()
            archive.update_median_key()
        finally:
            archive.close()
    return report


def _opened(file: str | Path) -> IO[bytes] | nullcontext:
    """The file's bytes, or stdin's for "-" (left open)."""
    return nullcontext(sys.stdin.buffer) if str(file) == "-" else open(file, "rb")


def _chunks(lines: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    lines = iter(lines)
    while chunk := list(islice(lines, CHUNK)):
        yield chunk


def _batches(
    checked: Iterator[tuple[list[dict], list[str], dict[str, str]]],
) -> Iterator[tuple[list[dict], list[str], dict[str, str]]]:
    """The checked chunks, BATCH_CHUNKS together: one transaction's worth."""
    while group := list(islice(checked, BATCH_CHUNKS)):
        yield (
            [row for rows, _, _ in group for row in rows],
            [problem for _, problems, _ in group for problem in problems],
            {text: stemmed for _, _, stems in group for text, stemmed in stems.items()},
        )


def _stemmed_ahead(stems: dict[str, str]):
    """The index's stem function, finding the stems a worker computed (the same function,
    archive.stemming's, run ahead)."""

    def stem(text: str | None) -> str | None:
        ready = stems.get(text) if text else None
        return ready if ready is not None else stem_text(text)

    return stem


def _checked_chunks(
    chunks: Iterator[list[tuple[int, bytes]]], workers: int
) -> Iterator[tuple[list[dict], list[str], dict[str, str]]]:
    """checked_chunk of each chunk, in order: the first here, the others in worker
    processes (when there are others), a batch ahead of the archive's writes."""
    first = next(chunks, None)
    if first is None:
        return
    yield checked_chunk(first)
    second = next(chunks, None)
    if second is None:
        return
    if not workers:
        yield from map(checked_chunk, chain([second], chunks))
        return
    import multiprocessing

    # A stop (Ctrl-C, SIGTERM, SIGHUP) is noted and raised between the pool's calls, never
    # inside them: a KeyboardInterrupt raised in the pool's locks left its result thread
    # waiting for a lock forever, and the import hung instead of stopping.
    stops: list[int] = []
    noted = _StopsNoted(stops)
    # a worker is born with this process's signal handlers: none may run in it before its own
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    try:
        pending = deque([pool.apply_async(checked_chunk, (second,))])
        for chunk in chunks:
            _stop_if_told(stops)
            pending.append(pool.apply_async(checked_chunk, (chunk,)))
            if len(pending) > workers + BATCH_CHUNKS:
                yield _result(pending.popleft(), stops)
        while pending:
            yield _result(pending.popleft(), stops)
    finally:
        pool.terminate()  # done, or stopped: what they still check is not wanted
        noted.restore()


class _StopsNoted:
    """While it lasts (in the main thread), a stopping signal is noted in stops, not raised."""

    def __init__(self, stops: list[int]):
        import threading

        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in STOPPING:
                self.previous[sig] = signal.signal(sig, lambda signum, _: stops.append(signum))

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _stop_if_told(stops: list[int]) -> None:
    if stops:
        raise KeyboardInterrupt


def _result(pending, stops: list[int]):
    """A chunk's checked rows, once its worker is done; a stop noted meanwhile is raised."""
    from multiprocessing import TimeoutError as NotYet

    while True:
        _stop_if_told(stops)
        try:
            return pending.get(0.2)
        except NotYet:
            continue


def _worker_start() -> None:
    """A worker ignores Ctrl-C and SIGHUP (sent to the whole group: the import stops it), ends
    at SIGTERM (it holds nothing to keep), and dies with the import (Linux PR_SET_PDEATHSIG)."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # never ignored: a pending one must end it
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
    if os.getppid() == 1:  # the import died before prctl took effect
        os._exit(0)


def checked_chunk(lines: list[tuple[int, bytes]]) -> tuple[list[dict], list[str], dict[str, str]]:
    """The archive rows of the numbered lines that are valid articles, a problem ("line N:
    field: what is wrong") for each other line that is not blank, and the stems of the
    rows' indexed text (archive.stemming.stems_of)."""
    rows, problems, stems = [], [], {}
    for number, line in lines:
        if not line.strip():
            continue
        try:
            row = _row(line)
        except ArticleError as err:
            problems.append(f"line {number}: {err}")
            continue
        rows.append(row)
        stems.update(stems_of(*(row[name] for name in FTS_COLUMNS)))
    return rows, problems, stems


# JSON's escape of half a UTF-16 pair: "\ud83d\ude00" is one character, "\ud800" alone none
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _unpaired_surrogate(record) -> bool:
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _row(line: bytes) -> dict:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        wrong = f"not UTF-8 text (byte {line[err.start]:#04x} at position {err.start + 1})"
        raise ArticleError([("", wrong)]) from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise ArticleError([("", f"not JSON ({err.msg}, column {err.colno})")]) from None
    except RecursionError:
        raise ArticleError([("", "not JSON (nested too deep)")]) from None
    except ValueError as err:  # e.g. an integer of over 4,300 digits: Python will not read it
        raise ArticleError([("", f"not JSON we can read ({err})")]) from None
    if _SURROGATE.search(text) and _unpaired_surrogate(record):
        raise ArticleError([("", "not UTF-8 text (an unpaired surrogate, \\ud800-\\udfff)")])
    article = checked_article(record)  # a record that is not an object is refused here
    problems = [
        (name, moment(record[name]))
        for name in ARCHIVE_DATES
        if record.get(name) is not None and moment(record[name])
    ]
    if problems:
        raise ArticleError(problems)
    return imported_row(article, record.get("first_seen"), record.get("last_changed"))
