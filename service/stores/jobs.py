"""Retraining jobs: their state in SQLite, and the process that runs each one.

The ``jobs`` table lives in ``home/labels.sqlite3`` beside the labels, so
every worker answers ``GET /v1/jobs/<id>`` the same way. A job runs in its
own process (``python -m service.retrain_worker``), never in a server
worker: the worker stays responsive, and a crash or kill of the training
cannot corrupt the server. The process records its pid and a heartbeat;
a job whose process is gone (or silent for :data:`STALE_SECONDS`) is
marked failed the next time anyone looks, including at server start.

At most one job is queued or running: :meth:`JobStore.create` checks and
inserts inside one ``BEGIN IMMEDIATE`` transaction, which serialises the
check across processes.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from service.config import Settings
from service.stores.labels import database_path
from service.stores.storage import create_schema, database, pid_alive, transaction, utc_now

log = logging.getLogger(__name__)

STATES = ("queued", "running", "succeeded", "failed")
STALE_SECONDS = 300.0       # no heartbeat for this long: the job is dead
SPAWN_GRACE_SECONDS = 60.0  # a queued job without a process after this long is dead
HEARTBEAT_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    token TEXT,
    pid INTEGER,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    heartbeat REAL NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    progress REAL NOT NULL DEFAULT 0,
    result TEXT NOT NULL DEFAULT '{}'
);
"""
_RESULT_KEYS = ("mode_used", "version", "decision", "reason", "gate", "candidate_metrics",
                "active_metrics", "disagreements", "active_version", "labels", "error")


class JobRunning(Exception):
    """Another job is queued or running; ``job_id`` is its id."""

    def __init__(self, job_id: str):
        super().__init__(f"retraining job {job_id} is still running")
        self.job_id = job_id


class JobStore:
    """Rows of the ``jobs`` table; every method is safe across processes."""

    def __init__(self, home: Path):
        self.path = database_path(home)
        Path(home).mkdir(parents=True, exist_ok=True)
        create_schema(self.path, _SCHEMA)

    def create(self, mode: str, token: str | None) -> str:
        """Insert a queued job and return its id; :class:`JobRunning` if one is active."""
        job_id = secrets.token_hex(8)
        with database(self.path) as connection, transaction(connection, immediate=True):
            self._reap(connection)
            row = connection.execute("SELECT id FROM jobs WHERE state IN ('queued', 'running') "
                                      "ORDER BY created LIMIT 1").fetchone()
            if row:
                raise JobRunning(row["id"])
            connection.execute(
                "INSERT INTO jobs (id, state, mode, token, created, heartbeat, stage) "
                "VALUES (?, 'queued', ?, ?, ?, ?, 'queued')",
                (job_id, mode, token, utc_now(), time.time()))
        return job_id

    def update(self, job_id: str, **fields) -> None:
        """Set columns (``state``, ``pid``, ``stage``, ``progress``, ...) and beat the heart."""
        fields["heartbeat"] = time.time()
        if "result" in fields:
            fields["result"] = json.dumps(fields["result"], ensure_ascii=False)
        columns = ", ".join(f"{name} = ?" for name in fields)
        with database(self.path) as connection:
            connection.execute(f"UPDATE jobs SET {columns} WHERE id = ?",
                               (*fields.values(), job_id))

    def start(self, job_id: str, pid: int) -> None:
        self.update(job_id, state="running", pid=pid, started=utc_now(), stage="starting",
                    progress=0.01)

    def progress(self, job_id: str, stage: str, fraction: float) -> None:
        self.update(job_id, stage=stage, progress=round(float(fraction), 3))

    def succeed(self, job_id: str, result: dict) -> None:
        self.update(job_id, state="succeeded", finished=utc_now(), stage="done", progress=1.0,
                    result=result)

    def fail(self, job_id: str, error: str) -> None:
        self.update(job_id, state="failed", finished=utc_now(), stage="failed",
                    result={"error": error})

    def get(self, job_id: str) -> dict | None:
        """The job as the API shows it, or None. A dead running job is failed first."""
        with database(self.path) as connection:
            with transaction(connection, immediate=True):
                self._reap(connection, job_id)
            row = connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _public(row)

    def process_id(self, job_id: str) -> int | None:
        """The pid of the process running ``job_id`` (for operators and tests), or None."""
        with database(self.path) as connection:
            row = connection.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row["pid"]

    def reap(self) -> int:
        """Mark every queued/running job whose process is gone as failed; return how many."""
        with database(self.path) as connection, transaction(connection, immediate=True):
            return self._reap(connection)

    def outcome_counts(self) -> dict[str, int]:
        """Finished jobs by outcome: ``promoted``, ``rejected``, ``failed``."""
        with database(self.path) as connection:
            rows = connection.execute(
                "SELECT state, json_extract(result, '$.decision') AS decision, COUNT(*) AS n "
                "FROM jobs WHERE state IN ('succeeded', 'failed') "
                "GROUP BY state, decision").fetchall()
        counts = {"promoted": 0, "rejected": 0, "failed": 0}
        for row in rows:
            key = "failed" if row["state"] == "failed" else row["decision"]
            if key in counts:
                counts[key] += row["n"]
        return counts

    def _reap(self, connection, job_id: str | None = None) -> int:
        query = "SELECT id, state, pid, heartbeat FROM jobs WHERE state IN ('queued', 'running')"
        rows = connection.execute(query).fetchall()
        reaped = 0
        for row in rows:
            if job_id is not None and row["id"] != job_id:
                continue
            reason = _death_reason(row)
            if reason:
                log.warning("job %s: %s", row["id"], reason)
                connection.execute(
                    "UPDATE jobs SET state = 'failed', stage = 'failed', finished = ?, "
                    "result = ? WHERE id = ?",
                    (utc_now(), json.dumps({"error": reason}), row["id"]))
                reaped += 1
        return reaped


def _death_reason(row) -> str | None:
    age = time.time() - row["heartbeat"]
    retry = "; start a new one with POST /v1/retrain (the server log has details)"
    if row["pid"] is None:
        if age > SPAWN_GRACE_SECONDS:
            return "the retraining process never started" + retry
        return None
    if not pid_alive(row["pid"]):
        return (f"the retraining process (pid {row['pid']}) ended without reporting a "
                f"result (killed, crashed or the server stopped)" + retry)
    if age > STALE_SECONDS:
        return f"no progress report for {age:.0f} s; the job is considered dead" + retry
    return None


def _public(row) -> dict:
    result = json.loads(row["result"] or "{}")
    job = {"job": row["id"], "state": row["state"], "mode": row["mode"],
           "stage": row["stage"], "progress": row["progress"], "created": row["created"],
           "started": row["started"], "finished": row["finished"]}
    job.update({key: result[key] for key in _RESULT_KEYS if key in result})
    return job


def launch(settings: Settings, jobs: JobStore, job_id: str) -> subprocess.Popen:
    """Start the process that runs ``job_id``; a daemon thread reaps it when it exits."""
    command = [sys.executable, "-m", "service.retrain_worker", "--job", job_id,
               "--settings", settings.to_json()]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except OSError as exc:
        jobs.fail(job_id, f"could not start the retraining process: {exc}")
        raise
    jobs.update(job_id, pid=process.pid)
    threading.Thread(target=_reap_child, args=(process, job_id), daemon=True,
                     name=f"retrain-{job_id}").start()
    return process


def _reap_child(process: subprocess.Popen, job_id: str) -> None:
    status = process.wait()
    if status != 0:
        log.warning("retraining process of job %s exited with status %s", job_id, status)
