"""The drift alarm: a run whose share of articles with their title, body or date from the
theme's own markup (crawler.drift counts them) falls sharply against the recent runs says so,
in its summary line, in the `runs` table (`warning`) and in `ciudadano status`: the theme has
probably changed, and articles are being read by the fallbacks meanwhile."""

from __future__ import annotations

import json
import sqlite3
from statistics import median

from archive import outcomes as o

RECENT_RUNS = 5  # the runs a share is compared with (their median)
MIN_ARTICLES = 5  # a run that read fewer articles from their pages tells nothing
FALL = 0.3  # a fall of this much in a share (0.95 -> 0.65) raises the alarm
LABELS = {"title": "titles", "body": "bodies", "published": "dates"}


def shares(stats: dict) -> dict[str, float] | None:
    """Each watched field's share of articles from the theme's markup; None for a run that
    read too few articles from their pages to say."""
    read = stats.get(o.THEME_READ) or 0
    if read < MIN_ARTICLES:
        return None
    return {field: (stats.get(o.from_theme(field)) or 0) / read for field in o.THEME_FIELDS}


def warning(db: sqlite3.Connection, run_id: int, stats: dict) -> str | None:
    """The alarm for run_id's stats against the runs before it, or None."""
    now = shares(stats)
    if now is None:
        return None
    recent = []
    for (text,) in db.execute(
        "select stats from runs where id < ? and status = ? and stats is not null "
        "order by id desc limit ?",
        [run_id, o.FINISHED, RECENT_RUNS * 4],
    ):
        try:
            before = shares(json.loads(text))
        except (TypeError, ValueError):
            continue
        if before is not None:
            recent.append(before)
        if len(recent) == RECENT_RUNS:
            break
    if not recent:
        return None
    falls = []
    for field in o.THEME_FIELDS:
        usual = median(run[field] for run in recent)
        if usual - now[field] >= FALL:
            falls.append(f"{LABELS[field]} {now[field]:.0%} (recent runs {usual:.0%})")
    if not falls:
        return None
    return (
        "the site's markup may have changed: read from the theme's own markup: "
        + ", ".join(falls)
        + "; articles are being read by the fallbacks"
    )
