"""Data exports of the archive for researchers: CSV and JSON Lines.

Rows are streamed, so an export of the whole archive needs little memory. A file export is
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
from archive.schema import ARTICLE_FIELDS, ARTICLES, article_columns

FORMATS = ("csv", "jsonl")
JSON_COLUMNS = {f.name for f in ARTICLE_FIELDS if f.type in (list, dict)}


class ExportError(FilterError):
    """An export that cannot be made; the message is meant for the user."""


def export_columns() -> list[str]:
    return [name for name in article_columns() if name not in ("content_hash", "run_id")]


def iter_rows(uri: str, where: Slice) -> Iterator[dict]:
    columns = export_columns()
    clauses, params = where.where(ARTICLES)
    sql = (
        f"select {', '.join(columns)} from {ARTICLES}"
        + (" where " + " and ".join(clauses) if clauses else "")
        + " order by published, url"
    )
    conn = sqlite3.connect(uri, uri=True)
    try:
        for values in conn.execute(sql, params):
            yield dict(zip(columns, values, strict=True))
    except sqlite3.DatabaseError as err:
        raise ArchiveError(sqlite_message(uri.split("?")[0][5:], err, "cannot read")) from err
    finally:
        conn.close()


def write_csv(rows: Iterator[dict], out: IO[str]) -> int:
    """Lists and dicts stay JSON text in their cell, so nothing is lost."""
    writer = csv.DictWriter(out, fieldnames=export_columns())
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_jsonl(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        for name in JSON_COLUMNS & row.keys():
            if row[name] is not None:
                row[name] = json.loads(row[name])
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


WRITERS: dict[str, Callable[[Iterator[dict], IO[str]], int]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
}


def export(db_path: str | Path, fmt: str, out_path: str | None = None,
           where: Slice | None = None) -> int:
    """Write the articles in where to out_path (stdout for None or "-"); returns the count.
    Raises ExportError for what the user can change, ArchiveError for an unreadable archive."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    rows = iter_rows(reader_uri(db_path), where or Slice())
    with closing(rows):  # the archive connection is closed here, whatever happens to the output
        return _export(rows, WRITERS[fmt], out_path)


def _export(rows: Iterator[dict], write, out_path: str | None) -> int:
    if out_path in (None, "-"):
        return write(rows, sys.stdout)
    target = Path(out_path)
    real = Path(os.path.realpath(target))  # through symlinks: the link itself stays
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise ExportError(f"cannot write {target}: {err.strerror}") from err
    if mode is not None and stat.S_ISDIR(mode):
        raise ExportError(f"cannot write {target}: it is a folder")
    try:
        if mode is not None and not stat.S_ISREG(mode):  # a device, a FIFO: never replaced
            with open(real, "w", encoding="utf-8", newline="") as out:
                return write(rows, out)
        return _write_in_place(real, lambda out: write(rows, out))
    except OSError as err:
        raise ExportError(f"cannot write {target}: {err.strerror or err}") from err


def _write_in_place(target: Path, write: Callable[[IO[str]], int]) -> int:
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
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
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
