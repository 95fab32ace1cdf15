"""Every saved page gives exactly its expected article (regenerate: python -m tests.fixtures.save)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.parsers import parse_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
FIXTURES = sorted(p.name for p in PAGES.iterdir() if (p / "expected.json").exists())


def load(name: str) -> tuple[bytes, str, dict]:
    folder = PAGES / name
    return (
        (folder / "input.html").read_bytes(),
        (folder / "url.txt").read_text().strip(),
        json.loads((folder / "expected.json").read_text(encoding="utf-8")),
    )


def test_the_corpus_is_there():
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_parses_to_expected(name):
    body, url, expected = load(name)
    assert parse_article(body, url) == expected


@pytest.mark.parametrize("name", ["listing-chile", "cloudflare-block", "cloudflare-challenge",
                                  "not-found", "empty"])
def test_non_articles_say_why(name):
    body, url, _ = load(name)
    article = parse_article(body, url)
    assert article["is_article"] is False
    assert article["reason"]
    assert article["title"] is None and article["body"] is None
