"""`ciudadano import` of a file from elsewhere (issue 17): bytes that are not UTF-8, values of
the wrong type, dates out of range, URLs that are not http(s), HTML with scripts. Each bad line
is one message naming its line and field, and is skipped; every valid line is imported; what is
stored is what a crawl would store, so status, exports and the article page keep working.

Every expected value is written by hand from the lines written here."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from archive.model import empty_article
from archive.search import search
from archive.store import Archive
from ciudadano.cli import main
from tests.conftest import rows

BASE = "https://www.elciudadano.com"

# One article as `ciudadano export --format jsonl` writes it.
ARTICLE = {
    "url": f"{BASE}/chile/glaciares-en-peligro/",
    "wp_id": 812345,
    "title": "Glaciares en peligro",
    "subtitle": "La ley de glaciares vuelve al Senado.",
    "published": "2025-03-04T10:15:00-03:00",
    "published_date": "2025-03-04",
    "date_precision": "datetime",
    "modified": "2025-03-05T09:00:00-03:00",
    "section": "Medio Ambiente",
    "section_slug": "medio-ambiente",
    "categories": ["Medio Ambiente"],
    "tags": ["glaciares"],
    "authors": ["Ana Soto"],
    "language": "es",
    "body": "Los glaciares retroceden.\n\nEl Senado discute la ley.",
    "body_html": "<p>Los glaciares retroceden.</p>\n<p>El Senado discute la ley.</p>",
    "image_url": f"{BASE}/wp-content/uploads/glaciar.jpg",
    "word_count": 8,
    "embeds": ["https://www.youtube.com/watch?v=abc"],
    "provenance": {"title": "og:title", "body": "content"},
    "first_seen": "2025-03-04T14:00:00+00:00",
    "last_changed": "2025-03-05T13:00:00+00:00",
}


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def line(n: int, **changes) -> bytes:
    """ARTICLE as the n-th article of a file (its own URL and title), with changes."""
    article = dict(ARTICLE, url=f"{BASE}/chile/articulo-{n}/", title=f"Artículo {n}")
    article.update(changes)
    return json.dumps(article, ensure_ascii=False).encode("utf-8")


def import_lines(tmp_path, *lines: bytes):
    source = tmp_path / "de-otro-lado.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "archivo.db"
    return cli("import", str(source), "--db", str(db)), source, db


def titles(db) -> list[str]:
    return [t for (t,) in rows(db, "select title from articles order by title")]


def test_a_line_that_is_not_utf8_is_named_and_skipped_and_the_lines_around_it_imported(tmp_path):
    bad = line(2).replace("Artículo 2".encode(), b"Art\xedculo 2")  # Latin-1, not UTF-8
    result, source, db = import_lines(tmp_path, line(1), bad, line(3))
    assert result.exit_code == 1, result.output
    # {"url": "https://www.elciudadano.com/chile/articulo-2/", "wp_id": 812345, "title": "Art
    # is 87 bytes: the Latin-1 í is the 88th
    assert result.stderr.splitlines()[0] == (
        f"error: {source} line 2: not UTF-8 text (byte 0xed at position 88)"
    )
    assert titles(db) == ["Artículo 1", "Artículo 3"]


def test_values_that_raised_tracebacks_are_named_and_the_rest_of_the_file_imported(tmp_path):
    result, source, db = import_lines(
        tmp_path,
        line(1, published_date=20250101),
        line(2, published="9999-12-31T23:00:00-03:00", published_date="9999-12-31"),
        line(3, wp_id=2**70),
        line(4),
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:3] == [
        f"error: {source} line 1: published_date: not a day (YYYY-MM-DD): 20250101",
        (
            f"error: {source} line 2: published: year out of range: '9999-12-31T23:00:00-03:00'; "
            "published_date: year out of range: '9999-12-31'"
        ),
        (
            f"error: {source} line 3: wp_id: not a whole number from 1 to 2**63-1: "
            "1180591620717411303424"
        ),
    ]
    assert "Traceback" not in result.output
    assert titles(db) == ["Artículo 4"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"provenance": "og:title"}, "provenance: not an object: 'og:title'"),
        ({"provenance": {"title": 3}}, "provenance: not text: title: 3"),
        ({"authors": 7}, "authors: not a list: 7"),
        ({"authors": ["Ana Soto", None]}, "authors: item 2: not text: None"),
        ({"wp_id": "abc"}, "wp_id: not a whole number from 1 to 2**63-1: 'abc'"),
        ({"wp_id": True}, "wp_id: not a whole number from 1 to 2**63-1: True"),
        ({"url": 42}, "url: not an http(s) URL: 42"),
        ({"url": "  "}, "url: missing"),
        ({"url": "file:///etc/passwd"}, "url: not an http(s) URL: 'file:///etc/passwd'"),
        ({"url": "javascript:alert(1)"}, "url: not an http(s) URL: 'javascript:alert(1)'"),
        ({"url": "https:///sin-servidor/"}, "url: not an http(s) URL: 'https:///sin-servidor/'"),
        (
            {"url": "https://www.elciudadano.com:99999/chile/x/01/01/"},
            "url: not an http(s) URL: 'https://www.elciudadano.com:99999/chile/x/01/01/'",
        ),
        (
            {"url": "https://www.elciudadano.com:http/"},
            "url: not an http(s) URL: 'https://www.elciudadano.com:http/'",
        ),
        ({"title": 12}, "title: not text: 12"),
        ({"title": {"es": "Glaciares"}}, "title: not text: {'es': 'Glaciares'}"),
        ({"body": ["Los glaciares retroceden."]}, "body: not text: ['Los glaciares retroceden.']"),
        (
            {"published": "yesterday"},
            "published: not an ISO 8601 date and time with its offset: 'yesterday'",
        ),
        (
            {"published": "2025-03-04T10:15:00"},
            "published: not an ISO 8601 date and time with its offset: '2025-03-04T10:15:00'",
        ),
        (
            {"published_date": "2025-03-05"},
            "published_date: not the day of published (2025-03-04): '2025-03-05'",
        ),
        ({"modified": "ayer"}, "modified: not an ISO 8601 date and time with its offset: 'ayer'"),
        (
            {"image_url": "javascript:alert(1)"},
            "image_url: not an http(s) URL: 'javascript:alert(1)'",
        ),
        (
            {"embeds": ["https://www.youtube.com/watch?v=abc", "data:text/html,<script>"]},
            "embeds: item 2: not an http(s) URL: 'data:text/html,<script>'",
        ),
        ({"language": "fr"}, "language: not one of es, en, de: 'fr'"),
        ({"date_precision": "year"}, "date_precision: not one of datetime, day: 'year'"),
        ({"word_count": -1}, "word_count: not a whole number from 0 to 2**63-1: -1"),
        ({"body_html": ["<p>x</p>"]}, "body_html: not text: ['<p>x</p>']"),
        (
            {"last_changed": "mañana"},
            "last_changed: not an ISO 8601 date and time with its offset: 'mañana'",
        ),
        ({"title": None, "body": ""}, "title: missing; body: missing"),
        (  # seen first after it last changed: one of the two is wrong
            {"first_seen": "2025-03-06T10:00:00-03:00"},
            "first_seen: after last_changed: '2025-03-06T10:00:00-03:00' is later than "
            "'2025-03-05T13:00:00+00:00'",
        ),
    ],
)
def test_a_value_the_crawl_would_never_store_is_refused_with_its_field(tmp_path, changes, message):
    result, source, db = import_lines(tmp_path, line(1), line(2, **changes))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == f"error: {source} line 2: {message}"
    assert titles(db) == ["Artículo 1"]


def test_an_article_without_its_first_seen_was_seen_no_later_than_it_last_changed(tmp_path):
    # the import's own time stood in for it: an archive that had seen the article change on
    # 5 March said it first saw it at the import, months later
    result, _, db = import_lines(tmp_path, line(1, first_seen=None))
    assert result.exit_code == 0, result.output
    assert rows(db, "select first_seen, last_changed from articles") == [
        ("2025-03-05T13:00:00+00:00", "2025-03-05T13:00:00+00:00")
    ]


def test_lines_that_are_not_articles_are_named(tmp_path):
    half_a_pair = line(5).replace(b'"title": "', b'"title": "\\ud800')  # valid JSON
    result, source, db = import_lines(
        tmp_path, b"{no es json", b"[1, 2]", b"[" * 100_000, b"", half_a_pair, line(6)
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:4] == [
        (
            f"error: {source} line 1: not JSON (Expecting property name enclosed in double "
            "quotes, column 2)"
        ),
        f"error: {source} line 2: not a JSON object: [1, 2]",
        f"error: {source} line 3: not JSON (nested too deep)",
        # line 4 is blank: nothing to import, nothing wrong
        f"error: {source} line 5: not UTF-8 text (an unpaired surrogate, \\ud800-\\udfff)",
    ]
    assert result.stderr.splitlines()[-1] == (
        f"{source}: 1 imported (1 new, 0 changed, 0 unchanged, 0 older; older: the archive's "
        "own version is newer and was kept), 4 lines skipped"
    )
    assert titles(db) == ["Artículo 6"]


def test_a_clean_file_exits_0_and_says_so(tmp_path):
    result, source, _ = import_lines(tmp_path, line(1), line(2))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        (
            f"{source}: 2 imported (2 new, 0 changed, 0 unchanged, 0 older; older: the archive's "
            "own version is newer and was kept), 0 lines skipped"
        )
    ]


def test_after_an_import_of_bad_lines_status_and_every_export_still_work(tmp_path):
    result, _, db = import_lines(
        tmp_path, line(1, provenance="og:title"), line(2, authors=7), line(3, wp_id="abc"), line(4)
    )
    assert result.exit_code == 1
    status = cli("status", "--db", str(db), "--json")
    assert status.exit_code == 0, status.output
    for fmt in ("json", "jsonl", "csv", "parquet"):
        out = tmp_path / f"todo.{fmt}"
        exported = cli("export", "--format", fmt, "--out", str(out), "--db", str(db))
        assert exported.exit_code == 0, exported.output
    table = pq.read_table(tmp_path / "todo.parquet").to_pylist()
    assert [(r["title"], r["authors"], r["wp_id"]) for r in table] == [
        ("Artículo 4", ["Ana Soto"], 812345)
    ]


def test_imported_html_is_cleaned_as_a_crawl_cleans_it(tmp_path):
    html = (
        '<p onclick="robar()">Hola <a href="javascript:alert(1)">enlace</a> y '
        '<a href="https://www.elciudadano.com/">portada</a></p>'
        '<script>alert("xss")</script><iframe src="https://malo.example/"></iframe>'
        '<p><img src="x" onerror="robar()" alt="foto"></p>'
    )
    result, _, db = import_lines(tmp_path, line(1, body_html=html))
    assert result.exit_code == 0, result.output
    expected = (
        '<p>Hola <a>enlace</a> y <a href="https://www.elciudadano.com/">portada</a>'
        '</p><p><img src="x" alt="foto"></p>'
    )
    assert rows(db, "select body_html from articles") == [(expected,)]
    out = tmp_path / "todo.jsonl"
    assert cli("export", "--format", "jsonl", "--out", str(out), "--db", str(db)).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["body_html"] == expected


def test_the_same_article_twice_in_a_file_keeps_the_later_and_the_earlier_as_a_version(tmp_path):
    first = line(1, title="Glaciares en peligro", last_changed="2025-03-05T13:00:00+00:00")
    later = line(
        1, title="Glaciares en peligro (corregido)", last_changed="2025-03-06T13:00:00+00:00"
    )
    result, _, db = import_lines(tmp_path, first, later)
    assert result.exit_code == 0, result.output
    assert "2 imported (1 new, 1 changed, 0 unchanged, 0 older" in result.stderr
    assert titles(db) == ["Glaciares en peligro (corregido)"]
    assert rows(db, "select version, title from article_versions") == [(1, "Glaciares en peligro")]


def test_imported_articles_are_found_by_search_and_the_archive_still_indexes_new_ones(tmp_path):
    result, _, db = import_lines(
        tmp_path,
        line(1, title="Glaciares en peligro"),
        line(
            2,
            title="Pensiones en debate",
            subtitle="Al Senado.",
            body="La reforma de pensiones llega al Senado.",
        ),
    )
    assert result.exit_code == 0, result.output
    store = Archive(db)  # a crawl after the import: the index's trigger is back
    crawled = empty_article(f"{BASE}/chile/litio/")
    crawled.update(
        title="El litio del salar",
        body="El litio se extrae del salar.",
        published="2025-04-01T10:00:00-03:00",
        published_date="2025-04-01",
        is_article=True,
    )
    store.store_article(crawled)
    store.close()
    assert [h["title"] for h in search(db, "pensión")] == ["Pensiones en debate"]
    assert [h["title"] for h in search(db, "glaciares")] == ["Glaciares en peligro"]
    assert [h["title"] for h in search(db, "litio")] == ["El litio del salar"]


def test_a_file_of_many_batches_is_checked_in_worker_processes_with_the_same_outcome(
    tmp_path, monkeypatch
):
    import os

    from ciudadano import imports

    # 7 lines: 4 chunks (the first checked here, 3 in a worker), 2 transactions
    monkeypatch.setattr(imports, "CHUNK", 2)
    monkeypatch.setattr(imports, "BATCH_CHUNKS", 2)
    result, source, db = import_lines(
        tmp_path,
        line(1),
        line(2, wp_id="abc"),
        line(3, title="Pensiones en debate"),
        line(4),
        b"{no es json",
        line(1, title="Artículo 1 (corregido)", last_changed="2025-03-06T13:00:00+00:00"),
        line(7),
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"error: {source} line 2: wp_id: not a whole number from 1 to 2**63-1: 'abc'",
        (
            f"error: {source} line 5: not JSON (Expecting property name enclosed in double "
            "quotes, column 2)"
        ),
        (
            f"{source}: 5 imported (4 new, 1 changed, 0 unchanged, 0 older; older: the archive's "
            "own version is newer and was kept), 2 lines skipped"
        ),
    ]
    assert titles(db) == [
        "Artículo 1 (corregido)",
        "Artículo 4",
        "Artículo 7",
        "Pensiones en debate",
    ]
    assert [h["title"] for h in search(db, "pensión")] == ["Pensiones en debate"]
    from tests.forked import zygote_pid

    children = [p for p in _pids() if _parent(p) == os.getpid() and int(p) != zygote_pid()]
    assert children == []  # the workers ended


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_a_stopped_import_ends_its_workers_and_leaves_the_archive_whole(tmp_path):
    import signal
    import subprocess

    from tests.conftest import ROOT, ciudadano, wait_until

    source = tmp_path / "grande.jsonl"
    source.write_bytes(b"\n".join(line(n) for n in range(1, 20_001)) + b"\n")
    db = tmp_path / "archivo.db"
    importing = subprocess.Popen(
        [*ciudadano(), "import", str(source), "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers: list[str] = []

        def checking() -> bool:
            workers[:] = [p for p in _pids() if _parent(p) == importing.pid]
            return bool(workers)

        wait_until(checking)  # past the first 1,000 lines: the workers check the others
        importing.send_signal(signal.SIGTERM)
        _, stderr = importing.communicate(timeout=60)
    finally:
        importing.kill()
        importing.wait()
    assert importing.returncode == 6
    assert stderr.splitlines() == [
        "error: import interrupted; the articles imported so far are kept"
    ]
    assert not [p for p in workers if p in _pids()]
    # whole batches of 5,000 or nothing; each article in the index once
    (count,) = rows(db, "select count(*) from articles")[0]
    assert count % 5000 == 0
    assert rows(db, "select count(*) from articles_fts where articles_fts match 'glaciares'") == [
        (count,)
    ]


def _pids() -> list[str]:
    import os

    return [p for p in os.listdir("/proc") if p.isdigit()]


def test_an_integer_python_will_not_read_is_one_line_and_the_rest_is_imported(tmp_path):
    # json.loads raised a plain ValueError past 4,300 digits: a traceback, nothing imported
    huge = line(2).replace(b'"wp_id": ', b'"wp_id": ' + b"1" * 5000 + b', "x": ', 1)
    result, source, db = import_lines(tmp_path, line(1), huge, line(3))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0].startswith(f"error: {source} line 2: not JSON we can read")
    assert titles(db) == ["Artículo 1", "Artículo 3"]


def test_archive_dates_compare_as_instants_whatever_their_offset(tmp_path):
    # 12:00 at -03:00 is 15:00 UTC, newer than 13:00 UTC: it was taken for older, and dropped
    first = line(1, title="Glaciares en peligro", last_changed="2025-03-05T13:00:00+00:00")
    later = line(
        1, title="Glaciares en peligro (corregido)", last_changed="2025-03-05T12:00:00-03:00"
    )
    result, _, db = import_lines(tmp_path, first, later)
    assert result.exit_code == 0, result.output
    assert titles(db) == ["Glaciares en peligro (corregido)"]
    assert rows(db, "select last_changed from articles") == [("2025-03-05T15:00:00+00:00",)]
