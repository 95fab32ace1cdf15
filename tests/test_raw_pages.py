"""Keep what was seen: every page the crawl read is kept as it came, `ciudadano reparse`
rebuilds the articles from those pages without the network, and `export --format warc` hands
them to WARC readers. Real crawls of the stand-in over HTTP on 127.0.0.1 (the first one shared:
conftest's first_run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.raw import decompress
from archive.store import Archive
from ciudadano.cli import main
from standin.articles import ARTICLES, by_key
from tests.conftest import ROOT, SYSTEM_TRUST, free_port, rows, run_crawl, wait_until

PATHS = {a["path"] for a in ARTICLES}


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_every_page_read_is_kept_as_the_site_sent_it(after_first_run):
    site, db = after_first_run
    served = {path: httpx.get(site.base_url + path, timeout=30).content for path in PATHS}
    sources = dict(rows(db, "select source, count(*) from responses group by source"))
    kept_before = rows(db, "select max(id) from responses")[0][0]
    assert run_crawl(db, site.base_url, source="auto").returncode == 0  # nothing new
    pages = {
        url.removeprefix(site.base_url): (status, decompress(body))
        for url, status, body in rows(
            db, "select final_url, status, body from responses where source = 'html'"
        )
    }
    assert pages.keys() == PATHS
    for path, (status, body) in pages.items():
        assert status == 200 and body == served[path], path
    assert sources["rest"] == 1 and sources["feed"] >= 1
    # the second run asked REST what changed since the first (a new question, kept); it read
    # the feed again, unchanged: not kept twice
    (added,) = rows(db, "select source, url from responses where id > ?", kept_before)
    assert added[0] == "rest" and "modified_after=" in added[1]


def test_reparse_rebuilds_articles_from_kept_pages_without_the_network(after_first_run):
    site, db = after_first_run
    asked = len(site.requests)
    # an older parser had spoiled two fields of one article
    pensiones = by_key("politica-pensiones-senado")
    store = Archive(db)
    store.db.execute(
        "update articles set title = 'Título roto', body = 'Cuerpo roto', "
        "content_hash = 'of the older parser' where wp_id = ?",
        [pensiones["wp_id"]],
    )
    store.close()
    result = cli("reparse", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "10 articles: 1 changed, 9 unchanged, 0 without a kept page" in result.output
    assert (
        "fields changed: " in result.output
        and "title 1" in result.output
        and "body 1" in result.output
    )
    ((title, body),) = rows(
        db, "select title, body from articles where wp_id = ?", pensiones["wp_id"]
    )
    assert title == pensiones["title"]
    assert body.startswith("El Gobierno retomó la tramitación del proyecto de pensiones")
    # the date WordPress gave (the page has none) stays through the reparse
    assert rows(db, "select published from articles where wp_id = 1140001") == [
        ("2025-01-10T12:00:00-03:00",)
    ]
    # the spoiled version is not lost
    assert rows(db, "select title from article_versions") == [("Título roto",)]
    again = cli("reparse", "--db", str(db))
    assert "0 changed, 10 unchanged" in again.output
    assert len(site.requests) == asked  # nothing asked of the site


def test_a_warc_export_reads_back_with_each_page_and_its_request(after_first_run, tmp_path):
    site, db = after_first_run
    served = {site.base_url + p: httpx.get(site.base_url + p, timeout=30).content for p in PATHS}
    out = tmp_path / "pages.warc.gz"
    result = cli("export", "--format", "warc", "--out", str(out), "--db", str(db))
    assert result.exit_code == 0 and "10 articles' pages written" in result.output
    responses, requests = {}, {}
    with open(out, "rb") as stream:
        records = list(ArchiveIterator(stream))
        stream.seek(0)
        for record in ArchiveIterator(stream):
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                assert record.http_headers.get_statuscode() == "200"
                responses[uri] = record.content_stream().read()
            elif record.rec_type == "request":
                requests[uri] = record.http_headers.protocol  # "GET /path HTTP/1.1"
    assert records[0].rec_type == "warcinfo"
    # the site's pages (the kept images and stylesheets travel too: tests/test_images.py)
    pages = {uri: body for uri, body in responses.items() if uri.startswith(site.base_url)}
    assert pages == served
    assert {uri for uri in requests if uri.startswith(site.base_url)} == served.keys()
    path = next(iter(PATHS))
    assert requests[site.base_url + path] == "GET"
    only_politics = tmp_path / "politica.warc.gz"
    assert (
        cli(
            "export",
            "--format",
            "warc",
            "--out",
            str(only_politics),
            "--db",
            str(db),
            "--section",
            "politica",
        ).exit_code
        == 0
    )
    with open(only_politics, "rb") as stream:
        uris = {
            r.rec_headers.get_header("WARC-Target-URI")
            for r in ArchiveIterator(stream)
            if r.rec_type == "response"
            and r.rec_headers.get_header("WARC-Target-URI").startswith(site.base_url)
        }
    assert uris == {site.base_url + a["path"] for a in ARTICLES if a["section"][1] == "politica"}


PYWB = ROOT / ".venv" / "tools" / "pywb"


@pytest.fixture(scope="module")
def pywb() -> Path:
    """pywb, the Webrecorder replay server, in a virtualenv of its own (its pins are not the
    project's), under .venv/tools/: made by `make test`'s set-up, or here when missing (about
    20 s, then kept; a lock keeps two test processes from creating it at once)."""
    import fcntl

    PYWB.parent.mkdir(parents=True, exist_ok=True)
    with open(PYWB.parent / "pywb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PYWB / "bin" / "wayback").exists():
            subprocess.run([sys.executable, "-m", "venv", str(PYWB)], check=True)
            online = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT_")}
            subprocess.run(
                [str(PYWB / "bin" / "pip"), "install", "--quiet", "pywb>=2.8,<3"],
                check=True,
                timeout=600,
                env={**online, **SYSTEM_TRUST},  # PyPI, over TLS
            )
    return PYWB / "bin"


def test_a_warc_export_replays_in_pywb(after_first_run, tmp_path, pywb):
    site, db = after_first_run
    served = {p: httpx.get(site.base_url + p, timeout=30).content for p in PATHS}
    warc = tmp_path / "pages.warc.gz"
    assert cli("export", "--format", "warc", "--out", str(warc), "--db", str(db)).exit_code == 0
    web = tmp_path / "wayback"
    web.mkdir()
    # `wb-manager init archivo` and `wb-manager add archivo WARC`, in one interpreter
    manage = (
        "import sys; from pywb.manager.manager import main; "
        "main(['init', 'archivo']); main(['add', 'archivo', sys.argv[1]])"
    )
    subprocess.run(
        [str(pywb / "python"), "-c", manage, str(warc)],
        cwd=web,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        [str(pywb / "wayback"), "-p", str(port), "-b", "127.0.0.1"],
        cwd=web,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        replay = f"http://127.0.0.1:{port}/archivo"
        wait_until(lambda: _answers(replay + "/"), timeout=60)
        for path, body in served.items():
            # id_: the page as archived, not rewritten by the replay
            page = httpx.get(f"{replay}/2100id_/{site.base_url}{path}", timeout=30)
            assert page.status_code == 200 and page.content == body, path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code < 500
    except httpx.HTTPError:
        return False
