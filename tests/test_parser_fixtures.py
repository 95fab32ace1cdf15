"""Every saved input gives exactly its expected output (python -m tests.fixtures.save)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from crawler.parsers import parse_articles

PAGES = Path(__file__).parent / "fixtures" / "pages"
FIXTURES = sorted(p.name for p in PAGES.iterdir() if (p / "expected.json").exists())


def load(name: str) -> tuple[bytes, str, datetime | None, dict | list]:
    folder = PAGES / name
    (source,) = folder.glob("input.*")
    fetched = folder / "fetched_at.txt"
    return (
        source.read_bytes(),
        (folder / "url.txt").read_text().strip(),
        datetime.fromisoformat(fetched.read_text().strip()) if fetched.exists() else None,
        json.loads((folder / "expected.json").read_text(encoding="utf-8")),
    )


def test_the_corpus_covers_every_source():
    assert len(FIXTURES) >= 40
    kinds = {next((PAGES / n).glob("input.*")).suffix for n in FIXTURES}
    assert kinds == {".html", ".xml", ".json"}


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_parses_to_expected(name):
    body, url, fetched_at, expected = load(name)
    articles = parse_articles(body, url, fetched_at)
    assert articles == (expected if isinstance(expected, list) else [expected])


NOT_ARTICLES = {
    "listing-chile": "listing page",
    "cloudflare-block": "cloudflare-block",
    "cloudflare-challenge": "cloudflare-challenge",
    "cloudflare-1020": "cloudflare-block",
    "not-found": "not found page",
    "empty": "empty page",
    "html-empty-body": "empty page",
    "truncated": "truncated page",
    "tag-page": "tag page",
    "author-page": "author page",
    "search-page": "search page",
}


@pytest.mark.parametrize("name, reason", sorted(NOT_ARTICLES.items()))
def test_non_articles_say_why(name, reason):
    body, url, _, _ = load(name)
    (article,) = parse_articles(body, url)
    assert article["is_article"] is False
    assert article["reason"] == reason
    assert article["title"] is None and article["body"] is None
