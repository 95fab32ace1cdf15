"""The seed article (shared/seed-article.txt, as a reader copied it) comes out as a reader
should get it: the standfirst once, the hard-wrapped fragments joined, the source line kept."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ciudadano.cli import main
from crawler.parsers import parse_article

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = FIXTURES / "pages" / "seed-kast-milei"
URL = "https://www.elciudadano.com/actualidad/kast-sella-alianza-ideologica-con-milei-a-semanas-de-la-segunda-vuelta/11/21/"
STANDFIRST = (
    "El presidencial concretó un llamado con el mandatario argentino en un movimiento "
    "estratégico para consolidar el voto de derecha y ultraliberal."
)


def seed_paragraphs() -> list[str]:
    """The reader's copy, split at blank lines: section, title, credit line, standfirst twice,
    then the body with its hard-wrapped fragments."""
    text = (FIXTURES / "seed-article.txt").read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def parsed() -> dict:
    return parse_article((PAGE / "input.html").read_bytes(), URL)


def test_the_copy_shows_the_defects_we_remove():
    paragraphs = seed_paragraphs()
    assert paragraphs.count(STANDFIRST) == 2
    assert any(p.endswith("el presidente paraguayo Santiago") for p in paragraphs)


def test_fields_of_the_seed():
    article = parsed()
    assert article["is_article"] is True
    assert article["url"] == URL
    assert article["title"] == seed_paragraphs()[1]
    assert article["section"] == "Actualidad" and article["section_slug"] == "actualidad"
    assert article["authors"] == ["El Ciudadano"]
    assert article["published_date"] == "2025-11-21"  # "21 de noviembre de 2025"
    assert article["published"].endswith("-03:00")  # Chilean summer time
    assert article["language"] == "es"
    assert article["wp_id"] == 1195873


def test_standfirst_is_kept_once_as_subtitle():
    article = parsed()
    assert article["subtitle"] == STANDFIRST
    assert STANDFIRST not in article["body"]
    assert article["body"].startswith("Tras asegurar su paso al balotaje")


def test_hard_wrapped_fragments_are_joined():
    paragraphs = parsed()["body"].split("\n\n")
    assert (
        "Paralelamente, Kast también se comunicó con el presidente paraguayo Santiago Peña, "
        "de línea conservadora, con quien también abordó los desafíos y oportunidades "
        "futuras entre ambas naciones."
    ) in paragraphs
    assert (
        "Este movimiento estratégico, sumado a los apoyos internos ya confirmados de figuras "
        "como Evelyn Matthei y Johannes Kaiser, se da en un momento crucial de la campaña. Al "
        "exhibir esta red de contactos internacionales de derecha, el candidato proyecta una "
        "imagen de solidez y unificación ideológica."
    ) in paragraphs
    assert paragraphs[-1] == "Fuente: El Ciudadano"


def test_body_is_the_readers_text_without_page_furniture():
    body = parsed()["body"]
    # every whole paragraph of the reader's copy after the standfirst is in the body, in order
    whole = [p for p in seed_paragraphs()[5:] if p.endswith(".") and p[0].isupper()][:4]
    positions = [body.index(p) for p in whole]
    assert positions == sorted(positions)
    for furniture in (
        "Lee también",
        "Publicidad",
        "Artículos relacionados",
        "Deja un comentario",
        "Lo más leído",
        "Facebook",
        "@JMilei",
    ):
        assert furniture not in body


def test_parse_command_prints_one_json_line():
    result = CliRunner().invoke(main, ["parse", str(PAGE / "input.html"), "--url", URL])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == parsed()


def test_parse_command_reads_stdin_and_answers_non_articles():
    block = (FIXTURES / "pages" / "cloudflare-block" / "input.html").read_bytes()
    result = CliRunner().invoke(main, ["parse", "-", "--url", URL], input=block)
    assert result.exit_code == 0
    article = json.loads(result.stdout)
    assert article["is_article"] is False and article["reason"] == "cloudflare-block"
