"""Reading the archive from the command line: one article as a reader reads it
(`ciudadano show`), and the sections with their counts (`ciudadano sections`). Read-only."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from archive.db import connect_reader
from archive.filters import FilterError
from archive.listings import withdrawn_ids
from archive.model import ARTICLE_FIELDS
from archive.schema import ALIASES, ARTICLES

JSON_FIELDS = {f.name for f in ARTICLE_FIELDS if f.type in (list, dict)}
COLUMNS = ["id"] + [f.name for f in ARTICLE_FIELDS if f.name not in ("is_article", "reason")]
WIDTH = 78  # the text's width on a terminal


def find_article(db_path: str | Path, ref: str, withdrawn: bool = False) -> dict:
    """The article ref names: its id in the archive (a number), its URL, one of its earlier
    URLs, or a shortlink ?p=<WordPress id>; the URL on another host (a mirror, www or not)
    or without its trailing slash finds it too. FilterError when none does, or when it was
    withdrawn from public view (archive.listings) and withdrawn is False."""
    conn = connect_reader(db_path)
    try:
        row = _lookup(conn, ref.strip())
        hidden = set() if withdrawn else withdrawn_ids(conn)
    finally:
        conn.close()
    if row is None:
        raise FilterError(
            f"no article {ref!r} in the archive: give its id (as `ciudadano "
            "search --json` prints it) or its URL"
        )
    if row[0] in hidden:
        raise FilterError(
            f"article {row[0]} was withdrawn from public view (--include-withdrawn shows it)"
        )
    return {
        name: (json.loads(value) if name in JSON_FIELDS and value else value)
        for name, value in zip(COLUMNS, row, strict=False)
    }


def _lookup(conn, ref: str):
    select = f"select {', '.join(f'[{c}]' for c in COLUMNS)} from {ARTICLES}"
    if ref.isdigit():
        return conn.execute(f"{select} where id = ?", [int(ref)]).fetchone()
    parts = urlsplit(ref)
    shortlink = parse_qs(parts.query).get("p", [""])[0]
    if shortlink.isdigit():
        return conn.execute(f"{select} where wp_id = ?", [int(shortlink)]).fetchone()
    bare = ref.rstrip("/")
    for url in (ref, bare, bare + "/"):
        row = conn.execute(
            f"{select} where url = ? or url = (select article_url from {ALIASES} where url = ?)",
            [url, url],
        ).fetchone()
        if row:
            return row
    if parts.path.strip("/"):  # the same path on another host: a scan, the last resort
        path = "/" + parts.path.strip("/") + "/"
        return conn.execute(
            f"{select} where url like ? or url like ? limit 1",
            ["%://%" + path, "%://%" + path.rstrip("/")],
        ).fetchone()
    return None


def render_article(article: dict) -> str:
    """The article as text for a reader: headline, when (as a Chilean reader writes it),
    section and authors, the standfirst, the body's paragraphs, and where it was published."""
    from archive.dates import day_label, when

    published = (
        day_label(article["published_date"])
        if article.get("date_precision") == "day"
        else when(article.get("published"))
    )
    byline = " · ".join(
        part
        for part in (published, article.get("section"), ", ".join(article.get("authors") or []))
        if part
    )
    blocks = [_wrapped(article["title"]), _wrapped(byline)]
    if article.get("subtitle"):
        blocks.append(_wrapped(article["subtitle"]))
    blocks += [_wrapped(p) for p in (article.get("body") or "").split("\n\n") if p.strip()]
    blocks.append(article["url"])
    return "\n\n".join(blocks)


def _wrapped(paragraph: str) -> str:
    return textwrap.fill(" ".join(paragraph.split()), WIDTH)


def sections(db_path: str | Path) -> list[dict]:
    """Every section of the archive with its slug and how many articles it shows (those
    withdrawn from public view left out), the largest first (articles without a section as
    section None)."""
    conn = connect_reader(db_path)
    try:
        rows = conn.execute(
            f"select section_slug, max(section), count(*) from {ARTICLES} where id not in "
            "(select value from json_each(?)) group by section_slug order by 3 desc, 1",
            [json.dumps(sorted(withdrawn_ids(conn)))],
        ).fetchall()
    finally:
        conn.close()
    return [{"section": name, "slug": slug, "articles": count} for slug, name, count in rows]
