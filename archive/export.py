"""Data exports of the archive for researchers: CSV and JSON Lines.

Rows are streamed, so an export of the whole archive needs little memory. A file export is
written beside its target and renamed into place only when complete.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from archive.filters import FilterError, Slice
from archive.schema import ARTICLE_FIELDS, ARTICLES, article_columns

FORMATS = ("csv", "jsonl")
JSON_COLUMNS = {f.name for f in ARTICLE_FIELDS if f.type in (list, dict)}


class ExportError(FilterError):
    """An export that cannot be made; the message is meant for the user."""


def export_columns() -> list[str]:
    return [name for name in article_columns() if name not in ("content_hash", "run_id")]


def iter_rows(db_path: Path, where: Slice) -> Iterator[dict]:
    columns = export_columns()
    clauses, params = where.where(ARTICLES)
    sql = (
        f"select {', '.join(columns)} from {ARTICLES}"
        + (" where " + " and ".join(clauses) if clauses else "")
        + " order by published, url"
    )
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for values in conn.execute(sql, params):
            yield dict(zip(columns, values, strict=True))
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
    """Write the articles in where to out_path (stdout for None or "-"); returns the count."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    path = Path(db_path)
    if not path.exists():
        raise ExportError(f"no archive at {path}: run `ciudadano crawl` first")
    rows = iter_rows(path, where or Slice())
    if out_path in (None, "-"):
        return WRITERS[fmt](rows, sys.stdout)
    target = Path(out_path)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            count = WRITERS[fmt](rows, out)
        os.replace(partial, target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {target}: {err.strerror or err}") from err
    return count
