"""Helpers of the fault suite: real small file systems (tmpfs) for full and read-only disks."""

from __future__ import annotations

import errno
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(where: Path, size: str):
    """A real tmpfs of the given size mounted at where (needs root, as CI and the
    developers' machines run); unmounted on exit."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def fill(where: Path) -> None:
    """Fill the file system at where to the last byte (it may be full already)."""
    try:
        # nothing left to flush at close; closed below, once the disk is full
        filler = open(where / "filler", "wb", buffering=0)  # noqa: SIM115
    except OSError as err:
        if err.errno == errno.ENOSPC:
            return
        raise
    with filler:
        chunk = b"\0" * (64 * 1024)
        try:
            while True:
                filler.write(chunk)
                filler.flush()
        except OSError:
            pass
        try:
            while True:  # the last partial chunk, byte by byte in 4 KB steps
                os.write(filler.fileno(), b"\0" * 4096)
        except OSError:
            pass


@pytest.fixture(scope="module")
def own_site():
    """A stand-in of the fault tests' own: their extra crawls must not count against the
    shared stand-in's request log, which the crawl tests read."""
    from standin.server import StandInSite

    with StandInSite() as site:
        yield site
