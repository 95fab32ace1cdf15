"""The small rules the archive's trust rests on: canonical URLs, Santiago dates, paragraphs,
and writes that change nothing when nothing changed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archive.store import CHANGED, NEW, UNCHANGED, Archive
from crawler.parsers import dates, text
from crawler.urls import canonical_url, rebase, site_base

LIVE = "https://www.elciudadano.com"
ARTICLE = "/actualidad/kast-sella/11/21/"


@pytest.mark.parametrize(
    "url, base, expected",
    [
        (LIVE + ARTICLE, LIVE, LIVE + ARTICLE),
        ("http://elciudadano.com/actualidad/kast-sella/11/21", LIVE, LIVE + ARTICLE),
        (LIVE + ARTICLE + "amp/", LIVE, LIVE + ARTICLE),
        (LIVE + ARTICLE + "?amp", LIVE, LIVE + ARTICLE),
        (LIVE + ARTICLE + "?utm_source=rss&utm_medium=rss#comments", LIVE, LIVE + ARTICLE),
        (LIVE + ARTICLE, "http://127.0.0.1:8000", "http://127.0.0.1:8000" + ARTICLE),
        (ARTICLE, "http://127.0.0.1:8000", "http://127.0.0.1:8000" + ARTICLE),
    ],
)
def test_canonical_url(url, base, expected):
    assert canonical_url(url, base) == expected


def test_site_base_and_rebase():
    assert site_base("http://elciudadano.com/x/") == LIVE
    assert site_base("http://127.0.0.1:8000/x/") == "http://127.0.0.1:8000"
    assert (
        rebase(LIVE + "/feed/?paged=2", "http://127.0.0.1:9") == "http://127.0.0.1:9/feed/?paged=2"
    )
    assert rebase("https://twitter.com/x", "http://127.0.0.1:9") == "https://twitter.com/x"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-11-21T10:15:00-03:00", "2025-11-21T10:15:00-03:00"),
        ("2025-07-15T02:30:00+00:00", "2025-07-14T22:30:00-04:00"),  # winter: UTC-4, day before
        ("2025-09-07T04:30:00Z", "2025-09-07T01:30:00-03:00"),  # just after the September change
        ("2025-04-06T02:30:00Z", "2025-04-05T23:30:00-03:00"),  # just before the April change
        ("2025-04-06T03:30:00Z", "2025-04-05T23:30:00-04:00"),  # the repeated hour, after it
        ("Fri, 21 Nov 2025 13:15:00 GMT", "2025-11-21T10:15:00-03:00"),  # RSS pubDate
    ],
)
def test_machine_dates_in_santiago(value, expected):
    assert dates.iso(dates.parse_machine_date(value)) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("21 de noviembre de 2025", "2025-11-21T00:00:00-03:00"),
        ("martes 3 de marzo de 2015, 10:30", "2015-03-03T10:30:00-03:00"),
        ("Publicado el 14/07/2011", "2011-07-14T00:00:00-04:00"),
        ("1 de Septiembre del 2019", "2019-09-01T00:00:00-04:00"),
    ],
)
def test_spanish_text_dates(value, expected):
    assert dates.iso(dates.parse_text_date(value)) == expected


def test_relative_text_dates_count_from_the_fetch():
    fetched = datetime(2025, 11, 21, 15, 0, tzinfo=timezone.utc)  # 12:00 in Santiago
    assert dates.iso(dates.parse_text_date("hace 3 horas", fetched)) == "2025-11-21T09:00:00-03:00"


def test_unreadable_dates_are_none():
    assert dates.parse_machine_date("not a date") is None
    assert dates.parse_text_date("") is None


def test_hard_wraps_join_but_never_across_headings_lists_or_finished_sentences():
    blocks = [
        ("p", "el presidente paraguayo Santiago"),
        ("p", "Peña, de línea conservadora."),
        ("p", "Una frase completa."),
        ("p", "Otra."),
        ("h", "Subtítulo sin punto"),
        ("p", "Texto"),
        ("li", "uno"),
        ("li", "dos"),
        ("p", "Dijo que"),
        ("p", "Fuente: El Ciudadano"),
    ]
    assert text.join_wrapped(blocks) == [
        ("p", "el presidente paraguayo Santiago Peña, de línea conservadora."),
        ("p", "Una frase completa."),
        ("p", "Otra."),
        ("h", "Subtítulo sin punto"),
        ("p", "Texto"),
        ("li", "uno"),
        ("li", "dos"),
        ("p", "Dijo que"),
        ("p", "Fuente: El Ciudadano"),
    ]


def test_standfirst_is_removed_despite_small_differences():
    body = [("p", "El  presidencial concretó un llamado"), ("p", "Texto.")]
    assert text.strip_standfirst(body, "El presidencial concretó un llamado.") == [("p", "Texto.")]
    assert text.strip_standfirst(body, "Otra bajada") == body


def article(**changes) -> dict:
    base = {
        "url": LIVE + ARTICLE,
        "wp_id": 1,
        "is_article": True,
        "reason": None,
        "title": "Título",
        "published": "2025-11-21T10:15:00-03:00",
        "published_date": "2025-11-21",
        "body": "Texto.",
        "authors": ["El Ciudadano"],
    }
    return {**base, **changes}


def test_store_writes_only_what_changed(tmp_path):
    archive = Archive(tmp_path / "a.db")
    assert archive.store_article(article()) == NEW
    first = archive.db.execute("select last_changed, first_seen, year from articles").fetchone()
    assert archive.store_article(article()) == UNCHANGED
    assert archive.store_article(article(title="Título corregido")) == CHANGED
    row = archive.db.execute("select title, first_seen from articles").fetchone()
    assert row == ("Título corregido", first[1]) and first[2] == 2025
    assert archive.url_for_wp_id(1) == LIVE + ARTICLE
    archive.close()


def test_a_wall_time_in_the_dst_gap_moves_to_the_hour_that_exists():
    # 2025-09-07 00:00 does not exist in Santiago: clocks jumped from 00:00 -04 to 01:00 -03
    assert (
        dates.iso(dates.parse_text_date("7 de septiembre de 2025")) == "2025-09-07T01:00:00-03:00"
    )


def test_an_archive_from_an_older_schema_gains_the_new_columns(tmp_path):
    from tests.old_archive import make_v1_archive

    path = make_v1_archive(tmp_path / "old.db", without=("embeds",))
    archive = Archive(path)
    types = {c.name: c.type for c in archive.db["articles"].columns}
    assert types["embeds"] == "TEXT"  # list fields are JSON text
    assert archive.store_article(article(embeds=["https://x.test/1"])) == NEW
    archive.close()


def test_the_parsers_know_the_article_model_and_body_rules_but_not_the_archive_storage():
    import subprocess
    import sys

    code = (
        "import sys, crawler.parsers; "
        "print(sorted(m for m in sys.modules if m.startswith('archive')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['archive', 'archive.body', 'archive.model']"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-11-20", "day"),
        ("2025-11-20T10:00:00-03:00", "datetime"),
        ("20 de noviembre de 2025", "day"),
        ("martes 3 de marzo de 2015, 10:30", "datetime"),
        ("Publicado el 14/07/2011", "day"),
        ("Thu, 20 Nov 2025 13:00:00 +0000", "datetime"),
        ("hace 3 horas", "datetime"),
        ("ayer", "day"),
    ],
)
def test_a_date_says_whether_its_source_gave_a_time(value, expected):
    from crawler.parsers.dates import precision

    assert precision(value) == expected


def test_a_page_with_only_a_day_says_so():
    from crawler.parsers import parse_article
    from tests.faults.test_page_faults import URL, page

    def dated(datetime_attribute: str) -> bytes:
        return (
            page("<p>Texto.</p>")
            .replace(
                b'<time datetime="2025-11-20T10:00:00-03:00">',
                b'<header class="entry-header"><time datetime="'
                + datetime_attribute.encode()
                + b'">',
            )
            .replace(b"</time>", b"</time></header>")
        )

    # the night Chile's clocks skipped midnight: the day is known, its first hour is 01:00
    article = parse_article(dated("2025-09-07"), URL.replace("/11/20/", "/09/07/"))
    assert (article["published_date"], article["date_precision"]) == ("2025-09-07", "day")
    assert article["published"] == "2025-09-07T01:00:00-03:00"
    article = parse_article(dated("2025-11-20T10:00:00-03:00"), URL)
    assert (article["published"], article["date_precision"]) == (
        "2025-11-20T10:00:00-03:00",
        "datetime",
    )


def test_one_cloudflare_classifier_for_middleware_spider_and_parser():
    from crawler.blocks import block_kind
    from crawler.parsers import parse_article
    from tests.faults.test_page_faults import URL, page

    blocked = (
        b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title>"
        b"</head><body><div id='cf-error-details'>Sorry, you have been blocked</div>"
        b"</body></html>"
    )
    challenge = (
        b"<html><head><title>Just a moment...</title></head><body>"
        b"<script src='/cdn-cgi/challenge-platform/h/g/orchestrate/jsch/v1'></script>"
        b"</body></html>"
    )
    assert block_kind(blocked) == "cloudflare-block"
    assert block_kind(challenge) == "cloudflare-challenge"
    assert (
        block_kind(b"<html><body>{}</body></html>", {"cf-mitigated": b"challenge"})
        == "cloudflare-challenge"
    )
    assert parse_article(blocked, URL)["reason"] == "cloudflare-block"
    assert parse_article(challenge, URL)["reason"] == "cloudflare-challenge"
    # an article Cloudflare let through carries its challenge-platform script: an article
    through = page("<p>Texto del artículo.</p>", after="").replace(
        b"</body>",
        b"<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script></body>",
    )
    article = parse_article(through, URL)
    assert article["is_article"] and article["body"] == "Texto del artículo."


def test_a_page_lacking_only_its_image_takes_it_from_rest_without_reading_the_post_body():
    from crawler.parsers import parse_article
    from crawler.parsers.merge import merge
    from crawler.parsers.rest import RestPost
    from standin import templates
    from standin.articles import new_article

    article = dict(
        new_article(7, "2025-11-20T10:00:00-03:00"),
        image="https://www.elciudadano.com/wp-content/uploads/2025/11/foto.jpg",
    )
    url = "https://www.elciudadano.com" + article["path"]
    page = parse_article(templates.article_page(dict(article, image=None), []).encode(), url)
    assert page["image_url"] is None and page["body"]
    post = RestPost(templates.rest_post(article), url)
    merged = merge(page, post)
    assert merged["image_url"] == "https://www.elciudadano.com/wp-content/uploads/2025/11/foto.jpg"
    assert merged["body"] == page["body"] and merged["body_html"] == page["body_html"]
    assert merged["published"] == "2025-11-20T10:00:00-03:00"
    assert post._article is None  # the post's content was never parsed


def test_a_page_without_its_standfirst_takes_rest_s_and_a_page_with_one_keeps_its_own():
    from crawler.parsers import parse_article
    from crawler.parsers.merge import merge
    from crawler.parsers.rest import RestPost
    from standin import templates
    from standin.articles import new_article

    article = dict(
        new_article(8, "2025-11-21T10:00:00-03:00"),
        subtitle="Los vecinos de Quintero piden un plan de salida del carbón.",
    )
    url = "https://www.elciudadano.com" + article["path"]
    post = templates.rest_post(dict(article, image=None))
    post["acf"]["bajada_titulo"] = (
        "<p>Los vecinos de Quintero piden un plan de salida del carbón.</p>"
    )
    without = parse_article(templates.article_page(dict(article, subtitle=None), []).encode(), url)
    assert without["subtitle"] is None
    merged = merge(without, RestPost(post, url))
    assert merged["subtitle"] == "Los vecinos de Quintero piden un plan de salida del carbón."
    assert merged["provenance"]["subtitle"].startswith("rest")
    own = parse_article(
        templates.article_page(
            dict(article, subtitle="La bajada que la página imprime."), []
        ).encode(),
        url,
    )
    merged = merge(own, RestPost(post, url))
    assert merged["subtitle"] == "La bajada que la página imprime."


def test_an_old_meta_line_is_found_by_its_words_whatever_its_class():
    from crawler.parsers import parse_article

    url = "https://www.elciudadano.com/cultura/una-nota-de-2009/07/14/"
    old = (
        "<html><head><title>Una nota de 2009 | El Ciudadano</title></head>"
        "<body class='single single-post postid-4321'>"
        "<div id='contenido'><h1 class='entry-title'>Una nota de 2009</h1>"
        "<div class='info-2009'><span>Publicado el 14/07/2009</span> | "
        "<span>Por Juan Pérez</span></div>"
        "<div class='entry-content'><p>El texto de la nota.</p></div></div></body></html>"
    )
    article = parse_article(old.encode(), url)
    assert article["is_article"], article["reason"]
    assert (article["published_date"], article["date_precision"]) == ("2009-07-14", "day")
    assert article["authors"] == ["Juan Pérez"]
    assert article["provenance"]["published"] == "html:meta-line"


def test_a_translation_belongs_to_its_edition_whatever_spanish_categories_it_carries():
    from crawler.parsers import parse_article

    def translated(path: str, title: str) -> dict:
        page = (
            "<html lang='en'><head><title>" + title + "</title>"
            '<script type=\'application/ld+json\'>{"@type": "NewsArticle", '
            '"headline": "' + title + '", "datePublished": '
            '"2025-10-03T09:00:00-03:00", "articleSection": ["Pueblos", '
            '"Medio Ambiente"]}</script></head>'
            "<body class='single single-post postid-77'><article>"
            "<h1 class='entry-title'>" + title + "</h1>"
            "<span class='cat-links'><a href='https://www.elciudadano.com/pueblos/' "
            "rel='category tag'>Pueblos</a></span>"
            "<div class='entry-content'><p>Text of the translation.</p></div>"
            "</article></body></html>"
        )
        return parse_article(page.encode(), "https://www.elciudadano.com" + path)

    english = translated("/en/lithium-in-atacama/10/03/", "Lithium in Atacama")
    assert (english["section"], english["section_slug"]) == ("English Edition", "en")
    assert english["categories"][0] == "English Edition" and "Pueblos" in english["categories"]
    german = translated("/deustche/lithium-in-atacama/10/03/", "Lithium in der Atacama")
    assert (german["section"], german["section_slug"]) == ("Deutsche Ausgabe", "deustche")


def test_stems_computed_ahead_by_the_parser_process_are_used_once_and_bounded():
    from archive import stemming

    text = "Las elecciones presidenciales"
    assert stemming.stems_of(text, None, "") == {text: "las eleccion presidencial"}
    stemming.remember_stems({text: "computed ahead"})  # a marker: taken from what was given
    assert stemming.stem_text(text) == "computed ahead"
    assert stemming.stem_text(text) == "las eleccion presidencial"  # used once, then stemmed
    stemming.remember_stems({f"texto {n}": "x" for n in range(1000)})
    assert len(stemming._ready) <= stemming._READY_MAX
    stemming._ready.clear()


def test_a_tag_and_class_selector_matches_whole_class_tokens_as_css_does():
    import lxml.html

    from crawler.parsers.html import Selector

    page = lxml.html.fromstring(
        "<html><body>"
        '<div id="a" class="td-post-content">one</div>'
        '<div id="b" class="tdi_56\ttd-post-content\nclearfix">tab and newline around it</div>'
        '<div id="c" class="td-post-content-wrap">a longer class, not this one</div>'
        '<div id="d" class="xtd-post-content">nor this</div>'
        '<p id="e" class="td-post-content">a p, not a div</p>'
        '<div id="f" class="TD-POST-CONTENT">classes are case-sensitive</div>'
        '<div id="g"><div id="h" class="  td-post-content  ">nested, spaces around</div></div>'
        "</body></html>"
    )
    found = Selector("div.td-post-content")(page, None)
    assert [el.get("id") for el in found] == ["a", "b", "h"]


def test_folding_removes_every_accent_and_only_accents():
    """Search finds 'elección' by 'eleccion' and the reverse: both sides fold alike. Written
    from Unicode's tables: NFKD splits each letter from its marks and ligatures into letters;
    every combining mark goes, wherever its block; the grapheme joiner (U+034F) is not a
    mark that combines and stays."""
    from archive.stemming import fold

    assert fold("Elección ÑANDÚ Pingüino") == "eleccion nandu pinguino"
    assert fold("ﬁesta") == "fiesta"  # the ligature ﬁ is two letters
    assert fold("e\u0301") == "e"  # an accent typed as its own character
    assert fold("a\u1dc0b\u20d7c") == "abc"  # marks outside the Latin accents' block
    assert fold("क\u093c") == "क"  # Devanagari's nukta is a combining mark too
    assert fold("a\u034fb") == "a\u034fb"
    assert fold("plain ascii") == "plain ascii"


def test_a_process_forked_while_the_lock_is_held_does_not_keep_it(tmp_path):
    """A crawl's parser process is forked while the crawl holds the archive's lock; once the
    crawl lets go (or is killed), the next crawl must get the lock at once, though the parser
    has not died yet."""
    import os
    import time

    from archive.db import CrawlLock

    db = tmp_path / "a.db"
    db.write_bytes(b"")
    lock = CrawlLock(db)
    lock.acquire()
    started, ready = os.pipe()
    child = os.fork()
    if child == 0:  # a parser still alive after its crawl has gone
        os.write(ready, b"!")
        time.sleep(5)
        os._exit(0)
    try:
        assert os.read(started, 1) == b"!"  # the child is past its fork
        lock.release()
        with CrawlLock(db):  # LockHeld if the child had kept its copy
            pass
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


def test_two_audits_in_one_second_each_mark_their_own_listings(tmp_path):
    """What an audit lists is marked with its start: a second audit started in the same second
    as the first (a retry from a script) must not take the first's listings for its own, or a
    post deleted between them is never missed."""
    from archive import listings
    from archive.db import open_for_writing
    from archive.store import Archive

    db = tmp_path / "a.db"
    Archive(db).close()
    conn = open_for_writing(db)
    first, first_start, _ = listings.start_audit(conn, "http://127.0.0.1:1")
    listings.record_sitemap(conn, first, first_start, "/post-sitemap.xml", [("http://x/a/", None)])
    listings.finish_audit(conn, first, listings.COMPLETE)
    second, second_start, read = listings.start_audit(conn, "http://127.0.0.1:1")
    assert second != first and read == set()
    assert second_start > first_start
    conn.close()


def test_a_version_says_what_changed_as_a_sentence_does():
    """The article page's line for each version, read as Spanish: the fields with their
    articles, the verb agreeing, the body's words counted in words."""
    from archive.datasette.plugin.article import _summary, words_told

    assert words_told(5, 0) == "5 palabras añadidas, ninguna quitada"
    assert words_told(1, 3) == "1 palabra añadida, 3 quitadas"
    assert words_told(0, 1) == "ninguna palabra añadida, 1 quitada"
    assert words_told(1200, 0) == "1.200 palabras añadidas, ninguna quitada"
    assert _summary({"subtitle": "a"}, {"subtitle": "b"}) == "cambió la bajada"
    assert _summary({"authors": '["A"]'}, {"authors": '["B"]'}) == "cambiaron los autores"
    assert (
        _summary(
            {"title": "a", "subtitle": "a", "section": "x"},
            {"title": "b", "subtitle": "b", "section": "y"},
        )
        == "cambiaron el título, la bajada y la sección"
    )
    assert _summary({"title": "a", "body": "uno"}, {"title": "b", "body": "uno dos"}) == (
        "cambiaron el título y el cuerpo (1 palabra añadida, ninguna quitada)"
    )
