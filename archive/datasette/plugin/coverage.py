"""Coverage at a glance (/-/cobertura/DB, ?section=SLUG for one section): the articles per month
as a chart drawn here (inline SVG, nothing loaded), the months without any article marked as
gaps, the removed articles in each month, and the site's own counts beside ours when an audit
has read them (archive.coverage)."""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import Counter
from datetime import datetime

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.dates import SANTIAGO, month_label, number
from archive.schema import ARTICLES, FTS_SECTION, KEY_ID_BITS, section_match

ROUTE = r"^/-/cobertura/(?P<database>[^/]+)$"
WIDTH, HEIGHT, AXIS = 880, 240, 8  # the chart's drawing units (it scales to the page)


def _months(conn: sqlite3.Connection, section: str | None) -> list[tuple[str, int, int]]:
    """(YYYY-MM, articles, of which removed from the site), oldest first; withdrawn articles
    are not counted. Read off indexes: the publication days' for the whole archive, the
    full-text index's keys (in publication order, the section one of its columns) for a
    section; the removed and withdrawn, few, by their partial indexes."""
    if section:
        counts = _section_months(conn, section)
    else:
        counts = Counter(
            dict(
                conn.execute(
                    f"select substr(published_date, 1, 7), count(*) from {ARTICLES} "
                    "where published_date is not null group by 1"
                )
            )
        )
    columns = {row[1] for row in conn.execute(f"pragma table_info({ARTICLES})")}
    removed: Counter = Counter()
    for column, tally in (("removed_at", removed), ("withdrawn_at", None)):
        if column not in columns:
            continue
        # (+: by the column's partial index, not the section's)
        where = f"{column} is not null" + (" and +section_slug = ?" if section else "")
        for month, n in conn.execute(
            f"select substr(published_date, 1, 7), count(*) from {ARTICLES} where {where} "
            "group by 1",
            [section] if section else [],
        ):
            if tally is None:
                counts[month] -= n  # withdrawn: not shown
            else:
                tally[month] += n
    return [(m, n, removed[m]) for m, n in sorted(counts.items()) if m and n > 0]


def _section_months(conn: sqlite3.Connection, section: str) -> Counter:
    """Articles of a section per month in Santiago, from the full-text index's keys."""
    keys = conn.execute(
        f"select rowid from {ARTICLES}_fts where {ARTICLES}_fts match ?",
        [f"{{{FTS_SECTION}}} : {section_match(section)}"],
    ).fetchall()
    if not keys:
        return Counter()
    instants = sorted(key >> KEY_ID_BITS for (key,) in keys)
    first = datetime.fromtimestamp(instants[0], SANTIAGO)
    last = datetime.fromtimestamp(instants[-1], SANTIAGO)
    months = _every_month(f"{first:%Y-%m}", f"{last:%Y-%m}")
    starts = [datetime(int(m[:4]), int(m[5:]), 1, tzinfo=SANTIAGO).timestamp() for m in months]
    counts: Counter = Counter()
    for i, month in enumerate(months):
        low = bisect_left(instants, starts[i])
        high = bisect_left(instants, starts[i + 1]) if i + 1 < len(starts) else len(instants)
        counts[month] = high - low
    return counts


def _every_month(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _sections(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(name, slug, articles) of every section, most first: counted off the index on
    section_slug, each named by one of its articles."""
    counted = conn.execute(
        f"select section_slug, count(*) from {ARTICLES} "
        "where section_slug is not null group by 1 order by 2 desc"
    ).fetchall()
    return [
        (
            conn.execute(
                f"select section from {ARTICLES} where section_slug = ? limit 1", [slug]
            ).fetchone()[0]
            or slug,
            slug,
            n,
        )
        for slug, n in counted
    ]


def _site(conn: sqlite3.Connection) -> dict | None:
    """archive.coverage's report when the archive has the record's tables, else None."""
    try:
        from archive.coverage import coverage
    except ImportError:
        return None
    return coverage(conn)


def _read(conn: sqlite3.Connection, section: str | None) -> dict:
    return {"months": _months(conn, section), "sections": _sections(conn), "site": _site(conn)}


def chart(months: list[tuple[str, int, int]]) -> tuple[Markup, list[str], list[dict]]:
    """The SVG bar chart of articles per month, the months with none (gaps), and the rows of
    its table."""
    if not months:
        return Markup(""), [], []
    counts = {m: (n, removed) for m, n, removed in months}
    every = _every_month(months[0][0], months[-1][0])
    top = max(n for _, n, _ in months) or 1
    step = WIDTH / len(every)
    bars, gaps, rows = [], [], []
    for i, month in enumerate(every):
        n, removed = counts.get(month, (0, 0))
        x = i * step
        label = f"{month_label(month)}: {number(n)} artículos"
        if removed:
            label += f", {number(removed)} retirados del sitio"
        rows.append({"month": month_label(month), "n": number(n), "removed": number(removed)})
        if n == 0:
            gaps.append(month)
            bars.append(
                f'<rect class="hueco" x="{x:.2f}" y="{HEIGHT - 6}" width="{max(step, 2):.2f}"'
                f' height="6"><title>{escape(month_label(month))}: ningún artículo'
                "</title></rect>"
            )
            continue
        height = max(1.0, (HEIGHT - 10) * n / top)
        bars.append(
            f'<rect class="barra" x="{x:.2f}" y="{HEIGHT - height:.2f}" '
            f'width="{max(step - 0.5, 0.8):.2f}" height="{height:.2f}">'
            f"<title>{escape(label)}</title></rect>"
        )
        if removed:
            part = max(1.0, (HEIGHT - 10) * removed / top)
            bars.append(
                f'<rect class="retirado" x="{x:.2f}" y="{HEIGHT - part:.2f}" '
                f'width="{max(step - 0.5, 0.8):.2f}" height="{part:.2f}"/>'
            )
    years = [(i, m[:4]) for i, m in enumerate(every) if m.endswith("-01") or i == 0]
    spacing = max(1, len(years) // 11)  # at most a dozen labels
    shown = years[::spacing]
    ticks = "".join(
        f'<line x1="{i * step:.2f}" x2="{i * step:.2f}" y1="{HEIGHT}" y2="{HEIGHT + 6}"/>'
        for i, _ in shown
    )
    # the years under the ticks, in HTML: text inside the chart would be stretched with it;
    # each centred on its tick but the first; every other one hidden on a narrow screen
    odd = ' class="impar"'
    labels = "".join(
        f'<span{odd if j % 2 else ""} style="left: {100 * i / len(every):.2f}%">{year}</span>'
        for j, (i, year) in enumerate(shown)
    )
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT + AXIS}" role="img" '
        'aria-labelledby="grafico-titulo grafico-desc" preserveAspectRatio="none" '
        'class="grafico">'
        f'<title id="grafico-titulo">Artículos archivados por mes, de '
        f"{escape(month_label(every[0]))} a {escape(month_label(every[-1]))}</title>"
        f'<desc id="grafico-desc">Un mes con más artículos tiene una barra más alta; el '
        f"máximo es {number(top)}. Los meses sin artículos se marcan en ámbar bajo el eje. "
        "La tabla bajo el gráfico tiene las mismas cifras.</desc>"
        f'<line class="eje" x1="0" x2="{WIDTH}" y1="{HEIGHT}" y2="{HEIGHT}"/>'
        + "".join(bars)
        + f"<g>{ticks}</g></svg>"
        + f'<div class="anios" aria-hidden="true">{labels}</div>'
    )
    return Markup(svg), gap_runs(gaps), rows


def gap_runs(months: list[str]) -> list[str]:
    """Months without an article as a reader lists them: runs of consecutive months as one
    range ("abril de 2015 a marzo de 2017, 24 meses"), a lone month by itself."""
    runs: list[list[str]] = []
    for month in months:
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return [
        month_label(run[0])
        if len(run) == 1
        else f"{month_label(run[0])} a {month_label(run[-1])} ({len(run)} meses)"
        for run in runs
    ]


def _next_month(month: str) -> str:
    year, number_ = int(month[:4]), int(month[5:])
    return f"{year + number_ // 12}-{number_ % 12 + 1:02d}"


def percent_label(text: str) -> str:
    """'99.93%' -> '99,9 %', '90.00%' -> '90 %': as Chile writes a share, at most one decimal,
    the sign after a non-breaking space (a table cell never breaks inside it)."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        return text
    shown = f"{value:.1f}".removesuffix(".0").replace(".", ",")
    return f"{shown}\u00a0%"


async def coverage_page(datasette, request):
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no hay un archivo llamado {database}") from None
    section = (request.args.get("section") or "").strip() or None
    data = await db.execute_fn(lambda conn: _read(conn, section))
    svg, gaps, rows = chart(data["months"])
    total = sum(n for _, n, _ in data["months"])
    removed = sum(r for _, _, r in data["months"])
    names = {slug: name for name, slug, _ in data["sections"]}
    if section and section not in names:
        raise NotFound(f"no hay una sección {section!r} en el archivo")
    return Response.html(
        await datasette.render_template(
            "ciudadano_coverage.html",
            {
                "database": database,
                "svg": svg,
                "gaps": gaps,
                "rows": rows,
                "total": number(total),
                "removed": number(removed),
                "section": section,
                "section_name": names.get(section),
                "sections": [
                    {"name": n, "slug": s, "count": number(c)} for n, s, c in data["sections"]
                ],
                "site": _site_rows(data["site"], names),
                "gap_months": number(sum(1 for r in rows if r["n"] == "0")),
            },
            request=request,
        )
    )


def _site_rows(report: dict | None, names: dict[str, str]) -> dict | None:
    """The site's counts beside ours, as the page shows them; None without an audit."""
    if not report or not report.get("audit"):
        return None
    return {
        "listed": number(report["listed"]),
        "archived": number(report["archived"]),
        "missing": number(report["missing"]),
        "percent": percent_label(report["percent"]),
        "site_total": number(report["site_total"]) if report["site_total"] is not None else None,
        "by_year": [
            {
                **y,
                "site": number(y["site"]),
                "archived": number(y["archived"]),
                "percent": percent_label(y["percent"]),
            }
            for y in report["by_year"]
        ],
        "by_section": [
            {
                **s,
                "section": names.get(s["section"], s["section"]),
                "listed": number(s["listed"]),
                "archived": number(s["archived"]),
                "percent": percent_label(s["percent"]),
            }
            for s in report["by_section"]
        ],
        "missing_newest": report["missing_newest"],
    }
