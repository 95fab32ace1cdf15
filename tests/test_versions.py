"""Revisions: an article that changed keeps its earlier versions, and Datasette shows them and
what changed, word by word. Expected values are read off the versions written here."""

from __future__ import annotations

import re

import httpx

from archive.datasette.plugin.diff import word_diff_text as word_diff
from archive.model import empty_article
from archive.store import Archive
from tests.conftest import rows, serving

URL = "https://www.elciudadano.com/politica/reforma/11/20/"


def version(title: str, body: str, modified: str, **more) -> dict:
    a = empty_article(URL)
    a.update(
        title=title,
        body=body,
        published="2025-11-20T10:00:00-03:00",
        published_date="2025-11-20",
        modified=modified,
        section="Política",
        authors=["Ana Soto"],
        tags=["Pensiones"],
        is_article=True,
    )
    a.update(more)
    return a


FIRST = version(
    "El Gobierno anuncia la reforma",
    "El ministro presentó el proyecto hoy.",
    "2025-11-20T10:00:00-03:00",
)
SECOND = version(
    "El Gobierno retira la reforma",
    "El ministro retiró el proyecto hoy.",
    "2025-11-21T09:00:00-03:00",
)
THIRD = version(
    "El Gobierno retira la reforma",
    "El ministro retiró el proyecto ayer.",
    "2025-11-22T09:00:00-03:00",
    tags=["Pensiones", "Senado"],
)


def test_each_change_a_reader_sees_keeps_the_version_before_it(tmp_path):
    db = tmp_path / "versiones.db"
    store = Archive(db)
    assert store.store_article(FIRST) == "new"
    assert store.store_article(FIRST) == "unchanged"
    assert store.store_article(SECOND) == "changed"
    assert store.store_article(SECOND) == "unchanged"  # fetched again: nothing added
    bookkeeping = dict(SECOND, provenance={"title": "rest"})
    assert store.store_article(bookkeeping) == "changed"  # stored, but not a new version
    assert store.store_article(THIRD) == "changed"
    store.close()
    assert rows(
        db, "select version, title, body, modified, tags from article_versions order by version"
    ) == [
        (
            1,
            "El Gobierno anuncia la reforma",
            "El ministro presentó el proyecto hoy.",
            "2025-11-20T10:00:00-03:00",
            '["Pensiones"]',
        ),
        (
            2,
            "El Gobierno retira la reforma",
            "El ministro retiró el proyecto hoy.",
            "2025-11-21T09:00:00-03:00",
            '["Pensiones"]',
        ),
    ]
    assert rows(db, "select title, body from articles") == [
        ("El Gobierno retira la reforma", "El ministro retiró el proyecto ayer.")
    ]


def test_a_word_diff_marks_removed_and_added_words():
    assert (
        word_diff("El ministro presentó el proyecto hoy.", "El ministro retiró el proyecto ayer.")
        == "El ministro [-presentó-] {+retiró+} el proyecto [-hoy.-] {+ayer.+}"
    )
    assert word_diff("igual", "igual") == "igual"


def test_datasette_lists_the_versions_and_shows_what_changed(tmp_path):
    db = tmp_path / "versiones.db"
    store = Archive(db)
    for v in (FIRST, SECOND, THIRD):
        store.store_article(v)
    store.close()
    (article_id,) = rows(db, "select id from articles")[0]
    with serving(db) as base:
        listed = httpx.get(
            f"{base}/versiones/article_versions.json",
            timeout=30,
            params={"id": article_id, "_shape": "objects"},
        ).json()["rows"]
        assert [(r["version"], r["title"]) for r in listed] == [
            (1, "El Gobierno anuncia la reforma"),
            (2, "El Gobierno retira la reforma"),
            (3, "El Gobierno retira la reforma"),
        ]
        diff = httpx.get(
            f"{base}/versiones/version_diff.json",
            timeout=30,
            params={"id": article_id, "from": "1", "_shape": "objects"},
        ).json()
        changed = {r["field"]: r["diff"] for r in diff["rows"]}
        assert changed["title"] == "El Gobierno [-anuncia-] {+retira+} la reforma"
        assert (
            changed["body"] == "El ministro [-presentó-] {+retiró+} el proyecto [-hoy.-] {+ayer.+}"
        )
        assert changed["section"] == "Política"
        last = httpx.get(
            f"{base}/versiones/version_diff.json",
            timeout=30,
            params={"id": article_id, "_shape": "objects"},
        ).json()["rows"]
        assert {r["field"]: r["diff"] for r in last}[
            "body"
        ] == "El ministro retiró el proyecto [-hoy.-] {+ayer.+}"
        assert {(r["from_version"], r["to_version"]) for r in last} == {(2, 3)}
        page = httpx.get(f"{base}/-/article/versiones/{article_id}", timeout=30)
        changes = httpx.get(
            f"{base}/-/cambios/versiones/{article_id}", params={"from": 1, "to": 3}, timeout=30
        )
    # the zone named once for the byline's times and once for the archive's, not after each
    # of the six times (published, updated, first archived, last changed, three versions)
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert (
        "20 de noviembre de 2025, 10:00 · actualizado el 22 de noviembre de 2025, 09:00 "
        "(hora de Chile)" in text
    )
    assert text.count("(hora de Chile)") == 1 and text.count("horas de Chile") == 0
    assert text.count("Las horas son de Chile.") == 1
    # and the changes page once, after the two versions' times
    text = " ".join(re.sub(r"<[^>]+>", " ", changes.text).split())
    assert text.count("de Chile") == 1
    assert re.search(
        r"a la versión 3, obtenida el \d+ de \w+ de \d{4}, \d\d:\d\d \(horas de Chile\)\.", text
    ), text[:400]
