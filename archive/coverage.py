"""How complete the archive is, as a reader says it: "304,812 of the 305,020 articles the site
lists (99.93%)", by section and by publication year; and what the site took down (removed) or
an archivist withdrew. Read from the last complete audit (archive.listings). Read-only."""

from __future__ import annotations

import sqlite3

from archive.listings import COMPLETE, current_audit_start
from archive.schema import ARTICLES, AUDITS, LISTINGS, SITE_COUNTS

SHOWN = 20  # removed articles and missing URLs listed by status (all: the views)

# a listed URL's path (past "scheme://host"), and its first segment: El Ciudadano's
# permalinks start with the section
_PATH_SQL = "substr(url, instr(substr(url, 9), '/') + 8) AS path"
_SECTION_SQL = "substr(path, 2, instr(substr(path, 2), '/') - 1)"


def percent(part: int, whole: int) -> str:
    """99.93%: two decimals, rounded down (a single missing article never shows 100.00%)."""
    if not whole:
        return "-"
    return f"{int(part * 10000 / whole) / 100:.2f}%"


def coverage(conn: sqlite3.Connection) -> dict | None:
    """The archive against the last complete audit ("audit": None when there is none yet);
    removed and withdrawn articles are counted whether or not there was an audit. None for an
    archive of a schema before the record (it gets it at its next crawl)."""
    try:
        return _coverage(conn)
    except sqlite3.OperationalError:
        return None


def _coverage(conn: sqlite3.Connection) -> dict:
    report: dict = {
        "removed": _removed(conn),
        "withdrawn": _count(
            conn, f"select count(*) from {ARTICLES} where withdrawn_at is not null"
        ),
    }
    start = current_audit_start(conn)
    if start is None:
        return report | {"audit": None}
    audit_id, finished = conn.execute(
        f"select id, finished_at from {AUDITS} where started_at = ? and status = ?",
        [start, COMPLETE],
    ).fetchone()
    listed = _count(conn, f"select count(*) from {LISTINGS} where last_listed >= ?", start)
    missing = _count(conn, "select count(*) from missing_articles")
    site_total = conn.execute(
        f"select count from {SITE_COUNTS} where audit_id = ? and kind = 'total'", [audit_id]
    ).fetchone()
    return report | {
        "audit": {"id": audit_id, "started_at": start, "finished_at": finished},
        "listed": listed,
        "archived": listed - missing,
        "missing": missing,
        "percent": percent(listed - missing, listed),
        "site_total": site_total[0] if site_total else None,
        "missing_newest": [
            url
            for (url,) in conn.execute(
                "select url from missing_articles order by unixepoch(lastmod) desc nulls last, url "
                "limit ?",
                [SHOWN],
            )
        ],
        "by_section": _by_section(conn, start),
        "by_year": _by_year(conn, audit_id),
    }


def _count(conn: sqlite3.Connection, sql: str, *params) -> int:
    return conn.execute(sql, params).fetchone()[0]


def _by_section(conn: sqlite3.Connection, start: str) -> list[dict]:
    """Listed and archived URLs by the section their URL starts with, most listed first."""
    rows = conn.execute(
        f"with listed as (select url, {_PATH_SQL} from {LISTINGS} where last_listed >= ?), "
        "missing as (select url from missing_articles) "
        f"select {_SECTION_SQL} as slug, count(*), count(*) - count(m.url) from listed "
        "left join missing m using (url) group by slug order by count(*) desc, slug",
        [start],
    )
    return [
        {"section": slug, "listed": n, "archived": have, "percent": percent(have, n)}
        for slug, n, have in rows
    ]


def _by_year(conn: sqlite3.Connection, audit_id: int) -> list[dict]:
    """The REST API's count of the posts published each year against the archive's articles
    of that year (both in Santiago time), newest year first."""
    rows = conn.execute(
        f"select c.key, c.count, (select count(*) from {ARTICLES} a where a.year = "
        f"cast(c.key as integer) and a.removed_at is null) from {SITE_COUNTS} c "
        "where c.audit_id = ? and c.kind = 'year' order by c.key desc",
        [audit_id],
    )
    return [
        {"year": int(year), "site": n, "archived": have, "percent": percent(have, n)}
        for year, n, have in rows
        if n or have
    ]


def _removed(conn: sqlite3.Connection) -> dict:
    rows = conn.execute(
        f"select url, title, missing_since, removed_at, removal_reason from {ARTICLES} "
        "where removed_at is not null order by removed_at desc limit ?",
        [SHOWN],
    ).fetchall()
    keys = ("url", "title", "missing_since", "removed_at", "reason")
    return {
        "count": _count(conn, f"select count(*) from {ARTICLES} where removed_at is not null"),
        "newest": [dict(zip(keys, row, strict=False)) for row in rows],
    }


def headline(report: dict) -> str:
    """'coverage: 304,812 of the 305,020 articles the site lists (99.93%)' and what follows."""
    line = (
        f"coverage: {report['archived']:,} of the {report['listed']:,} articles the site "
        f"lists ({report['percent']}), by the audit of {report['audit']['started_at']}"
    )
    if report["missing"]:
        line += f"; {report['missing']:,} missing (the missing_articles table)"
    return line


def render(report: dict | None) -> list[str]:
    """Lines for `ciudadano status`."""
    if report is None:
        return []
    lines = []
    if report["audit"] is None:
        lines.append("coverage: unknown (no complete audit yet: run ciudadano audit)")
    else:
        lines.append(headline(report))
        if report["site_total"] is not None:
            lines.append(f"  the REST API counts {report['site_total']:,} published posts")
        if report["by_year"]:
            lines.append(
                "  by year: "
                + ", ".join(
                    f"{y['year']} {y['archived']:,} of {y['site']:,} ({y['percent']})"
                    for y in report["by_year"]
                )
            )
        lines.append(
            "  by section: "
            + ", ".join(
                f"{s['section']} {s['archived']:,} of {s['listed']:,} ({s['percent']})"
                for s in report["by_section"]
            )
        )
    removed = report["removed"]
    if removed["count"]:
        lines.append(
            f"removed from the site: {removed['count']:,} articles, kept here "
            "(the removed_articles table)"
        )
        lines += [
            f"  removed since {r['removed_at']}: {r['url']} ({r['reason']}; not listed "
            f"since {r['missing_since']})"
            for r in removed["newest"]
        ]
    if report["withdrawn"]:
        lines.append(
            f"withdrawn from public view: {report['withdrawn']:,} articles "
            "(the withdrawn_articles table)"
        )
    return lines
