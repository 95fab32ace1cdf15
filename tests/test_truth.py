"""The parser against what a reader sees: one test per page (feed item, REST post), naming
every field it gets wrong; the expected values written by hand in tests/fixtures/truth.py
(never generated from the parser)."""

from __future__ import annotations

import pytest

from crawler.parsers import parse_articles
from tests.fixtures.truth import TRUTH, misses
from tests.test_parser_fixtures import load


def parsed(key: str) -> dict:
    name, _, which = key.partition("#")  # a post id, or part of its URL
    body, url, fetched_at, _ = load(name)
    articles = parse_articles(body, url, fetched_at)
    if not which:
        (article,) = articles
        return article
    (article,) = [
        a for a in articles if (a["wp_id"] == int(which) if which.isdigit() else which in a["url"])
    ]
    return article


def test_the_truth_covers_thirty_pages_feed_items_and_rest_posts():
    pages = {key for key in TRUTH if "#" not in key}
    assert len(TRUTH) >= 30
    assert any(key.startswith("feed-") for key in TRUTH)
    assert any(key.startswith("rest-") for key in TRUTH)
    assert len(pages) >= 25


@pytest.mark.parametrize("key", sorted(TRUTH))
def test_article_is_what_the_reader_sees(key):
    article = parsed(key)
    assert article["is_article"] is True
    wrong = [
        miss for field, want in sorted(TRUTH[key].items()) for miss in misses(article, field, want)
    ]
    assert wrong == []
