"""Data exports of the archive for researchers: CSV, JSON Lines, JSON, Parquet, and WARC (the
kept pages, archive.warc).

Rows are streamed oldest first (by publication instant), so an export of the whole archive
needs little memory (Parquet is written in row groups of ROW_GROUP rows). A file export is
written to an unnamed file in the target's folder and put in place only when complete, so an
export that fails or is killed (SIGKILL included) leaves the target as it was and nothing
beside it. A target that is a device or a FIFO (/dev/stdout, a pipe) is written to as it is,
never replaced; a symlink is followed, so the file it points to gets the export and the link
stays.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import IO

from archive.db import ArchiveError, reader_uri, sqlite_message
from archive.filters import FilterError, Slice
from archive.listings import visible
from archive.schema import ARTICLE_FIELDS, ARTICLES, article_columns, article_id_sql

FORMATS = ("csv", "jsonl", "json", "parquet", "warc")
JSON_COLUMNS = {f.name for f in ARTICLE_FIELDS if f.type in (list, dict)}
LIST_COLUMNS = {f.name for f in ARTICLE_FIELDS if f.type is list}
ROW_GROUP = 5_000
# A cell a spreadsheet would run as a formula starts with one of these (OWASP's CSV injection
# list): such a cell gets a leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(FilterError):
    """An export that cannot be made; the message is meant for the user."""


def export_columns() -> list[str]:
    """The article's fields and the archive's dates; not the archive's own bookkeeping (its
    row id differs from archive to archive), so an export imported elsewhere exports the same."""
    return [name for name in article_columns() if name not in ("id", "content_hash", "run_id")]


def _selection(
    conn, where: Slice, language: str | None, query: str | None, withdrawn: bool = False
) -> tuple[str, list]:
    clauses, params = where.where(ARTICLES)
    # withdrawn from public view (archive.listings) unless asked for; an archive older than
    # withdrawal (read-only, so never migrated) has no withdrawn article
    if not withdrawn and any(
        row[1] == "withdrawn_at" for row in conn.execute(f"PRAGMA table_info([{ARTICLES}])")
    ):
        clauses.append(visible(ARTICLES))
    if language:
        clauses.append(f"{ARTICLES}.language = ?")
        params.append(language)
    if query:
        from archive.query import fts_query

        clauses.append(
            f"{ARTICLES}.id in (select {article_id_sql('rowid')} from "
            f"{ARTICLES}_fts where {ARTICLES}_fts match ?)"
        )
        params.append(fts_query(query))
    return (" where " + " and ".join(clauses) if clauses else ""), params


def count_rows(
    uri: str,
    where: Slice,
    language: str | None = None,
    query: str | None = None,
    withdrawn: bool = False,
) -> int:
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        condition, params = _selection(conn, where, language, query, withdrawn)
        return conn.execute(f"select count(*) from {ARTICLES}{condition}", params).fetchone()[0]


def iter_rows(
    uri: str,
    where: Slice,
    language: str | None = None,
    query: str | None = None,
    withdrawn: bool = False,
) -> Iterator[dict]:
    columns = export_columns()
    conn = sqlite3.connect(uri, uri=True)
    try:
        condition, params = _selection(conn, where, language, query, withdrawn)
        # by instant: -03:00 and -04:00 offsets make the ISO text misorder the hour repeated
        # in April
        sql = f"select {', '.join(columns)} from {ARTICLES}{condition} order by published_utc, url"
        for values in conn.execute(sql, params):
            yield dict(zip(columns, values, strict=True))
    except sqlite3.DatabaseError as err:
        raise ArchiveError(sqlite_message(uri.split("?")[0][5:], err, "cannot read")) from err
    finally:
        conn.close()


def neutralise(cell):
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)": shown as text, never run as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(rows: Iterator[dict], out: IO[str], bom: bool = False, formulas: bool = False) -> int:
    """Lists and dicts stay JSON text in their cell, so nothing is lost. Cells that a
    spreadsheet would run as formulas are neutralised unless formulas is true."""
    if bom:
        out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=export_columns())
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row if formulas else {k: neutralise(v) for k, v in row.items()})
        count += 1
    return count


def _decoded(row: dict) -> dict:
    for name in JSON_COLUMNS & row.keys():
        if row[name] is not None:
            row[name] = json.loads(row[name])
    return row


def write_jsonl(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(_decoded(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_json(rows: Iterator[dict], out: IO[str]) -> int:
    """One JSON array, written as it streams."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps(_decoded(row), ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def parquet_schema():
    import pyarrow as pa

    types = {
        str: pa.string(),
        int: pa.int64(),
        bool: pa.bool_(),
        float: pa.float64(),
        list: pa.list_(pa.string()),
        dict: pa.string(),
    }  # provenance: JSON text
    columns = article_columns()
    return pa.schema([(name, types[columns[name]]) for name in export_columns()])


def write_parquet(rows: Iterator[dict], out: IO[bytes]) -> int:
    """Parquet (pyarrow), zstd-compressed, in row groups of ROW_GROUP rows: lists are lists of
    strings, provenance JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        batch: list[dict] = []
        for row in rows:
            for name in LIST_COLUMNS & row.keys():
                if row[name] is not None:
                    row[name] = json.loads(row[name])
            batch.append(row)
            if len(batch) == ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


WRITERS: dict[str, Callable[..., int]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "json": write_json,
    "parquet": write_parquet,
}
BINARY = {"parquet", "warc"}


def export(
    db_path: str | Path,
    fmt: str,
    out_path: str | None = None,
    where: Slice | None = None,
    language: str | None = None,
    query: str | None = None,
    progress: Callable[[int], None] | None = None,
    bom: bool = False,
    formulas: bool = False,
    withdrawn: bool = False,
) -> int:
    """Write the articles in where (and in language, and matching the search query) to
    out_path (stdout for None or "-"); returns the count. progress(n) is called as rows go.
    Withdrawn articles only with withdrawn=True.
    Raises ExportError for what the user can change, ArchiveError for an unreadable archive."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    uri = reader_uri(db_path)
    rows = iter_rows(uri, where or Slice(), language, query, withdrawn)
    if fmt == "warc":
        from archive.warc import warc_writer

        write = warc_writer(uri)
    else:
        write = WRITERS[fmt]
    if fmt == "csv":

        def write(rows, out, _csv=write):
            return _csv(rows, out, bom=bom, formulas=formulas)

    with closing(rows):  # the archive connection is closed here, whatever happens to the output
        counted = _counted(rows, progress) if progress else rows
        return _export(counted, write, out_path, binary=fmt in BINARY)


def _counted(rows: Iterator[dict], progress: Callable[[int], None]) -> Iterator[dict]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % 1000 == 0:
            progress(n)


def _export(rows: Iterator[dict], write, out_path: str | None, binary: bool = False) -> int:
    if out_path in (None, "-"):
        if binary:
            if sys.stdout.isatty():
                raise ExportError("this format is binary: give --out FILE, or pipe it")
            sys.stdout.flush()
            return write(rows, sys.stdout.buffer)
        return write(rows, sys.stdout)
    target = Path(out_path)
    real = Path(os.path.realpath(target))  # through symlinks: the link itself stays
    try:  # the target's own path: /dev/stdout's link to a pipe names no file in /proc
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise ExportError(f"cannot write {target}: {err.strerror}") from err
    if mode is not None and stat.S_ISDIR(mode):
        raise ExportError(f"cannot write {target}: it is a folder")
    try:
        if mode is not None and not stat.S_ISREG(mode):  # a device, a FIFO: never replaced
            if binary:
                with open(target, "wb") as out:
                    return write(rows, out)
            with open(target, "w", encoding="utf-8", newline="") as out:
                return write(rows, out)
        return _write_in_place(real, lambda out: write(rows, out), binary)
    except OSError as err:
        raise ExportError(f"cannot write {target}: {err.strerror or err}") from err


def _write_in_place(target: Path, write: Callable[[IO], int], binary: bool = False) -> int:
    """Write to an unnamed file in target's folder, then give it target's name."""
    folder = target.parent
    partial: Path | None = None
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o644)
    except OSError as err:
        if err.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
        # no unnamed files on this file system: a named one, removed on every error we see
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        with (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        ) as out:
            count = write(out)
            out.flush()
            os.fsync(out.fileno())
            if partial is None:
                partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
                _link_unnamed(out.fileno(), partial)
        os.replace(partial, target)
        return count
    except BaseException:  # an error, Ctrl-C, SIGTERM: nothing is left beside the target
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise


def _link_unnamed(fd: int, path: Path) -> None:
    """Give the O_TMPFILE file at fd a name: linkat(2) with AT_SYMLINK_FOLLOW through
    /proc (os.link calls plain link(2), which does not follow, unless a dir_fd is given)."""
    root = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=root, follow_symlinks=True)
    finally:
        os.close(root)
