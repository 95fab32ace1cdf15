"""Discovery without Scrapy: what a source answered goes in (bytes, or the posts its parser
read), what to fetch next comes out. Every expectation was written by reading the input."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.discovery import ARTICLE, FEED, REST, ROBOTS, SITEMAP, Discovery, Fetch, Problem
from crawler.parsers.rest import rest_posts
from crawler.sitemaps import (
    NotASitemap,
    SitemapEntry,
    SitemapTooLarge,
    iter_sitemap_entries,
)

BASE = "http://127.0.0.1:8000"
LIVE = "https://www.elciudadano.com"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def make(source="html", full=True, archived=None, **options):
    """A Discovery of BASE, counting into .counts; archived: url -> the modification time the
    archive holds it with (None: archived without a time)."""
    counts = Counter()
    archived = archived or {}

    def unchanged(url, modified, wp_id):
        if url not in archived:
            return False
        return modified is None or (archived[url] is not None and archived[url] >= modified)

    discovery = Discovery(
        BASE,
        source=source,
        full=full,
        unchanged=unchanged,
        count=lambda key: counts.update([key.removeprefix("ciudadano/")]),
        **options,
    )
    discovery.counts = counts
    return discovery


def urls(decisions) -> list[str]:
    return [d.url for d in decisions]


def urlset(*entries: tuple[str, str | None]) -> bytes:
    xml = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for loc, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{xml}</urlset>'.encode()


def read_sitemap(discovery, fetch, body, max_size=0) -> list:
    return [d for batch in discovery.sitemap(fetch, body, max_size) for d in batch]


ARTICLE_PAGE = (
    b'<!DOCTYPE html><html lang="es-CL"><head><title>Una nota | El Ciudadano</title>'
    b'<meta property="og:type" content="article"></head>'
    b'<body class="single single-post"><article><h1 class="entry-title">Una nota</h1>'
    b'<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre</time>'
    b'<div class="entry-content"><p>Texto.</p></div></article></body></html>'
)
BLOCK_PAGE = (
    b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>"
    b"<body><div id='cf-error-details'>Sorry, you have been blocked</div></body></html>"
)


# -- the start --------------------------------------------------------------------------------
def test_auto_asks_the_rest_api_first_newest_modification_first_100_a_page():
    discovery = make("auto")
    (first,) = discovery.start()
    assert first.kind == REST and first.page == 1
    parts = urlsplit(first.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE + "/wp-json/wp/v2/posts"
    assert parse_qs(parts.query) == {
        "per_page": ["100"],
        "page": ["1"],
        "_embed": ["1"],
        "orderby": ["modified"],
        "order": ["desc"],
    }
    assert discovery.counts == {"mode_full": 1}


def test_an_incremental_run_asks_only_for_what_was_modified_after_its_bound():
    (first,) = make("auto", full=False).start(modified_after="2025-11-18T09:30:00")
    assert parse_qs(urlsplit(first.url).query)["modified_after"] == ["2025-11-18T09:30:00"]


def test_a_date_range_becomes_rests_exclusive_after_and_before_in_santiago_wall_time():
    (first,) = make("auto", since="2025-03-01", until="2025-03-31").start()
    query = parse_qs(urlsplit(first.url).query)
    assert query["after"] == ["2025-02-28T23:59:59"] and query["before"] == ["2025-04-01T00:00:00"]


def test_html_reads_robots_txt_and_the_feed():
    assert [(f.kind, f.url) for f in make("html").start()] == [
        (ROBOTS, BASE + "/robots.txt"),
        (FEED, BASE + "/feed/"),
    ]


def test_given_urls_are_fetched_alone_even_when_archived_and_a_shortlink_as_it_is():
    discovery = make("auto", archived={BASE + "/chile/una-nota/11/20/": "2030-01-01"})
    fetches = discovery.start(urls=[LIVE + "/chile/una-nota/11/20/?utm_source=x", BASE + "/?p=123"])
    assert [(f.kind, f.url, f.force) for f in fetches] == [
        (ARTICLE, BASE + "/chile/una-nota/11/20/", True),
        (ARTICLE, BASE + "/?p=123", True),
    ]


def test_retries_and_listed_pages_come_before_the_sources():
    fetches = make("html").start(
        retries=[BASE + "/chile/fallida/01/01/"],
        listed=[(BASE + "/chile/listada/01/02/", "2025-01-02")],
    )
    assert [(f.kind, f.source) for f in fetches] == [
        (ARTICLE, "retry"),
        (ARTICLE, "listing"),
        (ROBOTS, None),
        (FEED, None),
    ]


# -- the REST API --------------------------------------------------------------------------------
def rest_body(*posts: tuple[int, str, str]) -> bytes:
    """A REST posts page: (id, path, modified_gmt) each, published a day before."""
    return json.dumps(
        [
            {
                "id": wp_id,
                "link": LIVE + path,
                "date_gmt": "2025-11-19T12:00:00",
                "modified_gmt": modified,
            }
            for wp_id, path, modified in posts
        ]
    ).encode()


def test_a_rest_page_schedules_its_posts_pages_but_not_those_archived_as_new():
    discovery = make("auto", archived={BASE + "/chile/vieja/11/19/": "2025-11-20T12:00:00+00:00"})
    (first,) = discovery.start()
    posts = rest_posts(
        rest_body(
            (1, "/chile/nueva/11/19/", "2025-11-20T12:00:00"),
            (2, "/chile/vieja/11/19/", "2025-11-20T12:00:00"),
        ),
        first.url,
    )
    decisions = discovery.rest(first, posts, total_pages=1)
    assert [(d.kind, d.url) for d in decisions] == [
        (FEED, BASE + "/feed/"),  # the feed waits for REST's first page
        (ARTICLE, BASE + "/chile/nueva/11/19/"),
    ]
    assert discovery.counts["skipped_unchanged"] == 1
    assert discovery.counts["scheduled/rest"] == 1
    # the post is merged with its page once, when the page is handled
    assert discovery.rest_post(BASE + "/chile/nueva/11/19/").wp_id == 1
    assert discovery.rest_post(BASE + "/chile/nueva/11/19/") is None


def test_the_next_rest_page_waits_until_few_posts_wait_for_their_page():
    discovery = make("auto")
    discovery.REST_BACKLOG = 1
    (first,) = discovery.start()
    posts = rest_posts(
        rest_body(
            (1, "/chile/a/11/19/", "2025-11-20T12:00:00"),
            (2, "/chile/b/11/19/", "2025-11-20T12:00:00"),
        ),
        first.url,
    )
    decisions = discovery.rest(first, posts, total_pages=3)
    assert REST not in [d.kind for d in decisions]  # two posts wait: more than 1
    discovery.rest_post(BASE + "/chile/a/11/19/")
    (second,) = discovery.rest_next()
    assert second.kind == REST and second.page == 2
    assert parse_qs(urlsplit(second.url).query)["page"] == ["2"]
    assert discovery.rest_next() == []  # asked once


def test_a_400_past_the_last_rest_page_is_no_failure():
    discovery = make("auto")
    page_3 = Fetch(BASE + "/wp-json/wp/v2/posts?page=3", REST, page=3)
    assert discovery.rest_failed(page_3, "HTTP 400", 400) == []
    assert discovery.rest_state == "pending" and not discovery.counts


def test_when_rest_fails_robots_and_the_feed_are_read_and_the_sitemaps_wait_for_the_feed():
    discovery = make("auto")
    (first,) = discovery.start()
    decisions = discovery.rest_failed(first, "HTTP 503", 503)
    assert [(d.kind, d.url) for d in decisions] == [
        (ROBOTS, BASE + "/robots.txt"),
        (FEED, BASE + "/feed/"),
    ]
    robots = discovery.robots(
        decisions[0], b"User-agent: *\nSitemap: " + LIVE.encode() + b"/sitemap_index.xml\n"
    )
    assert robots == []  # held: the feed has not been walked yet
    feed = Fetch(BASE + "/feed/", FEED)
    released = discovery.feed(feed, [])  # an empty feed: the walk is over
    assert [(d.kind, d.url) for d in released if isinstance(d, Fetch)] == [
        (SITEMAP, BASE + "/sitemap_index.xml")
    ]
    assert discovery.counts["rest_failed"] == 1


def test_source_api_records_a_blocked_rest_api_as_blocked_and_asks_nothing_else():
    discovery = make("api")
    (first,) = discovery.start()
    decisions = discovery.rest_failed(first, "HTTP 403", 403, BLOCK_PAGE)
    assert decisions == [Problem(first.url, "discovery: REST API: HTTP 403", 403)]
    assert discovery.counts["discovery_blocked"] == 1


# -- robots.txt and the sitemaps --------------------------------------------------------------
def test_robots_without_sitemaps_leads_to_yoast_then_core_then_a_clear_failure():
    discovery = make("html", feed_pages=0)
    (robots,) = discovery.start()
    (yoast,) = discovery.robots(robots, b"User-agent: *\nDisallow: /wp-admin/\n")
    assert (yoast.url, yoast.guessed) == (BASE + "/sitemap_index.xml", True)
    assert discovery.absent(yoast, 404)
    (core,) = discovery.failed(yoast, 404)
    assert core.url == BASE + "/wp-sitemap.xml"
    (problem,) = discovery.failed(core, 404)
    assert problem == Problem(
        BASE + "/wp-sitemap.xml",
        "discovery: no sitemap (robots.txt "
        "names none, and /sitemap_index.xml and /wp-sitemap.xml answer 404)",
        404,
    )


def test_an_index_leads_to_its_post_sitemaps_only():
    index = (
        f'<?xml version="1.0"?><sitemapindex {NS}>'
        f"<sitemap><loc>{LIVE}/post-sitemap.xml</loc></sitemap>"
        f"<sitemap><loc>{LIVE}/post-sitemap2.xml.gz</loc></sitemap>"
        f"<sitemap><loc>{LIVE}/page-sitemap.xml</loc></sitemap>"
        f"<sitemap><loc>{LIVE}/wp-sitemap-posts-post-1.xml</loc></sitemap>"
        f"<sitemap><loc>{LIVE}/wp-sitemap-taxonomies-category-1.xml</loc></sitemap>"
        "</sitemapindex>"
    ).encode()
    discovery = make("html")
    decisions = read_sitemap(discovery, Fetch(BASE + "/sitemap_index.xml", SITEMAP), index)
    assert [(d.kind, d.url) for d in decisions] == [
        (SITEMAP, BASE + "/post-sitemap.xml"),
        (SITEMAP, BASE + "/post-sitemap2.xml.gz"),
        (SITEMAP, BASE + "/wp-sitemap-posts-post-1.xml"),
    ]


def test_a_urlset_schedules_its_articles_with_their_lastmod_except_unchanged_or_too_old():
    body = urlset(
        (LIVE + "/chile/nueva/03/02/", "2025-03-02T10:00:00+00:00"),
        (LIVE + "/chile/sin-cambios/03/01/", "2025-03-01T10:00:00+00:00"),
        (LIVE + "/chile/antigua/02/27/", "2025-02-27T10:00:00+00:00"),
        (LIVE + "/chile/sin-fecha/01/01/", None),
    )
    discovery = make(
        "html",
        since="2025-03-01",
        archived={BASE + "/chile/sin-cambios/03/01/": "2025-03-01T10:00:00+00:00"},
    )
    decisions = read_sitemap(discovery, Fetch(BASE + "/post-sitemap.xml", SITEMAP), body)
    assert [(d.url, d.lastmod, d.source) for d in decisions] == [
        (BASE + "/chile/nueva/03/02/", "2025-03-02T10:00:00+00:00", "sitemap"),
        (BASE + "/chile/sin-fecha/01/01/", None, "sitemap"),
    ]
    assert discovery.counts == {"discovery_ok": 1, "scheduled/sitemap": 2, "skipped_unchanged": 1}


def test_a_gzipped_sitemap_is_read_as_the_same_sitemap():
    body = urlset((LIVE + "/chile/a/01/02/", None))
    discovery = make("html")
    decisions = read_sitemap(
        discovery, Fetch(BASE + "/post-sitemap.xml.gz", SITEMAP), gzip.compress(body)
    )
    assert urls(decisions) == [BASE + "/chile/a/01/02/"]


@pytest.mark.parametrize(
    "answer,reason",
    [
        (ARTICLE_PAGE, "discovery: not a sitemap (its root element is <html>)"),
        (BLOCK_PAGE, "discovery: cloudflare-block"),
        (b"\x1f\x8b not gzip at all", "discovery: not a sitemap (broken gzip)"),
    ],
)
def test_a_sitemap_url_that_answers_something_else_is_a_failure_and_the_next_path_is_tried(
    answer, reason
):
    # an article page at a sitemap URL made discovery raise (its parse has no "reason") and
    # stalled the sitemaps
    discovery = make("html")
    named = Fetch(BASE + "/sitemap_index.xml", SITEMAP, fallback=0)  # named by robots.txt
    problem, core = read_sitemap(discovery, named, answer)
    assert problem == Problem(BASE + "/sitemap_index.xml", reason, None)
    assert (core.kind, core.url) == (SITEMAP, BASE + "/wp-sitemap.xml")


def test_a_feed_url_that_answers_an_article_page_is_a_failure_and_releases_the_sitemaps():
    discovery = make("html")
    robots, feed = discovery.start()
    assert discovery.robots(robots, b"Sitemap: /sitemap_index.xml\n") == []  # held for the feed
    problem, sitemap = discovery.feed(feed, None, ARTICLE_PAGE)
    assert problem == Problem(BASE + "/feed/", "discovery: not an RSS feed", None)
    assert sitemap.url == BASE + "/sitemap_index.xml"
    assert discovery.counts["discovery_failed"] == 1


def test_sitemap_decisions_come_out_while_most_of_the_sitemap_is_unread():
    entries = 10 * Discovery.SITEMAP_BATCH
    sent = []

    def pieces():
        yield f'<?xml version="1.0"?><urlset {NS}>'.encode()
        for i in range(entries):
            sent.append(i)
            yield f"<url><loc>{LIVE}/chile/nota-{i}/01/01/</loc></url>".encode()
        yield b"</urlset>"

    discovery = make("html")
    batches = discovery.sitemap(Fetch(BASE + "/post-sitemap.xml", SITEMAP), pieces())
    first = next(batches)
    assert urls(first)[:2] == [BASE + "/chile/nota-0/01/01/", BASE + "/chile/nota-1/01/01/"]
    assert len(sent) < entries / 2
    batches.close()  # the crawl stops: nothing more is read
    assert len(sent) < entries / 2


def test_max_articles_stops_the_reading_of_a_sitemap():
    sent = []

    def pieces():
        yield f"<urlset {NS}>".encode()
        for i in range(100_000):
            sent.append(i)
            yield f"<url><loc>{LIVE}/chile/nota-{i}/01/01/</loc></url>".encode()
        yield b"</urlset>"

    discovery = make("html", max_articles=3)
    decisions = read_sitemap(discovery, Fetch(BASE + "/post-sitemap.xml", SITEMAP), pieces())
    assert urls(decisions) == [f"{BASE}/chile/nota-{i}/01/01/" for i in range(3)]
    assert len(sent) < 10_000


def test_a_gzip_bomb_stops_at_the_size_cap_keeping_the_entries_before_it():
    head = urlset((LIVE + "/chile/antes-de-la-bomba/01/01/", None)).replace(b"</urlset>", b"")
    inflater = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = (
        inflater.compress(head)
        + b"".join(inflater.compress(b" " * (1 << 20)) for _ in range(4))
        + inflater.flush()
    )
    assert len(bomb) < 50_000  # 4 MB of XML once inflated
    discovery = make("html")
    decisions = read_sitemap(
        discovery, Fetch(BASE + "/post-sitemap.xml.gz", SITEMAP), bomb, max_size=1 << 20
    )
    assert decisions == [
        Fetch(BASE + "/chile/antes-de-la-bomba/01/01/", ARTICLE, source="sitemap"),
        Problem(
            BASE + "/post-sitemap.xml.gz",
            "discovery: sitemap larger than 1 MB (DOWNLOAD_MAXSIZE); read up to there",
        ),
    ]
    assert discovery.counts["discovery_failed"] == 1


# -- the feed ----------------------------------------------------------------------------------
def item(path: str, day: str = "2025-11-20") -> dict:
    return {"is_article": True, "url": LIVE + path, "published_date": day}


def test_an_incremental_feed_walk_stops_at_a_page_of_archived_posts():
    discovery = make("feed", full=False, archived={BASE + "/chile/vieja/11/18/": None})
    (feed,) = discovery.start()
    first = discovery.feed(feed, [item("/chile/nueva/11/20/"), item("/chile/vieja/11/18/")])
    assert [(d.kind, d.url) for d in first] == [
        (ARTICLE, BASE + "/chile/nueva/11/20/"),
        (FEED, BASE + "/feed/?paged=2"),
    ]
    assert discovery.feed(first[1], [item("/chile/vieja/11/18/")]) == []
    assert discovery.feed_done
    assert discovery.counts["skipped_unchanged"] == 1


def test_a_full_feed_walk_stops_at_feed_pages_and_past_since():
    discovery = make("feed", feed_pages=2, since="2025-11-01")
    (feed,) = discovery.start()
    (article, page_2) = discovery.feed(feed, [item("/chile/a/11/20/")])
    assert page_2.page == 2
    assert urls(discovery.feed(page_2, [item("/chile/b/11/19/")])) == [
        BASE + "/chile/b/11/19/"
    ]  # the second page of two: the last
    discovery = make("feed", since="2025-11-01")
    (feed,) = discovery.start()
    assert discovery.feed(feed, [item("/chile/c/10/31/", "2025-10-31")]) == []  # all older


def test_a_feed_page_past_the_last_is_how_the_feed_ends_not_a_failure():
    discovery = make("feed")
    page_2 = Fetch(BASE + "/feed/?paged=2", FEED, page=2)
    assert discovery.absent(page_2, 404)
    assert discovery.failed(page_2, 404) == [] and discovery.feed_done


def test_feed_items_of_pages_rest_scheduled_stand_in_only_when_rest_has_none():
    discovery = make("auto")
    (first,) = discovery.start()
    posts = rest_posts(rest_body((7, "/chile/a/11/19/", "2025-11-20T12:00:00")), first.url)
    feed, _ = discovery.rest(first, posts, total_pages=1)
    assert discovery.feed(feed, [item("/chile/a/11/19/"), item("/chile/b/11/19/")]) == [
        Fetch(BASE + "/chile/b/11/19/", ARTICLE, source="feed"),
        Fetch(BASE + "/feed/?paged=2", FEED, page=2),
    ]
    assert discovery.rest_post(BASE + "/chile/a/11/19/").wp_id == 7  # REST's post wins
    assert discovery.rest_post(BASE + "/chile/b/11/19/")["url"] == LIVE + "/chile/b/11/19/"


# -- the streaming reader, as the audit uses it ---------------------------------------------------
def test_the_reader_gives_loc_lastmod_and_kind_in_document_order_and_skips_entries_without_loc():
    body = (
        f"<urlset {NS}><url><loc>  {LIVE}/a/  </loc><lastmod>2025-01-02</lastmod></url>"
        f"<url><lastmod>2025-01-03</lastmod></url><!-- un comentario -->"
        f"<url><loc>{LIVE}/b/</loc></url></urlset>"
    ).encode()
    assert list(iter_sitemap_entries(body)) == [
        SitemapEntry(LIVE + "/a/", "2025-01-02", "url"),
        SitemapEntry(LIVE + "/b/", None, "url"),
    ]


def test_the_reader_reads_pieces_and_concatenated_gzip_members():
    body = urlset((LIVE + "/a/", None), (LIVE + "/b/", None))
    middle = len(body) // 2
    members = gzip.compress(body[:middle]) + gzip.compress(body[middle:])
    pieces = [members[i : i + 7] for i in range(0, len(members), 7)]
    assert [e.loc for e in iter_sitemap_entries(pieces)] == [LIVE + "/a/", LIVE + "/b/"]


def test_the_reader_expands_no_entity_and_fetches_nothing():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY secreto SYSTEM '
        b'"file:///etc/passwd"><!ENTITY risa "jajaja">]>'
        b"<urlset " + NS.encode() + b"><url><loc>http://x/&secreto;&risa;</loc></url></urlset>"
    )
    assert [e.loc for e in iter_sitemap_entries(body)] in ([], ["http://x/"])


def test_the_reader_says_what_is_not_a_sitemap_and_what_is_too_large():
    with pytest.raises(NotASitemap, match=r"its root element is <rss>"):
        list(iter_sitemap_entries(b"<rss><channel><item/></channel></rss>"))
    with pytest.raises(NotASitemap, match=r"not XML"):
        list(iter_sitemap_entries(b'{"json": true}'))
    with pytest.raises(SitemapTooLarge, match=r"larger than 0.125 MB"):
        list(
            iter_sitemap_entries(
                urlset(*[(f"{LIVE}/{i}/", None) for i in range(5_000)]), max_size=1 << 17
            )
        )
