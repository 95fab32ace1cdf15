"""The command line, run for the tests as a process forked from one that imported it once.

A crawl run as `ciudadano crawl` spends about 1.2 s of its 2 s of CPU importing Python, Scrapy,
Twisted and the parsers before it sends a request; the suite runs about 85 crawls and audits.
Here each pytest process starts one helper (the zygote) that imports those modules once, and
forks it for each command: the child is a new process, with its own pid, signals, exit status,
files and process tree, which runs the console script's own entry point (ciudadano.cli.main)
with the arguments, environment and working directory given, just as the installed script
would, only without the imports. Nothing in the zygote has started a reactor, a thread or a
connection before it forks.

    ForkedProcess(argv, cwd=..., env=...)  -- like subprocess.Popen(..., stdout=PIPE,
                                              stderr=PIPE, text=True)
    run(argv, cwd=..., env=..., timeout=...) -- like subprocess.run(..., capture_output=True,
                                              text=True)

argv[0] is the console script; what a test runs as a real script (the first-run set-up, a
terminal, the few tests of the installed script itself) still goes through subprocess.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The modules a command imports before it does anything (Scrapy's own components are loaded
# from its settings, by name, when a crawl starts: loaded here too).
PRELOAD = (
    "ciudadano.cli",
    "ciudadano.record",
    "ciudadano.imports",
    "crawler.spiders.elciudadano",
    "crawler.spiders.audit",
    "crawler.pipelines",
    "crawler.images",
    "crawler.middlewares",
    "crawler.extensions",
    "crawler.workers",
    "archive.body",
    "archive.search",
    "difflib",
    "scrapy.crawler",
    "archive.datasette",
    "datasette.app",
    "uvicorn",
)
_SCRAPY_COMPONENTS = (
    "DOWNLOADER_MIDDLEWARES_BASE",
    "SPIDER_MIDDLEWARES_BASE",
    "EXTENSIONS_BASE",
    "DOWNLOADER_MIDDLEWARES",
    "SPIDER_MIDDLEWARES",
    "EXTENSIONS",
    "ITEM_PIPELINES",
)
_SCRAPY_OBJECTS = (
    "SCHEDULER",
    "DUPEFILTER_CLASS",
    "STATS_CLASS",
    "DOWNLOADER",
    "SCHEDULER_PRIORITY_QUEUE",
    "SCHEDULER_DISK_QUEUE",
    "SCHEDULER_MEMORY_QUEUE",
    "REQUEST_FINGERPRINTER_CLASS",
    "LOG_FORMATTER",
    "SPIDER_LOADER_CLASS",
    "DOWNLOADER_HTTPCLIENTFACTORY",
    "DOWNLOADER_CLIENTCONTEXTFACTORY",
    "ROBOTSTXT_PARSER",
)
PR_SET_PDEATHSIG = 1


# -- the zygote (its own process: python tests/forked.py FD) ------------------------------------
def _preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from scrapy.utils.misc import load_object
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    paths = [p for key in _SCRAPY_COMPONENTS for p in settings.getdict(key) if p]
    paths += list(settings.getdict("DOWNLOAD_HANDLERS_BASE").values())
    paths += [settings.get(key) for key in _SCRAPY_OBJECTS]
    for path in paths:
        if isinstance(path, str) and "." in path:
            load_object(path)
    # a reactor installed here would be shared by every child; a thread would not be forked
    assert "twisted.internet.reactor" not in sys.modules, "the zygote installed a reactor"
    assert threading.active_count() == 1, "the zygote started a thread"


def _zygote(listener: socket.socket) -> dict:
    """Serve fork requests from every pytest process that connects, until stopped (SIGTERM,
    or its starter's death); returns (in a child only) the request the child is to run."""
    import selectors

    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # ends with its starter
    except (OSError, AttributeError):
        pass
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, who asked)
    events = selectors.DefaultSelector()
    events.register(listener, selectors.EVENT_READ, "listener")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    woken, waker = os.pipe()  # a signal wakes the select at once (Python retries it, else)
    os.set_blocking(waker, False)
    signal.set_wakeup_fd(waker)
    events.register(woken, selectors.EVENT_READ, "signal")
    while not stopping:
        for key, _ in events.select(timeout=5):
            if key.data == "signal":
                os.read(woken, 512)
            elif key.data == "listener":
                channel, _ = listener.accept()
                events.register(channel, selectors.EVENT_READ, "channel")
                channel.sendall(b'{"ready": true}')
            elif key.data == "channel":
                channel = key.fileobj
                message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
                if not message:  # that pytest process is done: what it still runs goes too
                    events.unregister(channel)
                    for pid, asker in list(children.values()):
                        if asker is channel:
                            _kill(pid)
                    channel.close()
                    continue
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.set_wakeup_fd(-1)
                    os.close(waker)
                    for other in list(events.get_map().values()):  # the zygote's, not its
                        if isinstance(other.fileobj, socket.socket):
                            other.fileobj.close()
                        else:
                            os.close(other.fd)
                    events.close()
                    for target, fd in enumerate(fds):
                        os.dup2(fd, target)
                        os.close(fd)
                    return request
                for fd in fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                children[pidfd] = (pid, channel)
                events.register(pidfd, selectors.EVENT_READ, "child")
                channel.sendall(json.dumps({"started": pid}).encode())
            else:
                pid, asker = children.pop(key.fd)
                events.unregister(key.fd)
                os.close(key.fd)
                _, status, usage = os.wait4(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime
                with contextlib.suppress(OSError):  # the asker may have gone
                    asker.sendall(json.dumps({"exited": pid, "code": code, "cpu": cpu}).encode())
    for pid, _ in children.values():  # stopped with commands running: they go too
        _kill(pid)
    return {}


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _child(request: dict) -> None:
    """Run the request's command as the console script runs it (sys.exit(main()))."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    from ciudadano.cli import main

    try:
        code = main()
    except SystemExit as exit:
        code = exit.code
    # as the interpreter ends a process, less its teardown of every object the zygote
    # imported (0.5 s of CPU, and nothing a command leaves to it): exit handlers, then output
    threading._shutdown()  # type: ignore[attr-defined]  # the threads it left, waited for
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    os._exit(code)


def _serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)  # those who connect while it imports wait here
    os.chdir(ROOT)
    _preload()
    gc.freeze()  # what the zygote imported is never collected: a child does not copy it
    request = _zygote(listener)
    if request:
        _child(request)


# -- the pytest side ----------------------------------------------------------------------------
ZYGOTE_ENV = "CIUDADANO_TEST_ZYGOTE"  # the socket of a zygote shared by xdist's workers


def start_zygote() -> tuple[subprocess.Popen, str]:
    """A zygote process listening on a new socket: (process, socket path). Its starter
    stops it (stop_zygote); it ends by itself if its starter dies."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="ciudadano-zygote-")
    path = os.path.join(folder, "socket")
    process = subprocess.Popen(
        [sys.executable, __file__, path],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
    )
    return process, path


def stop_zygote(process: subprocess.Popen, path: str) -> None:
    import shutil

    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


class _Zygote:
    """This pytest process's line to a zygote: the one xdist's controller started for all
    its workers (ZYGOTE_ENV), or one of its own, started at the first command."""

    def __init__(self):
        self.own = None
        path = os.environ.get(ZYGOTE_ENV)
        if not path:
            self.own = start_zygote()
            path = self.own[1]
        self.channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        deadline = time.monotonic() + 60
        while True:  # it binds its socket as it starts
            try:
                self.channel.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline or (self.own and self.own[0].poll() is not None):
                    raise RuntimeError(f"no zygote answers on {path}") from None
                time.sleep(0.02)
        self.lock = threading.Lock()  # one request at a time
        self.started: list[int] = []
        self.exits: dict[int, int] = {}
        self.changed = threading.Condition()
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            hello = self.channel.recv(1 << 16)
            self.started_well = json.loads(hello or b"{}") == {"ready": True}
            self.ready.set()
            while message := self.channel.recv(1 << 16):
                event = json.loads(message)
                with self.changed:
                    if "started" in event:
                        self.started.append(event["started"])
                    else:
                        self.exits[event["exited"]] = event["code"]
                        self.cpu += event["cpu"]
                    self.changed.notify_all()
        except OSError:  # closed under it: this process is ending
            pass
        finally:
            self.ready.set()
            with self.changed:
                self.gone = True
                self.changed.notify_all()

    gone = False
    started_well = False
    cpu = 0.0  # seconds of CPU the commands that ended used (their children's included)

    def fork(self, argv: list[str], cwd: Path, env: dict, fds: list[int]) -> int:
        request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}).encode()
        if not (self.ready.wait(120) and self.started_well):
            raise RuntimeError("the zygote did not start (see its output above)")
        with self.lock:
            socket.send_fds(self.channel, [request], fds)
            with self.changed:
                while not self.started:
                    if self.gone:
                        raise RuntimeError("the zygote ended")
                    self.changed.wait(5)
                return self.started.pop(0)

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exits or self.gone, timeout)
            return self.exits.get(pid)

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # its commands still running end (the zygote kills)
            self.channel.shutdown(socket.SHUT_RDWR)
        self.channel.close()
        if self.own:
            stop_zygote(*self.own)


_zygote_of_this_process: _Zygote | None = None
_starting = threading.Lock()


def _the_zygote() -> _Zygote:
    global _zygote_of_this_process
    with _starting:
        if _zygote_of_this_process is None:
            _zygote_of_this_process = _Zygote()
            atexit.register(_zygote_of_this_process.stop)
        return _zygote_of_this_process


def zygote_pid() -> int | None:
    """This process's own zygote, a child a test that counts its children leaves out."""
    own = _zygote_of_this_process.own if _zygote_of_this_process else None
    return own[0].pid if own else None


def warm_up() -> None:
    """Start this process's zygote now (its imports go on while pytest collects)."""
    _the_zygote()


class ForkedProcess:
    """A command forked from the zygote; what a test uses of subprocess.Popen(stdout=PIPE,
    stderr=PIPE, text=True): pid, poll, wait, communicate, send_signal, terminate, kill,
    returncode."""

    def __init__(
        self,
        argv: list[str],
        cwd: Path = ROOT,
        env: dict | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
    ):
        """stdout, stderr: a descriptor to write to (a terminal, /dev/null) instead of a pipe
        communicate reads."""
        self.args = argv
        self._output = {"stdout": b"", "stderr": b""}
        given = {"stdout": stdout, "stderr": stderr}
        pipes = {name: os.pipe() for name, fd in given.items() if fd is None}
        devnull = os.open(os.devnull, os.O_RDONLY)
        ends = [devnull] + [
            pipes[name][1] if name in pipes else given[name] for name in ("stdout", "stderr")
        ]
        try:
            self.pid = _the_zygote().fork(argv, cwd, dict(os.environ if env is None else env), ends)
        finally:
            os.close(devnull)
            for _, write in pipes.values():
                os.close(write)
        self.returncode: int | None = None
        self._readers = [
            threading.Thread(target=self._drain, args=(name, read), daemon=True)
            for name, (read, _) in pipes.items()
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, name: str, fd: int) -> None:
        chunks = []
        with open(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                chunks.append(chunk)
        self._output[name] = b"".join(chunks)

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _the_zygote().exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = _the_zygote().exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        for reader in self._readers:  # what the command's children still hold open
            reader.join(timeout)
        return tuple(self._output[n].decode("utf-8", "replace") for n in ("stdout", "stderr"))

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def run(
    argv: list[str], cwd: Path = ROOT, env: dict | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """argv run to its end, its output captured: subprocess.run(capture_output=True,
    text=True) for a forked command."""
    process = ForkedProcess(argv, cwd=cwd, env=env)
    try:
        stdout, stderr = process.communicate(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


if __name__ == "__main__":
    _serve(sys.argv[1])
