"""Retraining jobs: their state in the database, and the process that runs each one.

The ``jobs`` table lives in the database beside the labels
(:mod:`service.stores.database`), so every worker of every instance
answers ``GET /v1/jobs/<id>`` the same way. A job runs in its own process
(``python -m service.retrain_worker``), never in a server worker: the
worker stays responsive, and a crash or kill of the training cannot corrupt
the server. The process records its host, its pid and a heartbeat every
:data:`HEARTBEAT_SECONDS`; a job whose process is gone (on this host: the
pid is dead; on any host: no heartbeat for the ``job_heartbeat_timeout``
setting) is marked failed the next time anyone looks, including at server
start.

At most one job is queued or running across all instances:
:meth:`JobStore.create` checks and inserts inside one transaction holding
the database's ``jobs`` lock (``BEGIN IMMEDIATE`` on SQLite, an advisory
lock on PostgreSQL), which serialises the check.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time

from service.config import Settings
from service.stores.database import Connection, Database, prepare_or_explain
from service.stores.storage import pid_alive, utc_now

log = logging.getLogger(__name__)

STATES = ("queued", "running", "succeeded", "failed")
SPAWN_GRACE_SECONDS = 60.0  # a queued job without a process after this long is dead
HEARTBEAT_SECONDS = 5.0
SETTINGS_ENV = "HEADLINE_SIEVE_JOB_SETTINGS"  # the server's settings, for the job's process

_SCHEMA = ("""CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    token TEXT,
    pid INTEGER,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    heartbeat {real} NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    progress {real} NOT NULL DEFAULT 0,
    result TEXT NOT NULL DEFAULT '{{}}'
)""",)
_RESULT_KEYS = ("mode_used", "version", "decision", "reason", "gate", "candidate_metrics",
                "active_metrics", "disagreements", "active_version", "labels", "error")


class JobRunning(Exception):
    """Another job is queued or running; ``job_id`` is its id."""

    def __init__(self, job_id: str):
        super().__init__(f"retraining job {job_id} is still running")
        self.job_id = job_id


def _add_host(db: Database, connection: Connection) -> None:
    """Migrate a table made before jobs recorded their host."""
    if "host" not in db.columns(connection, "jobs"):
        connection.execute("ALTER TABLE jobs ADD COLUMN host TEXT")


def this_host() -> str:
    """The name a job's process records, telling its pid apart from other hosts' pids."""
    return socket.gethostname()


class JobStore:
    """Rows of the ``jobs`` table; every method is safe across processes and hosts.

    ``stale_seconds``: a running job without a heartbeat for this long is dead
    (the ``job_heartbeat_timeout`` setting).
    """

    def __init__(self, db: Database, stale_seconds: float = 300.0, prepare: bool = True):
        self.db = db
        self.stale_seconds = stale_seconds
        if prepare:  # create or migrate the table (False: the caller knows it is there)
            prepare_or_explain(db, "jobs", _SCHEMA, migrate=_add_host)

    def create(self, mode: str, token: str | None) -> str:
        """Insert a queued job and return its id; :class:`JobRunning` if one is active."""
        job_id = secrets.token_hex(8)
        with self.db.transaction("jobs") as connection:
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
        with self.db.connect() as connection:
            connection.execute(f"UPDATE jobs SET {columns} WHERE id = ?",
                               (*fields.values(), job_id))

    def start(self, job_id: str, pid: int) -> None:
        self.update(job_id, state="running", pid=pid, host=this_host(), started=utc_now(),
                    stage="starting", progress=0.01)

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
        with self.db.transaction("jobs") as connection:
            self._reap(connection, job_id)
            row = connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _public(row)

    def process_id(self, job_id: str) -> int | None:
        """The pid of the process running ``job_id`` (for operators and tests), or None."""
        with self.db.connect() as connection:
            row = connection.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row["pid"]

    def reap(self) -> int:
        """Mark every queued/running job whose process is gone as failed; return how many."""
        with self.db.transaction("jobs") as connection:
            return self._reap(connection)

    def outcome_counts(self) -> dict[str, int]:
        """Finished jobs by outcome: ``promoted``, ``rejected``, ``failed``."""
        with self.db.connect() as connection:
            rows = connection.execute("SELECT state, result FROM jobs "
                                      "WHERE state IN ('succeeded', 'failed')").fetchall()
        counts = {"promoted": 0, "rejected": 0, "failed": 0}
        for row in rows:
            key = ("failed" if row["state"] == "failed"
                   else json.loads(row["result"] or "{}").get("decision"))
            if key in counts:
                counts[key] += 1
        return counts

    def _reap(self, connection, job_id: str | None = None) -> int:
        query = ("SELECT id, state, pid, host, heartbeat FROM jobs "
                 "WHERE state IN ('queued', 'running')")
        rows = connection.execute(query).fetchall()
        reaped = 0
        for row in rows:
            if job_id is not None and row["id"] != job_id:
                continue
            reason = _death_reason(row, self.stale_seconds)
            if reason:
                log.warning("job %s: %s", row["id"], reason)
                connection.execute(
                    "UPDATE jobs SET state = 'failed', stage = 'failed', finished = ?, "
                    "result = ? WHERE id = ?",
                    (utc_now(), json.dumps({"error": reason}), row["id"]))
                reaped += 1
        return reaped


def _death_reason(row, stale_seconds: float) -> str | None:
    """Why the queued or running job ``row`` is dead, or None if it may be alive."""
    age = time.time() - row["heartbeat"]
    retry = "; start a new one with POST /v1/retrain (the server log has details)"
    if row["pid"] is None:
        if age > SPAWN_GRACE_SECONDS:
            return "the retraining process never started" + retry
        return None
    # A pid says something only on the host that recorded it (no host: a row
    # from before hosts were recorded, when every job ran on this machine).
    if row["host"] in (None, this_host()) and not pid_alive(row["pid"]):
        return (f"the retraining process (pid {row['pid']}) ended without reporting a "
                f"result (killed, crashed or the server stopped)" + retry)
    if age > stale_seconds:
        where = f" on {row['host']}" if row["host"] else ""
        return (f"no heartbeat from the retraining process{where} for {age:.0f} s; the job "
                "is considered dead" + retry)
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
    # The settings go in the environment, not the command line: a database
    # URL's password must not show in every user's ``ps``.
    command = [sys.executable, "-m", "service.retrain_worker", "--job", job_id]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1",
                                        SETTINGS_ENV: settings.to_json()})
    except OSError as exc:
        jobs.fail(job_id, f"could not start the retraining process: {exc}")
        raise
    jobs.update(job_id, pid=process.pid, host=this_host())
    threading.Thread(target=_reap_child, args=(process, job_id), daemon=True,
                     name=f"retrain-{job_id}").start()
    return process


def _reap_child(process: subprocess.Popen, job_id: str) -> None:
    status = process.wait()
    if status != 0:
        log.warning("retraining process of job %s exited with status %s", job_id, status)
