"""A real PostgreSQL server for the benchmarks and the tests (as
benchmarks/browser.py is their Chromium): Debian's ``postgresql`` package
(``make test`` installs it), a cluster made by ``initdb`` in a new
temporary folder, listening on a free loopback port only.

As root (CI), the server runs as the ``postgres`` user the package creates,
since PostgreSQL refuses to run as root. Connections over TCP need the
password (``scram-sha-256``), so the URLs the tests use look like a
deployment's: ``postgresql://sieve:PASSWORD@127.0.0.1:PORT/DB``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import free_port

USER = "sieve"
START_SECONDS = 60


def _binary(name: str) -> str:
    """``name`` from Debian's versioned directory (not on PATH), newest version first."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda path: int(Path(path).parts[-3]), reverse=True)
    if found:
        return found[0]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(f"PostgreSQL's {name} is not installed: 'make test' installs Debian's "
                       "postgresql package (apt-get install postgresql)")


@dataclass
class PostgresServer:
    """A running cluster; :meth:`stop` ends it and deletes its folder."""

    folder: Path
    port: int
    password: str
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=check,
                              cwd=self.folder)

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                   "-c shared_buffers=32MB -c max_connections=200")
        done = self._run(_binary("pg_ctl"), "-D", str(self.data), "-o", options,
                         "-l", str(self.folder / "server.log"), "-w", "-t", str(START_SECONDS),
                         "start", check=False)
        if done.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as a crash would); the data stays."""
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """``initdb`` a new cluster in a temporary folder and start it on a free port."""
    run_as = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="headline-sieve-pg-"))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(folder, free_port(), secrets.token_hex(12), run_as)
    password_file = folder / "password"
    password_file.write_text(server.password + "\n")
    if run_as:
        os.chown(password_file, entry.pw_uid, entry.pw_gid)
    done = server._run(_binary("initdb"), "-D", str(server.data), "-U", USER,
                       "--pwfile", str(password_file), "--auth-local=trust",
                       "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                       check=False)
    password_file.unlink()
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
    server.start()
    return server
