"""The production server under test: ``headline-sieve serve`` in a child process."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from benchmarks.timing import free_port
from training.locations import PROJECT_ROOT

log = logging.getLogger(__name__)

START_SECONDS = 120  # generous bound, only so a broken server cannot hang the run


def cli() -> list[str]:
    """The ``headline-sieve`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("headline-sieve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


class Server:
    """``headline-sieve serve --home HOME --host 127.0.0.1 --port FREE --workers N``."""

    def __init__(self, home: Path, workers: int = 2, data_dir: Path | None = None,
                 settings: dict[str, str] | None = None):
        self.home = Path(home)
        self.settings = settings or {}  # extra HEADLINE_SIEVE_<NAME> environment settings
        self.port = free_port()
        self.workers = workers
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None
        self.log_path = self.home.parent / f"{self.home.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLINE_SIEVE_")}
        env["HEADLINE_SIEVE_LOG_LEVEL"] = "WARNING"
        if self.data_dir is not None:
            env["HEADLINE_SIEVE_DATA"] = str(self.data_dir)
        env.update({f"HEADLINE_SIEVE_{name.upper()}": value
                    for name, value in self.settings.items()})
        command = [*cli(), "serve", "--home", str(self.home), "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers)]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=env, cwd=PROJECT_ROOT, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        ready_in_a_row = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:
                ok = requests.get(self.url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            ready_in_a_row = ready_in_a_row + 1 if ok else 0
            if ready_in_a_row >= 4 * self.workers:  # every worker has answered ready
                return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {START_SECONDS} s; see {self.log_path}")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker process, in MB (MiB)."""
        master = psutil.Process(self.process.pid)
        return [round(child.memory_info().rss / 2**20, 1) for child in master.children()]

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def create_token(home: Path, name: str = "bench") -> str:
    """A bearer token made by ``headline-sieve token create NAME --home HOME``."""
    done = subprocess.run([*cli(), "token", "create", name, "--home", str(home)],
                          capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith("HEADLINE_SIEVE_")})
    return done.stdout.strip().splitlines()[-1]
