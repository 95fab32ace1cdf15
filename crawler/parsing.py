"""Where the crawl parses pages: beside the reactor, never in it.

By default in a pool of worker processes (PARSE_PROCESSES, 1 on a 2-core machine): parsing is
CPU-bound Python, and in threads it would share the crawl's one interpreter lock with Scrapy.
The workers are forked once, before the reactor and its threads start (Parsers is made in the
spider's from_crawler), so they are the crawl's own children: no fork server, no resource
tracker. They ignore Ctrl-C, SIGHUP and SIGTERM (the crawl stops them itself) and die with
the crawl however it dies (Linux PR_SET_PDEATHSIG), so no worker outlives it. PARSE_PROCESSES = 0 parses in
threads instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, threads

PR_SET_PDEATHSIG = 1
log = logging.getLogger(__name__)


class ParserCrashed(Exception):
    pass


def _worker_init() -> None:
    # Ctrl-C, a closed terminal or a group-wide SIGTERM reach the whole process group: the
    # crawl stops itself cleanly and then its workers (or they die with it, see below)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the crawl died before the line above took effect
        os._exit(0)


class Parsers:
    def __init__(self, processes: int):
        self.executor = None
        if processes > 0:
            self.executor = ProcessPoolExecutor(
                max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_init)
            self.executor.submit(os.getpid).result()  # fork the workers now, threads or not

    async def run(self, function, *args):
        """function(*args) in a worker. A worker that died on this input (a crash in C code)
        fails this page only: the pool is gone, and the rest of the run parses in threads."""
        if self.executor is None:
            return await maybe_deferred_to_future(threads.deferToThread(function, *args))
        try:
            future = self.executor.submit(function, *args)
            return await maybe_deferred_to_future(defer.Deferred.fromFuture(
                _asyncio_future(future)))
        except BrokenProcessPool as err:
            log.error("the parser process died (%s); parsing goes on in threads", err)
            self.close()
            raise ParserCrashed("the parser process died on this page") from None

    def close(self) -> None:
        if self.executor is not None:
            executor, self.executor = self.executor, None
            executor.shutdown(wait=True, cancel_futures=True)


def _asyncio_future(future):
    import asyncio

    return asyncio.wrap_future(future)
