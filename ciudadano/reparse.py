"""`ciudadano reparse`: the articles rebuilt from the pages the archive kept, with the current
parser and no network. What REST or the feed gave (exact dates, ids) stays; what the page
gives is read again. An article whose page was never kept (read from REST or the feed alone)
is left as it is. A field that changes keeps the article's previous version among its
versions, as a changed page would."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive.db import CrawlLock
from archive.filters import Slice
from archive.model import article_problems
from archive.raw import latest_page
from archive.schema import ARTICLE_FIELDS, ARTICLES, PAGE_ONLY_FIELDS
from archive.store import CHANGED, Archive

JSON_FIELDS = {f.name for f in ARTICLE_FIELDS if f.type in (list, dict)}
COMPARED = [f.name for f in ARTICLE_FIELDS if f.name not in PAGE_ONLY_FIELDS]
PROGRESS_EVERY = 500  # articles between two progress reports (and one at the end)


@dataclass
class ReparseReport:
    articles: int = 0
    changed: int = 0
    unchanged: int = 0
    without_page: int = 0
    not_articles: list[str] = field(default_factory=list)  # pages that no longer parse as one
    fields: Counter = field(default_factory=Counter)  # field -> articles where it changed

    def summary(self) -> str:
        text = (
            f"{self.articles} articles: {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.without_page} without a kept page (left as they were)"
        )
        if self.not_articles:
            text += f", {len(self.not_articles)} pages no longer read as articles (kept)"
        if self.fields:
            text += "; fields changed: " + ", ".join(
                f"{name} {count}" for name, count in self.fields.most_common()
            )
        return text


def reparse(
    db_path: str | Path,
    where: Slice | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReparseReport:
    """Every article in where rebuilt from its kept page; progress(done, total) every
    PROGRESS_EVERY articles and at the end, whatever became of each."""
    report = ReparseReport()
    with CrawlLock(db_path):  # no crawl writes meanwhile
        archive = Archive(db_path)
        try:
            clauses, params = (where or Slice()).where(ARTICLES)
            condition = (" where " + " and ".join(clauses)) if clauses else ""
            ids = [
                i
                for (i,) in archive.db.execute(
                    f"select id from {ARTICLES}{condition} order by id", params
                )
            ]
            for done, article_id in enumerate(ids, 1):
                _reparse_one(archive, article_id, report)
                if progress and (done % PROGRESS_EVERY == 0 or done == len(ids)):
                    progress(done, len(ids))
        finally:
            archive.close()
    return report


def _reparse_one(archive: Archive, article_id: int, report: ReparseReport) -> None:
    """One article rebuilt from its latest kept page, and counted in report."""
    from crawler.parsers import parse_article
    from crawler.parsers.merge import merge_stored

    columns = ", ".join(f"[{c}]" for c in COMPARED)
    row = archive.db.execute(
        f"select {columns} from {ARTICLES} where id = ?", [article_id]
    ).fetchone()
    stored = {
        name: (json.loads(value) if name in JSON_FIELDS and value else value)
        for name, value in zip(COMPARED, row, strict=False)
    }
    report.articles += 1
    page = latest_page(archive.db, stored["url"])
    if page is None:
        report.without_page += 1
        return
    final_url, _, headers, body, fetched_at = page
    content_type = (headers.get("Content-Type") or [None])[0]
    parsed = parse_article(
        body, final_url, fetched_at=datetime.fromisoformat(fetched_at), content_type=content_type
    )
    if not parsed.get("is_article"):
        report.not_articles.append(f"{stored['url']}: {parsed.get('reason')}")
        return
    article = merge_stored(parsed, stored)
    article["url"] = stored["url"]
    problems = article_problems(article)  # the archive's one model, as a crawl and an import
    if problems:  # the stored version stays
        report.not_articles.append(
            f"{stored['url']}: invalid: "
            + "; ".join(f"{name}: {wrong}" for name, wrong in problems)
        )
        return
    changed = [name for name in COMPARED if _norm(article.get(name)) != _norm(stored.get(name))]
    if not changed or archive.store_article(article) != CHANGED:
        report.unchanged += 1
    else:
        report.changed += 1
        report.fields.update(changed)


def _norm(value):
    """Stored and parsed values compared alike (None, "" and [] are all empty)."""
    return None if value in (None, "", [], {}) else value
