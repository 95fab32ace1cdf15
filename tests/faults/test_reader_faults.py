"""Hostile input to the readers (search, export, serve, parse): bounded queries, impossible
options, special files as export targets, interrupted exports, and a server that stops with
everything it started."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import threading

import httpx
import pytest
from click.testing import CliRunner

from ciudadano.cli import main
from tests.conftest import ROOT, ciudadano, free_port, rows, wait_until
from tests.forked import ForkedProcess


def cli(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def one_line(result, status: int, says: str) -> None:
    assert result.exit_code == status, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output and says in result.output, result.output
    assert len([line for line in lines if "rror" in line]) == 1, result.output


# -- search: bounded, and impossible options in one line --------------------------------------------
def test_a_query_of_a_thousand_prefixes_is_refused_at_once(crawled):
    db, _ = crawled
    query = " OR ".join(f"pa{i}*" for i in range(1000))
    one_line(cli("search", query, "--db", str(db)), 1, "characters long; at most 500")
    one_line(cli("search", "ab* cd* ef* gh* ij*", "--db", str(db)), 1, "at most 4")
    one_line(cli("search", " ".join(f"w{i}" for i in range(40)), "--db", str(db)), 1, "at most 32")
    one_line(cli("search", "x" * 60_000, "--db", str(db)), 1, "at most 500")


def test_impossible_options_are_one_line(crawled, tmp_path):
    db, _ = crawled
    one_line(cli("search", "x", "--db", str(db), "--limit", "9223372036854775808"), 2, "--limit")
    one_line(cli("search", "x", "--db", str(db), "--from", "2025-13-45"), 1, "2025-13-45")
    one_line(
        cli("export", "--format", "csv", "--db", str(db), "--to", "2025-02-30"), 1, "2025-02-30"
    )
    page = tmp_path / "page.html"
    page.write_text("<html><body>x</body></html>")
    one_line(cli("parse", str(page), "--url", "http://[::1"), 2, "is not a URL")


def test_a_search_past_its_time_limit_is_stopped_with_a_message(big_archive):
    from archive.search import SearchError, search

    # "alfa", in a third of the titles, is ranked: bm25 over 4,000 matches takes some ms
    with pytest.raises(SearchError, match="took longer than"):
        search(big_archive, "alfa", limit=10_000, time_limit=0.001)
    assert search(big_archive, "alfa", limit=5)  # the same query with its time: answered


def test_datasette_refuses_a_query_past_the_bounds_and_keeps_answering(crawled_served):
    base, name = crawled_served
    query = " OR ".join(f"pa{i}*" for i in range(1000))
    refused = httpx.get(
        f"{base}/{name}/articles.json", params={"_search": query, "_searchmode": "raw"}, timeout=30
    )
    assert refused.status_code == 400 and "at most 500" in refused.json()["error"]
    page = httpx.get(f"{base}/{name}/articles", params={"_search": "p*"}, timeout=30)
    assert page.status_code == 400 and "too short a prefix" in page.text
    fine = httpx.get(
        f"{base}/{name}/articles.json",
        follow_redirects=True,
        params={"_search": "politica", "_shape": "objects"},
        timeout=30,
    )
    assert fine.status_code == 200 and fine.json()["rows"]


# -- export targets ---------------------------------------------------------------------------------
def test_export_to_a_full_device_fails_and_leaves_the_device_a_device(crawled, tmp_path):
    db, _ = crawled
    full = tmp_path / "full"  # our own /dev/full: the same device numbers, in a test folder
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    result = cli("export", "--format", "csv", "--db", str(db), "--out", str(full))
    one_line(result, 1, "No space left on device")
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_export_to_a_null_device_writes_through(crawled, tmp_path):
    db, _ = crawled
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    result = cli("export", "--format", "jsonl", "--db", str(db), "--out", str(null))
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(null).st_mode)


def test_export_to_a_fifo_writes_into_it(crawled, tmp_path):
    db, _ = crawled
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = cli("export", "--format", "jsonl", "--db", str(db), "--out", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(received[0].splitlines()) == rows(db, "select count(*) from articles")[0][0]


def test_export_through_a_symlink_keeps_the_link(crawled, tmp_path):
    db, _ = crawled
    real = tmp_path / "data" / "articles.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = cli("export", "--format", "csv", "--db", str(db), "--out", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("url,")
    assert sorted(p.name for p in real.parent.iterdir()) == ["articles.csv"]


def test_export_dash_writes_to_standard_output(crawled):
    db, _ = crawled
    result = cli("export", "--format", "jsonl", "--db", str(db), "--out", "-")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == rows(db, "select count(*) from articles")[0][0] == 10


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 6), (signal.SIGKILL, -9)])
def test_an_interrupted_export_leaves_the_target_as_it_was_and_nothing_beside(
    big_archive, tmp_path, sig, status
):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "articles.jsonl"
    target.write_text("the previous export\n")
    export = subprocess.Popen(
        [
            *ciudadano(),
            "export",
            "--format",
            "jsonl",
            "--db",
            str(big_archive),
            "--out",
            str(target),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # caught in the act: stopped once it has its output file in out_dir open, signalled, resumed
    wait_until(lambda: writing_into(export.pid, out_dir), timeout=30, every=0.001)
    export.send_signal(signal.SIGSTOP)
    export.send_signal(sig)
    export.send_signal(signal.SIGCONT)
    _, stderr = export.communicate(timeout=30)
    assert export.returncode == status, stderr
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in out_dir.iterdir()] == ["articles.jsonl"]


def writing_into(pid: int, folder) -> bool:
    """Whether process pid has a file in folder open (by name or unnamed)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(folder) + "/"):
                return True
        except OSError:
            continue
    return False


# -- serve stops with everything it started -------------------------------------------------------
def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_serve_stops_datasette_and_leaves_nothing_running(crawled, sig):
    db, _ = crawled
    port = free_port()
    server = ForkedProcess([*ciudadano(), "serve", "--db", str(db), "--port", str(port)])
    try:

        def answers() -> bool:
            try:
                return (
                    httpx.get(f"http://127.0.0.1:{port}/-/versions.json", timeout=2).status_code
                    == 200
                )
            except httpx.HTTPError:
                return False

        wait_until(answers, timeout=60, every=0.1)
        children = children_of(server.pid)
        server.send_signal(sig)
        server.wait(timeout=20)
    finally:
        server.kill()
        server.wait()
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}"), f"process {pid} outlived serve"
    with socket.socket() as sock:  # the port is free again
        sock.bind(("127.0.0.1", port))
