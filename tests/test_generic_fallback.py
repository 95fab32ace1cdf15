"""A page whose template the parser was never taught is still archived: its own metadata first,
the generic extractor (trafilatura) for what it lacks, marked so in provenance. Expected values
read off the pages written below."""

from crawler.parsers import parse_article

URL = "https://www.elciudadano.com/medio-ambiente/pescadores-de-coronel-bloquean-la-ruta-160/02/12/"
PARAGRAPHS = [
    "Los pescadores artesanales de Coronel bloquearon este lunes la ruta 160 en protesta por "
    "la ley de pesca.",
    "Exigen una cuota mayor de merluza y la derogación de la ley Longueira, aprobada en 2012.",
    "Carabineros desvió el tránsito por caminos interiores durante toda la mañana.",
]


def page(head: str, body_class: str = "nota") -> bytes:
    """A page in a theme the parser never saw: none of its body containers, its own classes."""
    return f"""<!doctype html><html lang="es-CL"><head><meta charset="utf-8">{head}
<title>Pescadores de Coronel bloquean la ruta 160 | El Ciudadano</title></head>
<body class="{body_class}"><nav class="menu"><a href="/">Inicio</a> <a href="/chile/">Chile</a></nav>
<div class="contenedor-nota"><h1 class="titular">Pescadores de Coronel bloquean la ruta 160</h1>
<span class="fecha-nota">12 de febrero de 2024</span>
<div class="cuerpo-nota">{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}</div></div>
<footer>Todos los derechos reservados</footer></body></html>""".encode()


JSON_LD = """<script type="application/ld+json">{"@context": "https://schema.org",
"@type": "NewsArticle", "headline": "Pescadores de Coronel bloquean la ruta 160",
"datePublished": "2024-02-12T08:30:00-03:00", "author": {"@type": "Person",
"name": "Ana Díaz"}}</script>"""


def test_an_unknown_template_keeps_its_metadata_and_takes_the_body_from_the_generic_reader():
    article = parse_article(page(JSON_LD), URL)
    assert article["is_article"]
    assert article["title"] == "Pescadores de Coronel bloquean la ruta 160"
    assert article["published"] == "2024-02-12T08:30:00-03:00"
    assert article["authors"] == ["Ana Díaz"]
    assert article["body"] == "\n\n".join(PARAGRAPHS)
    assert article["body_html"].startswith("<p>Los pescadores artesanales de Coronel")
    assert "Inicio" not in article["body"] and "derechos reservados" not in article["body"]
    # the page's own JSON-LD ranks above the generic reader; the body is marked as generic
    assert article["provenance"]["title"] == "json-ld"
    assert article["provenance"]["published"] == "json-ld"
    assert article["provenance"]["body"] == "generic:trafilatura"


def test_without_metadata_the_generic_reader_dates_the_page_by_its_printed_day():
    article = parse_article(page('<meta property="og:type" content="article">'), URL)
    assert article["is_article"]
    assert article["published_date"] == "2024-02-12"
    assert article["date_precision"] == "day"
    assert article["provenance"]["published"] == "generic:trafilatura"
    assert article["body"] == "\n\n".join(PARAGRAPHS)


def test_an_article_page_with_no_text_is_still_refused():
    # a headline and a date line are all the generic reader could call a body
    empty = page(JSON_LD).replace("".join(f"<p>{p}</p>" for p in PARAGRAPHS).encode(), b"")
    article = parse_article(empty, URL)
    assert not article["is_article"]
    assert article["reason"] == "no article body"


def test_a_page_that_does_not_say_it_is_an_article_is_not_guessed_into_one():
    # no JSON-LD article, no og:type article, no post class: a listing or a static page
    article = parse_article(page(""), URL)
    assert not article["is_article"]
    assert article["reason"] == "no article markup"
