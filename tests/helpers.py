"""Helpers shared by the tests that talk to the real server (``headline-sieve serve``).

Imported as ``from helpers import ...`` (pytest puts ``tests/`` on ``sys.path``);
conftest.py exposes the same functions through the ``service_helpers`` fixture.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_SECONDS = 90  # generous upper bound, only to avoid hanging forever
JOB_DEADLINE_SECONDS = 120  # only so that a broken job cannot hang the suite


def auth(token: str) -> dict:
    """The Authorization header of a bearer ``token``."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(home: Path, extra: Mapping[str, str] | None = None) -> dict:
    """The environment of a test server: no HEADLINE_SIEVE_* of the developer,
    no corpora (retraining from labels only), plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEADLINE_SIEVE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    empty = Path(home).parent / "no-corpora"
    empty.mkdir(parents=True, exist_ok=True)
    env["HEADLINE_SIEVE_DATA"] = str(empty)
    env.update(extra or {})
    return env


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    """Run ``headline-sieve ARGS`` as a user would; raises if it fails."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=server_env(home),
                          capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)


def create_token(home: Path, name: str = "editor") -> str:
    """``headline-sieve token create NAME``; returns the token (last line of stdout)."""
    return cli("token", "create", name, "--home", str(home),
               home=home).stdout.strip().splitlines()[-1]


def wait_for_job(base: str, job_id: str, seconds: float = JOB_DEADLINE_SECONDS) -> dict:
    """Poll ``GET /v1/jobs/<id>`` until the job has finished; returns it."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        job = requests.get(f"{base}/v1/jobs/{job_id}", timeout=10).json()
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def confident_labels(model, headlines: list[str], source: str = "test") -> list[dict]:
    """Labels ``model`` already agrees with, far (0.3) from its threshold: sent in the
    background of a test, they never change a quality-gate decision."""
    p = model.predict_proba(headlines)
    return [{"headline": h, "label": "clickbait" if pi >= model.threshold else "substantive",
             "source": source}
            for h, pi in zip(headlines, p) if abs(pi - model.threshold) > 0.3]


def stored_label_ids(base: str, token: str) -> set[int]:
    """The ids of every label the server has, paging through ``GET /v1/labels``."""
    import requests

    ids: set[int] = set()
    since = 0
    while since is not None:
        page = requests.get(f"{base}/v1/labels", params={"since": since, "limit": 1000},
                            headers=auth(token), timeout=30).json()
        ids.update(row["id"] for row in page["labels"])
        since = page["next"]
    return ids


def wait_for_200(url: str, process: subprocess.Popen, log_text: Callable[[], str],
                 seconds: float) -> None:
    """Poll ``url`` until it answers 200; fail with the log if ``process`` exits
    or ``seconds`` pass first."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"server exited:\n{log_text()}"
        assert time.monotonic() < deadline, f"server not started:\n{log_text()}"
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)


@dataclass
class ServerHandle:
    """A running ``headline-sieve serve``: its URL, master process and log file."""

    base: str
    port: int
    process: subprocess.Popen
    log_path: Path
    home: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (direct children of the master)."""
        import psutil

        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def kill_everything(self) -> list[int]:
        """SIGKILL the master and every process below it (workers, retraining
        jobs), as a power cut or an OOM kill of the whole service would; returns
        the pids killed."""
        import psutil

        try:
            master = psutil.Process(self.process.pid)
            victims = [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            victims = []
        for victim in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.kill()
        psutil.wait_procs(victims, timeout=30)
        self.process.wait(timeout=30)
        return [victim.pid for victim in victims]

    def wait_started(self, seconds: float = SERVER_START_SECONDS) -> None:
        """Until /healthz answers 200 (a worker runs, with or without a model)."""
        wait_for_200(f"{self.base}/healthz", self.process, self.log_text, seconds)

    def wait_ready(self, workers: int, seconds: float = SERVER_START_SECONDS) -> None:
        """Until /readyz answers 200 ``2 * workers`` times in a row (every worker loaded)."""
        import requests

        ready_in_a_row = 0
        deadline = time.monotonic() + seconds
        while ready_in_a_row < 2 * workers:
            assert self.process.poll() is None, f"server exited:\n{self.log_text()}"
            assert time.monotonic() < deadline, f"server not ready:\n{self.log_text()}"
            try:
                ok = requests.get(f"{self.base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                ok = False
            ready_in_a_row = ready_in_a_row + 1 if ok else 0
            if not ok:
                time.sleep(0.2)


@contextlib.contextmanager
def server_process(home: Path, workers: int = 2, env: Mapping[str, str] | None = None,
                   wait: bool = True, log_dir: Path | None = None) -> Iterator[ServerHandle]:
    """``headline-sieve serve --home HOME --host 127.0.0.1 --port FREE --workers N``.

    Yields once every worker has a model loaded; stops the server with SIGTERM
    (SIGKILL if it hangs) unless the test killed it already. The server's
    stdout and stderr (gunicorn, the service's log, retraining jobs) go to
    ``server-<port>.log`` in ``log_dir`` (default: beside the home directory).
    ``env`` adds variables.
    ``wait=False``: yield at once (the test waits itself, e.g. with
    :meth:`ServerHandle.wait_started` when no model can load).
    """
    port = free_port()
    log_path = Path(log_dir or Path(home).parent) / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--home", str(home),
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_env(home, env), stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    handle = ServerHandle(f"http://127.0.0.1:{port}", port, process, log_path, Path(home))
    try:
        if wait:
            handle.wait_ready(workers)
        yield handle
    finally:
        stop_server(handle)


def stop_server(handle: ServerHandle) -> None:
    """SIGTERM the master (SIGKILL if it hangs), then SIGKILL whatever it started
    that is still there (e.g. a retraining process a test stopped with SIGSTOP)."""
    import psutil

    if handle.process.poll() is not None:
        return
    try:
        started = psutil.Process(handle.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    handle.process.send_signal(signal.SIGTERM)
    try:
        handle.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        handle.kill_everything()
    for child in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.is_running():
                child.kill()


@contextlib.contextmanager
def running_server(home: Path, workers: int = 2) -> Iterator[str]:
    """:func:`server_process` yielding only the base URL."""
    with server_process(home, workers) as handle:
        yield handle.base


def game_and_other_headlines() -> tuple[list[str], list[str]]:
    """(game headlines, headlines of five other topics) of THUCNews' extra split,
    each shuffled with a fixed seed: the policy shift of the editors' loop tests."""
    import numpy as np

    from training.corpora import read_corpus
    from training.locations import data_dir

    rows = read_corpus("thucnews", data_dir() / "thucnews_extra" / "train.txt").rows
    game = [r.text for r in rows if r.category == "game"]
    other = [r.text for r in rows if r.category in ("finance", "politics", "education",
                                                     "science", "sports")]
    rng = np.random.default_rng(7)
    rng.shuffle(game)
    rng.shuffle(other)
    return game, other


# -- faults of the disk (we are root, in CI too: chmod does not stop root) ---------

def run(*command: str) -> bool:
    """Run a (mount, chattr) command; whether it succeeded."""
    return subprocess.run(command, capture_output=True).returncode == 0


def unmount(path: Path) -> None:
    if not run("umount", str(path)):
        run("umount", "-l", str(path))  # busy: detach now, freed when the last file closes


@contextlib.contextmanager
def read_only(home: Path) -> Iterator[str]:
    """``home`` read-only (for root too) inside the block; yields the mechanism."""
    if run("mount", "--bind", str(home), str(home)):
        try:
            if not run("mount", "-o", "remount,ro,bind", str(home)):
                raise RuntimeError(f"cannot remount {home} read-only")
            yield "read-only bind mount"
        finally:
            unmount(home)
        return
    paths = [home, *home.rglob("*")]
    try:
        for path in paths:
            assert run("chattr", "+i", str(path)), f"cannot make {path} immutable"
        yield "chattr +i"
    finally:
        for path in paths:
            run("chattr", "-i", str(path))
