"""Images kept in the archive (issue 18, "as it looked"): a real crawl of the stand-in keeps each
article's lead and body images once however many articles use them, under the site's rules;
what is not an image, or too large, is counted and skipped, never an abort; `status`, WARC
exports and Datasette's kept page and image route show them from the archive."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from standin import templates
from standin.articles import new_article
from standin.server import StandInSite
from tests.conftest import rows, run_command, run_crawl, serving

LIVE = "https://www.elciudadano.com"
UPLOADS = "/wp-content/uploads/2025/11/"
SHARED = UPLOADS + "compartida.jpg"  # the lead image of two articles
CHART = UPLOADS + "grafico.png"  # in the first article's body
MAP = UPLOADS + "mapa.gif"  # in the second article's body, named relative to the site
LYING = UPLOADS + "falsa.jpg"  # says image/jpeg, is a web page
PAGE = UPLOADS + "pagina.jpg"  # says text/html
HUGE = UPLOADS + "enorme.png"  # a PNG larger than IMAGES_MAXSIZE below
DRAWING = UPLOADS + "dibujo.svg"  # SVG: a document that may carry scripts, never kept
ELSEWHERE = "https://cdn.example.invalid/foto.jpg"  # not the site's: never fetched
PRIVATE = "/privado/foto-interna.jpg"  # robots.txt disallows /privado/: never fetched
RETRIED = UPLOADS + "reintento.png"  # answers 429 once, then the picture
# the chart again, named through Jetpack's Photon CDN: fetched from the site, kept once
PHOTON = "https://i1.wp.com/www.elciudadano.com" + CHART + "?resize=300,200&ssl=1"
MAXSIZE = 100_000
BAD = {
    LYING: ("image/jpeg", b"<!DOCTYPE html><html><body>no soy una imagen</body></html>"),
    PAGE: ("text/html; charset=UTF-8", b"<html><body>tampoco</body></html>"),
    HUGE: ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200_000),
    DRAWING: (
        "image/svg+xml",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
}
STYLESHEET_URL = LIVE + "/wp-content/themes/Newspaper/style.css"


def articles() -> list[dict]:
    first, second, third = (new_article(n, f"2025-11-{20 + n}T10:00:00-03:00") for n in range(1, 4))
    first.update(
        image=LIVE + SHARED,
        body=first["body"]
        + (f'<figure class="wp-block-image"><img src="{LIVE}{CHART}" alt="Gráfico"></figure>\n'),
    )
    second.update(
        image=LIVE + SHARED,
        body=second["body"]
        + (
            f'<p>El mapa de la zona:</p>\n<figure><img src="{MAP}" alt="Mapa"></figure>\n'
            f'<figure><img src="{LIVE}{RETRIED}" alt=""></figure>\n'
            f'<figure><img src="{PHOTON}" alt="El gráfico"></figure>\n'
        ),
    )
    third.update(
        image=LIVE + LYING,
        body=third["body"]
        + "".join(
            f'<figure><img src="{src}" alt=""></figure>\n'
            for src in (LIVE + PAGE, LIVE + HUGE, LIVE + DRAWING, ELSEWHERE, LIVE + PRIVATE)
        ),
    )
    return [first, second, third]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """One crawl of a stand-in of three articles: (archive, stand-in's base URL, crawl, the
    requests the stand-in saw)."""
    db = tmp_path_factory.mktemp("images") / "elciudadano.db"
    with StandInSite(articles=articles(), media=BAD, throttle={RETRIED: (1, "0")}) as site:
        result = run_crawl(db, site.base_url, "-s", f"IMAGES_MAXSIZE={MAXSIZE}", source="auto")
        seen = list(site.requests)
    return db, site.base_url, result, seen


@pytest.fixture(scope="module")
def served(crawl):
    """`ciudadano serve` on the crawl's archive: its base URL."""
    with serving(crawl[0]) as server:
        yield server


def test_a_crawl_keeps_each_image_once_across_the_articles_that_use_it(crawl):
    db, base, result, seen = crawl
    assert result.returncode == 0, result.stderr[-2000:]
    map_url = base + MAP  # relative in the page: on the host crawled
    kept = {
        url: (digest, fetched)
        for url, digest, fetched in rows(db, "select url, sha256, fetched_url from media_urls")
    }
    assert set(kept) == {
        LIVE + SHARED,
        LIVE + CHART,
        map_url,
        LIVE + RETRIED,
        PHOTON,
        STYLESHEET_URL,
    }
    for url, path in (
        (LIVE + SHARED, SHARED),
        (LIVE + CHART, CHART),
        (map_url, MAP),
        (LIVE + RETRIED, RETRIED),
        (PHOTON, CHART),
    ):
        served = templates.image(path)  # what the stand-in sent for that path
        digest, fetched = kept[url]
        assert digest == hashlib.sha256(served).hexdigest()
        assert fetched == base + path  # the site's own copy, on the host crawled
        assert rows(
            db,
            "select kind, content_type, size, fetched_at is not null from media where sha256 = ?",
            digest,
        ) == [("image", "image/png", len(served), 1)]
    assert rows(db, "select count(*) from media where kind = 'image'") == [(4,)]
    # asked once, though two articles use it; asked again after a 429, as pages are
    assert sum(1 for p in seen if p == SHARED) == 1
    assert sum(1 for p in seen if p == RETRIED) == 2
    # named by its own URL and by Photon's, one upload: asked once
    assert sum(1 for p in seen if p == CHART) == 1
    assert PRIVATE not in seen  # robots.txt rules images too
    links = rows(
        db,
        "select a.title, i.url, i.role from article_images i join articles a "
        "on a.id = i.article_id order by a.title, i.role, i.url",
    )
    assert links == [
        ("Nota nueva número 1", LIVE + CHART, "body"),
        ("Nota nueva número 1", LIVE + SHARED, "lead"),
        ("Nota nueva número 2", map_url, "body"),
        ("Nota nueva número 2", PHOTON, "body"),
        ("Nota nueva número 2", LIVE + RETRIED, "body"),
        ("Nota nueva número 2", LIVE + SHARED, "lead"),
        ("Nota nueva número 3", ELSEWHERE, "body"),
        ("Nota nueva número 3", LIVE + PRIVATE, "body"),
        ("Nota nueva número 3", LIVE + DRAWING, "body"),
        ("Nota nueva número 3", LIVE + HUGE, "body"),
        ("Nota nueva número 3", LIVE + PAGE, "body"),
        ("Nota nueva número 3", LIVE + LYING, "lead"),
    ]


def test_what_is_not_an_image_or_too_large_is_counted_not_kept_and_the_run_goes_on(crawl):
    db, _, result, seen = crawl
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db, "select count(*) from articles") == [(3,)]
    kept = {url for (url,) in rows(db, "select url from media_urls")}
    assert not kept & {
        LIVE + LYING,
        LIVE + PAGE,
        LIVE + HUGE,
        LIVE + DRAWING,
        ELSEWHERE,
        LIVE + PRIVATE,
    }
    (stats,) = rows(db, "select stats from runs")[0]
    # the lying JPEG, the page, the huge PNG, the SVG, and the one robots.txt disallows
    assert json.loads(stats)["ciudadano/images_failed"] == 5
    assert not any("example.invalid" in p for p in seen)
    # a bad image is not a page that failed
    assert rows(db, "select count(*) from failures where url like '%/wp-content/%'") == [(0,)]


def test_status_counts_the_kept_images_and_their_bytes(crawl):
    db = crawl[0]
    sizes = sum(len(templates.image(p)) for p in (SHARED, CHART, MAP, RETRIED))
    out = run_command("status", "--db", str(db), "--json").stdout
    report = json.loads(out)
    assert report["images"] == {"count": 4, "bytes": sizes}
    assert report["stylesheets"] == {"count": 1, "bytes": len(templates.STYLESHEET)}
    assert report["runs"][0]["images_not_kept"] == 5
    text = run_command("status", "--db", str(db)).stdout
    assert f"4 images kept ({sizes // 1024} KB), 1 stylesheets (" in text
    assert "5 images not kept" in text


def test_a_warc_export_carries_a_response_record_per_kept_image(crawl, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    db, base = crawl[0], crawl[1]
    target = tmp_path / "export.warc.gz"
    exported = run_command("export", "--db", str(db), "--format", "warc", "--out", str(target))
    assert exported.returncode == 0, exported.stderr
    records = {}
    with target.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                records[record.rec_headers.get_header("WARC-Target-URI")] = (
                    record.http_headers.get_header("Content-Type"),
                    record.content_stream().read(),
                )
    for url, path in (
        (LIVE + SHARED, SHARED),
        (LIVE + CHART, CHART),
        (base + MAP, MAP),
        (LIVE + RETRIED, RETRIED),
        (PHOTON, CHART),
    ):
        assert records[url] == ("image/png", templates.image(path))
    assert records[STYLESHEET_URL] == ("text/css", templates.STYLESHEET.encode())
    pages = [u for u, (kind, _) in records.items() if kind.startswith("text/html")]
    assert len(pages) == 3 and len(records) == 3 + 5 + 1  # an image record for each URL


def test_the_sites_media_hosts_are_its_own_uploads_and_nothing_else():
    from crawler.site import media_origin

    assert media_origin(PHOTON) == LIVE + CHART
    assert (
        media_origin("https://i0.wp.com/elciudadano.com/wp-content/uploads/a.jpg")
        == "https://elciudadano.com/wp-content/uploads/a.jpg"
    )
    assert media_origin(LIVE + SHARED) == LIVE + SHARED
    # Photon serves any site's pictures: only this site's are the site's
    assert media_origin("https://i0.wp.com/otro-sitio.cl/wp-content/uploads/a.jpg") is None
    assert media_origin(ELSEWHERE) is None
    assert media_origin("data:image/png;base64,AAAA") is None


def test_the_setting_turns_images_off(tmp_path):
    db = tmp_path / "sin-imagenes.db"
    with StandInSite(articles=articles(), media=BAD) as site:
        result = run_crawl(db, site.base_url, "-s", "IMAGES_ENABLED=False", source="auto")
        seen = list(site.requests)
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db, "select count(*) from articles") == [(3,)]
    assert rows(db, "select count(*) from media") == [(0,)]
    assert not any(p.startswith("/wp-content/") for p in seen)


def test_an_image_moved_on_the_site_is_kept_from_where_it_moved(tmp_path):
    # WordPress answers an upload's old address with a redirect; it was kept as "HTTP 301"
    db = tmp_path / "movida.db"
    first = new_article(1, "2025-11-21T10:00:00-03:00")
    first.update(image=LIVE + UPLOADS + "antigua.jpg")
    with StandInSite(articles=[first], redirects={UPLOADS + "antigua.jpg": SHARED}) as site:
        result = run_crawl(db, site.base_url, source="auto")
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db, "select url, fetched_url from media_urls where url like '%antigua%'") == [
        (LIVE + UPLOADS + "antigua.jpg", site.base_url + SHARED)
    ]
    ((digest,),) = rows(db, "select sha256 from media_urls where url like '%antigua%'")
    assert digest == hashlib.sha256(templates.image(SHARED)).hexdigest()


def test_datasette_serves_a_kept_image_by_its_hash_and_nothing_else(served):
    digest = hashlib.sha256(templates.image(SHARED)).hexdigest()
    image = httpx.get(f"{served}/-/ciudadano/media/elciudadano/{digest}")
    missing = httpx.get(f"{served}/-/ciudadano/media/elciudadano/{'0' * 64}")
    assert image.status_code == 200
    assert image.content == templates.image(SHARED)
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in image.headers["content-security-policy"]
    assert missing.status_code == 404


def test_the_kept_page_comes_from_the_archive_alone(crawl, served):
    db, base = crawl[0], crawl[1]
    first = new_article(1, "2025-11-21T10:00:00-03:00")
    ((response_id,),) = rows(
        db, "select id from responses where source = 'html' and final_url = ?", base + first["path"]
    )
    # a fetch time a person can read back: 14:05 UTC on 21 November is 11:05 in Santiago (UTC-3)
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute(
            "update responses set fetched_at = '2025-11-21T14:05:09+00:00' where id = ?",
            [response_id],
        )
    shared = hashlib.sha256(templates.image(SHARED)).hexdigest()
    chart = hashlib.sha256(templates.image(CHART)).hexdigest()
    page = httpx.get(f"{served}/-/ciudadano/kept/elciudadano/{response_id}")
    other = httpx.get(f"{served}/-/ciudadano/kept/elciudadano/999999")
    assert page.status_code == 200 and other.status_code == 404
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy
    html = page.text
    assert "Página archivada" in html
    assert f"{base}{first['path']}" in html
    assert "21 de noviembre de 2025, 11:05 (hora de Chile)" in html
    assert "<script" not in html and "<iframe" not in html
    assert f'src="/-/ciudadano/media/elciudadano/{shared}"' in html
    assert f'src="/-/ciudadano/media/elciudadano/{chart}"' in html
    assert 'href="/-/ciudadano/media/elciudadano/' in html  # the theme's stylesheet
    # the site's logo was never kept: absent, with no address to load
    assert f'data-ausente="{LIVE}/wp-content/uploads/logo.png"' in html
    assert 'src="http' not in html and "src='http" not in html


def test_an_archive_from_before_images_gets_their_tables_when_a_crawl_opens_it(tmp_path):
    import sqlite3

    from archive.db import open_for_writing

    db = tmp_path / "anterior.db"
    open_for_writing(db).close()
    with sqlite3.connect(db) as conn:  # as schema 4 left it: no media tables
        conn.executescript(
            "drop table article_images; drop table media_urls; drop table media;"
            "pragma user_version = 4;"
        )
    open_for_writing(db).close()
    tables = {name for (name,) in rows(db, "select name from sqlite_master where type = 'table'")}
    assert {"media", "media_urls", "article_images"} <= tables
    assert rows(db, "pragma user_version") == [(5,)]


def test_a_kept_page_the_archive_cannot_read_as_html_is_its_banner_not_an_error(crawl, tmp_path):
    # pages are untrusted: a charset no codec knows, an empty body, an id past SQLite's
    # integers, and the kept page of an article withdrawn from public view
    import shutil
    import sqlite3

    from archive.raw import compress

    db, base = tmp_path / "copia.db", crawl[1]
    shutil.copy(crawl[0], db)
    second = articles()[1]
    with sqlite3.connect(db) as conn:

        def kept(headers: dict, body: bytes) -> int:
            return conn.execute(
                "insert into responses (url, final_url, status, headers, fetched_at, source, "
                "body_bytes, sha256, body) values (?, ?, 200, ?, '2025-11-21T14:05:09+00:00', "
                "'html', ?, ?, ?)",
                [
                    base + "/x/",
                    base + "/x/",
                    json.dumps(headers),
                    len(body),
                    hashlib.sha256(body).hexdigest(),
                    compress(body),
                ],
            ).lastrowid

        odd_charset = kept(
            {"Content-Type": ["text/html; charset=x-no-such"]}, "<p>Año nuevo</p>".encode()
        )
        empty = kept({"Content-Type": ["text/html"]}, b"  \n ")
        ((withdrawn_page,),) = conn.execute(
            "select id from responses where source = 'html' and final_url = ?",
            [base + second["path"]],
        ).fetchall()
    withdrawn = run_command(
        "withdraw", base + second["path"], "--db", str(db), "--reason", "orden judicial"
    )
    assert withdrawn.returncode == 0, withdrawn.stderr
    with serving(db) as server:
        answers = {
            name: httpx.get(f"{server}/-/ciudadano/kept/copia/{number}")
            for name, number in (
                ("odd charset", odd_charset),
                ("empty", empty),
                ("huge id", 2**64),
                ("withdrawn", withdrawn_page),
            )
        }
    assert answers["odd charset"].status_code == 200
    assert "Año nuevo" in answers["odd charset"].text  # read as UTF-8 all the same
    assert answers["empty"].status_code == 200 and "Página archivada" in answers["empty"].text
    assert answers["huge id"].status_code == 404
    assert answers["withdrawn"].status_code == 404


def test_the_article_page_shows_body_images_from_the_archive_and_asks_no_one_else(crawl, served):
    # the body's images loaded from the live site (and told it who reads what)
    db = crawl[0]
    chart = hashlib.sha256(templates.image(CHART)).hexdigest()
    ids = dict(rows(db, "select title, id from articles"))
    first = httpx.get(f"{served}/-/article/elciudadano/{ids['Nota nueva número 1']}")
    third = httpx.get(f"{served}/-/article/elciudadano/{ids['Nota nueva número 3']}")
    assert first.status_code == 200 and third.status_code == 200
    assert f'<img src="/-/ciudadano/media/elciudadano/{chart}" alt="Gráfico">' in first.text
    # none of the third's body images is kept: shown absent, no address to load
    assert f'data-ausente="{ELSEWHERE}"' in third.text
    for page in (first, third):
        assert "img-src 'self' data:" in page.headers["content-security-policy"]
        assert 'src="http' not in page.text and "src='http" not in page.text
