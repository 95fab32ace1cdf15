"""Fidelity classes found on real pages: a standfirst from any source is kept once, AMP pages'
standfirst, and the post id REST gave survives a reparse. Expected values read off the inputs
written below."""

import json
from pathlib import Path

from crawler.parsers import parse_article, parse_articles
from crawler.parsers.merge import merge, merge_stored

URL = "https://www.elciudadano.com/chile/vecinos-de-quintero-exigen-cierre-de-fundicion/03/10/"
STANDFIRST = "La comunidad acusa nuevas intoxicaciones en escuelas de la zona."
# A page as a block theme prints it: no standfirst block, the standfirst typed again as the
# content's first paragraph.
PAGE = f"""<!doctype html><html lang="es-CL"><head><meta charset="utf-8">
<title>Vecinos de Quintero exigen cierre de fundición &#8211; El Ciudadano</title>
<link rel="canonical" href="{URL}"></head>
<body class="post-template-default single single-post postid-1009 single-format-standard">
<main><h1 class="wp-block-post-title">Vecinos de Quintero exigen cierre de fundición</h1>
<div class="wp-block-post-date"><time datetime="2026-03-10T09:15:00-03:00">10 de marzo de 2026</time></div>
<div class="entry-content wp-block-post-content">
<p>{STANDFIRST}</p>
<p>Dirigentes de Quintero y Puchuncaví marcharon este lunes hasta la gobernación.</p>
<p>Pidieron el cierre definitivo de la fundición y un plan de salud para los niños.</p>
</div></main></body></html>""".encode()
REST = json.dumps(
    [
        {
            "id": 1201234,
            "date_gmt": "2026-03-10T12:15:00",
            "modified_gmt": "2026-03-10T12:15:00",
            "link": URL,
            "title": {"rendered": "Vecinos de Quintero exigen cierre de fundición"},
            "content": {
                "rendered": f"<p>{STANDFIRST}</p><p>Dirigentes de Quintero y Puchuncaví "
                "marcharon este lunes hasta la gobernación.</p><p>Pidieron el "
                "cierre definitivo de la fundición y un plan de salud para los "
                "niños.</p>"
            },
            "excerpt": {"rendered": ""},
            "acf": {"bajada_titulo": STANDFIRST},
        }
    ]
).encode()


def test_a_standfirst_from_rest_does_not_also_open_the_body():
    page = parse_article(PAGE, URL)
    assert page["subtitle"] is None  # the page alone cannot tell
    (rest,) = parse_articles(REST, "https://www.elciudadano.com/wp-json/wp/v2/posts")
    article = merge(page, rest)
    assert article["subtitle"] == STANDFIRST
    assert article["body"] == (
        "Dirigentes de Quintero y Puchuncaví marcharon este lunes hasta "
        "la gobernación.\n\nPidieron el cierre definitivo de la "
        "fundición y un plan de salud para los niños."
    )
    assert STANDFIRST not in article["body_html"]
    assert article["body_html"].startswith("<p>Dirigentes de Quintero")
    assert article["word_count"] == 26
    assert article["wp_id"] == 1201234
    # a reparse of the same page keeps the standfirst out of the body (issue: reparse undid it)
    again = merge_stored(page, article)
    assert again["body"] == article["body"] and again["body_html"] == article["body_html"]


def test_a_page_body_that_does_not_repeat_the_standfirst_is_left_whole():
    other = PAGE.replace(f"<p>{STANDFIRST}</p>".encode(), b"")
    page = parse_article(other, URL)
    (rest,) = parse_articles(REST, "https://www.elciudadano.com/wp-json/wp/v2/posts")
    article = merge(page, rest)
    assert article["subtitle"] == STANDFIRST
    assert article["body"].startswith("Dirigentes de Quintero y Puchuncaví")
    assert article["word_count"] == 26


def test_an_amp_page_takes_its_standfirst_from_the_rest_post_and_keeps_its_lede():
    # the AMP template prints no standfirst block: alone, the page cannot tell a standfirst
    # from a short lede, so its first paragraph stays the body's; its REST post tells
    folder = Path(__file__).parent / "fixtures" / "pages" / "amp-page"
    url = (folder / "url.txt").read_text().strip()
    page = parse_article((folder / "input.html").read_bytes(), url)
    standfirst = "Vecinos acusan que la empresa minera no informó a tiempo del incidente."
    assert page["subtitle"] is None
    assert page["body"].startswith(standfirst + "\n\nLas comunidades de Tiltil")
    rest = json.dumps(
        [
            {
                "id": 1170412,
                "date_gmt": "2025-07-15T02:30:00",
                "modified_gmt": "2025-07-15T03:10:00",
                "link": url.removesuffix("amp/"),
                "title": {"rendered": page["title"]},
                "content": {"rendered": f"<p>{standfirst}</p><p>Las comunidades de Tiltil...</p>"},
                "excerpt": {"rendered": ""},
                "acf": {"bajada_titulo": standfirst},
            }
        ]
    ).encode()
    (post,) = parse_articles(rest, "https://www.elciudadano.com/wp-json/wp/v2/posts")
    article = merge(page, post)
    assert article["subtitle"] == standfirst
    assert article["body"].startswith("Las comunidades de Tiltil, en la Región Metropolitana")
    # and a reparse of the kept AMP page keeps it so
    again = merge_stored(page, article)
    assert again["subtitle"] == standfirst
    assert again["body"].startswith("Las comunidades de Tiltil, en la Región Metropolitana")


def test_a_normal_page_never_takes_its_first_paragraph_as_standfirst():
    # the same content without the AMP mark: a short first paragraph is the article's own
    page = parse_article(PAGE, URL)
    assert page["subtitle"] is None
    assert page["body"].startswith(STANDFIRST)


def test_reparse_keeps_the_post_id_rest_gave():
    # every page of a theme that prints the same postid-1009 on all pages: the id stored from
    # REST (with its dates) is the post's, and a reparse keeps it
    page = parse_article(PAGE, URL)
    assert page["wp_id"] == 1009
    stored = {
        "url": URL,
        "wp_id": 1201234,
        "published": "2026-03-10T09:15:00-03:00",
        "published_date": "2026-03-10",
        "date_precision": "datetime",
        "modified": "2026-03-10T09:15:00-03:00",
        "provenance": {"published": "rest:date_gmt", "body": "html:div.entry-content"},
    }
    assert merge_stored(page, stored)["wp_id"] == 1201234


def test_reparse_takes_the_page_id_when_the_archive_had_no_rest_post():
    page = parse_article(PAGE, URL)
    stored = {
        "url": URL,
        "wp_id": None,
        "published": "2026-03-10T09:15:00-03:00",
        "provenance": {"published": "html:time[datetime]"},
    }
    assert merge_stored(page, stored)["wp_id"] == 1009
