"""The same post read from its page, the RSS feed and the REST API comes out the same."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from ciudadano.cli import main
from crawler.parsers import parse_article, parse_articles
from standin.articles import ARTICLES
from standin.server import StandInSite

LIVE = "https://www.elciudadano.com"
# What the RSS feed does not carry: no modification date, no image.
NOT_IN_FEED = {"modified", "image_url"}


def body_of(site: StandInSite, path: str) -> bytes:
    status, _, body, _ = site.respond(path)
    if status == 503:  # the stand-in's flaky page: ask again
        status, _, body, _ = site.respond(path)
    return body.encode()


@pytest.fixture(scope="module")
def sources():
    site = StandInSite()  # only its responses are used: nothing is served
    pages = {
        a["wp_id"]: parse_article(body_of(site, a["path"]), LIVE + a["path"]) for a in ARTICLES
    }
    feed = [
        item
        for page in (1, 2, 3)
        for item in parse_articles(body_of(site, f"/feed/?paged={page}"), LIVE + "/feed/")
    ]
    rest = parse_articles(
        body_of(site, "/wp-json/wp/v2/posts?per_page=100"),
        LIVE + "/wp-json/wp/v2/posts?per_page=100",
    )
    return pages, {a["wp_id"]: a for a in feed}, {a["wp_id"]: a for a in rest}


def comparable(article: dict) -> dict:
    return {k: v for k, v in article.items() if k != "provenance"}


@pytest.mark.parametrize(
    "post", [a for a in ARTICLES if a.get("template") != "nodate"], ids=lambda a: a["key"]
)
def test_page_feed_and_rest_agree(sources, post):
    pages, feed, rest = sources
    page = comparable(pages[post["wp_id"]])
    from_rest = comparable(rest[post["wp_id"]])
    if post.get("template") == "old":  # the 2010s template shows no modification date
        assert page.pop("modified") is None
        assert from_rest.pop("modified") == from_rest["published"]
    assert from_rest == page
    from_feed = comparable(feed[post["wp_id"]])
    for name in NOT_IN_FEED:
        assert from_feed.pop(name) is None
        page.pop(name, None)
    if from_feed["subtitle"] is None:  # a standfirst the body does not repeat is not in the feed
        page.pop("subtitle"), from_feed.pop("subtitle")
    assert from_feed == page


def test_every_source_says_where_fields_came_from(sources):
    pages, feed, rest = sources
    seed = ARTICLES[0]["wp_id"]
    assert pages[seed]["provenance"]["title"] == "json-ld"
    assert feed[seed]["provenance"]["body"] == "feed:content:encoded"
    assert rest[seed]["provenance"]["published"] == "rest:date_gmt"


def test_a_page_that_lost_its_date_is_dated_by_the_rest_api(sources):
    pages, _, rest = sources
    broken = next(a for a in ARTICLES if a.get("template") == "nodate")
    assert pages[broken["wp_id"]]["published"] is None
    assert rest[broken["wp_id"]]["published"] == "2025-01-10T12:00:00-03:00"


def test_parse_prints_one_line_per_feed_item(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(body_of(StandInSite(), "/feed/"))
    result = CliRunner().invoke(main, ["parse", str(feed), "--url", LIVE + "/feed/"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and all(a["is_article"] for a in lines)


def test_parse_warns_on_stderr_for_each_field_left_empty(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(body_of(StandInSite(), "/feed/"))
    result = CliRunner().invoke(main, ["parse", str(feed), "--url", LIVE + "/feed/"])
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    first = json.loads(result.stdout.splitlines()[0])
    for name in ("modified", "image_url"):
        assert f"warning: {first['url']}: no {name} found" in warnings


def test_a_date_that_disagrees_with_the_url_is_reported(caplog):
    post = ARTICLES[0]
    page = body_of(StandInSite(), post["path"]).replace(
        b'"datePublished": "2025-11-21T10:15:00-03:00"',
        b'"datePublished": "2025-11-25T10:15:00-03:00"',
    )
    with caplog.at_level(logging.WARNING, logger="crawler.parsers.normalize"):
        article = parse_article(page, LIVE + post["path"])
    assert article["published_date"] == "2025-11-25"
    assert "disagrees with the URL's month/day 11/21" in caplog.text
