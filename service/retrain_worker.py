"""Process entry point of one retraining job: ``python -m service.retrain_worker``.

Started by :func:`service.jobs.launch`. It marks the job running with its
pid, beats a heartbeat while it works, and records the result or the error.
Whatever happens to this process, the server is unaffected; if it dies
without recording anything, the job is marked failed by the next reader.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from service.config import settings_from_json
from service.jobs import HEARTBEAT_SECONDS, JobStore

log = logging.getLogger("service.retrain_worker")


def _heartbeat(jobs: JobStore, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            jobs.update(job_id)
        except Exception:  # noqa: BLE001 - a missed beat is not fatal
            log.exception("heartbeat of job %s failed", job_id)


def run_job(settings, job_id: str) -> bool:
    """Run job ``job_id`` in this process; True if it succeeded."""
    jobs = JobStore(settings.home)
    jobs.start(job_id, os.getpid())
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(jobs, job_id, stop), daemon=True).start()
    try:
        from service.retraining import RetrainError, retrain  # heavy imports after 'running'

        try:
            result = retrain(settings, job_id, lambda stage, f: jobs.progress(job_id, stage, f))
        except RetrainError as exc:
            jobs.fail(job_id, str(exc))
            return False
        jobs.succeed(job_id, result)
        return True
    except BaseException as exc:
        log.exception("retraining job %s failed", job_id)
        jobs.fail(job_id, f"retraining failed: {exc.__class__.__name__}: {exc}".strip())
        if not isinstance(exc, Exception):
            raise
        return False
    finally:
        stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.retrain_worker")
    parser.add_argument("--job", required=True)
    parser.add_argument("--settings", required=True, help="Settings.to_json() of the server")
    args = parser.parse_args(argv)
    settings = settings_from_json(args.settings)
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format=f"%(levelname)s retrain[{args.job}] %(name)s: %(message)s")
    return 0 if run_job(settings, args.job) else 1


if __name__ == "__main__":
    sys.exit(main())
