"""Small fidelity classes of issue 8, each with expectations written by hand."""

from __future__ import annotations

import gzip

import pytest

from crawler.parsers import dates
from crawler.parsers.normalize import Candidates, _authors


def test_an_rfc822_date_with_minus_0000_is_utc_not_santiago_time():
    # RFC 5322: "-0000" is UTC (the sender's zone unknown); 13:00 UTC is 10:00 in Santiago
    # in November (UTC-3)
    moment = dates.parse_machine_date("Fri, 21 Nov 2025 13:00:00 -0000")
    assert dates.iso(moment) == "2025-11-21T10:00:00-03:00"


@pytest.mark.parametrize("junk", ["5", "Lunes", "10:30", "hace", "Por El Ciudadano", "2"])
def test_text_that_is_not_a_date_is_not_made_into_one(junk):
    assert dates.parse_text_date(junk) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("21 de noviembre de 2025", "2025-11-21T00:00:00-03:00"),
        ("Publicado el 14/07/2011", "2011-07-14T00:00:00-04:00"),
    ],
)
def test_real_visible_dates_are_still_read(text, expected):
    assert dates.iso(dates.parse_text_date(text)) == expected


@pytest.mark.parametrize(
    "credit, authors",
    [
        ("Por José Ortega y Gasset", ["José Ortega y Gasset"]),
        ("Por Felipe Soto y Daniela Muñoz", ["Felipe Soto", "Daniela Muñoz"]),
        ("Redacción El Ciudadano, con información de AFP", ["Redacción El Ciudadano"]),
        ("Por Camila Rojas, Pedro Pérez y Ana Díaz", ["Camila Rojas", "Pedro Pérez", "Ana Díaz"]),
        ("El Ciudadano", ["El Ciudadano"]),
    ],
)
def test_a_credit_is_split_into_the_people_it_names(credit, authors):
    found = Candidates()
    found.add("authors", [credit], "html:author")
    assert _authors(found) == authors


def test_a_gzipped_sitemap_already_inflated_is_not_gunzipped_again():
    from crawler.sitemaps import iter_sitemap_entries

    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
        b'schemas/sitemap/0.9"><url><loc>https://www.elciudadano.com/chile/a/01/02/</loc>'
        b"</url></urlset>"
    )
    for body in (xml, gzip.compress(xml)):  # inflated by Scrapy already, or still gzipped
        assert [e.loc for e in iter_sitemap_entries(body)] == [
            "https://www.elciudadano.com/chile/a/01/02/"
        ]


URL = "https://www.elciudadano.com/chile/la-nota/11/20/"


def _page(main: str, before: str = "", body_class: str = "single single-post") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="es-CL"><head><title>La nota | El Ciudadano</title>'
        f'<meta property="og:type" content="article"></head><body class="{body_class}">'
        f"<aside>{before}</aside>{main}</body></html>"
    ).encode()


def test_the_post_id_is_the_articles_not_a_sidebar_teasers():
    # no postid-N body class: the sidebar's teaser <article id="post-111"> comes first
    teaser = '<article id="post-111"><h3><a href="/chile/otra/11/19/">Otra nota</a></h3></article>'
    main = (
        '<article id="post-222"><h1 class="entry-title">La nota</h1>'
        '<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre de 2025</time>'
        '<div class="entry-content"><p>El cuerpo de la nota.</p></div></article>'
    )
    from crawler.parsers import parse_article

    assert parse_article(_page(main, before=teaser), URL)["wp_id"] == 222


def test_a_block_themes_category_links_are_not_tags():
    # WordPress core's post-terms block prints category links with rel="tag" (get_the_term_list)
    main = (
        '<main><h1 class="wp-block-post-title">La nota</h1>'
        '<div class="wp-block-post-date"><time datetime="2025-11-20T10:00:00-03:00">'
        "20 de noviembre de 2025</time></div>"
        '<div class="taxonomy-category wp-block-post-terms">'
        '<a href="https://www.elciudadano.com/category/chile/" rel="tag">Chile</a></div>'
        '<div class="wp-block-post-content"><p>El cuerpo de la nota.</p></div></main>'
    )
    from crawler.parsers import parse_article

    article = parse_article(_page(main), URL)
    assert article["section"] == "Chile"
    assert article["tags"] == []


def test_entities_in_page_text_are_decoded_once_as_a_reader_sees_them():
    # the page's source says AT&amp;amp;T and &amp;lt;br&amp;gt;: a reader sees "AT&amp;T"
    # and "&lt;br&gt;" on the screen, and so must the archive
    main = (
        '<article><h1 class="entry-title">AT&amp;amp;T compra otra empresa</h1>'
        '<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre de 2025</time>'
        '<div class="entry-content"><p>Use &amp;lt;br&amp;gt; para cortar la línea.</p>'
        "</div></article>"
    )
    from crawler.parsers import parse_article

    article = parse_article(_page(main), URL)
    assert article["title"] == "AT&amp;T compra otra empresa"
    assert article["body"] == "Use &lt;br&gt; para cortar la línea."


def test_json_strings_carrying_html_entities_are_decoded_once():
    import json

    from crawler.parsers import parse_articles

    # REST's title.rendered is HTML (wptexturize's entities); its term names are stored escaped
    post = {
        "id": 7,
        "link": URL,
        "date_gmt": "2025-11-20T13:00:00",
        "modified_gmt": "2025-11-20T13:00:00",
        "title": {"rendered": "Kast &#8220;sella&#8221; alianza con AT&amp;T"},
        "content": {"rendered": "<p>Texto.</p>"},
        "_embedded": {
            "wp:term": [
                [{"taxonomy": "category", "name": "Chile", "slug": "chile"}],
                [
                    {
                        "taxonomy": "post_tag",
                        "name": "Derechos &amp; Libertades",
                        "slug": "derechos-libertades",
                    }
                ],
            ]
        },
    }
    (article,) = parse_articles(
        json.dumps([post]).encode(), "https://www.elciudadano.com/wp-json/wp/v2/posts"
    )
    assert article["title"] == "Kast “sella” alianza con AT&T"
    assert article["tags"] == ["Derechos & Libertades"]


def test_an_automatic_excerpt_that_is_the_whole_post_is_not_a_standfirst():
    # WordPress's feed <description> of a short post without a manual excerpt is all of it
    from crawler.parsers import parse_articles

    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><item>'
        "<title>Nota corta</title><link>https://www.elciudadano.com/chile/nota-corta/11/20/"
        "</link><pubDate>Thu, 20 Nov 2025 13:00:00 +0000</pubDate>"
        "<category><![CDATA[Chile]]></category>"
        "<description><![CDATA[Primer párrafo. Segundo párrafo.]]></description>"
        "<content:encoded><![CDATA[<p>Primer párrafo.</p><p>Segundo párrafo.</p>]]>"
        "</content:encoded></item></channel></rss>"
    ).encode()
    (article,) = parse_articles(feed, "https://www.elciudadano.com/feed/")
    assert article["subtitle"] is None
    assert article["body"] == "Primer párrafo.\n\nSegundo párrafo."


def _feed_item(description: str, content: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><item>'
        "<title>Nota</title><link>https://www.elciudadano.com/chile/nota/11/20/</link>"
        "<pubDate>Thu, 20 Nov 2025 13:00:00 +0000</pubDate>"
        "<category><![CDATA[Chile]]></category>"
        f"<description><![CDATA[{description}]]></description>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item></channel></rss>"
    ).encode()


def test_an_automatic_excerpt_cut_from_a_long_post_is_not_a_standfirst():
    # wp_trim_excerpt: the first 55 words of the post, then " [&hellip;]"
    from crawler.parsers import parse_articles

    words = " ".join(f"palabra{n}" for n in range(80))
    excerpt = " ".join(f"palabra{n}" for n in range(55)) + " [&hellip;]"
    (article,) = parse_articles(
        _feed_item(f"<p>{excerpt}</p>", f"<p>{words}.</p>"), "https://www.elciudadano.com/feed/"
    )
    assert article["subtitle"] is None
    assert article["body"] == words + "."


def test_an_excerpt_written_for_the_post_is_its_standfirst_even_when_the_body_lacks_it():
    # the site's standfirst ("bajada") is the post's written excerpt: the feed's description,
    # while the feed's body starts with the story itself
    from crawler.parsers import parse_articles

    (article,) = parse_articles(
        _feed_item(
            "<p>Vecinos acusan a la minera.</p>",
            "<p>El Ciudadano</p><p>Las comunidades denunciaron un derrame.</p>",
        ),
        "https://www.elciudadano.com/feed/",
    )
    assert article["subtitle"] == "Vecinos acusan a la minera."
    assert article["body"] == "Las comunidades denunciaron un derrame."


def test_an_embedded_tweet_stays_in_body_html_where_it_stood_but_not_in_the_text():
    from crawler.parsers import parse_article

    main = (
        '<article id="post-222"><h1 class="entry-title">La nota</h1>'
        '<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre de 2025</time>'
        '<div class="entry-content"><p>Antes del tuit.</p>'
        '<blockquote class="twitter-tweet"><p lang="es">Hoy votamos.</p>&mdash; Ana (@ana) '
        '<a href="https://twitter.com/ana/status/1">20 de noviembre</a></blockquote>'
        '<script src="https://platform.twitter.com/widgets.js"></script>'
        "<p>Después del tuit.</p>"
        '<figure class="wp-block-embed is-provider-youtube"><div class="wp-block-embed__'
        'wrapper">https://www.youtube.com/watch?v=abc</div></figure></div></article>'
    )
    article = parse_article(_page(main), URL)
    assert article["body"] == "Antes del tuit.\n\nDespués del tuit."
    assert article["embeds"] == [
        "https://twitter.com/ana/status/1",
        "https://www.youtube.com/watch?v=abc",
    ]
    assert article["body_html"] == (
        '<p>Antes del tuit.</p><blockquote><p lang="es">Hoy votamos.</p>— Ana (@ana) '
        '<a href="https://twitter.com/ana/status/1">20 de noviembre</a></blockquote>'
        '<p>Después del tuit.</p><p><a href="https://www.youtube.com/watch?v=abc">'
        "https://www.youtube.com/watch?v=abc</a></p>"
    )
