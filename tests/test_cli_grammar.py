"""One grammar on the command line: the same option names and date forms on every command,
and every error one line `error: ...` with the README's status, Click's and Scrapy's too.
Expected values are read off the stand-in's articles (standin/articles.py) and the README's
exit-status tables."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest
from click.testing import CliRunner

from ciudadano.cli import main
from standin.server import StandInSite
from tests.conftest import (
    ROOT,
    ciudadano,
    on_a_terminal,
    rows,
    run_command,
    run_crawl,
    serving,
)

POLITICA = "La política de pensiones vuelve al Senado tras el receso"  # 2025-09-07, Política


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def one_error(result, status: int, says: str) -> str:
    """The result failed with status and printed exactly one line, `error: ...` saying says."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == status, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert says in lines[0], result.output
    return lines[0]


def titles(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {json.loads(line)["title"] for line in result.stdout.splitlines()}


# -- Click's own errors --------------------------------------------------------------------------
def test_a_mistyped_option_is_one_error_line_with_status_2():
    line = one_error(cli("search", "kast", "--limt", "3"), 2, "No such option '--limt'")
    assert "ciudadano search --help" in line


def test_a_missing_value_and_a_bad_choice_are_one_line_too():
    one_error(cli("export", "--format", "xls"), 2, "'xls' is not one of")
    one_error(cli("show"), 2, "Missing argument")


# -- one date range pair, one set of date forms --------------------------------------------------
@pytest.mark.parametrize(
    "command", [["search", "x"], ["export", "--format", "csv"], ["reparse"], ["crawl"]]
)
def test_every_command_names_its_date_range_since_and_until(command):
    shown = cli(*command[:1], "--help").output
    assert "--since DATE" in shown and "--until DATE" in shown
    assert "--from" not in shown and "--to " not in shown  # the old names work, unlisted


def test_since_and_until_take_a_year_a_month_or_a_day_on_search(crawled):
    db, _ = crawled
    assert POLITICA in titles(
        cli(
            "search",
            "pensiones",
            "--db",
            str(db),
            "--json",
            "--since",
            "2025-09",
            "--until",
            "2025",
        )
    )
    assert not titles(
        cli("search", "pensiones", "--db", str(db), "--json", "--since", "2025-09-08")
    )


def test_the_old_from_and_to_still_work_and_cannot_be_given_with_since(crawled):
    db, _ = crawled
    assert POLITICA in titles(
        cli(
            "search",
            "pensiones",
            "--db",
            str(db),
            "--json",
            "--from",
            "2025-09-07",
            "--to",
            "2025-09-07",
        )
    )
    one_error(
        cli("search", "pensiones", "--db", str(db), "--from", "2025", "--since", "2024"),
        2,
        "--since and --from are one option",
    )


def test_a_bad_date_is_named_by_the_option_as_given_on_reparse(crawled, tmp_path):
    db, _ = crawled
    # before: "--from '2025-13'" on a command that has no --from
    one_error(cli("reparse", "--db", str(db), "--since", "2025-13"), 1, "--since '2025-13'")
    one_error(
        cli("export", "--format", "csv", "--db", str(db), "--until", "2025-02-30"),
        1,
        "--until '2025-02-30'",
    )


def test_an_inverted_range_says_so_instead_of_finding_nothing(crawled):
    db, _ = crawled
    one_error(
        cli("search", "pensiones", "--db", str(db), "--since", "2025-10", "--until", "2025-09"),
        1,
        "--since 2025-10 is after --until 2025-09",
    )
    one_error(
        cli("export", "--format", "csv", "--db", str(db), "--since", "2026", "--until", "2025"),
        1,
        "is after --until",
    )


def test_an_unknown_section_says_so_instead_of_finding_nothing(crawled):
    db, _ = crawled
    one_error(
        cli("search", "pensiones", "--db", str(db), "--section", "nosuch"),
        1,
        "--section 'nosuch': no article",
    )
    one_error(
        cli("export", "--format", "csv", "--db", str(db), "--section", "nosuch"),
        1,
        "--section 'nosuch': no article",
    )
    assert POLITICA in titles(
        cli("search", "pensiones", "--db", str(db), "--json", "--section", "POLÍTICA")
    )


def test_crawl_takes_a_month_and_a_year_as_its_range(stand_in, tmp_path):
    db = tmp_path / "range.db"
    result = run_crawl(db, stand_in.base_url, "--since", "2025-11", "--until", "2025")
    assert result.returncode == 1, result.stderr[-2000:]  # the stand-in's traps
    # the stand-in's two articles published in November or December 2025
    assert {t for (t,) in rows(db, "select title from articles")} == {
        "Kast sella alianza ideológica con Milei a semanas de la segunda vuelta",
        "COP30 cierra sin acuerdo sobre combustibles fósiles",
    }


# -- errors the README promises as one line --------------------------------------------------------
def test_a_base_url_that_is_not_a_url_is_a_bad_option(tmp_path):
    db = tmp_path / "x.db"
    one_error(
        cli("crawl", "--db", str(db), "--base-url", "notaurl"), 2, "'notaurl' is not an http(s) URL"
    )
    assert not db.exists()  # before: a run recorded, a traceback, status 3


def test_parse_of_a_missing_file_exits_1(tmp_path):
    one_error(
        cli("parse", str(tmp_path / "missing.html"), "--url", "https://x.cl/a/"), 1, "cannot read"
    )


def test_a_db_in_a_missing_folder_is_refused_and_no_folder_is_made(tmp_path):
    db = tmp_path / "no" / "such" / "x.db"
    one_error(
        cli("crawl", "--db", str(db), "--base-url", "http://127.0.0.1:9/"),
        5,
        f"there is no folder {db.parent}",
    )
    one_error(cli("import", "-", "--db", str(db)), 5, "there is no folder")
    assert not (tmp_path / "no").exists()


def test_a_second_import_is_told_an_import_is_writing(crawled, tmp_path):
    db = tmp_path / "busy.db"
    db.write_bytes((crawled[0]).read_bytes())
    fifo = tmp_path / "slow.jsonl"
    os.mkfifo(fifo)
    # the first import holds the archive's lock while it waits for its file to be written
    first = subprocess.Popen(
        [*ciudadano(), "import", str(fifo), "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    from tests.conftest import wait_until

    writer = None
    try:
        # opens once the first import opened it to read (never blocks: a first import that
        # died fails the wait instead of hanging the suite)
        def opened() -> bool:
            nonlocal writer
            assert first.poll() is None, first.communicate()
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader yet
                return False
            return True

        wait_until(opened)
        wait_until(lambda: _holds_a_flock(first.pid))
        second = run_command("import", "-", "--db", str(db), timeout=60)  # stdin: empty
    finally:
        if writer is not None:
            os.close(writer)  # the first import reads the end of its file
        try:
            first.wait(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    assert second.returncode == 7, second.stderr
    assert second.stderr.splitlines() == [
        (
            f"error: an import (pid {first.pid}) is writing to {db} (it holds the archive's "
            "lock); nothing was done"
        )
    ]
    assert first.returncode == 0, first.stderr


def _holds_a_flock(pid: int) -> bool:
    with open("/proc/locks") as table:
        return any(f.split()[1:2] == ["FLOCK"] and f.split()[4] == str(pid) for f in table)


def test_serve_on_a_busy_port_exits_1_without_saying_it_started(crawled):
    db, _ = crawled
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_command("serve", "--db", str(db), "--port", str(port), timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_serve_still_answers_on_a_free_port(crawled):
    import httpx

    with serving(crawled[0]) as base:
        assert httpx.get(base + "/-/versions.json", timeout=10).status_code == 200


def test_export_to_dev_stdout_into_a_pipe_writes_the_articles(crawled):
    db, _ = crawled
    # its stdout a pipe the test reads, as in `ciudadano export ... | gzip`
    result = run_command(
        "export", "--format", "jsonl", "--db", str(db), "--out", "/dev/stdout", timeout=60
    )
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert POLITICA in exported
    assert len(exported) == rows(db, "select count(*) from articles")[0][0]


def test_a_crawl_on_read_only_media_says_so(crawled, tmp_path):
    from tests.faults.conftest import remount_read_only, tmpfs

    db, _ = crawled
    with tmpfs(tmp_path / "ro", "64m") as media:
        copy = media / "elciudadano.db"
        copy.write_bytes(db.read_bytes())
        remount_read_only(media)
        result = cli("crawl", "--db", str(copy), "--base-url", "http://127.0.0.1:9/")
    # before: "unable to open database file"
    one_error(result, 5, "it is on read-only storage")


# -- a crawl's terminal: nothing but what matters -------------------------------------------------
def test_a_quiet_successful_crawl_prints_nothing_on_a_terminal(tmp_path):
    db = tmp_path / "quiet.db"
    with StandInSite(core_sitemaps=True) as site:
        status, shown = on_a_terminal(
            [
                *ciudadano(),
                "crawl",
                "--db",
                str(db),
                "--base-url",
                site.base_url,
                "--source",
                "html",
                "--feed-pages",
                "0",
                "--quiet",
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
            ],
            script=True,  # Scrapy's warnings at import: the installed script, not a fork
        )
    assert status == 0, shown
    assert shown.strip() == ""  # before: two warnings about Scrapy's RefererMiddleware


def test_an_unreachable_site_shows_no_traceback(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_crawl(tmp_path / "none.db", f"http://127.0.0.1:{port}", source="auto", script=True)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "RefererMiddleware" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        (
            f"error: could not reach http://127.0.0.1:{port}: no robots.txt, sitemap or feed "
            "answered (connection refused)"
        )
    ]


def test_outcomes_match_the_readmes_exit_status_table():
    from archive import outcomes

    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Exit status of `crawl`", 1)[1].split("###", 1)[0]
    documented = {
        int(line.split("|")[1])
        for line in table.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }
    defined = {
        value
        for name, value in vars(outcomes).items()
        if name.startswith("EXIT_") and name != "EXIT_INVALID"
    }
    assert documented == defined == set(range(9))


# -- bugs found by reading -------------------------------------------------------------------------
def test_reparse_progress_counts_the_articles_it_passes_over(crawled, tmp_path, monkeypatch):
    from ciudadano import reparse as module

    db = tmp_path / "reparse.db"
    db.write_bytes(crawled[0].read_bytes())
    _, url = rows(db, "select id, url from articles where wp_id = 1181002")[0]
    conn = __import__("sqlite3").connect(db)
    with conn:  # this article's page was never kept: reparse passes over it
        conn.execute("delete from responses where final_url = ?", [url])
    conn.close()
    total = rows(db, "select count(*) from articles")[0][0]
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(module, "PROGRESS_EVERY", 1, raising=False)
    report = module.reparse(db, progress=lambda done, of: seen.append((done, of)))
    assert report.without_page >= 1
    # before: the articles passed over (no page, no longer an article) were never reported,
    # and a run of fewer than 500 articles reported nothing, not even its end
    assert seen == [(n, total) for n in range(1, total + 1)]


def test_the_sqlite_utils_pin_allows_only_versions_with_atomic():
    import sqlite_utils
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pin = next(
        Requirement(d) for d in project["dependencies"] if Requirement(d).name == "sqlite-utils"
    )
    # Database.atomic() (archive.store) came with sqlite-utils 4; 3.x has no such method
    assert not pin.specifier.contains("3.36") and not pin.specifier.contains("3.38")
    assert pin.specifier.contains("4.0") and hasattr(sqlite_utils.Database, "atomic")


def test_a_url_to_crawl_that_is_not_a_url_is_a_bad_option(tmp_path):
    # it was crawled as a path of the site and the run exited 1
    one_error(
        cli("crawl", "--db", str(tmp_path / "x.db"), "--url", "notaurl"),
        2,
        "'notaurl' is not an http(s) URL",
    )
    assert not (tmp_path / "x.db").exists()


def test_a_setting_the_crawl_cannot_use_is_a_bad_option_not_an_interruption(tmp_path):
    # it exited 6, "interrupted by a signal", after a 50-line traceback
    db = tmp_path / "x.db"
    result = run_command(
        "crawl",
        "--db",
        str(db),
        "--base-url",
        "http://127.0.0.1:9",
        "-s",
        "CONCURRENT_REQUESTS=abc",
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Unhandled error" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: the crawl could not start: invalid literal for int() with base 10: 'abc' "
        "(check the -s settings)"
    )
    assert rows(db, "select status, exit_status from runs") == [("failed", 2)]
