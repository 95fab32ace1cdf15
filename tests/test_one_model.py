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
            {"published_date": "21/11/2025"},
            "invalid: published_date: not a day (YYYY-MM-DD): '21/11/2025'",
        ),
        ({"title": None}, "missing title"),
    ],
)
def test_a_crawled_article_breaking_a_rule_is_a_failure_with_the_rule(changes, reason):
    result = ValidatePipeline().process_item(crawled(**changes))
    assert isinstance(result, Failure)
    assert result["reason"] == reason


def test_an_optional_field_breaking_its_rule_is_left_empty_and_the_article_kept():
    # a javascript: image or a language the archive does not know must not lose the article
    article = crawled(image_url="javascript:alert(1)", language="pt", embeds=["file:///x"])
    result = ValidatePipeline().process_item(article)
    assert isinstance(result, Article)
    assert result["image_url"] is None and result["language"] is None
    assert result["embeds"] == []
    assert result["title"] == (
        "Kast sella alianza ideológica con Milei a semanas de la segunda vuelta"
    )


def test_a_control_character_in_a_page_never_reaches_the_archive():
    # a stray backspace in the headline: kept, it broke every Atom feed the article was in
    page = (PAGE / "input.html").read_bytes().replace(b"Kast sella", b"Kast\x08 sella")
    article = parse_article(page, (PAGE / "url.txt").read_text().strip())
    assert article["title"] == (
        "Kast sella alianza ideológica con Milei a semanas de la segunda vuelta"
    )
