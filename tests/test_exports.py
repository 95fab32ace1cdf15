"""What the researcher takes away: CSV, JSON Lines, JSON and Parquet exports of a slice, and
`ciudadano import` bringing an export back. Expected values are read off the articles written
here, or the crawled stand-in's pages."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from click.testing import CliRunner

from archive.model import empty_article
from archive.store import Archive
from ciudadano.cli import main
from tests.conftest import rows

BASE = "https://www.elciudadano.com"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def article(slug: str, title: str, published: str, language: str = "es", **more) -> dict:
    a = empty_article(f"{BASE}/{slug}/")
    a.update(
        title=title,
        body=f"Cuerpo de {title}.",
        published=published,
        published_date=published[:10],
        section="Chile",
        section_slug="chile",
        authors=["Ana Soto"],
        language=language,
        is_article=True,
    )
    a.update(more)
    return a


# Chile left summer time at 00:00 on 7 April 2024 (-03:00), back to 23:00 on the 6th (-04:00):
# 23:30-03:00 came an hour before 23:10-04:00, though its text sorts after it.
FIRST_2330 = article("antes-del-cambio", "Antes del cambio de hora", "2024-04-06T23:30:00-03:00")
THEN_2310 = article("despues-del-cambio", "Después del cambio de hora", "2024-04-06T23:10:00-04:00")
FORMULA = article(
    "formula",
    '=HYPERLINK("http://malo.example","clic")',
    "2024-05-01T10:00:00-04:00",
    authors=["@usuario", "-menos", "+mas"],
)
ENGLISH = article("english", "Chile's copper output", "2024-06-01T10:00:00-04:00", language="en")


def small_archive(path):
    store = Archive(path)
    for a in (THEN_2310, FORMULA, FIRST_2330, ENGLISH):
        store.store_article(a)
    store.close()
    return path


def test_exports_are_in_the_order_the_articles_were_published(tmp_path):
    db = small_archive(tmp_path / "orden.db")
    result = cli("export", "--format", "jsonl", "--db", str(db))
    assert result.exit_code == 0, result.output
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert titles == [
        "Antes del cambio de hora",
        "Después del cambio de hora",
        FORMULA["title"],
        "Chile's copper output",
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    db = small_archive(tmp_path / "csv.db")
    out = tmp_path / "articles.csv"
    assert (
        cli(
            "export",
            "--format",
            "csv",
            "--bom",
            "--out",
            str(out),
            "--db",
            str(db),
            "--query",
            "hyperlink",
        ).exit_code
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs look for
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["title"] == '\'=HYPERLINK("http://malo.example","clic")'
    assert row["authors"] == '["@usuario", "-menos", "+mas"]'  # JSON text: starts with [
    kept = cli(
        "export", "--format", "csv", "--keep-formulas", "--db", str(db), "--query", "hyperlink"
    )
    (row,) = list(csv.DictReader(io.StringIO(kept.stdout)))
    assert row["title"] == '=HYPERLINK("http://malo.example","clic")'


def test_json_and_parquet_carry_the_same_articles_with_their_lists(tmp_path):
    db = small_archive(tmp_path / "formatos.db")
    as_json = tmp_path / "a.json"
    as_parquet = tmp_path / "a.parquet"
    assert cli("export", "--format", "json", "--out", str(as_json), "--db", str(db)).exit_code == 0
    assert (
        cli("export", "--format", "parquet", "--out", str(as_parquet), "--db", str(db)).exit_code
        == 0
    )
    listed = json.loads(as_json.read_text(encoding="utf-8"))
    table = pq.read_table(as_parquet).to_pylist()
    assert (
        [a["title"] for a in listed]
        == [a["title"] for a in table]
        == [
            "Antes del cambio de hora",
            "Después del cambio de hora",
            FORMULA["title"],
            "Chile's copper output",
        ]
    )
    assert table[2]["authors"] == listed[2]["authors"] == ["@usuario", "-menos", "+mas"]
    assert table[0]["published_utc"] == "2024-04-07T02:30:00Z"
    assert table[1]["published_utc"] == "2024-04-07T03:10:00Z"


def test_a_slice_by_language_dates_and_search(tmp_path):
    db = small_archive(tmp_path / "slice.db")

    def titles(*args):
        result = cli("export", "--format", "jsonl", "--db", str(db), *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["title"] for line in result.stdout.splitlines()]

    assert titles("--language", "en") == ["Chile's copper output"]
    assert titles("--since", "2024-05", "--until", "2024-05-31") == [FORMULA["title"]]
    assert titles("--query", "cambio hora") == [
        "Antes del cambio de hora",
        "Después del cambio de hora",
    ]
    bad = cli("export", "--format", "jsonl", "--db", str(db), "--query", "x*")
    assert bad.exit_code == 1 and "too short a prefix" in bad.output


def test_export_import_export_gives_the_same_file(crawled, tmp_path):
    db, _ = crawled
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert cli("export", "--format", "jsonl", "--out", str(first), "--db", str(db)).exit_code == 0
    copy = tmp_path / "copy.db"
    imported = cli("import", str(first), "--db", str(copy))
    assert imported.exit_code == 0, imported.output
    assert "10 new, 0 changed, 0 unchanged" in imported.output
    assert (
        cli("export", "--format", "jsonl", "--out", str(second), "--db", str(copy)).exit_code == 0
    )
    assert second.read_bytes() == first.read_bytes()
    again = cli("import", str(first), "--db", str(copy))
    assert again.exit_code == 0 and "0 new, 0 changed, 10 unchanged" in again.output
    # the copy is searchable like the original
    hits = cli("search", "pensiones", "--db", str(copy), "--json")
    assert "La política de pensiones vuelve al Senado" in hits.stdout


def test_import_skips_lines_that_are_not_articles_and_names_them(tmp_path):
    good = {k: v for k, v in FIRST_2330.items() if k not in ("is_article", "reason")}
    good["published_utc"] = "2024-04-07T02:30:00Z"
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{not json",
                json.dumps({"url": f"{BASE}/sin-titulo/", "body": "x"}),
                "",
            ]
        ),
        encoding="utf-8",
    )
    db = tmp_path / "mixed.db"
    result = cli("import", str(source), "--db", str(db))
    assert result.exit_code == 1
    assert "line 2: not JSON" in result.output
    assert "line 3: title: missing; published: missing; published_date: missing" in result.output
    assert "1 new" in result.output
    assert rows(db, "select title from articles") == [("Antes del cambio de hora",)]


def test_merging_an_older_version_keeps_the_newer_and_records_the_older(tmp_path):
    old = tmp_path / "old.db"
    store = Archive(old)
    store.store_article(THEN_2310)
    store.close()
    exported = tmp_path / "old.jsonl"
    assert (
        cli("export", "--format", "jsonl", "--out", str(exported), "--db", str(old)).exit_code == 0
    )
    new = tmp_path / "new.db"
    store = Archive(new)
    store.store_article(dict(THEN_2310, title="Después del cambio de hora (corregido)"))
    store.close()
    result = cli("import", str(exported), "--db", str(new))
    assert result.exit_code == 0 and "1 older" in result.output
    assert rows(new, "select title from articles") == [("Después del cambio de hora (corregido)",)]
    assert rows(new, "select version, title from article_versions") == [
        (1, "Después del cambio de hora")
    ]


def test_on_a_terminal_an_export_shows_its_progress_and_piped_it_does_not(tmp_path):
    from tests.conftest import ciudadano, on_a_terminal

    db = tmp_path / "many.db"
    store = Archive(db)
    store.db.execute("begin")
    for n in range(2500):  # progress is told every 1,000 articles
        store.store_article(article(f"nota-{n}", f"Nota {n}", "2024-06-01T10:00:00-04:00"))
    store.db.execute("commit")
    store.close()
    status, text = on_a_terminal(
        [
            *ciudadano(),
            "export",
            "--format",
            "jsonl",
            "--out",
            str(tmp_path / "all.jsonl"),
            "--db",
            str(db),
        ]
    )
    assert status == 0, text
    assert "exporting: 1,000/2,500 articles (40%)" in text
    assert "exporting: 2,000/2,500 articles (80%)" in text
    assert "2500 articles written to" in text
    piped = cli("export", "--format", "jsonl", "--out", str(tmp_path / "b.jsonl"), "--db", str(db))
    assert piped.exit_code == 0 and "exporting:" not in piped.output
