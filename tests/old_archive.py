"""An archive as ciudadano-archive 0.1 (schema 1) wrote it: sqlite-utils tables, no application
id, user_version 1. Built with the same calls 0.1 made, to test the migration."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from archive.schema import article_columns


def make_v1_archive(path: Path, without: tuple[str, ...] = (), triggers: bool = True) -> Path:
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    # 0.1 had neither the integer id nor published_utc (schema 3)
    without = (*without, "id", "published_utc")
    db["articles"].create(
        {k: v for k, v in article_columns().items() if k not in without}, pk="url", not_null={"url"}
    )
    for cols in (["wp_id"], ["section_slug"], ["published_date"], ["year"]):
        db["articles"].create_index(cols)
    db["articles"].enable_fts(
        ["title", "subtitle", "body"],
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=triggers,
    )
    db["runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "base_url": str,
            "status": str,
            "articles_new": int,
            "articles_changed": int,
            "articles_unchanged": int,
            "failures": int,
            "stats": str,
        },
        pk="id",
    )
    db["failures"].create(
        {"id": int, "run_id": int, "url": str, "reason": str, "status": int, "at": str}, pk="id"
    )
    db.execute("PRAGMA user_version=1")
    db.close()
    return path
