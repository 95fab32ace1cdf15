"""Where the crawl parses pages: beside the reactor, never in it.

By default in worker processes (PARSE_PROCESSES, 1 on a 2-core machine): parsing is CPU-bound
Python, and in threads it would share the crawl's one interpreter lock with Scrapy. Each
worker is forked once, before the reactor and its threads start (Parsers is made in the
spider's from_crawler), so it is the crawl's own child: no fork server, no resource tracker.

A call goes to a worker down one pipe and its result comes back up another, each as a
length-prefixed pickle. The event loop writes and reads both pipes itself, so a page costs
the crawl's thread one write and one read, and no helper thread competes with it for the
interpreter lock (concurrent.futures' process pool keeps two, which cost the crawl about as
much CPU as storing each article). A worker handles its calls in order.

Workers ignore Ctrl-C, SIGHUP and SIGTERM (the crawl stops them itself) and die with the
crawl however it dies (Linux PR_SET_PDEATHSIG, and the end of their pipe), so no worker
outlives it. A worker that dies (a crash in C code) fails the pages it held; the rest of the
run parses in the other workers, or in threads once none is left. PARSE_PROCESSES = 0 parses
in threads.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import os
import pickle
import signal
import struct
import time
import traceback

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

PR_SET_PDEATHSIG = 1
F_SETPIPE_SZ = 1031  # Linux: a pipe that holds a whole page, so it goes down in one write
PIPE_BYTES = 1 << 20
HEADER = struct.Struct("!Q")
STOP_SECONDS = 10.0  # close() waits this long for a worker to finish its page, then kills it
log = logging.getLogger(__name__)


class ParserCrashed(Exception):
    pass


class RemoteTraceback(Exception):
    """The worker's traceback, as the cause of the exception a call raised there."""

    def __str__(self) -> str:
        return self.args[0]


def _worker_init(log_level: str | int) -> None:
    # records below the crawl's log level are dropped: not made at all (the parser's notes of
    # the fields a page lacks are DEBUG, several a page)
    logging.root.setLevel(log_level)
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


def _serve(calls: int, replies: int) -> None:
    """A worker's life: read a call, run it, send back its result or its exception, until
    the crawl closes its end of the pipe."""
    with open(calls, "rb") as source, open(replies, "wb") as sink:
        while True:
            header = source.read(HEADER.size)
            size = HEADER.unpack(header)[0] if len(header) == HEADER.size else 0
            if not size:  # the crawl's stop, or its end of the pipe closed
                return
            call = source.read(size)
            try:
                function, args = pickle.loads(call)
                reply = (True, function(*args), None)
            except Exception as err:  # noqa: BLE001 (the caller gets it, as if it ran there)
                reply = (False, err, traceback.format_exc())
            try:
                data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
            except Exception as err:  # noqa: BLE001 (an exception or result pickle cannot carry)
                data = pickle.dumps((False, RuntimeError(f"{reply[1]!r}: {err}"), reply[2]))
            sink.write(HEADER.pack(len(data)))
            sink.write(data)
            sink.flush()


class _Worker(asyncio.Protocol):
    """One worker process, its two pipes, and the futures of the calls it holds, in order."""

    def __init__(self, others: list[int], log_level: str | int):
        calls_read, self.calls = os.pipe()
        self.replies, replies_write = os.pipe()
        for fd in (self.calls, self.replies):
            with contextlib.suppress(OSError):  # a smaller pipe: a page goes in a few writes
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
        self.pid = os.fork()
        if self.pid == 0:  # the worker
            status = 0
            try:
                for fd in (self.calls, self.replies, *others):  # the crawl's ends: EOF works
                    os.close(fd)
                _worker_init(log_level)
                _serve(calls_read, replies_write)
            except BaseException:  # noqa: BLE001 (told on stderr; the crawl sees the pipe close)
                traceback.print_exc()
                status = 1
            finally:
                os._exit(status)
        os.close(calls_read)
        os.close(replies_write)
        self.pending: collections.deque[asyncio.Future] = collections.deque()
        self.buffer = bytearray()
        self.writer: asyncio.WriteTransport | None = None
        self.connected: asyncio.Future | None = None
        self.dead: str | None = None  # why it died, once it has
        self.on_death = None  # called with this worker when it dies

    async def call(self, function, args):
        if self.connected is None:
            self.connected = asyncio.ensure_future(self._connect())
        await self.connected
        if self.dead:
            raise ParserCrashed(self.dead)
        data = pickle.dumps((function, args), pickle.HIGHEST_PROTOCOL)
        self.writer.write(HEADER.pack(len(data)))
        self.writer.write(data)
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)  # replies come in the order of the calls
        return await future

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        # the transports own these files (an fd each, no buffer) and close them
        self.writer, _ = await loop.connect_write_pipe(
            lambda: _WriteEnd(self), os.fdopen(self.calls, "wb", buffering=0)
        )
        await loop.connect_read_pipe(lambda: self, os.fdopen(self.replies, "rb", buffering=0))

    # the read end of the replies pipe (asyncio.Protocol)
    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            end = HEADER.size + size
            if len(self.buffer) < end:
                return
            future = self.pending.popleft()
            reply = bytes(self.buffer[HEADER.size : end])
            del self.buffer[:end]
            try:
                ok, value, remote = pickle.loads(reply)
            except Exception as err:  # noqa: BLE001 (a result this side cannot rebuild)
                ok, value, remote = False, RuntimeError(f"unreadable result: {err!r}"), ""
            if future.done():  # cancelled meanwhile
                continue
            if ok:
                future.set_result(value)
            else:
                value.__cause__ = RemoteTraceback(remote)
                future.set_exception(value)

    def connection_lost(self, exc) -> None:
        self.died(f"the parser process died ({exc or 'its pipe closed'})")

    def died(self, reason: str) -> None:
        if self.dead:
            return
        self.dead = reason
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(ParserCrashed("the parser process died on this page"))
        if self.on_death is not None:
            self.on_death(self)

    def stop(self) -> None:
        """An idle worker is told to stop (an empty call) and given STOP_SECONDS to end; one
        that holds calls, whose results nobody waits for any more, or is dead, is killed."""
        idle = (
            not self.dead
            and not self.pending
            and (self.writer is None or not self.writer.get_write_buffer_size())
        )
        if idle:
            try:  # an empty pipe takes these 8 bytes at once
                if self.writer is None:
                    os.write(self.calls, HEADER.pack(0))
                else:
                    self.writer.write(HEADER.pack(0))
            except OSError:
                idle = False
        deadline = time.monotonic() + (STOP_SECONDS if idle else 0.0)
        try:
            while not os.waitpid(self.pid, os.WNOHANG)[0]:
                if time.monotonic() >= deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)
        except ChildProcessError:  # reaped already
            pass
        if self.writer is not None:
            self.writer.close()  # its pipe, and the replies' at their end of file
        else:
            os.close(self.calls)
            os.close(self.replies)


def _in_asyncio() -> bool:
    """Whether the crawl runs on asyncio's loop (TWISTED_REACTOR, as crawler.settings sets)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _WriteEnd(asyncio.BaseProtocol):
    def __init__(self, worker: _Worker):
        self.worker = worker

    def connection_lost(self, exc) -> None:
        if exc is not None:  # EPIPE: the worker is gone
            self.worker.died(f"the parser process died ({exc})")


class Parsers:
    def __init__(self, processes: int, log_level: str | int = logging.DEBUG):
        self.workers: list[_Worker] = []
        for _ in range(max(processes, 0)):
            worker = _Worker([fd for w in self.workers for fd in (w.calls, w.replies)], log_level)
            worker.on_death = self._worker_died
            self.workers.append(worker)

    async def run(self, function, *args):
        """function(*args) in a worker. A worker that dies on this input (a crash in C code)
        fails this page and the others it held: the rest of the run parses in the other
        workers, or in threads once none is left."""
        if not self.workers or not _in_asyncio():
            return await maybe_deferred_to_future(threads.deferToThread(function, *args))
        worker = min(self.workers, key=lambda w: len(w.pending))
        return await worker.call(function, args)

    def _worker_died(self, worker: _Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
            where = f"{len(self.workers)} other process(es)" if self.workers else "threads"
            log.error("%s; parsing goes on in %s", worker.dead, where)
            worker.stop()

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.on_death = None
            worker.stop()
