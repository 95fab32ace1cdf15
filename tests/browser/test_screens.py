"""What the archivist sees, in a real browser: headless Chromium (Debian's package) against a
real `ciudadano serve`. Screenshots of the home page, a search result page and an article page
are saved under screenshots/<this run's UTC time>/ for people to look at; the DOM Chromium
built (scripts run) is checked for what a reader relies on."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive.store import Archive
from tests.conftest import ROOT, rows, run_crawl, serving
from standin.articles import by_key, edited
from standin.server import StandInSite

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium: `make test-browser` "
                                "installs Debian's package")
RUN = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
SHOTS = ROOT / "screenshots" / RUN
WIDTH, HEIGHT = 1280, 900


def chromium(*args: str, url: str) -> str:
    """Run headless Chromium once on url; its stdout. Its whole process group is stopped."""
    with tempfile.TemporaryDirectory(prefix="ciudadano-chromium-") as profile:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                   f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
                   "--virtual-time-budget=3000", *args, url]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 start_new_session=True, text=True)
        try:
            out, _ = child.communicate(timeout=90)
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)  # its zygote and renderers too
            except ProcessLookupError:
                pass
            child.wait()
    return out


def screenshot(url: str, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    chromium(f"--screenshot={target}", url=url)
    header = target.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", name
    assert struct.unpack(">II", header[16:24]) == (WIDTH, HEIGHT)
    assert target.stat().st_size > 20_000, f"{name}: an almost empty picture"
    return target


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "elciudadano.db"
    with StandInSite() as site:
        assert run_crawl(db, site.base_url, source="auto").returncode == 0
    # one article corrected after publication: two versions
    pensiones = by_key("politica-pensiones-senado")
    (row,) = rows(db, "select url from articles where wp_id = ?", pensiones["wp_id"])
    store = Archive(db)
    current = dict(zip(("url", "title", "body", "published", "published_date", "subtitle",
                        "section", "authors"), store.db.execute(
        "select url, title, body, published, published_date, subtitle, section, authors "
        "from articles where url = ?", [row[0]]).fetchone()))
    import json

    current.update(authors=json.loads(current["authors"]), is_article=True,
                   title=edited(pensiones, "2025-09-08T10:00:00-03:00",
                                "La reforma de pensiones vuelve al Senado con cambios")["title"])
    store.store_article(current)
    store.close()
    return db


def test_home_search_and_article_pages_as_a_reader_sees_them(archive):
    (article_id,) = rows(archive, "select id from articles where wp_id = 1181002")[0]
    with serving(archive) as base:
        home = chromium("--dump-dom", url=f"{base}/")
        assert 'name="q"' in home and "Archivo de El Ciudadano" in home
        screenshot(f"{base}/", "home")

        found = chromium("--dump-dom", url=f"{base}/elciudadano/search?q=pensiones")
        assert "[pensiones]" in found
        assert f'href="/-/article/elciudadano/{article_id}"' in found  # the title is a link
        screenshot(f"{base}/elciudadano/search?q=pensiones", "search")

        table = chromium("--dump-dom", url=f"{base}/elciudadano/articles")
        # the articles come first: the column descriptions are folded away
        assert "<summary>What the columns mean</summary>" in table
        assert table.index("<details>") < table.index("column-descriptions")
        screenshot(f"{base}/elciudadano/articles", "articles")

        page = chromium("--dump-dom", url=f"{base}/-/article/elciudadano/{article_id}")
        assert "<h1>La reforma de pensiones vuelve al Senado con cambios</h1>" in page
        assert ('<p class="standfirst">El oficialismo busca votar en general antes de fin '
                "de mes.</p>") in page
        assert "Por Felipe Soto, Daniela Muñoz" in page
        assert page.count("<p>") >= 3  # the body as paragraphs
        assert "La política de pensiones vuelve al Senado tras el receso" in page  # version 1
        assert "qué cambió" in page
        screenshot(f"{base}/-/article/elciudadano/{article_id}", "article")
    print(f"screenshots in {SHOTS}")
