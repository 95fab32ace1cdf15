"""One article model for every writer: a crawled article breaking a rule the importer enforces
(archive/model.py) is not stored either, and says why. Values written by hand below."""

from pathlib import Path

import pytest

from crawler.items import Article, Failure
from crawler.parsers import parse_article
from crawler.pipelines import ValidatePipeline

PAGE = Path(__file__).parent / "fixtures" / "pages" / "seed-kast-milei"


def crawled(**changes) -> Article:
    article = parse_article(
        (PAGE / "input.html").read_bytes(), (PAGE / "url.txt").read_text().strip()
    )
    article.update(changes)
    return Article(**{name: value for name, value in article.items() if name in Article.fields})


def test_a_crawled_article_that_keeps_the_rules_is_stored():
    assert isinstance(ValidatePipeline().process_item(crawled()), Article)


@pytest.mark.parametrize(
    "changes, reason",
    [
        (
            {"image_url": "javascript:alert(1)"},
            "invalid: image_url: not an http(s) URL: 'javascript:alert(1)'",
        ),
        ({"title": None}, "missing title"),
    ],
)
def test_a_crawled_article_breaking_a_rule_is_a_failure_with_the_rule(changes, reason):
    result = ValidatePipeline().process_item(crawled(**changes))
    assert isinstance(result, Failure)
    assert result["reason"] == reason
