"""The query language understands what it is given (or, NEAR, author:) or says in one line what
it will not do (a * inside or before a word). Expected titles and authors are read off the
stand-in's articles (standin/articles.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.query import SearchError
from ciudadano.cli import main

POLITICA = "La política de pensiones vuelve al Senado tras el receso"  # Felipe Soto, Daniela Muñoz
RELAVE = "Comunidades de Tiltil denuncian nuevo derrame de relave"  # Camila Rojas
KAST = "Kast sella alianza ideológica con Milei a semanas de la segunda vuelta"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def titles(db, *args: str) -> set[str]:
    result = cli("search", *args, "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    return {json.loads(line)["title"] for line in result.stdout.splitlines()}


def refused(db, query: str, says: str) -> None:
    result = cli("search", query, "--db", str(db))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and says in lines[0], result.output


# -- or, and, not in lower case ------------------------------------------------------------------
def test_or_in_lower_case_is_the_operator(crawled):
    db, _ = crawled
    # before: the word "or" was searched for too, and no article has it
    assert titles(db, "pensiones or relave") == {POLITICA, RELAVE}
    assert titles(db, "pensiones OR relave") == {POLITICA, RELAVE}


def test_not_in_lower_case_is_the_operator(crawled):
    db, _ = crawled
    assert titles(db, "(pensiones or relave) not relave") == {POLITICA}


def test_a_quoted_or_is_the_word():
    from archive.query import parse_query

    assert "OR" not in parse_query('"or"').expression


# -- NEAR ------------------------------------------------------------------------------------------
def test_near_finds_words_within_the_distance(crawled):
    db, _ = crawled
    # the headline has four words between Kast and Milei: "sella alianza ideológica con"
    assert titles(db, "title:NEAR(kast milei, 4)") == {KAST}
    assert titles(db, "title:NEAR(milei kast, 3)") == set()
    assert KAST in titles(db, "near(Kast Milei)")


def test_near_without_parentheses_or_with_one_word_is_refused(crawled):
    db, _ = crawled
    refused(db, "kast NEAR milei", "NEAR takes its words in parentheses")
    refused(db, "NEAR(kast)", "NEAR(...) takes two words or more")
    refused(db, "NEAR(kast milei, 500)", "at most 100 words apart")


# -- wildcards the index cannot answer ---------------------------------------------------------------
def test_a_star_inside_a_word_is_refused_in_one_line(crawled):
    db, _ = crawled
    # before: read as "ka*" AND "st"
    refused(db, "ka*st", "ka*st: * may only end a word")


def test_a_star_before_a_word_is_refused_in_one_line(crawled):
    db, _ = crawled
    # before: read as the word "ast"
    refused(db, "*ast", "*ast: a word cannot start with *")


def test_a_prefix_still_works(crawled):
    db, _ = crawled
    assert POLITICA in titles(db, "pensi*")


# -- authors ---------------------------------------------------------------------------------------
def test_author_in_the_query_ignores_case_and_accents(crawled):
    db, _ = crawled
    assert titles(db, "author:muñoz") == {POLITICA}
    assert titles(db, "author:MUNOZ") == {POLITICA}
    assert titles(db, 'author:"daniela muñoz" pensiones') == {POLITICA}
    assert titles(db, "author:rojas pensiones") == set()


def test_the_fields_answer_to_their_spanish_names_too(crawled):
    # the reading room's help names them in Spanish: título:, autor: had been "not a column"
    from archive.query import fts_query

    db, _ = crawled
    assert titles(db, "autor:muñoz") == titles(db, "AUTOR:Muñoz") == {POLITICA}
    assert titles(db, "título:kast") == titles(db, "titulo:KAST") == {KAST}
    assert fts_query("título:kast") == fts_query("titulo:kast") == fts_query("title:kast")
    assert fts_query("bajada:senado") == fts_query("subtitle:senado")
    assert fts_query("cuerpo:senado") == fts_query("body:senado")
    refused(db, "fecha:2025", "fecha: is not a searchable column")


def test_search_author_option_alone_lists_their_articles(crawled):
    db, _ = crawled
    assert titles(db, "--author", "muñoz") == {POLITICA}
    assert titles(db, "relave", "--author", "Camila Rojas") == {RELAVE}
    assert titles(db, "--author", "soto", "--section", "politica") == {POLITICA}


def test_an_author_no_article_has_is_said(crawled):
    db, _ = crawled
    refused(db, "author:nadie", "author 'nadie': no article")


def test_an_author_inside_or_is_refused(crawled):
    db, _ = crawled
    refused(db, "kast OR author:muñoz", "author:muñoz filters the whole query")
    refused(db, "(kast author:muñoz)", "filters the whole query")


def test_author_is_refused_where_only_words_are_understood():
    from archive.query import fts_query

    with pytest.raises(SearchError, match="author: is understood by `ciudadano search`"):
        fts_query("kast author:muñoz")


def test_search_by_author_reads_the_authors_index_not_every_article(big_archive):
    """Not a timing: the author's articles are found through the index on article_authors
    (SQLite's plan says so), not by reading every article."""
    from archive.db import connect_reader
    from archive.filters import Slice
    from archive.search import credited_sql, search

    conn = connect_reader(big_archive)
    plan = [
        row[3]
        for row in conn.execute(
            "explain query plan " + credited_sql(2), ["Ana Díaz", "Felipe Soto"]
        )
    ]
    conn.close()
    # the authors' index first, then each article by its id: no scan of either table
    assert any("INDEX idx_article_authors_author" in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan
    with pytest.raises(SearchError, match="no article of the archive is credited"):
        search(big_archive, "", Slice(author="muñoz"))
