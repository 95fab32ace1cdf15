"""`ciudadano status`: what the operator asks in the morning. Read-only."""

from __future__ import annotations

import json
from pathlib import Path

from archive import outcomes as o
from archive.coverage import coverage
from archive.coverage import render as render_coverage
from archive.db import connect_reader
from archive.images import IMAGE, STYLESHEET, media_totals
from archive.schema import ARTICLES, FAILURES, RETRIES, RUNS


def status(db_path: str | Path, runs: int = 5) -> dict:
    """The archive's state: its articles, the last runs, the failures of the last run, and
    whether the last run was blocked and what it fell back to."""
    conn = connect_reader(db_path)
    try:
        count, newest, newest_url = conn.execute(
            f"select count(*), max(published), (select url from {ARTICLES} order by published "
            f"desc limit 1) from {ARTICLES}"
        ).fetchone()
        page_only = conn.execute(
            f"select count(*) from {ARTICLES} where json_extract(provenance, '$.page') is not null"
        ).fetchone()[0]
        waiting, given_up = conn.execute(
            f"select count(*) filter (where given_up = 0), count(*) filter (where given_up = 1) "
            f"from {RETRIES}"
        ).fetchone()
        recent = [
            _run(row)
            for row in conn.execute(
                f"select id, started_at, finished_at, status, exit_status, articles_new, "
                f"articles_changed, articles_unchanged, failures, stats from {RUNS} "
                "order by id desc limit ?",
                [runs],
            )
        ]
        failures = []
        if recent:
            failures = [
                {"url": u, "reason": r, "status": s}
                for u, r, s in conn.execute(
                    f"select url, reason, status from {FAILURES} where run_id = ? order by id",
                    [recent[0]["id"]],
                )
            ]
        media = media_totals(conn)
        record = coverage(conn)
    finally:
        conn.close()
    return {
        "archive": str(db_path),
        "articles": count,
        "newest_published": newest,
        "newest_url": newest_url,
        "articles_without_page": page_only,
        "pages_to_retry": waiting,
        "pages_given_up": given_up,
        "runs": recent,
        "last_run_failures": failures,
        "images": media[IMAGE],
        "stylesheets": media[STYLESHEET],
        "coverage": record,
    }


def _run(row) -> dict:
    (run_id, started, finished, state, exit_status, new, changed, unchanged, failures, stats) = row
    stats = json.loads(stats) if stats else {}
    get = o.reader(stats)
    blocked = get(o.BLOCKED, o.DISCOVERY_BLOCKED)
    if get(o.REST_FAILED):
        fallback = "sitemaps and feed (the REST API did not answer)"
    elif get(o.ARCHIVED_WITHOUT_PAGE):
        fallback = "the REST API or feed without pages (pages blocked)"
    else:
        fallback = None
    return {
        "id": run_id,
        "started_at": started,
        "finished_at": finished,
        "status": state,
        "exit_status": exit_status,
        "new": new,
        "changed": changed,
        "unchanged": unchanged,
        "not_fetched_unchanged": get(o.SKIPPED_UNCHANGED),
        "failures": failures,
        "blocked_pages": blocked,
        "fell_back_to": fallback,
        "images_not_kept": stats.get(o.media(IMAGE, o.MEDIA_FAILED), 0),
        "warning": stats.get(o.DRIFT_WARNING),
    }


def _size(count: int) -> str:
    """Bytes as a reader says them: 681 bytes, 109 KB, 1.2 MB, 3.4 GB."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if count >= scale:
            return (
                f"{count / scale:.1f} {unit}"
                if count < 10 * scale
                else f"{count // scale:,} {unit}"
            )
    return f"{count} bytes"


def render(report: dict) -> str:
    lines = [
        f"archive {report['archive']}: {report['articles']} articles, newest published "
        f"{report['newest_published'] or '-'}",
    ]
    if report["articles_without_page"]:
        lines.append(
            f"  {report['articles_without_page']} articles read without their page "
            "(blocked); later runs fetch their pages"
        )
    if report["pages_to_retry"] or report["pages_given_up"]:
        lines.append(
            f"  {report['pages_to_retry']} failed pages to be tried again by later runs, "
            f"{report['pages_given_up']} given up (the retries table)"
        )
    images, sheets = report["images"], report["stylesheets"]
    lines.append(
        f"  {images['count']} images kept ({_size(images['bytes'])}), "
        f"{sheets['count']} stylesheets ({_size(sheets['bytes'])})"
    )
    lines += render_coverage(report["coverage"])
    lines.append("runs (newest first):")
    if not report["runs"]:
        lines.append("  none yet")
    for run in report["runs"]:
        line = (
            f"  #{run['id']} {run['started_at']}  {run['status']}"
            + (f" (exit {run['exit_status']})" if run["exit_status"] is not None else "")
            + f"  {run['new'] or 0} new, {run['changed'] or 0} changed, "
            f"{run['not_fetched_unchanged']} not fetched (unchanged), "
            f"{run['failures'] or 0} failures"
        )
        if run["blocked_pages"]:
            line += f", {run['blocked_pages']} pages blocked"
        if run["images_not_kept"]:
            line += f", {run['images_not_kept']} images not kept"
        if run["fell_back_to"]:
            line += f"; fell back to {run['fell_back_to']}"
        if run["warning"]:
            line += f"; warning: {run['warning']}"
        lines.append(line)
    failures = report["last_run_failures"]
    if failures:
        lines.append(f"failures of the last run ({len(failures)}):")
        lines += [f"  {f['url']}  {f['reason']}" for f in failures[:20]]
        if len(failures) > 20:
            lines.append(f"  ... and {len(failures) - 20} more (the failures table)")
    return "\n".join(lines)
