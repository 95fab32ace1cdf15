"""Shared test set-up: the stand-in site on 127.0.0.1 and real crawls into real SQLite files.

A crawl is a process of about 0.45 s of CPU (forked: tests/forked.py), so crawls that several
tests only read are made once per session (per xdist worker) and shared:

    crawled           the stand-in's sitemaps and feed (source html): (archive, process)
    first_run         a first nightly run through the REST API (source auto)
    after_first_run   (site, archive copy) for a test that changes the site and crawls again
    after_crawl       the same for `crawled` and its site (an audit, a takedown, a withdrawal)
    crawled_served    `ciudadano serve` on the crawled archive
    big_archive       12,000 articles, built once for all workers

A test that writes to a shared archive copies it first (copy_archive). A test that needs its
own site starts one (`with StandInSite(...) as site:`, a thread in the test process, on a
free port) and crawls it with run_crawl; the stand-in's delay is only for tests that must
catch a crawl mid-way.
"""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from standin.server import StandInSite
from tests import forked

ROOT = Path(__file__).resolve().parent.parent
# The tests' processes speak plain HTTP to 127.0.0.1 only, so the one certificate authority
# they trust is one nobody signs with (tests/fixtures/nobody-ca.pem, made with openssl).
# Reading the system's store of some 140 certificates cost every HTTP client 50 ms of CPU
# (httpx on each request, Scrapy twice a crawl): about 10 s of the suite's. A test that must
# reach the internet (pip) is given the system's store back (SYSTEM_TRUST).
SYSTEM_TRUST = {
    name: os.environ[name] for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if name in os.environ
}
os.environ["SSL_CERT_FILE"] = str(ROOT / "tests" / "fixtures" / "nobody-ca.pem")
os.environ.pop("SSL_CERT_DIR", None)
# Fast, still real: no politeness delays against our own server, short backoff.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "RETRY_BACKOFF_BASE=0.05",
    "-s",
    "DOWNLOAD_TIMEOUT=10",
]


def ciudadano() -> list[str]:
    """The installed console script, as a user runs it."""
    script = shutil.which("ciudadano", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "ciudadano.cli"]


# The files that take longest (pytest --durations=0, summed by file), started first: a long
# file started last keeps its worker busy after the others are done. Run with
# --no-loadscope-reorder (make test), or xdist puts the files with most tests first instead.
SLOWEST_FIRST = (
    "tests/test_scrapyd.py",
    "tests/faults/test_crawl_faults.py",
    "tests/test_record.py",
    "tests/test_incremental.py",
    "tests/test_cli_grammar.py",
    "tests/faults/test_hostile_sitemaps.py",
    "tests/test_raw_pages.py",
    "tests/test_crawl.py",
    "tests/faults/test_hostile_network.py",
    "tests/test_parser_properties.py",
    "tests/test_images.py",
    "tests/test_drift.py",
)


def pytest_collection_modifyitems(items):
    rank = {path: n for n, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def _xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and bool(config.getoption("numprocesses", None))


def pytest_configure(config):
    """xdist's controller starts one zygote (tests/forked.py) for all its workers: its
    imports are made once, not once a worker."""
    if _xdist_controller(config):
        config._zygote = forked.start_zygote()
        os.environ[forked.ZYGOTE_ENV] = config._zygote[1]


def pytest_unconfigure(config):
    if getattr(config, "_zygote", None):
        forked.stop_zygote(*config._zygote)
        os.environ.pop(forked.ZYGOTE_ENV, None)


def pytest_sessionstart(session):
    """A process that runs tests reaches its zygote at once (xdist's controller runs none)."""
    if not _xdist_controller(session.config) and not session.config.option.collectonly:
        forked.warm_up()


def crawl_command(db: Path, base_url: str, *extra: str, source: str = "html") -> list[str]:
    return [
        *ciudadano(),
        "crawl",
        "--db",
        str(db),
        "--base-url",
        base_url,
        "--source",
        source,
        *FAST,
        *extra,
    ]


def run_crawl(
    db: Path, base_url: str, *extra: str, source: str = "html", script: bool = False
) -> subprocess.CompletedProcess:
    """A crawl as the operator runs it, its process forked from one that imported the command
    line once (tests/forked.py: 1.2 s of CPU less a crawl). source "html" (sitemaps and feed)
    by default: most tests are about pages the sitemaps list; the tests of the REST path say
    source="auto"."""
    command = crawl_command(db, base_url, *extra, source=source)
    if script:  # the installed script itself, as start_crawl(script=True)
        return subprocess.run(
            command, capture_output=True, text=True, timeout=300, cwd=ROOT, env=os.environ.copy()
        )
    return forked.run(command, timeout=300)


def start_crawl(
    db: Path, base_url: str, *extra: str, source: str = "html", script: bool = False
) -> forked.ForkedProcess | subprocess.Popen:
    """A crawl running in the background, for tests that signal it; the caller waits. Forked
    as run_crawl is, or with script=True the installed script itself (for a test that reads
    the crawl's command line from another process, as the archive's lock does)."""
    command = crawl_command(db, base_url, *extra, source=source)
    if not script:
        return forked.ForkedProcess(command)
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_command(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`ciudadano ARGS`, forked as run_crawl is."""
    return forked.run([*ciudadano(), *args], timeout=timeout)


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
    """`ciudadano serve` on db as a user runs it (forked as run_crawl is), on a free port:
    yields its base URL once it answers; stopped (SIGTERM, then waited for) on exit."""
    import time

    import httpx

    port = free_port()
    server = forked.ForkedProcess([*ciudadano(), "serve", "--db", str(db), "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/-/versions.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError("".join(server.communicate(20))) from None
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


@pytest.fixture(scope="session")
def crawled_served(crawled):
    """`ciudadano serve` on the shared crawl, for tests that only read pages: (base URL,
    database name in its URLs)."""
    db, _ = crawled
    with serving(db) as base:
        yield base, db.stem


def copy_archive(source: Path, target: Path) -> Path:
    """A copy of a finished archive (and its write-ahead log, if one was left), for a test
    that writes to an archive a shared fixture made."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture(scope="session")
def first_run_site():
    """The stand-in the `first_run` crawl read; `after_first_run` sets it back after a test."""
    with StandInSite() as site:
        yield site


@pytest.fixture(scope="session")
def first_run(first_run_site, tmp_path_factory):
    """One first nightly run of the stand-in, through its REST API (source auto), shared:
    (archive path, process, the request paths it made). Read it; copy it to write."""
    db = tmp_path_factory.mktemp("first-run") / "elciudadano.db"
    result = run_crawl(db, first_run_site.base_url, source="auto")
    assert result.returncode == 0, result.stderr[-2000:]
    return db, result, list(first_run_site.requests)


@contextmanager
def set_back(site: StandInSite):
    """A shared stand-in lent to one test: its articles and settings are set back afterwards;
    its request log goes on (count from len(site.requests) taken before)."""
    saved = {
        name: copy.deepcopy(value)
        for name, value in vars(site).items()
        if not name.startswith("_") and name not in ("requests", "times")
    }
    articles = list(site.articles)
    try:
        yield site
    finally:
        for name, value in saved.items():
            setattr(site, name, value)
        site.articles = articles


@pytest.fixture
def after_first_run(first_run, first_run_site, tmp_path):
    """(site, archive): the stand-in as the first run left it and a copy of that run's
    archive, for a test that changes the site and crawls again (the second night) without
    paying for the first crawl (set_back)."""
    with set_back(first_run_site) as site:
        yield site, copy_archive(first_run[0], tmp_path / "elciudadano.db")


@pytest.fixture
def after_crawl(crawled, stand_in, tmp_path):
    """(site, archive): as after_first_run, for the `crawled` archive (sitemaps and feed) of
    the shared `stand_in`: a test that audits, changes the site or writes to the archive
    after a first crawl, without paying for it."""
    with set_back(stand_in) as site:
        yield site, copy_archive(crawled[0], tmp_path / "a.db")


@contextmanager
def built_once(path: Path):
    """For a large input several tests read: yields True to the one process (of all the
    xdist workers) that must build path, False to the others, which find it built. Put
    path under shared_dir()."""
    import fcntl

    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here while one builds
        done = Path(f"{path}.done")
        build = not done.exists()
        yield build
        if build:
            done.touch()


def shared_dir(tmp_path_factory) -> Path:
    """A folder of this test session that every xdist worker sees (each worker's own
    basetemp is a sub-folder of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def big_archive(tmp_path_factory) -> Path:
    """An archive of 12,000 short articles (4,000 with "alfa" in the title), written as the
    store writes rows; built once per session, by one xdist worker, and only read (copy it
    to write). Its size is its row count: a search ranking 4,000 rows, an export that
    runs for a while."""
    path = shared_dir(tmp_path_factory) / "big-12000.db"
    with built_once(path) as build:
        if build:
            write_big_archive(path, 12_000)
    return path


def write_big_archive(path: Path, count: int) -> Path:
    """count articles "Noticia n" of two sentences each, every third with "alfa" in its
    title (each word is indexed twice, as written and stemmed: longer bodies only cost time),
    stored as an import stores what the archive lacks: in one statement, indexed in one pass."""
    from archive.store import Archive

    body = "Texto de prueba con palabras comunes del archivo. Otra frase del mismo texto."
    archive = Archive(path)
    try:
        with archive.db.atomic():
            archive._insert_indexed(
                [
                    {
                        "url": f"https://www.elciudadano.com/chile/n{i}/01/01/",
                        "title": f"Noticia {i}" + (" alfa" if i % 3 == 0 else ""),
                        "body": body,
                        "published": "2025-01-01T10:00:00-03:00",
                        "published_date": "2025-01-01",
                        "year": 2025,
                    }
                    for i in range(count)
                ]
            )
    finally:
        archive.close()
    return path


def on_a_terminal(command: list[str], script: bool = False) -> tuple[int, str]:
    """Run command (forked as run_crawl is, or with script=True the installed script itself,
    for what only a whole new process shows: a warning Python or Scrapy gives at import) with
    its stderr on a real terminal (a pty), as a person runs it; its exit status and what the
    terminal showed."""
    import pty

    primary, secondary = pty.openpty()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        if script:
            child = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=devnull, stderr=secondary
            )
        else:
            child = forked.ForkedProcess(command, stdout=devnull, stderr=secondary)
    finally:
        os.close(devnull)
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
