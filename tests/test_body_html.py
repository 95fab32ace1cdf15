"""body_html: the article as it read, as clean and safe HTML. Every expected value is written
by hand from the page in the test, read as a reader would."""

from __future__ import annotations

from crawler.parsers import parse_article, parse_articles
from tests.faults.test_page_faults import URL, page

BODY = """
<p>El <strong>Senado</strong> aprobó la <a href="/politica/reforma/11/19/" class="td-link"
   data-tracking="x123" onclick="track()">reforma</a> en <em>general</em>.</p>
<div class="td-a-rec td-a-rec-id-content_inline">PUBLICIDAD</div>
<script>window.ads = 1;</script>
<h2 style="color:red">Lo que viene</h2>
<ul><li>Votación en particular.</li><li>Comisión mixta.</li></ul>
<blockquote><p>«No es el fin del debate», dijo la senadora.</p></blockquote>
<figure class="wp-block-image"><img src="https://www.elciudadano.com/wp-content/uploads/2025/11/sala.jpg"
   alt="La sala del Senado" srcset="a.jpg 300w" loading="lazy" width="800">
   <figcaption>La sala del Senado.</figcaption></figure>
<p>Lee también: <a href="https://www.elciudadano.com/otra/">Otra nota</a></p>
<p><a href="javascript:alert(1)">Un enlace peligroso</a> y <a href="mailto:prensa@example.cl">correo</a>.</p>
"""


def test_body_html_keeps_what_a_reader_reads_and_nothing_else():
    article = parse_article(page(BODY), URL)
    html = article["body_html"]
    # what the reader reads, with its links (made absolute) and emphasis
    assert (
        "<p>El <strong>Senado</strong> aprobó la "
        '<a href="https://www.elciudadano.com/politica/reforma/11/19/">reforma</a> en '
        "<em>general</em>.</p>"
    ) in html
    assert "<h2>Lo que viene</h2>" in html
    assert "<ul><li>Votación en particular.</li><li>Comisión mixta.</li></ul>" in html
    assert "<blockquote><p>«No es el fin del debate», dijo la senadora.</p></blockquote>" in html
    assert (
        '<img src="https://www.elciudadano.com/wp-content/uploads/2025/11/sala.jpg" '
        'alt="La sala del Senado">'
    ) in html
    assert "<figcaption>La sala del Senado.</figcaption>" in html
    assert '<a href="mailto:prensa@example.cl">correo</a>' in html
    # and nothing else: no ads, scripts, styles, tracking, handlers, navigation paragraphs
    for absent in (
        "PUBLICIDAD",
        "window.ads",
        "<script",
        "style=",
        "class=",
        "data-tracking",
        "onclick",
        "srcset",
        "Lee también",
        "javascript:",
    ):
        assert absent not in html, absent
    assert "Un enlace peligroso" in html  # the words stay, the dangerous link goes


def test_the_standfirst_is_not_repeated_at_the_start_of_body_html():
    # as core themes and AMP pages show it: the first paragraph of the body, which the page's
    # description repeats
    body = "<p>Vecinos acusan a la minera.</p><p>El derrame ocurrió de madrugada.</p>"
    markup = page(body).replace(
        b"</head>", b'<meta property="og:description" content="Vecinos acusan a la minera."></head>'
    )
    article = parse_article(markup, URL)
    assert article["subtitle"] == "Vecinos acusan a la minera."
    assert article["body"] == "El derrame ocurrió de madrugada."
    assert article["body_html"] == "<p>El derrame ocurrió de madrugada.</p>"


def test_feed_and_rest_items_carry_body_html_without_the_feed_boilerplate():
    feed = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>El Ciudadano</title>
<language>es-CL</language>
<item><title>Nota del feed</title>
<link>https://www.elciudadano.com/chile/nota-del-feed/11/20/</link>
<guid isPermaLink="false">https://www.elciudadano.com/?p=123456</guid>
<pubDate>Thu, 20 Nov 2025 13:00:00 +0000</pubDate><dc:creator><![CDATA[Ana Soto]]></dc:creator>
<category><![CDATA[Chile]]></category>
<content:encoded><![CDATA[<p>El Ciudadano</p><p>Un texto con <a href="https://example.cl/x">un enlace</a>.</p>
<p>La entrada <a href="https://www.elciudadano.com/chile/nota-del-feed/11/20/">Nota del feed</a> se public\xc3\xb3 primero en <a href="https://www.elciudadano.com">El Ciudadano</a>.</p>]]></content:encoded>
</item></channel></rss>"""
    (item,) = parse_articles(feed, "https://www.elciudadano.com/feed/")
    assert item["body_html"] == '<p>Un texto con <a href="https://example.cl/x">un enlace</a>.</p>'


def test_text_written_with_line_breaks_reads_as_paragraphs():
    # an old post without <p>: two breaks end a paragraph (as WordPress's wpautop reads it),
    # one break stays a line break inside it
    body = (
        "Primera línea del poema,<br>segunda línea.<br><br>\n"
        'Un párrafo con <a href="/cultura/nota/03/03/">un enlace</a>.<br /><br />'
        "<p>Fuente: El Ciudadano</p>"
    )
    article = parse_article(page(body), URL)
    assert article["body_html"] == (
        "<p>Primera línea del poema,<br>segunda línea.</p>"
        '<p>Un párrafo con <a href="https://www.elciudadano.com/cultura/nota/03/03/">un '
        "enlace</a>.</p><p>Fuente: El Ciudadano</p>"
    )
