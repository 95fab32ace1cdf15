"""The reading room as a person uses it, in a real browser: Playwright driving Debian's Chromium
(no browser download) against a real `ciudadano serve` on an archive crawled from the stand-in.

Typed queries, a facet picked, the next page, an article, a diff of two versions, a kept page,
the coverage chart; on each of our pages: Spanish, `lang="es"`, no horizontal scrolling at
390 px, axe-core (npm, installed by `make test-browser`) without serious or critical
violations, and no request leaving 127.0.0.1. Screenshots at 1280 and 390 px are saved under
screenshots/<this run's UTC time>/ for people to look at."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import pytest

from archive.store import Archive
from standin.articles import ARTICLES, by_key, new_article
from standin.server import StandInSite
from tests.conftest import ROOT, ciudadano, rows, run_crawl, serving

playwright = pytest.importorskip(
    "playwright.sync_api", reason="`make test-browser` installs pytest-playwright"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = ROOT / "tests" / "browser" / "node" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not AXE.exists(),
    reason=(
        "no chromium or axe-core: `make test-browser` installs Debian's chromium and npm's axe-core"
    ),
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The browser's own language draws <input type=date> (a page's lang does not): a Chilean
# reader's Chromium, in Spanish (Debian's chromium-l10n), shows dd/mm/aaaa.
SPANISH = {**os.environ, "LANG": "es_CL.UTF-8", "LANGUAGE": "es_CL:es"}
RUN = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
SHOTS = ROOT / "screenshots" / RUN
HUMAN_DATE = re.compile(
    r"\b\d{1,2} de (enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    r"septiembre|octubre|noviembre|diciembre) de \d{4}\b"
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# 25 short notes published over 2018-2024 besides the stand-in's articles: note n on day
# n % 27 + 1 of month n % 12 + 1 of year 2018 + n % 7.
NOTES = [
    new_article(n, f"{2018 + n % 7}-{n % 12 + 1:02d}-{n % 27 + 1:02d}T1{n % 10}:05:00-03:00")
    for n in range(1, 26)
]
LATE = new_article(99, "2025-11-20T10:00:00-03:00")  # listed by the site, never crawled
NEW_TITLE = "La reforma de pensiones vuelve al Senado con cambios"
ADDED = "La votación quedó para marzo."


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "elciudadano.db"
    with StandInSite(articles=ARTICLES + NOTES) as site:
        assert run_crawl(db, site.base_url, source="auto").returncode == 0
        # then the site publishes one more, and an audit reads what the site lists
        site.articles = site.articles + [LATE]
        audit = subprocess.run(
            [*ciudadano(), "audit", "--db", str(db), "--base-url", site.base_url],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert audit.returncode == 0, audit.stderr
    # one article corrected after publication: a new headline and a sentence added
    pensiones = by_key("politica-pensiones-senado")
    (row,) = rows(db, "select url from articles where wp_id = ?", pensiones["wp_id"])
    store = Archive(db)
    cursor = store.db.execute("select * from articles where url = ?", [row[0]])
    current = dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=False))
    for name in ("authors", "tags", "categories", "embeds", "provenance"):
        current[name] = json.loads(current[name]) if current[name] else current[name]
    paragraphs = current["body"].split("\n\n")
    paragraphs[1] += " " + ADDED
    current.update(is_article=True, title=NEW_TITLE, body="\n\n".join(paragraphs))
    store.store_article(current)
    store.close()
    return db


@pytest.fixture(scope="module")
def base(archive):
    with serving(archive) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=SPANISH)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A page in Spanish (Chile) whose every request off 127.0.0.1 is refused and recorded."""
    context = browser.new_context(
        locale="es-CL", timezone_id="America/Santiago", viewport={"width": 1280, "height": 900}
    )
    off_host: list[str] = []

    def guard(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "about:")):
            route.continue_()
        else:
            off_host.append(url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    yield tab
    context.close()
    assert off_host == [], f"requests left 127.0.0.1: {off_host}"


def check_for_everyone(page, name: str) -> None:
    """Spanish declared, no horizontal scrolling at 390 px, axe-core clean of serious and
    critical violations; screenshots at 1280 and 390 px."""
    assert page.evaluate("document.documentElement.lang") == "es", name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SHOTS / f"{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"{name}: {wide} px wide at 390 px (horizontal scrolling)"
    page.screenshot(path=SHOTS / f"{name}-390.png", full_page=True)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_search_facet_next_page_and_an_article(page, base, archive):
    page.goto(f"{base}/")
    assert page.locator("h1").inner_text() == "Archivo de El Ciudadano"
    # the bar every page has, here too (it was empty on the home page)
    assert page.locator(".crumbs").inner_text() == "Inicio / Buscar / Cobertura"
    assert page.locator(".crumbs a").first.get_attribute("href") == "/-/buscar/elciudadano"
    check_for_everyone(page, "inicio")
    page.get_by_label("Buscar en el archivo").fill("nota")
    page.get_by_label("Buscar en el archivo").press("Enter")
    page.wait_for_url(re.compile(r"/-/buscar/"))
    page.get_by_label("Orden").select_option(label="Más recientes primero")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(re.compile(r"sort=date"))
    assert page.locator("#cuantos").inner_text() == "25 artículos · página 1 de 2"
    results = page.locator("article.resultado")
    assert results.count() == 20
    # the newest note: number 20, of 21 September 2024
    first = results.nth(0)
    assert first.locator("h3").inner_text() == "Nota nueva número 20"
    assert first.locator("time").inner_text() == "21 de septiembre de 2024"
    assert "Chile" in first.inner_text() and "Redacción" in first.inner_text()
    for i in range(20):  # every snippet marks the word searched for
        assert results.nth(i).locator("mark").first.inner_text().lower() == "nota"
    # on a phone the filters come after the 20 results: a link at the top leads to them
    jump = page.get_by_role("link", name="Filtrar por sección, año o autor ↓")
    assert not jump.is_visible()  # beside the results at 1280 px: not needed
    page.set_viewport_size({"width": 390, "height": 844})
    assert jump.is_visible() and jump.get_attribute("href") == "#filtros"
    assert page.locator("aside#filtros").count() == 1
    page.set_viewport_size({"width": 1280, "height": 900})
    check_for_everyone(page, "resultados")

    # the same search as a feed to subscribe to (newest first) and as JSON
    def linked(name: str):
        href = page.get_by_role("link", name=name).get_attribute("href")
        return page.request.get(urljoin(page.url, href))

    feed = ElementTree.fromstring(linked("canal Atom").body())
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == 25
    assert entries[0].findtext(f"{atom}title") == "Nota nueva número 20"
    assert linked("JSON").json()["total"] == 25

    page.get_by_role("link", name="Siguiente →").click()
    assert page.locator("#cuantos").inner_text() == "25 artículos · página 2 de 2"
    assert page.locator("article.resultado").count() == 5
    # the oldest note: number 14, of 15 March 2018
    assert page.locator("article.resultado h3").last.inner_text() == "Nota nueva número 14"

    # the year facet: notes 4, 11, 18 and 25 are of 2022
    page.locator("aside").get_by_role("link", name="2022", exact=True).click()
    assert page.locator("#cuantos").inner_text() == "4 artículos"
    titles = page.locator("article.resultado h3").all_inner_texts()
    assert titles == [
        "Nota nueva número 11",
        "Nota nueva número 18",
        "Nota nueva número 4",
        "Nota nueva número 25",
    ]
    assert page.get_by_label("Desde").input_value() == "2022-01-01"

    page.get_by_role("link", name="Nota nueva número 18").click()
    assert page.locator("h1").inner_text() == "Nota nueva número 18"
    byline = page.locator("p.byline").nth(1).inner_text()
    assert "Por Redacción" in byline
    # published 18:05 at UTC-3, that is 17:05 in Santiago, UTC-4 in July
    assert "19 de julio de 2022, 17:05 (hora de Chile)" in byline
    assert not ISO_DATE.search(page.locator("main").inner_text())
    check_for_everyone(page, "articulo")


def test_versions_a_diff_and_the_kept_page(page, base):
    page.goto(f"{base}/-/buscar/elciudadano")
    page.get_by_label("Palabras").fill("pensiones")
    page.get_by_label("Autor").fill("muñoz")  # Daniela Muñoz, one of its two authors
    page.get_by_role("button", name="Buscar").click()
    assert page.locator("#cuantos").inner_text() == "1 artículo"
    page.get_by_role("link", name=NEW_TITLE).click()
    versions = page.locator("ol.versiones li")
    assert versions.count() == 2
    assert "primera versión archivada" in versions.nth(0).inner_text()
    # read off the two versions: a new headline, and "La votación quedó para marzo." added
    assert (
        "cambiaron el título y el cuerpo (5 palabras añadidas, ninguna quitada)"
        in versions.nth(1).inner_text()
    )
    assert HUMAN_DATE.search(versions.nth(1).inner_text())
    # the lead image, from the archive (it loaded from the live site)
    images = page.locator("figure img")
    assert images.count() >= 1
    assert all(
        images.nth(i).get_attribute("src").startswith("/-/ciudadano/media/")
        for i in range(images.count())
    )

    versions.nth(1).get_by_role("link", name="ver los cambios").click()
    assert page.locator("h1").inner_text().startswith("Qué cambió en «")
    title = page.locator("p.cambio").first
    assert title.locator("del").all_inner_texts() == ["política", "tras el receso"]
    assert title.locator("ins").all_inner_texts() == ["reforma", "con cambios"]
    assert page.locator("main ins").last.inner_text() == ADDED
    folded = page.locator("details.plegado summary")
    assert folded.count() == 1 and folded.inner_text().endswith("párrafos sin cambios")
    check_for_everyone(page, "cambios")

    page.get_by_role("link", name="← Volver al artículo").click()
    check_for_everyone(page, "articulo-versiones")
    page.locator("ol.versiones li").nth(0).get_by_role("link", name="página archivada").click()
    assert "Página archivada" in page.locator("#ciudadano-archivo").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "pagina-archivada-1280.png")


def test_coverage_at_a_glance(page, base):
    page.goto(f"{base}/-/cobertura/elciudadano")
    assert page.locator("h1").inner_text() == "Cobertura del archivo"
    chart = page.locator("svg.grafico")
    assert chart.get_attribute("role") == "img"
    # 2015-03 to 2025-11: one bar or gap mark a month, 129 months
    assert chart.locator("rect.barra").count() + chart.locator("rect.hueco").count() == 129
    check_for_everyone(page, "cobertura")
    # the site's own counts beside ours: the note published after the crawl is one the site
    # lists for 2025 and the archive lacks
    site = page.locator("main").inner_text()
    assert (
        "que el sitio lista en sus índices de artículos, los sitemaps" in site and "Faltan" in site
    )
    year = page.locator("table").first.locator("tr", has_text="2025").locator("td")
    assert int(year.nth(1).inner_text()) == int(year.nth(2).inner_text()) + 1
    # shares as Chile writes them, sections by their names, empty months as ranges
    assert year.nth(3).inner_text() == "90\u00a0%"  # 9 of 10
    sections = page.locator("table").nth(1).locator("tbody tr td:first-child").all_inner_texts()
    assert "Política" in sections and "politica" not in sections
    first_gap = page.locator(".gaps li").first.inner_text()
    assert first_gap.startswith("abril de 2015 a ") and first_gap.endswith(" meses)")
    page.get_by_label("Sección").select_option(label="Política (1)")
    page.get_by_role("button", name="Ver").click()
    assert page.locator("h1").inner_text() == "Cobertura del archivo: Política"
    assert page.locator("svg.grafico rect.barra").count() == 1
