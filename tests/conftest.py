"""Shared test set-up: the stand-in site on 127.0.0.1 and real crawls into real SQLite files."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from standin.server import StandInSite

ROOT = Path(__file__).resolve().parent.parent
# Fast, still real: no politeness delays against our own server, short backoff.
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
        "-s", "RETRY_BACKOFF_BASE=0.05", "-s", "DOWNLOAD_TIMEOUT=10"]


def ciudadano() -> list[str]:
    """The installed console script, as a user runs it."""
    script = shutil.which("ciudadano", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "ciudadano.cli"]


def run_crawl(db: Path, base_url: str, *extra: str, source: str = "html"
              ) -> subprocess.CompletedProcess:
    """A crawl as the operator runs it. source "html" (sitemaps and feed) by default: most
    tests are about pages the sitemaps list; the tests of the REST path say source="auto"."""
    return subprocess.run(
        [*ciudadano(), "crawl", "--db", str(db), "--base-url", base_url, "--source", source,
         *FAST, *extra],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def start_crawl(db: Path, base_url: str, *extra: str, source: str = "html"
                ) -> subprocess.Popen:
    """A crawl running in the background, for tests that signal it; the caller waits."""
    return subprocess.Popen(
        [*ciudadano(), "crawl", "--db", str(db), "--base-url", base_url, "--source", source,
         *FAST, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_until(predicate, timeout: float = 60.0, every: float = 0.05) -> None:
    """Poll predicate until it is true; fail the test after timeout seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(every)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(db: Path):
    """`ciudadano serve` on db as a user runs it, on a free port: yields its base URL once it
    answers; stopped (SIGTERM, then waited for) on exit."""
    import time

    import httpx

    port = free_port()
    server = subprocess.Popen([*ciudadano(), "serve", "--db", str(db), "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/-/versions.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(server.stdout.read().decode(errors="replace")) from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def stored(db: Path) -> int:
    """Articles in the archive so far (0 while a crawl has not made its tables yet)."""
    try:
        return rows(db, "select count(*) from articles")[0][0]
    except sqlite3.Error:
        return 0


def rows(db: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def stand_in():
    with StandInSite() as site:
        yield site


@pytest.fixture(scope="session")
def crawled(stand_in, tmp_path_factory):
    """One crawl of the stand-in, shared by the read-only tests: (archive path, process)."""
    db = tmp_path_factory.mktemp("archive") / "elciudadano.db"
    result = run_crawl(db, stand_in.base_url)
    return db, result


def on_a_terminal(command: list[str]) -> tuple[int, str]:
    """Run command with its stderr on a real terminal (a pty), as a person runs it; its exit
    status and what the terminal showed."""
    import pty

    primary, secondary = pty.openpty()
    child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    child.wait(timeout=120)
    os.close(primary)
    return child.returncode, seen.decode("utf-8", "replace")
