"""The crawl against a real WordPress (Debian's packages), not our model of it: posts inserted
through WordPress's own functions, crawled from REST, pages, sitemaps and the feed, and checked
field by field against what was inserted. `make test-wordpress` runs it; `.ci/run` too."""

from __future__ import annotations

import pytest

from tests.conftest import rows, run_crawl
from tests.wordpress.real_wordpress import RealWordPress, WordPressUnavailable

TILTIL = {
    "title": "Comunidades de Tiltil denuncian nuevo derrame de relave",
    "content": "<!-- wp:paragraph --><p>Los vecinos de Tiltil denunciaron un nuevo derrame de "
    "relave en el estero.</p><!-- /wp:paragraph -->\n<!-- wp:paragraph --><p>La "
    "empresa no informó a tiempo del incidente.</p><!-- /wp:paragraph -->",
    "standfirst": "Vecinos acusan que la empresa minera no informó a tiempo del incidente.",
    "date": "2025-07-14 22:30:00",  # Santiago, winter: UTC-4
    "categories": [["Chile", "chile"], ["Medio Ambiente", "medio-ambiente"]],
    "tags": ["Tiltil", "Relaves"],
    "author": "Camila Rojas",
    "status": "publish",
    "slug": "comunidades-de-tiltil-denuncian-derrame",
}
PENSIONES = {
    "title": "La reforma de pensiones vuelve al Senado",
    "content": "<!-- wp:paragraph --><p>El proyecto vuelve a la sala tras el receso.</p>"
    "<!-- /wp:paragraph -->",
    "standfirst": "",
    "date": "2025-09-07 01:30:00",  # the night clocks go forward: UTC-3
    "categories": [["Política", "politica"]],
    "tags": ["Pensiones"],
    "author": "Felipe Soto",
    "status": "publish",
    "slug": "la-reforma-de-pensiones-vuelve-al-senado",
}
DRAFT = {
    **PENSIONES,
    "title": "Borrador que nunca se publicó",
    "status": "draft",
    "slug": "borrador-interno",
}
PRIVATE = {
    **PENSIONES,
    "title": "Nota privada de la redacción",
    "status": "private",
    "slug": "nota-privada",
}


@pytest.fixture(scope="module")
def wordpress():
    try:
        with RealWordPress() as wp:
            ids = {
                name: wp.insert_post(post)
                for name, post in (
                    ("tiltil", TILTIL),
                    ("pensiones", PENSIONES),
                    ("draft", DRAFT),
                    ("private", PRIVATE),
                )
            }
            wp.ids = ids
            yield wp
    except WordPressUnavailable as err:
        pytest.skip(f"no real WordPress here: {err} (make test-wordpress installs it)")


def archived(db) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in rows(
            db,
            "select title, url, published, published_date, section, section_slug, categories, "
            "tags, authors, subtitle, body, language from articles",
        )
    }


@pytest.mark.parametrize("source", ["auto", "html", "feed"])
def test_every_source_archives_the_published_posts_as_inserted(wordpress, tmp_path, source):
    db = tmp_path / f"{source}.db"
    result = run_crawl(db, wordpress.base_url, source=source)
    assert result.returncode == 0, result.stderr[-3000:]
    got = archived(db)
    assert set(got) == {TILTIL["title"], PENSIONES["title"]}  # no draft, no private post
    tiltil = got[TILTIL["title"]]
    assert tiltil[0] == wordpress.permalink(wordpress.ids["tiltil"])
    assert tiltil[0].endswith("/chile/comunidades-de-tiltil-denuncian-derrame/07/14/")
    assert tiltil[1:5] == ("2025-07-14T22:30:00-04:00", "2025-07-14", "Chile", "chile")
    assert tiltil[5] == '["Chile", "Medio Ambiente"]'
    assert tiltil[6] == '["Relaves", "Tiltil"]'  # WordPress lists terms by name
    assert tiltil[7] == '["Camila Rojas"]'
    assert tiltil[9] == (
        "Los vecinos de Tiltil denunciaron un nuevo derrame de relave en el "
        "estero.\n\nLa empresa no informó a tiempo del incidente."
    )
    # the standfirst lives in the ACF field only: REST has it, the page and the feed do not
    assert tiltil[8] == (TILTIL["standfirst"] if source == "auto" else None)
    assert tiltil[10] == "es"  # the site's locale, es_CL (Debian's wordpress-l10n)
    pensiones = got[PENSIONES["title"]]
    assert pensiones[1:5] == ("2025-09-07T01:30:00-03:00", "2025-09-07", "Política", "politica")
    assert pensiones[7] == '["Felipe Soto"]'


def test_an_incremental_run_takes_the_new_the_edited_and_the_moved_post(wordpress, tmp_path):
    db = tmp_path / "nightly.db"
    first = run_crawl(db, wordpress.base_url, source="auto")
    assert first.returncode == 0, first.stderr[-3000:]
    old_url = wordpress.permalink(wordpress.ids["tiltil"])
    wordpress.update_post(
        wordpress.ids["pensiones"],
        post_title="La reforma de pensiones vuelve al Senado con cambios",
    )
    wordpress.update_post(wordpress.ids["tiltil"], post_name="tiltil-denuncia-derrame-de-relave")
    new = wordpress.insert_post(
        {
            **PENSIONES,
            "title": "Nueva nota de la mañana",
            "slug": "nueva-nota-de-la-manana",
            "date": "2025-11-20 08:00:00",
        }
    )
    second = run_crawl(db, wordpress.base_url, source="auto")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 new, 2 changed" in second.stderr
    titles = {t for (t,) in rows(db, "select title from articles")}
    assert titles == {
        TILTIL["title"],
        "La reforma de pensiones vuelve al Senado con cambios",
        "Nueva nota de la mañana",
    }
    new_url = wordpress.permalink(wordpress.ids["tiltil"])
    assert rows(db, "select url from articles where title = ?", TILTIL["title"]) == [(new_url,)]
    assert rows(db, "select article_url from aliases where url = ?", old_url) == [(new_url,)]
    assert rows(db, "select count(*) from articles where url = ?", wordpress.permalink(new)) == [
        (1,)
    ]
