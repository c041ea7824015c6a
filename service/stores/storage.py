"""Small durability helpers shared by the registry and the SQLite stores."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

# errno values and SQLite result codes meaning "no room left" or "cannot write here now".
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UNWRITABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
_UNWRITABLE_SQLITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY",
                      "SQLITE_LOCKED", "SQLITE_PERM")
_UNWRITABLE_MESSAGES = ("readonly database", "disk I/O error", "unable to open database file",
                        "database is locked")


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes,
                     before_replace: Callable[[], None] | None = None) -> None:
    """Replace ``path`` by ``data`` so that readers see the old or the new file,
    never a mix, and the new one survives a power loss once this returns.

    The data goes to ``.<name>.<pid>.tmp`` first; if writing it fails (disk
    full, read-only), the temporary file is removed and ``path`` is untouched.
    ``before_replace`` runs once the temporary file is durable, just before
    the rename (a fault-injection checkpoint, see service/retrain_worker.py).
    """
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def temporary_name(path: Path, pid: int | None = None) -> Path:
    """Where :func:`write_atomically` writes ``path`` first (``pid``: this process)."""
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes (flock on ``path``)."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def pid_alive(pid: int | None) -> bool:
    """True if a process with id ``pid`` exists on this machine."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite database ``path`` in WAL mode.

    ``synchronous=FULL``: in WAL mode every commit fsyncs the log, so a row
    whose insert has returned (and been acknowledged with a 2xx) survives a
    power loss; NORMAL would only protect against application crashes.
    ``busy_timeout`` lets concurrent writers in other workers wait their turn.
    """
    connection = sqlite3.connect(path, timeout=30.0, isolation_level=None,
                                 check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def utc_now(timespec: str = "seconds") -> str:
    """The time now in UTC, ISO 8601 (``2026-12-01T09:30:00+00:00``): the one
    clock format of every store's timestamps."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def storage_problem(exc: BaseException) -> str | None:
    """``"full"``, ``"unwritable"``, ``"unavailable"`` or None: whether ``exc`` is a
    failure of the disk (full; read-only, locked or failing) or of the database
    server (cannot be reached) rather than of the code."""
    database = _database_problem(exc)
    if database is not None:
        return database
    if isinstance(exc, sqlite3.OperationalError):
        name, text = getattr(exc, "sqlite_errorname", "") or "", str(exc)
        if name == "SQLITE_FULL" or "database or disk is full" in text:
            return "full"
        if name.startswith(_UNWRITABLE_SQLITE) or any(m in text for m in _UNWRITABLE_MESSAGES):
            return "unwritable"
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL_ERRNOS:
            return "full"
        if exc.errno in _UNWRITABLE_ERRNOS:
            return "unwritable"
    return None


def _database_problem(exc: BaseException) -> str | None:
    """The :func:`storage_problem` of a PostgreSQL error (psycopg's classes are
    only imported when such an error is at hand)."""
    from service.stores.database import DatabaseUnreachable

    if isinstance(exc, DatabaseUnreachable):
        return "unavailable"
    if not type(exc).__module__.startswith("psycopg"):
        return None
    import psycopg

    if isinstance(exc, psycopg.errors.DiskFull):
        return "full"
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return "unwritable"
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return "unavailable"
    return None


def create_schema(path: Path, script: str,
                  migrate: Callable[[sqlite3.Connection], None] | None = None) -> None:
    """Run ``script`` (``CREATE ... IF NOT EXISTS``) on the database ``path``,
    then ``migrate(connection)`` (which must be idempotent) if given.

    If the disk is full or read-only but the database exists already, the
    failure is logged and ignored: the schema is there, reads can go on and
    writes will fail (503/507) until the disk is fixed. A worker that starts
    meanwhile (gunicorn replaced one) must not fail to boot: gunicorn stops
    the whole server when a worker cannot boot.
    """
    try:
        with database(path) as connection:
            connection.executescript(script)
            if migrate is not None:
                migrate(connection)
    except (sqlite3.OperationalError, OSError) as exc:
        if storage_problem(exc) is None or not Path(path).exists():
            raise
        log.warning("%s cannot be written now (%s); using it as it is", path, exc)


@contextlib.contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    """:func:`connect` to ``path``, closed on exit."""
    connection = connect(path)
    try:
        yield connection
    finally:
        connection.close()


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection, immediate: bool = False) -> Iterator[None]:
    """``BEGIN`` (or ``BEGIN IMMEDIATE``, taking the write lock now) ... ``COMMIT``,
    rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
