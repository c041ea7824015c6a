"""Run the app under gunicorn (``headline-sieve serve``), never Flask's dev server.

The master prepares the home directory (registry with the bundled model,
stale jobs failed) and an empty Prometheus multiprocess directory
(``home/prometheus``) before forking; each worker then builds its own app
with :func:`service.app.create_app`. ``child_exit`` tells the metrics
library that a worker died, so its live gauges are dropped.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from service.config import Settings

log = logging.getLogger(__name__)

METRICS_DIR = "prometheus"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_NEWER_GUNICORN_OPTIONS = frozenset({"control_socket_disable"})


def prepare_metrics_dir(home: Path) -> Path:
    """An empty multiprocess metrics directory under ``home``, exported in the
    environment before the metrics library is imported anywhere."""
    directory = Path(home) / METRICS_DIR
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def _child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def gunicorn_options(settings: Settings) -> dict:
    """gunicorn settings for ``settings`` (sync workers: scoring is CPU-bound)."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "sync",
        "timeout": settings.timeout,
        "graceful_timeout": 30,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        "errorlog": "-",
        "child_exit": _child_exit,
        "proc_name": "headline-sieve",
        # gunicorn >= 25.1 otherwise opens a management socket (worker count,
        # shutdown) at $HOME/.gunicorn/gunicorn.ctl, one path shared by every
        # instance of the user; the service needs none.
        "control_socket_disable": True,
    }


def serve(settings: Settings) -> None:
    """Prepare ``settings.home`` and run gunicorn until it is stopped (SIGINT/SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    logging.getLogger("service").setLevel(settings.log_level.upper())
    settings.home.mkdir(parents=True, exist_ok=True)
    prepare_metrics_dir(settings.home)
    from service.jobs import JobStore
    from service.registry import Registry

    version = Registry(settings.home).ensure_initialized().active
    reaped = JobStore(settings.home).reap()
    if reaped:
        log.warning("%d retraining job(s) left running by a stopped server marked failed", reaped)
    log.info("serving model %s from %s on http://%s:%d with %d worker(s)", version,
                settings.home, settings.host, settings.port, settings.workers)

    class _Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings).items():
                if key in _NEWER_GUNICORN_OPTIONS and key not in self.cfg.settings:
                    continue  # an older gunicorn without that feature
                self.cfg.set(key, value)

        def load(self):
            from service.app import create_app

            return create_app(settings)

    _Application().run()
