"""What the drift alarm counts as a run stores articles: of those read from their own page,
how many took their title, body and date from the theme's own markup (its selectors, the
page's JSON-LD and meta tags) rather than from the REST API, the feed, the sitemap's lastmod
or the generic extractor. A theme changed overnight shows as a fall in these shares
(archive.drift compares them with recent runs)."""

from __future__ import annotations

from archive import outcomes as o

# provenance sources that are not the page's own markup
ELSEWHERE = ("rest", "feed", "sitemap:", "generic:")


def count(stats, article: dict) -> None:
    """Count article (as stored) in the run's stats."""
    provenance = article.get("provenance") or {}
    if provenance.get("page"):  # stored without its page (blocked, failed): says nothing
        return
    stats.inc_value(o.THEME_READ)
    for field in o.THEME_FIELDS:
        source = str(provenance.get(field) or "")
        if source and not source.startswith(ELSEWHERE):
            stats.inc_value(o.from_theme(field))
