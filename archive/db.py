"""Opening an archive file: recognising it, creating and migrating its schema, reading it from
read-only media, and the lock that lets one crawl at a time write to it.

An archive is an SQLite file whose header carries our application id (PRAGMA application_id)
and whose user_version is the schema version. Any other SQLite file is refused, never adopted:
`--db` pointing at another program's database leaves it exactly as it was.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import weakref
from pathlib import Path

from archive.outcomes import EXIT_ARCHIVE, EXIT_LOCKED
from archive.schema import (
    APPLICATION_ID,
    META,
    SCHEMA_VERSION,
    STEM_FUNCTION,
    create_schema_sql,
    migration_sql,
    reindex_sql,
    tables_of_an_archive,
)
from archive.stemming import STEMMER_VERSION, stem_text

SQLITE_HEADER = b"SQLite format 3\x00"


class ArchiveError(Exception):
    """The archive cannot be opened, read or written; the message is one line for the user.
    Commands exit with EXIT_STATUS for it."""

    EXIT_STATUS = EXIT_ARCHIVE


class LockHeld(ArchiveError):
    """Another crawl is writing to this archive."""

    EXIT_STATUS = EXIT_LOCKED


def describe(err: BaseException) -> str:
    """An OSError or sqlite3 error as a short phrase."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err)


def check_file(path: Path, must_exist: bool) -> bool:
    """Whether path is an SQLite file that may be ours; False when it does not exist (or is
    empty) and must_exist is False. Raises ArchiveError for anything else.

    It opens and closes the file: never call it while this process has an SQLite connection
    to the file (closing a descriptor drops the process's SQLite locks on it)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        if must_exist:
            raise ArchiveError(f"no archive at {path}: run `ciudadano crawl` first") from None
        return False
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not an archive file") from None
    except OSError as err:
        raise ArchiveError(f"cannot read {path}: {describe(err)}") from err
    if not header:
        if must_exist:
            raise ArchiveError(f"{path} is empty: run `ciudadano crawl` first")
        return False
    if header != SQLITE_HEADER:
        raise ArchiveError(f"{path} is not an SQLite database (nor a ciudadano archive)")
    return True


def _identity(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {
        name
        for (name,) in conn.execute(
            "select name from sqlite_master where type in ('table', 'view')"
        )
    }
    return app_id, version, tables


def _classify(path: Path, app_id: int, version: int, tables: set[str]) -> str:
    """'empty', 'current', 'old' (ours, an older schema), or raise ArchiveError."""
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"{path} was written by a newer ciudadano-archive (schema {version}; this one "
                f"knows {SCHEMA_VERSION}): upgrade ciudadano-archive"
            )
        return "current" if version == SCHEMA_VERSION else "old"
    if app_id == 0 and not tables and version == 0:
        return "empty"
    # archives written before the application id existed: schema 1 with our tables
    if app_id == 0 and version == 1 and tables_of_an_archive() <= tables:
        return "old"
    listed = ", ".join(sorted(tables)[:6]) or "none"
    raise ArchiveError(
        f"{path} is an SQLite database of another program, not a ciudadano archive "
        f"(application id {app_id:#x}, schema {version}, tables: {listed}); it was left as it was"
    )


def open_for_writing(path: str | Path) -> sqlite3.Connection:
    """A connection to the archive at path, created when missing (in a folder that exists: a
    mistyped --db must not leave folders behind) and migrated when older; the schema is created or migrated in one transaction, so a run killed at any
    moment leaves either no schema or all of it."""
    path = Path(path)
    # The file is never opened here but by SQLite: closing any other descriptor on it would
    # drop every SQLite lock this process holds on it (POSIX locks are per process).
    if path.is_dir():
        raise ArchiveError(f"{path} is a folder, not an archive file")
    if not path.parent.is_dir():
        raise ArchiveError(
            f"cannot create the archive {path}: there is no folder "
            f"{path.parent} (create it first, or give another --db)"
        )
    try:
        conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    except (OSError, sqlite3.Error) as err:
        raise ArchiveError(
            f"cannot create the archive {path}: {_unwritable(path) or describe(err)}"
        ) from err
    try:
        try:
            identity = _identity(conn)
        except sqlite3.DatabaseError as err:
            if "not a database" in str(err):
                raise ArchiveError(
                    f"{path} is not an SQLite database (nor a ciudadano archive)"
                ) from None
            raise
        kind = _classify(path, *identity)
        # the full-text index's triggers stem the text they index
        conn.create_function(STEM_FUNCTION, 1, stem_text, deterministic=True)
        # executescript would COMMIT an open transaction first: the transaction is in the script
        stemmer = f"INSERT OR REPLACE INTO [{META}] VALUES ('stemmer', '{STEMMER_VERSION}');\n"
        if kind == "empty":
            conn.executescript("BEGIN IMMEDIATE;\n" + create_schema_sql() + stemmer + "COMMIT;")
        elif kind == "old":
            conn.executescript("BEGIN IMMEDIATE;\n" + migration_sql(conn) + stemmer + "COMMIT;")
        elif _meta(conn, "stemmer") != STEMMER_VERSION:
            # stems of other rules would not match the queries' stems: index the text anew
            conn.executescript("BEGIN IMMEDIATE;\n" + reindex_sql() + stemmer + "COMMIT;")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL never corrupts the archive; a power cut may lose the last
        # few commits, which the next run fetches again. FULL would sync every article.
        conn.execute("PRAGMA synchronous=NORMAL")
    except ArchiveError:
        conn.close()
        raise
    except sqlite3.Error as err:
        conn.close()
        raise ArchiveError(_sqlite_message(path, err, "cannot write")) from err
    return conn


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute(f"select value from [{META}] where key = ?", [key]).fetchone()
    return row[0] if row else None


def reader_uri(path: str | Path) -> str:
    """The URI to read the archive at path without writing anything: mode=ro, or immutable=1
    on read-only media (a read-only folder or mounted snapshot, where a WAL database cannot
    create its -shm file). Raises ArchiveError when path is not a readable archive."""
    path = Path(path).resolve()
    check_file(path, must_exist=True)
    for query in ("mode=ro", "immutable=1"):
        uri = f"file:{_quote(path)}?{query}"
        try:
            conn = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as err:
            raise ArchiveError(_sqlite_message(path, err, "cannot read")) from err
        try:
            kind = _classify(path, *_identity(conn))
            if kind == "empty":
                raise ArchiveError(f"{path} is an empty database: run `ciudadano crawl` first")
            conn.execute("select count(*) from (select 1 from runs limit 1)").fetchone()
            return uri
        except sqlite3.OperationalError as err:
            if query == "mode=ro" and "unable to open" in str(err):
                continue  # read-only media: the -shm cannot be made; read it as immutable
            raise ArchiveError(_sqlite_message(path, err, "cannot read")) from err
        except sqlite3.DatabaseError as err:
            raise ArchiveError(_sqlite_message(path, err, "cannot read")) from err
        finally:
            conn.close()
    raise ArchiveError(f"cannot read {path}")  # not reached: immutable=1 needs no -shm


def connect_reader(path: str | Path, threads: bool = False) -> sqlite3.Connection:
    """A read-only connection (threads: usable from another thread than its maker's)."""
    return sqlite3.connect(reader_uri(path), uri=True, check_same_thread=not threads)


def _quote(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path))


def _sqlite_message(path: Path, err: sqlite3.Error, doing: str) -> str:
    text = str(err)
    if "malformed" in text or "not a database" in text:
        return f"{path} is damaged ({text}); restore it from a backup or an export"
    if "disk is full" in text or "disk I/O" in text:
        if "disk I/O" in text and _disk_full(path):
            text = "the disk is full"  # SQLite reports a failed -shm or -wal write as I/O
        return f"{doing} {path}: {text} (free some space and run again)"
    if "readonly" in text or "read-only" in text:
        return f"{doing} {path}: it is on read-only storage"
    if "unable to open" in text and doing != "cannot read":
        text = _unwritable(path) or text
    return f"{doing} {path}: {text}"


def _unwritable(path: Path) -> str | None:
    """Why SQLite could not open path for writing ("unable to open database file" says
    nothing), or None when nothing tells."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "it is on read-only storage (a read-only mount)"
    except OSError:
        return None
    for where in (folder, path):
        if where.exists() and not os.access(where, os.W_OK):
            return (
                f"{where} is read-only for this user (SQLite writes the archive and its "
                "-wal and -shm files beside it)"
            )
    return None


def _disk_full(path: Path) -> bool:
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def sqlite_message(path: str | Path, err: sqlite3.Error, doing: str = "cannot write") -> str:
    return _sqlite_message(Path(path), err, doing)


class CrawlLock:
    """An exclusive flock on the archive file, held for a crawl's lifetime. The kernel drops
    it when the process dies, however it dies, so a dead run never leaves it stuck. A process
    forked while it is held (a crawl's parser, an import's workers) closes its copy at once:
    otherwise the lock would outlive a killed crawl for as long as its parser took to die."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise ArchiveError(f"cannot open {self.path}: {describe(err)}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise LockHeld(
                    f"{lock_holder(self.path)} is writing to {self.path} (it holds the "
                    "archive's lock); nothing was done"
                ) from None
            raise ArchiveError(f"cannot lock {self.path}: {describe(err)}") from err
        self.fd = fd
        _HELD.add(self)

    def release(self) -> None:
        _HELD.discard(self)
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> CrawlLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


_HELD: weakref.WeakSet[CrawlLock] = weakref.WeakSet()


def _forked() -> None:
    """In a process just forked: the locks its parent holds are not its own."""
    for lock in list(_HELD):
        if lock.fd is not None:
            os.close(lock.fd)  # this copy only: the parent's descriptor keeps the flock
            lock.fd = None
    _HELD.clear()


os.register_at_fork(after_in_child=_forked)

WRITERS = {"crawl": "a crawl", "import": "an import", "reparse": "a reparse"}


def lock_holder(path: str | Path) -> str:
    """Who holds the archive's lock, as a phrase: "a crawl (pid 1234)", "an import (pid ...)",
    read from the kernel's table of locks (Linux); "another crawl, import or reparse" when it
    cannot be told."""
    try:
        stat = os.stat(path)
        inode = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
        with open("/proc/locks") as table:
            pids = [
                fields[4]
                for fields in map(str.split, table)
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == inode
            ]
        with open(f"/proc/{pids[0]}/cmdline", "rb") as cmdline:
            words = cmdline.read().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return "another crawl, import or reparse"
    what = next((WRITERS[w] for w in words if w in WRITERS), "another process")
    return f"{what} (pid {pids[0]})"
