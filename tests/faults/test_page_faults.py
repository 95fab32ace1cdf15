"""Hostile pages: what one page may cost, deep nesting, content after </html>. The expected
values are what a reader sees on these hand-written pages."""

from __future__ import annotations

import subprocess
import sys

from crawler.parsers import parse_article
from tests.conftest import ROOT

URL = "https://www.elciudadano.com/chile/pagina-de-prueba/11/20/"


def page(body: str, after: str = "") -> bytes:
    return (
        '<!DOCTYPE html><html lang="es-CL"><head><title>Página de prueba | El Ciudadano</title>'
        '<meta property="og:type" content="article"></head>'
        '<body class="post-template-default single single-post postid-999002">'
        '<article><h1 class="entry-title">Página de prueba</h1>'
        '<time datetime="2025-11-20T10:00:00-03:00">20 de noviembre de 2025</time>'
        f'<div class="entry-content">{body}</div></article></body></html>{after}'
    ).encode()


def test_a_body_nested_300_deep_is_kept():
    # unclosed <div>s in old pages nest this deep; libxml2 stopped at 256 and the body was lost
    nested = "<div>" * 300 + "<p>El texto que el lector ve.</p>" + "</div>" * 300
    article = parse_article(page(nested), URL)
    assert article["is_article"] and article["body"] == "El texto que el lector ve."


def test_a_body_nested_deeper_than_python_recursion_is_kept():
    nested = "<div>" * 1500 + "<p>Muy adentro.</p>" + "</div>" * 1500
    assert parse_article(page(nested), URL)["body"] == "Muy adentro."


def test_a_complete_article_with_a_script_after_html_is_an_article():
    after = "<script>" + "var tracking = 1;\n" * 400 + "</script>"  # > 4 KB after </html>
    article = parse_article(page("<p>Primer párrafo.</p><p>Segundo párrafo.</p>", after), URL)
    assert article["is_article"], article["reason"]
    assert article["body"] == "Primer párrafo.\n\nSegundo párrafo."


def test_a_page_cut_short_is_still_told_truncated():
    whole = page("<p>Primer párrafo.</p>" * 50)
    assert parse_article(whole[: len(whole) // 2], URL)["reason"] == "truncated page"


def test_a_page_over_the_size_cap_is_a_failure_with_its_reason():
    huge = page("<p>palabra</p>" * 800_000)  # 11 MB
    article = parse_article(huge, URL)
    assert not article["is_article"] and article["reason"].startswith("page too large")


def test_hard_wrapped_paragraphs_are_joined_in_linear_time():
    # 400,000 short paragraphs that each stop mid-sentence: joined pairwise by string
    # concatenation this took hours (quadratic); in a child with a generous bound it must end
    code = (
        "from crawler.parsers.text import join_wrapped\n"
        "out = join_wrapped([('p', 'palabra') for _ in range(400_000)])\n"
        "assert len(out) == 1 and len(out[0][1]) == 400_000 * 8 - 1\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_a_page_of_tens_of_thousands_of_paragraphs_is_cut_not_stalled():
    from crawler.parsers.text import MAX_BLOCKS

    # half as many paragraphs again as a body keeps (text.MAX_BLOCKS); 600,000 (8 MB) cost
    # twenty times as long and tested nothing more
    body = "<p>palabra</p>" * (MAX_BLOCKS + MAX_BLOCKS // 2)
    article = parse_article(page(body), URL)
    assert article["is_article"]
    assert article["body"].startswith("palabra palabra")  # hard wraps joined
    # cut at MAX_BLOCKS paragraphs of one word each, though they are siblings in one container
    assert article["word_count"] == MAX_BLOCKS
