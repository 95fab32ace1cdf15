"""The Scrapyd deploy target: a real local scrapyd on 127.0.0.1, the project deployed as an egg
through scrapyd-client, and a crawl of the stand-in scheduled through Scrapyd's HTTP API."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from standin.server import StandInSite
from tests.conftest import ROOT, free_port, rows, wait_until

pytest.importorskip("scrapyd", reason="scrapyd is a test dependency (pip install -e .[test])")

PROJECT = "ciudadano_archive"


@pytest.fixture
def scrapyd(tmp_path):
    """A scrapyd of our own in tmp_path; it and its jobs are stopped at the end."""
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\nitems_dir =\njobs_to_keep = 5\n"
        "max_proc = 1\npoll_interval = 0.2\n"
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "scrapyd")],
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(base + "/daemonstatus.json", timeout=2).status_code == 200
            except httpx.HTTPError:
                if server.poll() is not None:
                    raise RuntimeError(server.stdout.read().decode(errors="replace")) from None
                return False

        wait_until(up, timeout=60, every=0.2)
        yield base, home
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # scrapyd and the crawls it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def build_egg(workdir: Path) -> Path:
    """The project's egg as `scrapyd-deploy` builds it, from a copy of the project (it writes
    a setup.py beside scrapy.cfg, which must not land in the repository)."""
    for name in ("crawler", "archive"):
        shutil.copytree(ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "scrapy.cfg", workdir / "scrapy.cfg")
    egg = workdir / "project.egg"
    subprocess.run(
        [str(Path(sys.executable).parent / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
        # it builds in a temporary folder it leaves behind when told --build-egg: in workdir
        env={**os.environ, "TMPDIR": str(workdir)},
    )
    return egg


def test_a_crawl_deployed_to_scrapyd_archives_the_stand_in(scrapyd, tmp_path):
    base, home = scrapyd
    workdir = tmp_path / "project"
    workdir.mkdir()
    egg = build_egg(workdir)
    added = httpx.post(
        base + "/addversion.json",
        data={"project": PROJECT, "version": "1"},
        files={"egg": egg.read_bytes()},
        timeout=60,
    ).json()
    assert added["status"] == "ok", added
    assert (
        "elciudadano"
        in httpx.get(
            base + "/listspiders.json", params={"project": PROJECT, "_version": "1"}, timeout=30
        ).json()["spiders"]
    )
    db = tmp_path / "scrapyd.db"
    with StandInSite() as site:
        job = httpx.post(
            base + "/schedule.json",
            data={
                "project": PROJECT,
                "_version": "1",  # the version deployed (its spiders were listed as it was)
                "spider": "elciudadano",
                "base_url": site.base_url,
                "source": "auto",
                "setting": [f"ARCHIVE_PATH={db}", "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0"],
            },
            timeout=30,
        ).json()
        assert job["status"] == "ok", job

        def finished() -> bool:
            jobs = httpx.get(
                base + "/listjobs.json", params={"project": PROJECT}, timeout=30
            ).json()
            return any(j["id"] == job["jobid"] for j in jobs["finished"])

        wait_until(finished, timeout=180, every=0.5)
    log = next((home / "logs").rglob("*.log")).read_text()
    assert rows(db, "select count(*) from articles") == [(10,)], log[-3000:]
    assert rows(db, "select status from runs") == [("finished",)]
