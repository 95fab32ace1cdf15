"""Search as the archivist uses it: Spanish word forms, ranking, snippets, one language for the
CLI and Datasette, an index keyed on a stable id. Every expected hit below is read off the
hand-written articles in this file."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from archive.filters import Slice
from archive.model import empty_article
from archive.schema import SCHEMA_VERSION
from archive.search import search
from archive.store import Archive
from tests.conftest import serving

BASE = "https://www.elciudadano.com"


def article(
    slug: str,
    title: str,
    body: str,
    published: str,
    subtitle: str | None = None,
    section: str = "Política",
    authors: tuple[str, ...] = ("Ana Soto",),
) -> dict:
    a = empty_article(f"{BASE}/{slug}/")
    a.update(
        title=title,
        body=body,
        subtitle=subtitle,
        published=published,
        published_date=published[:10],
        section=section,
        section_slug=section.lower().replace("í", "i").replace(" ", "-"),
        authors=list(authors),
        is_article=True,
        language="es",
    )
    return a


ARTICLES = [
    article(
        "presidenciales",
        "Las elecciones presidenciales de noviembre",
        "Los candidatos cerraron sus campañas. La segunda vuelta será en diciembre.",
        "2025-11-10T10:00:00-03:00",
    ),
    article(
        "consejo",
        "Consejo regional",
        "La elección del consejo regional se adelantó por la lluvia.",
        "2025-10-01T09:00:00-03:00",
        section="Chile",
        authors=("Pedro Rojas",),
    ),
    article(
        "padron",
        "Padrón actualizado",
        "El Servicio Electoral publicó el padrón electoral definitivo.",
        "2025-09-01T09:00:00-03:00",
    ),
    article(
        "glaciares-titulo",
        "Glaciares en peligro",
        "Un informe sobre el agua.",
        "2020-01-01T09:00:00-03:00",
        section="Medio Ambiente",
    ),
    article(
        "glaciares-bajada",
        "Informe del agua",
        "Un informe sobre el agua.",
        "2020-01-02T09:00:00-03:00",
        subtitle="Los glaciares retroceden",
        section="Medio Ambiente",
    ),
    article(
        "glaciares-cuerpo",
        "Informe sobre el agua",
        "Los glaciares retroceden cada año.",
        "2020-01-03T09:00:00-03:00",
        section="Medio Ambiente",
    ),
    # the same text on two dates: a tie in rank, the newer first
    article("litio-antes", "Litio", "El litio del salar.", "2019-05-01T09:00:00-04:00"),
    article("litio-despues", "Litio", "El litio del salar.", "2023-05-01T09:00:00-04:00"),
]


def urls(hits: list[dict]) -> list[str]:
    return [h["url"].removeprefix(BASE).strip("/") for h in hits]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "busqueda.db"
    store = Archive(path)
    for a in ARTICLES:
        assert store.store_article(a) == "new"
    store.close()
    return path


@pytest.mark.parametrize(
    "query, found",
    [
        ("elecciones", {"presidenciales", "consejo"}),  # elección is the same word
        ("elección", {"presidenciales", "consejo"}),
        ("ELECCION", {"presidenciales", "consejo"}),
        ("presidencial", {"presidenciales"}),  # presidenciales is its plural
        ("electoral", {"padron"}),  # not elección: another word
        ('"elecciones presidenciales"', {"presidenciales"}),
        ('"eleccion presidencial"', set()),  # a phrase is the words as written
        ("elec*", {"presidenciales", "consejo", "padron"}),  # a prefix of words as written
        ("elecciones NOT consejo", {"presidenciales"}),
        ("consejo OR padrón", {"consejo", "padron"}),  # OR is either, not both
        ("title:glaciares", {"glaciares-titulo"}),
    ],
)
def test_words_match_in_any_form_phrases_and_prefixes_as_written(archive, query, found):
    assert set(urls(search(archive, query))) == found


def test_a_title_hit_ranks_above_the_standfirst_above_the_body(archive):
    assert urls(search(archive, "glaciares")) == [
        "glaciares-titulo",
        "glaciares-bajada",
        "glaciares-cuerpo",
    ]


def test_equal_rank_goes_to_the_newest_and_sort_date_is_newest_first(archive):
    assert urls(search(archive, "litio")) == ["litio-despues", "litio-antes"]
    assert urls(search(archive, "glaciares", sort="date")) == [
        "glaciares-cuerpo",
        "glaciares-bajada",
        "glaciares-titulo",
    ]


def test_the_snippet_marks_every_form_of_the_word(archive):
    hit = search(archive, "elecciones", limit=20)
    by_url = {h["url"].removeprefix(BASE).strip("/"): h["snippet"] for h in hit}
    assert "[elección]" in by_url["consejo"]
    # no hit in the body: the title's
    assert by_url["presidenciales"] == "Las [elecciones] presidenciales de noviembre"
    assert "[segunda] [vuelta]" in search(archive, '"segunda vuelta"')[0]["snippet"]


def test_a_delete_without_the_stemmer_is_refused_and_vacuum_keeps_ids(tmp_path):
    path = tmp_path / "vacuum.db"
    store = Archive(path)
    for a in ARTICLES:
        store.store_article(a)
    store.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.OperationalError, match="ciudadano_stem"):
        conn.execute("delete from articles where url like '%/consejo/'")
    conn.execute("vacuum")
    conn.close()
    store = Archive(path)  # our writer: it has the stemmer
    store.db.execute("delete from articles where url like '%/consejo/'")
    store.db.execute("vacuum")
    store.close()
    assert urls(search(path, "elecciones")) == ["presidenciales"]
    assert urls(search(path, "salar")) == ["litio-despues", "litio-antes"]


def many_articles(path, count: int, first_day: str, extra_words) -> None:
    """count articles "Nota n", one a day from first_day, each saying "La ley de pesca" and
    then extra_words(n)."""
    from datetime import date, timedelta

    from archive.db import open_for_writing

    conn = open_for_writing(path)
    conn.execute("begin")
    for n in range(count):
        day = (date.fromisoformat(first_day) + timedelta(days=n)).isoformat()
        conn.execute(
            "insert into articles (url, title, body, published, published_date, published_utc)"
            " values (?, ?, ?, ?, ?, ?)",
            [
                f"{BASE}/n{n}/",
                f"Nota {n}",
                "La ley de pesca" + extra_words(n),
                f"{day}T12:00:00-03:00",
                day,
                f"{day}T15:00:00Z",
            ],
        )
    conn.execute("commit")
    conn.close()


def test_a_query_that_matches_most_of_a_large_archive_is_newest_first(tmp_path):
    # 2,400 articles, one a day from 2018-01-01; every one says "de", every third "gobierno"
    path = tmp_path / "big.db"
    many_articles(path, 2400, "2018-01-01", lambda n: " del gobierno" if n % 3 == 0 else "")
    # the newest 5 are the last 5 written: n = 2399 .. 2395
    assert urls(search(path, "de", limit=5)) == [f"n{n}" for n in (2399, 2398, 2397, 2396, 2395)]
    # a word in a third of them is ranked; equal ranks, newest first: n = 2397, 2394, 2391
    assert urls(search(path, "gobierno", limit=3)) == ["n2397", "n2394", "n2391"]
    assert urls(search(path, "de", limit=2, where=Slice(date_to="2018-01-05"))) == ["n4", "n3"]


def test_how_common_a_query_is_is_sampled_in_a_large_archive(tmp_path):
    # 9,000 articles (enough for the sample windows the writers keep): "gobierno" in 3 of
    # every 5 (most: newest first), "ministro" in 2 of every 5 (ranked by relevance)
    from archive.schema import META

    path = tmp_path / "sampled.db"
    many_articles(
        path,
        9000,
        "2001-01-01",
        lambda n: (" del gobierno" if n % 5 < 3 else "") + (" y el ministro" if n % 5 < 2 else ""),
    )
    store = Archive(path)
    store.update_median_key()  # as every crawl and import does when it ends
    (windows,) = store.db.execute(f"select value from {META} where key = 'sample_keys'").fetchone()
    store.close()
    assert [size for _, _, size in json.loads(windows)] == [256] * 8
    # most of the archive: newest first, unranked (n = 8999 and 8998 have no "gobierno")
    for query in ("gobierno", "gobier*"):  # the prefix bounded by "gob*", then counted
        hits = search(path, query, limit=3)
        assert urls(hits) == ["n8997", "n8996", "n8995"], query
        assert [h["rank"] for h in hits] == [None, None, None]
    # fewer than half: ranked by relevance (equal ranks, newest first)
    for query in ("ministro", "minist*"):
        hits = search(path, query, limit=3)
        assert urls(hits) == ["n8996", "n8995", "n8991"], query
        assert all(h["rank"] is not None for h in hits)


def test_datasette_search_page_answers_as_the_cli(archive):
    with serving(archive) as base:
        for query in ("elecciones", "glaciares", "litio", '"segunda vuelta"'):
            page = httpx.get(
                f"{base}/busqueda/search.json", params={"q": query, "_shape": "objects"}, timeout=30
            )
            assert page.status_code == 200, page.text
            served = [row["url"] for row in page.json()["rows"]]
            assert served == [h["url"] for h in search(archive, query)], query
        section = httpx.get(
            f"{base}/busqueda/search.json",
            timeout=30,
            params={
                "q": "glaciares OR elecciones",
                "section": "Medio Ambiente",
                "until": "2020-01-02",
                "_shape": "objects",
            },
        ).json()["rows"]
        assert [r["url"] for r in section] == [
            f"{BASE}/glaciares-titulo/",
            f"{BASE}/glaciares-bajada/",
        ]
        assert "[glaciares]" in section[1]["snippet"].lower()
        # the table's own search box leads to the same ranked search
        moved = httpx.get(f"{base}/busqueda/articles", params={"_search": "elecciones"}, timeout=30)
        assert moved.status_code == 302
        assert moved.headers["location"] == "/busqueda/search?q=elecciones"
        bad = httpx.get(
            f"{base}/busqueda/search", params={"q": "elecciones", "since": "ayer"}, timeout=30
        )
        assert bad.status_code == 400 and "since 'ayer'" in bad.text
        authors = httpx.get(
            f"{base}/busqueda/articles_per_author.json", params={"_shape": "objects"}, timeout=30
        ).json()["rows"]
        assert {(r["author"], r["articles"]) for r in authors} == {
            ("Ana Soto", 7),
            ("Pedro Rojas", 1),
        }
        sections = httpx.get(
            f"{base}/busqueda/articles_per_section.json",
            params={"_shape": "objects", "since": "2025"},
            timeout=30,
        ).json()
        assert {(r["section"], r["articles"]) for r in sections["rows"]} == {
            ("Política", 2),
            ("Chile", 1),
        }


def test_search_json_carries_the_article_id(archive):
    hit = search(archive, "padrón")[0]
    conn = sqlite3.connect(archive)
    assert (
        conn.execute("select url from articles where id = ?", [hit["id"]]).fetchone()[0]
        == hit["url"]
    )
    conn.close()
    assert json.dumps(hit)  # plain JSON for --json


def test_an_older_archive_is_migrated_to_integer_ids_and_stems(tmp_path):
    from tests.old_archive import make_v1_archive

    path = make_v1_archive(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    # rows as 0.1 wrote them; the one in the middle deleted, as a user might have
    for n, (title, body) in enumerate(
        [
            ("Primera", "Las elecciones de abril."),
            ("Borrada", "Nada."),
            ("Tercera", "La elección del consejo."),
        ]
    ):
        conn.execute(
            "insert into articles (url, title, body, published, published_date) "
            "values (?, ?, ?, ?, ?)",
            [
                f"{BASE}/v1-{n}/",
                title,
                body,
                f"2024-0{n + 1}-01T10:00:00-03:00",
                f"2024-0{n + 1}-01",
            ],
        )
    conn.execute("delete from articles where title = 'Borrada'")
    conn.commit()
    old_rowids = dict(conn.execute("select url, rowid from articles").fetchall())
    conn.close()
    Archive(path).close()  # a writer opens it: migrated
    conn = sqlite3.connect(path)
    assert dict(conn.execute("select url, id from articles").fetchall()) == old_rowids
    assert conn.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert urls(search(path, "elecciones")) == ["v1-2", "v1-0"]  # newest first on a tie


def test_reopening_an_archive_does_not_reindex_it(tmp_path):
    # the stemmer's version is stored in the archive: another process must read the same one,
    # or every crawl would rebuild the whole index
    import subprocess
    import sys

    path = tmp_path / "again.db"
    Archive(path).close()
    code = (
        "import sqlite3, sys; from archive.store import Archive; Archive(sys.argv[1]).close(); "
        'print(sqlite3.connect(sys.argv[1]).execute("select value from archive_meta '
        "where key = 'stemmer'\").fetchone()[0])"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(seen) == 1 and seen.pop().startswith("snowball-spanish/3.")
    conn = sqlite3.connect(path)
    # a reindex would have written the index anew: its data table is as the first open left it
    assert conn.execute("select count(*) from articles_fts_data").fetchone()[0] <= 2
    conn.close()
