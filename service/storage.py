"""Small durability helpers shared by the registry and the SQLite stores."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path


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
