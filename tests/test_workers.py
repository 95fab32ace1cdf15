"""The parser processes beside the crawl (crawler.workers): results come back to their own
callers, a failure in a worker reaches its caller, a worker that dies fails only the pages it
held, and none outlives its Parsers. The crawl-level behaviour (a dead worker's page kept,
the run going on in threads) is tested in tests/faults/test_crawl_faults.py."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from crawler.workers import ParserCrashed, Parsers


def _echo_after(value, seconds: float):
    time.sleep(seconds)
    return value


def _fails(message: str):
    raise ValueError(message)


def _dies():
    os.kill(os.getpid(), signal.SIGKILL)


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # reaped by Parsers: not ours any more, not a zombie
        return not os.path.exists(f"/proc/{pid}")
    return False


def _with_parsers(processes: int, work):
    async def main():
        parsers = Parsers(processes)
        pids = [w.pid for w in parsers.workers]
        try:
            return await work(parsers), parsers, pids
        finally:
            parsers.close()

    return asyncio.run(main())


def test_each_call_gets_its_own_result_in_any_number_of_workers():
    for processes in (1, 2):
        # later calls finish first in two workers: each result must still reach its caller
        results, _, pids = _with_parsers(
            processes,
            lambda p: asyncio.gather(
                *(p.run(_echo_after, n, 0.02 if n % 3 == 0 else 0.0) for n in range(30))
            ),
        )
        assert results == list(range(30))
        assert len(pids) == processes and all(_gone(pid) for pid in pids)


def test_a_page_larger_than_the_pipe_goes_and_comes_back_whole():
    page = bytes(range(256)) * 40_000  # 10 MB, as DOWNLOAD_WARNSIZE allows
    results, _, _ = _with_parsers(
        1,
        lambda p: asyncio.gather(
            p.run(_echo_after, page, 0.0), p.run(_echo_after, page[::-1], 0.0)
        ),
    )
    assert results == [page, page[::-1]]


def test_an_exception_in_the_worker_reaches_the_caller_with_the_worker_traceback():
    async def work(parsers):
        with pytest.raises(ValueError, match="no title in this page") as raised:
            await parsers.run(_fails, "no title in this page")
        return raised.value, await parsers.run(_echo_after, "still working", 0.0)

    (error, after), _, _ = _with_parsers(1, work)
    assert "in _fails" in str(error.__cause__)
    assert after == "still working"


def test_a_worker_that_dies_fails_the_calls_it_held_and_leaves_no_process():
    async def work(parsers):
        return await asyncio.gather(
            parsers.run(_echo_after, "before", 0.0),
            parsers.run(_dies),
            parsers.run(_echo_after, "queued behind it", 0.0),
            return_exceptions=True,
        )

    (before, died, queued), parsers, (pid,) = _with_parsers(1, work)
    assert before == "before"
    assert isinstance(died, ParserCrashed) and isinstance(queued, ParserCrashed)
    assert parsers.workers == []  # the rest of the run parses in threads
    assert _gone(pid)


def test_close_stops_a_worker_that_is_still_parsing():
    async def work(parsers):
        running = asyncio.ensure_future(parsers.run(_echo_after, "too late", 3600))
        await asyncio.sleep(0.2)  # the call has gone down to the worker
        return running

    _, _, (pid,) = _with_parsers(1, work)
    assert _gone(pid)
