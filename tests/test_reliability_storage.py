"""A full disk and a read-only home directory under the real server.

While labels are stored or a model is written: a clear JSON 507 (disk full)
or 503 (read-only), nothing half-written (a refused batch stores no label, the
registry index and model directories are unchanged, no temporary file is left),
the service keeps scoring, and it recovers without a restart once there is room
again; after a restart every acknowledged label is there.

How the faults are made (we are root, in CI too; chmod does not stop root):

- disk full: the home directory lives on a small tmpfs (``mount -t tmpfs``),
  filled with a ballast file. This needs the right to mount (root, as in CI);
  without it the test fails, saying so, rather than skip. (RLIMIT_FSIZE set
  on the server's processes was tried as a fallback: prlimit on another
  process is refused in this container, and a file-size limit is not a full
  disk anyway.)
- read-only: a read-only bind mount of the home directory over itself
  (``mount --bind`` + ``mount -o remount,ro,bind``); if mounting is not
  permitted, ``chattr +i`` on the home directory and its files.

Both are undone in ``finally`` blocks.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

from helpers import auth, read_only, run, stored_label_ids, unmount
from model.adaptation import adapt_to_labels
from model.artifacts import new_version_id
from service.stores.registry import Registry

TMPFS_MB = 48  # bundled model and one candidate (8 MB each), labels, metrics files
BALLAST_CHUNK = 1 << 16


# -- making the faults -------------------------------------------------------------

class FullDisk:
    """Fills the small filesystem of the home directory, leaving ``leave`` bytes."""

    def __init__(self, mount_point: Path):
        self.mount_point = mount_point
        self.ballast = mount_point / "ballast"
        self.mechanism = f"tmpfs of {TMPFS_MB} MB filled with a ballast file"

    def fill(self, leave: int = 0) -> None:
        with open(self.ballast, "ab") as handle:
            block = b"\0" * BALLAST_CHUNK
            try:
                while True:
                    handle.write(block)
                    handle.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
            if leave:
                handle.truncate(max(0, self.ballast.stat().st_size - leave))

    def release(self) -> None:
        self.ballast.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(directory: Path) -> Iterator[FullDisk]:
    directory.mkdir(parents=True, exist_ok=True)
    mounted = run("mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0755", "tmpfs",
                  str(directory))
    assert mounted, "this test mounts a small tmpfs to fill it: run it as root (CI does)"
    try:
        yield FullDisk(directory)
    finally:
        unmount(directory)


# -- helpers -------------------------------------------------------------------------

def add_candidate(home: Path, bundled_model) -> str:
    registry = Registry(home / "models")
    registry.ensure_initialized()
    estimator = adapt_to_labels(bundled_model.classifier, ["国务院召开常务会议"], [1])
    version = new_version_id("adapted")
    registry.add(estimator, {"version": version, "threshold": estimator.threshold_})
    return version


def label_batch(n: int, start: int, chars: int = 400) -> dict:
    """``n`` distinct long headlines (about ``3 * chars`` bytes each as UTF-8)."""
    return {"labels": [{"headline": f"{start + i} " + "长标题" * (chars // 3),
                        "label": "clickbait" if i % 2 else "substantive"} for i in range(n)]}


def error_code(response) -> str:
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.json()["error"]["code"]


def snapshot(home: Path) -> tuple[bytes, list[str], list[str]]:
    """Registry index bytes, model directories, temporary files in the home."""
    return ((home / "models" / "registry.json").read_bytes(),
            sorted(p.name for p in (home / "models").iterdir()),
            sorted(str(p) for p in home.rglob("*.tmp*")))


def replace_a_worker(server) -> None:
    """SIGKILL a worker; the one gunicorn starts instead must boot although the
    home directory cannot be written (else gunicorn stops the whole server)."""
    import time

    victim = server.worker_pids()[0]
    psutil.Process(victim).kill()
    deadline = time.monotonic() + 60
    while victim in server.worker_pids() or len(server.worker_pids()) < 2:
        assert server.process.poll() is None, server.log_text()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.wait_ready(workers=2)
    for _ in range(6):
        assert scores(server.base) == 200


def scores(base: str) -> int:
    return requests.post(f"{base}/v1/score", json={"headline": "国务院召开常务会议"},
                         timeout=30).status_code


# -- tests ---------------------------------------------------------------------------

def test_a_full_disk_refuses_writes_cleanly_and_the_service_recovers(
        tmp_path, service_helpers, bundled_model, figures):
    acknowledged: set[int] = set()
    refused: dict[str, int] = {}
    with small_disk(tmp_path / "disk") as disk:
        home = tmp_path / "disk" / "home"
        candidate = add_candidate(home, bundled_model)
        token = service_helpers.create_token(home)
        with service_helpers.server_process(home, log_dir=tmp_path) as server:
            first = requests.post(f"{server.base}/v1/labels", json=label_batch(10, 0),
                                  headers=auth(token), timeout=30)
            acknowledged.update(first.json()["ids"])
            before = snapshot(home)

            disk.fill()
            for attempt in range(40):  # until the log cannot grow any more
                response = requests.post(f"{server.base}/v1/labels", headers=auth(token),
                                         json=label_batch(100, 1000 * (attempt + 1)),
                                         timeout=60)
                if response.status_code == 201:
                    acknowledged.update(response.json()["ids"])
                    continue
                assert response.status_code == 507, response.text
                refused["labels"] = refused.get("labels", 0) + 1
                if refused["labels"] == 3:
                    break
            assert refused.get("labels") == 3, "the disk never filled up"
            assert error_code(response) == "storage_full"
            assert scores(server.base) == 200  # scoring needs no disk
            assert requests.get(f"{server.base}/healthz", timeout=10).status_code == 200
            replace_a_worker(server)

            activation = requests.post(f"{server.base}/v1/models/{candidate}/activate",
                                       headers=auth(token), timeout=30)
            assert activation.status_code == 507, activation.text
            refused["activation"] = 1
            assert snapshot(home)[:2] == before[:2] and not snapshot(home)[2]

            disk.release()
            disk.fill(leave=2 << 20)  # room for the job's rows, not for an 8 MB model
            started = requests.post(f"{server.base}/v1/retrain", json={"mode": "labels"},
                                    headers=auth(token), timeout=30)
            assert started.status_code == 202, started.text
            job = service_helpers.wait_for_job(server.base, started.json()["job"])
            assert job["state"] == "failed", job
            assert "the disk of the home directory is" in job["error"], job
            refused["model_write"] = 1
            assert snapshot(home)[:2] == before[:2] and not snapshot(home)[2]

            disk.release()  # room again: no restart needed
            again = requests.post(f"{server.base}/v1/labels", json=label_batch(10, 99_000),
                                  headers=auth(token), timeout=30)
            assert again.status_code == 201
            acknowledged.update(again.json()["ids"])
            assert requests.post(f"{server.base}/v1/models/{candidate}/activate",
                                 headers=auth(token), timeout=30).status_code == 200
            log = server.log_text()
        with service_helpers.server_process(home, log_dir=tmp_path) as server:
            assert stored_label_ids(server.base, token) == acknowledged  # none lost, none half-done
            assert requests.get(f"{server.base}/healthz", timeout=10).json()["model"] == \
                candidate
    assert "storage failure, answered 507" in log
    assert "Traceback" not in log and "SIGBUS" not in log
    figures(mechanism=disk.mechanism, refused=refused, workers_replaced_meanwhile=1,
            labels_acknowledged=len(acknowledged),
            labels_lost=0, service_stayed_up=True)


def test_a_read_only_home_refuses_writes_cleanly_and_the_service_recovers(
        tmp_path, service_helpers, bundled_model, figures):
    home = tmp_path / "home"
    candidate = add_candidate(home, bundled_model)
    token = service_helpers.create_token(home)
    acknowledged: set[int] = set()
    answers: dict[str, int] = {}
    with service_helpers.server_process(home) as server:
        first = requests.post(f"{server.base}/v1/labels", json=label_batch(5, 0),
                              headers=auth(token), timeout=30)
        acknowledged.update(first.json()["ids"])
        before = snapshot(home)
        with read_only(home) as mechanism:
            writes = {
                "labels": lambda: requests.post(f"{server.base}/v1/labels", timeout=30,
                                                json=label_batch(5, 100), headers=auth(token)),
                "activation": lambda: requests.post(
                    f"{server.base}/v1/models/{candidate}/activate", headers=auth(token),
                    timeout=30),
                "retrain": lambda: requests.post(f"{server.base}/v1/retrain", timeout=30,
                                                 json={"mode": "labels"}, headers=auth(token)),
            }
            for name, write in writes.items():
                for _ in range(2):  # both workers
                    response = write()
                    assert response.status_code == 503, (name, response.text)
                    assert error_code(response) == "storage_unavailable"
                    assert response.headers["Retry-After"]
                    answers[name] = answers.get(name, 0) + 1
            assert scores(server.base) == 200
            replace_a_worker(server)
            models = requests.get(f"{server.base}/v1/models", timeout=10)
            assert models.status_code == 200 and models.json()["active"] == \
                bundled_model.version
        assert snapshot(home) == before
        again = requests.post(f"{server.base}/v1/labels", json=label_batch(5, 200),
                              headers=auth(token), timeout=30)
        assert again.status_code == 201  # writable again, no restart
        acknowledged.update(again.json()["ids"])
        log = server.log_text()
    assert "storage failure, answered 503" in log and "Traceback" not in log
    with service_helpers.server_process(home) as server:
        assert stored_label_ids(server.base, token) == acknowledged
    figures(mechanism=mechanism, refused_503=answers, workers_replaced_meanwhile=1,
            labels_acknowledged=len(acknowledged),
            labels_lost=0, service_stayed_up=True)
