"""Faults of the archive file: another program's database, a file that is not a database, a
damaged one, a newer schema, read-only media, a full disk, a first run killed while creating
the schema. Each is one line and a documented exit status, and nothing is changed."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archive.store import Archive
from ciudadano.cli import main
from tests.conftest import ROOT, copy_archive, rows, run_crawl, serving
from tests.faults.conftest import fill, remount_read_only, tmpfs
from tests.old_archive import make_v1_archive


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(result, status: int, says: str) -> None:
    output = result.output if hasattr(result, "output") else result.stderr
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code == status, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], output


@pytest.fixture
def foreign_db(tmp_path):
    """Another program's SQLite file: its own table, user_version 42, rollback journal."""
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, text text)")
    conn.execute("insert into notes (text) values ('do not touch')")
    conn.execute("pragma user_version = 42")
    conn.commit()
    conn.close()
    return path


# -- another program's database is refused, never adopted -----------------------------------------
def test_a_crawl_refuses_another_programs_database_and_leaves_it_as_it_was(foreign_db, own_site):
    before = digest(foreign_db)
    result = run_crawl(foreign_db, own_site.base_url)
    one_line_error(result, 5, "is an SQLite database of another program, not a ciudadano archive")
    assert digest(foreign_db) == before
    conn = sqlite3.connect(foreign_db)
    assert conn.execute("pragma user_version").fetchone() == (42,)
    assert conn.execute("pragma journal_mode").fetchone() == ("delete",)
    assert not (foreign_db.parent / "notes.db-wal").exists()


@pytest.mark.parametrize(
    "command", [["search", "politica"], ["export", "--format", "jsonl"], ["serve", "--port", "0"]]
)
def test_readers_refuse_another_programs_database_in_one_line(foreign_db, command):
    before = digest(foreign_db)
    one_line_error(cli(*command, "--db", str(foreign_db)), 5, "not a ciudadano archive")
    assert digest(foreign_db) == before


@pytest.mark.parametrize(
    "command", [["search", "politica"], ["export", "--format", "csv"], ["serve", "--port", "0"]]
)
def test_a_file_that_is_not_a_database_is_one_line_for_every_reader(tmp_path, command):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not an SQLite file\n" * 100)
    one_line_error(cli(*command, "--db", str(bad)), 5, "is not an SQLite database")


@pytest.mark.parametrize("command", [["search", "politica"], ["export", "--format", "jsonl"]])
def test_a_damaged_archive_is_one_line(crawled, tmp_path, command):
    db, _ = crawled
    damaged = tmp_path / "damaged.db"
    data = db.read_bytes()
    damaged.write_bytes(data[: len(data) // 3])  # a copy cut short, as by a full disk
    one_line_error(cli(*command, "--db", str(damaged)), 5, "damaged")


def test_an_archive_from_a_newer_version_is_refused(tmp_path):
    from archive.db import ArchiveError
    from archive.schema import SCHEMA_VERSION

    path = tmp_path / "future.db"
    Archive(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ArchiveError, match="newer ciudadano-archive"):
        Archive(path)
    one_line_error(cli("search", "x", "--db", str(path)), 5, "upgrade ciudadano-archive")


def test_an_archive_of_version_0_1_is_migrated_explicitly(tmp_path):
    from archive.schema import APPLICATION_ID, SCHEMA_VERSION

    path = make_v1_archive(tmp_path / "v1.db")
    archive = Archive(path)
    archive.close()
    conn = sqlite3.connect(path)
    assert conn.execute("pragma application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("pragma user_version").fetchone() == (SCHEMA_VERSION,)
    assert {"pid", "exit_status"} <= {r[1] for r in conn.execute("pragma table_info(runs)")}


# -- the schema is created in one transaction --------------------------------------------------------
def test_an_archive_left_without_its_search_triggers_is_repaired(tmp_path):
    # what a first run killed between the full-text table and its triggers left (version 0.1
    # created them in separate transactions): rows the index never saw
    path = make_v1_archive(tmp_path / "half.db", triggers=False)
    conn = sqlite3.connect(path)
    conn.execute(
        "insert into articles (url, title, body) values ('u', 'Reforma de pensiones', 'x')"
    )
    conn.commit()
    conn.close()
    Archive(path).close()
    hits = CliRunner().invoke(main, ["search", "pensiones", "--db", str(path), "--json"])
    assert hits.exit_code == 0 and '"url": "u"' in hits.output, hits.output


KILL_AT_STATEMENT = """
import json, os, sqlite3, sys
from archive.store import Archive
folder, statuses, connect = sys.argv[1], [], sqlite3.connect
for stop in range(1, 80):
    pid = os.fork()  # one first run a statement: a child that dies before its stop-th
    if pid == 0:
        seen = [0]
        def traced(*args, **kwargs):
            conn = connect(*args, **kwargs)
            def trace(sql):
                seen[0] += 1
                if seen[0] == stop:
                    os._exit(9)  # dies like SIGKILL: no cleanup, no rollback but SQLite's own
            conn.set_trace_callback(trace)
            return conn
        sqlite3.connect = traced
        try:
            Archive(f"{folder}/killed-{stop}.db").close()
        except BaseException:
            import traceback
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    if statuses[-1] != 9:
        break  # it got through (or failed)
print(json.dumps(statuses))
"""


def test_a_first_run_killed_at_any_statement_leaves_no_half_schema(tmp_path):
    # the process creating a new archive dies before its 1st, 2nd, ... SQL statement: every
    # time the file holds either no tables or the whole schema, never a full-text table
    # without the triggers that keep it (version 0.1's archive then found nothing for ever).
    # One interpreter forks a child for each statement, so the imports are paid once.
    children = subprocess.run(
        [sys.executable, "-c", KILL_AT_STATEMENT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert children.returncode == 0, children.stderr
    statuses = json.loads(children.stdout)
    # the last one got through: every statement before it was a place to die
    assert statuses[-1] == 0, children.stderr or "the schema took more than 79 statements"
    whole = tables(tmp_path / f"killed-{len(statuses)}.db")
    assert {
        "articles",
        "articles_fts",
        "articles_ai",
        "articles_ad",
        "articles_au",
        "runs",
        "failures",
        "aliases",
        "retries",
        "archive_meta",
        "article_authors",
        "article_authors_ai",
        "article_authors_au",
        "article_authors_ad",
        "article_versions",
        "responses",
    } <= whole
    for stop, status in enumerate(statuses, start=1):
        db = tmp_path / f"killed-{stop}.db"
        names = tables(db) if db.exists() else set()
        assert names in (set(), whole), (stop, whole - names)
        if status == 9:
            Archive(db).close()  # and the next run can use what was left


def tables(db) -> set[str]:
    """The names of db's tables and triggers (not SQLite's, the indexes or FTS5's shadows)."""
    return {
        n
        for (n,) in rows(
            db,
            "select name from sqlite_master where name not like "
            "'sqlite_%' and name not like 'idx_%' and name not like "
            "'articles_fts_%'",
        )
    }


# -- read-only media ------------------------------------------------------------------------------
def test_an_archive_on_read_only_media_can_be_searched_exported_and_served(crawled, tmp_path):
    db, _ = crawled
    with tmpfs(tmp_path / "snapshot", "64m") as media:
        copy = media / "elciudadano.db"
        shutil.copy(db, copy)
        remount_read_only(media)
        found = cli("search", "politica", "--db", str(copy), "--json")
        assert found.exit_code == 0 and "pensiones" in found.output.lower(), found.output
        out = tmp_path / "out.jsonl"
        exported = cli("export", "--format", "jsonl", "--db", str(copy), "--out", str(out))
        assert exported.exit_code == 0, exported.output
        assert len(out.read_text().splitlines()) == rows(db, "select count(*) from articles")[0][0]
        with serving(copy) as base:
            import httpx

            answer = httpx.get(
                f"{base}/{copy.stem}/articles.json",
                follow_redirects=True,
                params={"_search": "politica", "_shape": "objects"},
                timeout=30,
            )
            assert answer.status_code == 200 and answer.json()["rows"]
        assert sorted(p.name for p in media.iterdir()) == ["elciudadano.db"]  # nothing written


def test_a_crawl_into_read_only_media_exits_5_in_one_line(crawled, tmp_path, own_site):
    db, _ = crawled
    with tmpfs(tmp_path / "ro", "64m") as media:
        copy = media / "elciudadano.db"
        shutil.copy(db, copy)
        remount_read_only(media)
        result = run_crawl(copy, own_site.base_url)
    assert result.returncode == 5, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


# -- a full disk ---------------------------------------------------------------------------------
def test_a_full_disk_on_the_second_run_is_the_archives_status_in_one_line(
    tmp_path, crawled, stand_in
):
    with tmpfs(tmp_path / "small", "8m") as disk:
        db = copy_archive(crawled[0], disk / "elciudadano.db")  # the first run's archive
        fill(disk)
        second = run_crawl(db, stand_in.base_url)
        (disk / "filler").unlink(missing_ok=True)
        articles = rows(db, "select count(*) from articles")
    assert second.returncode == 5, second.stderr[-3000:]
    assert "Traceback" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "disk is full" in errors[0], second.stderr[-3000:]
    assert articles == [(10,)]  # what the first run stored is intact
