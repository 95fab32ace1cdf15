"""What the archivist and the researcher do with a crawled archive: search, export, Datasette."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from click.testing import CliRunner

from ciudadano.cli import main
from tests.conftest import rows

POLITICA = "La política de pensiones vuelve al Senado tras el receso"


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def search_json(db, *args: str) -> list[dict]:
    result = cli("search", *args, "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("query", ["politica", "POLÍTICA", "Política", "pensiones senado"])
def test_search_ignores_case_and_accents(crawled, query):
    db, _ = crawled
    titles = [hit["title"] for hit in search_json(db, query)]
    assert POLITICA in titles


def test_search_ranks_title_matches_first_and_marks_the_snippet(crawled):
    db, _ = crawled
    hits = search_json(db, "política")
    assert hits[0]["title"] == POLITICA
    assert "[" in hits[0]["snippet"] and "]" in hits[0]["snippet"]
    assert len(hits) >= 2  # the seed article's body mentions "jugada política"


def test_search_filters_by_section_and_dates(crawled):
    db, _ = crawled
    assert [h["section"] for h in search_json(db, "politica", "--section", "Actualidad")] == [
        "Actualidad"
    ]
    assert [h["section"] for h in search_json(db, "politica", "--section", "politica")] == [
        "Política"
    ]
    assert search_json(db, "politica", "--from", "2025-11")[0]["published_date"] == "2025-11-21"
    assert search_json(db, "politica", "--to", "2025-09-07")[0]["title"] == POLITICA
    assert search_json(db, "politica", "--from", "2026") == []


@pytest.mark.parametrize(
    "query, says",
    [
        ('"pensiones', "a phrase is not closed"),
        ("pensiones AND (", "a word is missing"),
        ("(pensiones", "a ( is not closed"),
        ("NOT pensiones", "needs a word on each side"),
        ("p*", "too short a prefix"),
        ("fecha:kast", "not a searchable column"),
    ],
)
def test_bad_search_syntax_is_one_clear_line_not_a_reinterpretation(crawled, query, says):
    db, _ = crawled
    result = cli("search", query, "--db", str(db))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and says in result.output, result.output


def test_or_finds_either_word_and_not_excludes(crawled):
    db, _ = crawled
    pensiones = {h["title"] for h in search_json(db, "pensiones")}
    relave = {h["title"] for h in search_json(db, "relave")}
    assert pensiones and relave and not pensiones & relave
    assert {h["title"] for h in search_json(db, "pensiones OR relave")} == pensiones | relave
    assert {h["title"] for h in search_json(db, "(pensiones OR relave) NOT relave")} == pensiones
    assert {h["title"] for h in search_json(db, '"segunda vuelta" kast')}


def test_search_errors_are_one_line_and_exit_1(crawled, tmp_path):
    db, _ = crawled
    result = cli("search", "x", "--db", str(db), "--from", "yesterday")
    assert result.exit_code == 1 and "as YYYY, YYYY-MM or YYYY-MM-DD" in result.output
    result = cli("search", "x", "--db", str(tmp_path / "missing.db"))
    assert result.exit_code == 5 and "no archive at" in result.output


def test_export_jsonl_round_trips_every_article(crawled, tmp_path):
    db, _ = crawled
    out = tmp_path / "articles.jsonl"
    result = cli("export", "--format", "jsonl", "--out", str(out), "--db", str(db))
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == rows(db, "select count(*) from articles")[0][0] == 10
    seed = next(a for a in exported if a["wp_id"] == 1195873)
    assert seed["authors"] == ["El Ciudadano"] and seed["categories"] == ["Actualidad", "Política"]
    assert seed["body"].endswith("Fuente: El Ciudadano")
    assert [a["published"] for a in exported] == sorted(a["published"] for a in exported)


def test_export_csv_to_stdout_with_a_slice(crawled):
    db, _ = crawled
    result = cli("export", "--format", "csv", "--db", str(db), "--section", "Chile")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["title"] for r in table] == [
        "Comunidades de Tiltil denuncian nuevo derrame de relave"
    ]
    assert json.loads(table[0]["tags"]) == ["Tiltil", "Relaves", "Minería"]


def test_export_to_an_unwritable_place_fails_cleanly(crawled, tmp_path):
    db, _ = crawled
    result = cli(
        "export",
        "--format",
        "csv",
        "--db",
        str(db),
        "--out",
        str(tmp_path / "no-such-dir" / "out.csv"),
    )
    assert result.exit_code == 1 and "cannot write" in result.output


@pytest.fixture
def datasette(crawled_served):
    return crawled_served


def test_datasette_searches_without_accents_and_facets(datasette):
    base, name = datasette
    answer = httpx.get(
        f"{base}/{name}/articles.json",
        follow_redirects=True,
        params={"_search": "politica", "_shape": "objects"},
        timeout=30,
    ).json()
    assert answer["rows"][0]["title"] == POLITICA
    table = httpx.get(
        f"{base}/{name}/articles.json", params={"section": "Política"}, timeout=30
    ).json()
    assert set(table["facet_results"]) >= {"section", "year"}
    sections = {f["value"] for f in table["facet_results"]["section"]["results"]}
    assert sections == {"Política"}


def test_datasette_shows_the_archive_metadata(datasette):
    base, name = datasette
    page = httpx.get(f"{base}/{name}/articles", timeout=30).text
    assert "One row per article" in page
    assert "Archivo de El Ciudadano" in httpx.get(base + "/", timeout=30).text
