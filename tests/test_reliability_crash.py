"""Faults against the real server process (``headline-sieve serve``, gunicorn) on loopback.

- A worker killed with SIGKILL while it scores: the master replaces it, the
  other worker keeps answering, no answer is ever a partial body.
- The whole service killed with SIGKILL during a retrain, at each phase
  (training, writing the artifact, promoting, promoted): after a restart the
  registry is consistent, the active model is the old or the new one and loads,
  the job is reported failed, and every label acknowledged before the kill is
  there. The retraining process stops itself at the phase because the test
  sets ``HEADLINE_SIEVE_TEST_STOP_AT`` (see service/retrain_worker.py).
- Labels are acknowledged only after SQLite has synced its write-ahead log
  (``synchronous=FULL``; checked on the worker's system calls with strace),
  and survive a SIGKILL of everything.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from helpers import auth, confident_labels, stored_label_ids
from model.artifacts import MANIFEST_FILE, MODEL_FILE, sha256_file
from service.retrain_worker import PHASES, STOP_AT_ENV

STOP_SECONDS = 90  # bound on reaching a phase; only so that a broken job cannot hang


# -- helpers ---------------------------------------------------------------------

def post_json(port: int, path: str, body: dict, headers: dict | None = None,
              timeout: float = 60) -> tuple[int, bytes]:
    """POST with http.client, reading the whole answer; raises on a cut connection
    (``http.client.IncompleteRead`` if the body is shorter than its Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                           {"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Labeller(threading.Thread):
    """Sends small label batches until stopped or the server is gone; keeps the ids
    the server acknowledged with 201."""

    def __init__(self, base: str, token: str, labels: list[dict], batch: int = 4):
        super().__init__(daemon=True)
        self.base, self.token, self.labels, self.batch = base, token, labels, batch
        self.acknowledged: list[int] = []
        self.stop = threading.Event()
        self.position = 0

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            start = self.position % len(self.labels)
            chunk = self.labels[start:start + self.batch]
            self.position += self.batch
            try:
                response = session.post(f"{self.base}/v1/labels", json={"labels": chunk},
                                        headers=auth(self.token), timeout=30)
            except requests.RequestException:
                return  # the service was killed
            assert response.status_code == 201, response.text
            self.acknowledged += response.json()["ids"]
            time.sleep(0.02)


def job_process(server) -> psutil.Process | None:
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "service.retrain_worker" in " ".join(child.cmdline()):
                return child
        except psutil.NoSuchProcess:
            continue
    return None


def wait_stopped(server) -> psutil.Process:
    """The retraining process, once it has stopped itself at its phase."""
    deadline = time.monotonic() + STOP_SECONDS
    while True:
        process = job_process(server)
        if process is not None and process.status() == psutil.STATUS_STOPPED:
            return process
        assert time.monotonic() < deadline, server.log_text()[-3000:]
        time.sleep(0.05)


def registry_index(home: Path) -> dict:
    return json.loads((home / "models" / "registry.json").read_text(encoding="utf-8"))


def assert_registry_consistent(home: Path) -> dict:
    """Every listed version's files match the index's hashes; no leftovers."""
    index = registry_index(home)
    assert index["active"] in index["versions"]
    for version, entry in index["versions"].items():
        directory = home / "models" / version
        assert sha256_file(directory / MODEL_FILE) == entry["sha256"], version
        if "manifest_sha256" in entry:
            assert sha256_file(directory / MANIFEST_FILE) == entry["manifest_sha256"], version
    assert not list((home / "models").glob(".tmp-*"))
    assert not list((home / "models").glob(".registry.json.*"))
    return index


def phase_evidence(home: Path, phase: str, pid: int, active_before: str) -> str | None:
    """Check the files show the process stopped where it says; the candidate's version."""
    index = registry_index(home)
    if phase == "training":
        assert not list((home / "models").glob(f".tmp-{pid}-*"))
        return None
    if phase == "writing":
        [tmp] = (home / "models").glob(f".tmp-{pid}-*")
        assert (tmp / MODEL_FILE).is_file() and (tmp / MANIFEST_FILE).is_file()
        version = tmp.name.split("-", 2)[2]
        assert version not in index["versions"] and index["active"] == active_before
        return version
    new = [v for v, e in index["versions"].items() if e.get("status") == "candidate"
           and v != active_before]
    if phase == "promoting":
        assert (home / "models" / f".registry.json.{pid}.tmp").is_file()  # the flipped index, unrenamed
        assert index["active"] == active_before
        return new[-1]
    assert index["active"] != active_before  # promoted: the pointer has flipped
    return index["active"]


# -- tests -----------------------------------------------------------------------

# A kill can cut an answer after its headers (gunicorn sends the headers and the
# body in two writes: gunicorn/http/wsgi.py, send_headers then write); the
# client sees it fail, as a cut before any byte: fewer bytes than Content-Length
# (IncompleteRead). That counts as dropped. Partial is what a client could take
# for an answer: a complete body that is not valid JSON or lacks results.
def test_a_worker_killed_while_scoring_is_replaced_and_no_answer_is_partial(
        tmp_path, service_helpers, unlabeled_headlines, figures):
    batch = unlabeled_headlines[:400]
    outcomes: dict[str, int] = {"ok": 0, "dropped": 0, "partial": 0, "non_200": 0}
    lock, stop = threading.Lock(), threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                status, body = post_json(server.port, "/v1/score", {"headlines": batch})
                if status != 200:
                    outcome = "non_200"
                else:
                    results = json.loads(body)["results"]
                    outcome = "ok" if len(results) == len(batch) else "partial"
            except json.JSONDecodeError:
                outcome = "partial"
            except (ConnectionError, http.client.HTTPException, OSError):
                outcome = "dropped"  # cut before or within the answer (IncompleteRead)
            with lock:
                outcomes[outcome] += 1

    kills, replaced_after = 4, []
    with service_helpers.server_process(tmp_path / "home") as server:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.0)
            for i in range(kills):
                workers = server.worker_pids()
                victim = psutil.Process(workers[i % len(workers)])
                while victim.cpu_percent(interval=0.05) < 10:  # busy scoring
                    pass
                victim.kill()
                killed_at = time.monotonic()
                while True:  # the master forks a replacement
                    current = server.worker_pids()
                    if len(current) == 2 and victim.pid not in current:
                        break
                    time.sleep(0.05)
                replaced_after.append(round(time.monotonic() - killed_at, 2))
                with lock:
                    ok_before = outcomes["ok"]
                while outcomes["ok"] < ok_before + 4:  # answers keep coming
                    time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        # Every worker, the last replacement included, gets ready again: it loads the
        # model in the background, so it may answer 503 for its first seconds (the
        # answers counted above may all have come from the other worker).
        server.wait_ready(workers=2, seconds=90)
        assert server.log_text().count("was sent SIGKILL") == kills  # the master saw each
    assert outcomes["partial"] == 0 and outcomes["non_200"] == 0, outcomes
    assert outcomes["dropped"] <= kills, outcomes  # at most the request in flight per kill
    figures(requests=sum(outcomes.values()), workers_killed=kills, **outcomes,
            replacement_seconds=replaced_after)


def test_killing_the_service_at_each_phase_of_a_retrain_loses_nothing(
        tmp_path, service_helpers, bundled_model, policy_rows, unlabeled_headlines, figures):
    home = tmp_path / "home"
    token = service_helpers.create_token(home)
    train, holdout = service_helpers.pick_corrections(bundled_model, policy_rows, 20, 24)
    background = confident_labels(bundled_model, unlabeled_headlines, "crash")[:300]
    acknowledged: set[int] = set()
    killed: list[dict] = []
    killed_masters: list[int] = []
    active = bundled_model.version

    for phase in (*PHASES, None):  # None: a last start with no fault injected
        env = {STOP_AT_ENV: phase} if phase else {}
        with service_helpers.server_process(home, env=env) as server:
            index = assert_registry_consistent(home)
            assert index["active"] == active
            assert requests.post(f"{server.base}/v1/score", json={"headline": "标题"},
                                 timeout=30).json()["model"] == active
            assert acknowledged <= stored_label_ids(server.base, token)  # nothing lost
            for record in killed:
                job = requests.get(f"{server.base}/v1/jobs/{record['job']}", timeout=10).json()
                assert job["state"] == "failed" and "ended without reporting" in job["error"]
            if not acknowledged:
                stored = requests.post(f"{server.base}/v1/labels", headers=auth(token),
                                       json=service_helpers.label_payload(train + holdout),
                                       timeout=30)
                acknowledged.update(stored.json()["ids"])
            labeller = Labeller(server.base, token, background)
            labeller.start()
            started = requests.post(f"{server.base}/v1/retrain", headers=auth(token),
                                    json={"mode": "labels"}, timeout=30)
            assert started.status_code == 202, started.text
            job_id = started.json()["job"]
            if phase is None:
                job = service_helpers.wait_for_job(server.base, job_id)
                assert job["state"] == "succeeded", job
                labeller.stop.set()
                labeller.join()
                acknowledged.update(labeller.acknowledged)
                assert acknowledged <= stored_label_ids(server.base, token)
                break
            stopped = wait_stopped(server)
            version = phase_evidence(home, phase, stopped.pid, active)
            killed_masters.append(server.kill_everything()[0])
            labeller.join(timeout=60)
            acknowledged.update(labeller.acknowledged)
            killed.append({"phase": phase, "job": job_id, "labels_acknowledged":
                           len(labeller.acknowledged)})
            if phase == "promoted":
                active = version  # the flip was durable before the kill
    final = assert_registry_consistent(home)
    assert final["active"] != bundled_model.version  # the promoted candidate stayed active
    for pid in killed_masters:  # their metrics directories were removed by the next start
        assert not list(Path(tempfile.gettempdir()).glob(f"headline-sieve-metrics-{pid}-*"))
        assert not list(Path("/dev/shm").glob(f"headline-sieve-metrics-{pid}-*"))
    figures(kills=len(killed), phases=[k["phase"] for k in killed],
            labels_acknowledged=len(acknowledged), labels_lost=0,
            registry_versions=len(final["versions"]))


def test_acknowledged_labels_were_synced_to_disk_and_survive_a_kill(
        tmp_path, service_helpers, bundled_model, unlabeled_headlines, figures):
    """strace on the worker: each 201 for POST /v1/labels is sent only after an
    fsync/fdatasync of the SQLite write-ahead log (synchronous=FULL, WAL), so it
    survives a power cut, not only a process kill; then SIGKILL of everything."""
    home = tmp_path / "home"
    token = service_helpers.create_token(home)
    labels = confident_labels(bundled_model, unlabeled_headlines)[:200]
    trace = tmp_path / "worker.strace"
    acknowledged: list[int] = []
    with service_helpers.server_process(home, workers=1) as server:
        [worker] = server.worker_pids()
        tracer = subprocess.Popen(["strace", "-f", "-y", "-s", "20", "-e",
                                   "trace=fsync,fdatasync,sendto,write", "-o", str(trace),
                                   "-p", str(worker)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)  # attached
            for i in range(0, 40, 2):
                response = requests.post(f"{server.base}/v1/labels", headers=auth(token),
                                         json={"labels": labels[i:i + 2]}, timeout=30)
                assert response.status_code == 201
                acknowledged += response.json()["ids"]
        finally:
            tracer.terminate()
            tracer.wait(timeout=30)
        server.kill_everything()
    syncs_before_ack = _syncs_before_each_201(trace.read_text(encoding="utf-8", errors="replace"))
    assert len(syncs_before_ack) == 20 and min(syncs_before_ack) >= 1, syncs_before_ack
    with service_helpers.server_process(home, workers=1) as server:
        assert set(acknowledged) <= stored_label_ids(server.base, token)
    from service.stores.storage import connect

    connection = connect(home / "labels.sqlite3")
    settings = (connection.execute("PRAGMA journal_mode").fetchone()[0],
                connection.execute("PRAGMA synchronous").fetchone()[0])
    connection.close()
    assert settings == ("wal", 2)  # 2 = FULL
    figures(label_requests=20, labels_acknowledged=len(acknowledged), labels_lost=0,
            wal_syncs_before_each_201=min(syncs_before_ack), sqlite="journal_mode=WAL, "
            "synchronous=FULL")


def _syncs_before_each_201(trace: str) -> list[int]:
    """For each '201' answer sent, the syncs of labels.sqlite3-wal since the last one."""
    counts, syncs = [], 0
    for line in trace.splitlines():
        if ("fsync(" in line or "fdatasync(" in line) and "labels.sqlite3-wal" in line:
            syncs += 1
        elif "sendto(" in line and "HTTP/1.1 201" in line or (
                "write(" in line and "HTTP/1.1 201" in line):
            counts.append(syncs)
            syncs = 0
    return counts
