"""Reading the archive from the command line: `ciudadano show` prints one article as a reader
reads it, `ciudadano sections` lists the sections with their counts. Expected values are read
off the stand-in's articles (standin/articles.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ciudadano.cli import main
from tests.conftest import rows

POLITICA = "La política de pensiones vuelve al Senado tras el receso"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def politica(db) -> tuple[int, str]:
    return rows(db, "select id, url from articles where wp_id = 1181002")[0]


def test_show_prints_the_article_as_a_reader_reads_it(crawled):
    db, _ = crawled
    article_id, url = politica(db)
    result = cli("show", str(article_id), "--db", str(db))
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    assert blocks[0] == POLITICA
    # published 2025-09-07T04:30Z: 01:30 in Santiago (UTC-3 from that day on)
    assert blocks[1] == (
        "7 de septiembre de 2025, 01:30 (hora de Chile) · Política · Felipe Soto,\nDaniela Muñoz"
    )  # wrapped at 78 characters
    assert blocks[2] == "El oficialismo busca votar en general antes de fin de mes."
    assert blocks[3].startswith("El Gobierno retomó la tramitación del proyecto de pensiones")
    assert blocks[-1].strip() == url
    assert all(len(line) <= 78 for line in result.stdout.splitlines() if " " in line)


def test_show_finds_the_article_by_its_url_with_or_without_the_slash(crawled):
    db, _ = crawled
    article_id, url = politica(db)
    for ref in (url, url.rstrip("/"), f"https://www.elciudadano.com/{url.split('/', 3)[3]}"):
        result = cli("show", ref, "--db", str(db), "--json")
        assert result.exit_code == 0, (ref, result.output)
        assert json.loads(result.stdout)["id"] == article_id


def test_show_json_has_every_field_for_machines(crawled):
    db, _ = crawled
    article_id, _ = politica(db)
    article = json.loads(cli("show", str(article_id), "--db", str(db), "--json").stdout)
    assert article["title"] == POLITICA and article["wp_id"] == 1181002
    assert article["authors"] == ["Felipe Soto", "Daniela Muñoz"]
    assert article["section"] == "Política" and article["section_slug"] == "politica"
    assert article["published"] == "2025-09-07T01:30:00-03:00"


def test_show_of_an_unknown_article_is_one_line_and_status_1(crawled):
    db, _ = crawled
    result = cli("show", "999999", "--db", str(db))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        (
            "error: no article '999999' in the archive: give its id (as `ciudadano search "
            "--json` prints it) or its URL"
        )
    ]


def test_sections_lists_each_section_with_its_count(crawled):
    db, _ = crawled
    result = cli("sections", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    by_slug = {s["slug"]: (s["section"], s["articles"]) for s in listed}
    # one article in each of these sections of the stand-in
    for slug, name in (
        ("actualidad", "Actualidad"),
        ("politica", "Política"),
        ("mundo", "Mundo"),
        ("en", "English Edition"),
        ("economia", "Economía"),
    ):
        assert by_slug[slug] == (name, 1)
    assert sum(s["articles"] for s in listed) == rows(db, "select count(*) from articles")[0][0]


def test_sections_as_text_names_the_slug_that_section_takes(crawled):
    db, _ = crawled
    result = cli("sections", "--db", str(db))
    assert "       1  Política  (politica)" in result.stdout.splitlines()


def test_a_withdrawn_article_is_not_shown_nor_counted_unless_asked(crawled, tmp_path):
    db = tmp_path / "withdrawn.db"
    db.write_bytes(crawled[0].read_bytes())
    article_id, url = politica(db)
    assert cli("withdraw", url, "--reason", "a court order", "--db", str(db)).exit_code == 0
    hidden = cli("show", str(article_id), "--db", str(db))
    assert hidden.exit_code == 1
    assert hidden.output.splitlines() == [
        (
            f"error: article {article_id} was withdrawn from public view (--include-withdrawn "
            "shows it)"
        )
    ]
    shown = cli("show", str(article_id), "--db", str(db), "--include-withdrawn")
    assert shown.exit_code == 0 and shown.stdout.startswith(POLITICA)
    listed = [
        json.loads(line) for line in cli("sections", "--db", str(db), "--json").stdout.splitlines()
    ]
    assert "politica" not in {s["slug"] for s in listed}  # its only article is withdrawn
