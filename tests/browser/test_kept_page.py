"""A kept page in a real browser (headless Chromium, Debian's package, driven by Playwright):
served by `ciudadano serve` from the archive alone. A page whose scripts would change the
page and call out runs none of them, asks nothing of any server but the archive's, shows the
banner, and shows its kept image and stylesheet from the archive. A screenshot is saved under
screenshots/<this run's UTC time>/kept-page.png for people to look at."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from standin import templates
from standin.articles import new_article
from standin.server import StandInSite
from tests.conftest import ROOT, rows, run_crawl, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: `make test-browser` installs Debian's package"
)
SHOTS = ROOT / "screenshots" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
LIVE = "https://www.elciudadano.com"
LEAD = "/wp-content/uploads/2025/11/portada.jpg"


class _Spy:
    """A server on 127.0.0.1 that records whatever asks it (the page's scripts would)."""

    def __init__(self):
        self.seen: list[str] = []
        spy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's name
                spy.seen.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def hostile_article(spy: str) -> dict:
    """A post whose page would run scripts that change it and call out, if anything ran."""
    article = new_article(7, "2025-11-21T10:00:00-03:00")
    article["image"] = LIVE + LEAD
    article["body"] += (
        "<script>document.body.setAttribute('data-ejecutado', 'si');"
        f"fetch('{spy}/fetch');</script>\n"
        f'<img src="{spy}/sin-archivar.png" onerror="document.body.dataset.onerror = \'si\'">\n'
        f'<iframe src="{spy}/marco"></iframe>\n'
        f'<p style="background:url({spy}/fondo.png)">Un párrafo con fondo.</p>\n'
        f'<img src="{LIVE}/wp-content/uploads/2025/11/nunca-archivada.jpg" '
        f"onload=\"fetch('{spy}/onload')\">\n"
    )
    return article


def test_a_kept_page_runs_nothing_loads_nothing_from_elsewhere_and_shows_what_was_kept(tmp_path):
    db = tmp_path / "elciudadano.db"
    with _Spy() as spy:
        article = hostile_article(spy.base)
        # the page's own image that was not kept: the stand-in answers 404 for it
        with StandInSite(
            articles=[article], errors={"/wp-content/uploads/2025/11/nunca-archivada.jpg": 404}
        ) as site:
            assert run_crawl(db, site.base_url, source="auto").returncode == 0
            page_url = site.base_url + article["path"]
        ((response_id,),) = rows(
            db, "select id from responses where source = 'html' and final_url = ?", page_url
        )
        with serving(db) as base, playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                asked: list[str] = []
                page.on("request", lambda request: asked.append(request.url))
                page.goto(f"{base}/-/ciudadano/kept/elciudadano/{response_id}", wait_until="load")
                page.wait_for_timeout(1000)  # time for anything that would run late
                ran = page.evaluate(
                    "() => [document.body.dataset.ejecutado || null, "
                    "document.body.dataset.onerror || null]"
                )
                banner = page.locator("#ciudadano-archivo")
                banner_visible, banner_text = banner.is_visible(), banner.inner_text()
                lead = page.locator(".tdb_single_featured_image img")
                lead_src = lead.get_attribute("src")
                lead_width = lead.evaluate("img => img.naturalWidth")
                background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "kept-page.png"))
            finally:
                browser.close()
        spied = list(spy.seen)
    assert ran == [None, None]  # no script, no event handler ran
    # nothing reached the spy: not the crawl (another port is another site), and not the
    # page's fetch, img, iframe nor a style's url()
    assert spied == []
    assert asked and all(urlsplit(u).netloc == urlsplit(base).netloc for u in asked), asked
    assert banner_visible and banner_text.startswith("Página archivada de " + page_url)
    assert lead_src.startswith("/-/ciudadano/media/elciudadano/")
    assert lead_width == templates.IMAGE_SIZE[0]  # the kept picture, drawn
    assert background == "rgb(244, 241, 234)"  # the kept stylesheet's #f4f1ea, applied
    print(f"screenshot in {SHOTS / 'kept-page.png'}")
