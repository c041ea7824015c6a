"""Process entry point of one retraining job: ``python -m service.retrain_worker``.

Started by :func:`service.stores.jobs.launch`. It marks the job running with its
pid, beats a heartbeat while it works, and records the result or the error.
Whatever happens to this process, the server is unaffected; if it dies
without recording anything, the job is marked failed by the next reader.

Fault injection, for tests only: if the environment variable
``HEADLINE_SIEVE_TEST_STOP_AT`` names a phase (:data:`PHASES`), this process
sends itself SIGSTOP when it reaches that phase, so that a test can kill -9
the service at a known point (tests/test_reliability_crash.py). The
variable is read only here, never by the server; unset (the default),
nothing happens.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from service.config import settings_from_json
from service.stores.jobs import HEARTBEAT_SECONDS, SETTINGS_ENV, JobStore
from service.stores.storage import storage_problem

log = logging.getLogger("service.retrain_worker")

STOP_AT_ENV = "HEADLINE_SIEVE_TEST_STOP_AT"
# training: labels read, nothing fitted; writing: the candidate is complete in its
# temporary directory, not renamed; promoting: candidate listed, the index with the
# new active pointer durable beside registry.json, not renamed over it; promoted:
# pointer flipped, the job's result not recorded yet.
PHASES = ("training", "writing", "promoting", "promoted")


def checkpoint(phase: str) -> None:
    """Stop this process (SIGSTOP) at ``phase`` if :data:`STOP_AT_ENV` names it."""
    if os.environ.get(STOP_AT_ENV) == phase:
        log.warning("%s=%s: stopping at this phase (fault-injection test)", STOP_AT_ENV, phase)
        os.kill(os.getpid(), signal.SIGSTOP)


def _heartbeat(jobs: JobStore, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            jobs.update(job_id)
        except Exception:  # noqa: BLE001 - a missed beat is not fatal
            log.exception("heartbeat of job %s failed", job_id)


def run_job(settings, job_id: str) -> bool:
    """Run job ``job_id`` in this process; True if it succeeded."""
    jobs = JobStore(settings.open_database(), settings.job_heartbeat_timeout)
    jobs.start(job_id, os.getpid())
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(jobs, job_id, stop), daemon=True).start()
    try:
        from service.retraining import RetrainError, retrain  # heavy imports after 'running'

        try:
            result = retrain(settings, job_id, lambda stage, f: jobs.progress(job_id, stage, f),
                             checkpoint)
        except RetrainError as exc:
            jobs.fail(job_id, str(exc))
            return False
        jobs.succeed(job_id, result)
        return True
    except BaseException as exc:
        jobs.fail(job_id, _failure(job_id, exc))
        if not isinstance(exc, Exception):
            raise
        return False
    finally:
        stop.set()


def _failure(job_id: str, exc: BaseException) -> str:
    """The job's error message; logged in one line for a disk problem, with the
    traceback for anything else."""
    problem = storage_problem(exc)
    if problem is None:
        log.exception("retraining job %s failed", job_id)
        return f"retraining failed: {exc.__class__.__name__}: {exc}".strip()
    state = "full" if problem == "full" else "read-only or failing"
    message = (f"retraining failed: the disk of the home directory is {state} ({exc}); "
               "nothing was registered: make room and retrain")
    log.error("job %s: %s", job_id, message)
    return message


def main(argv: list[str] | None = None) -> int:
    from service.server import hide_pandas

    hide_pandas()  # before scikit-learn: the job needs none of pandas' 90 MB either
    parser = argparse.ArgumentParser(prog="python -m service.retrain_worker")
    parser.add_argument("--job", required=True)
    args = parser.parse_args(argv)
    if SETTINGS_ENV not in os.environ:
        parser.error(f"{SETTINGS_ENV} must hold the server's settings (Settings.to_json())")
    settings = settings_from_json(os.environ[SETTINGS_ENV])
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format=f"%(levelname)s retrain[{args.job}] %(name)s: %(message)s")
    return 0 if run_job(settings, args.job) else 1


if __name__ == "__main__":
    sys.exit(main())
