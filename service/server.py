"""Run the app under gunicorn (``headline-sieve serve``), never Flask's dev server.

The master prepares the home directory (registry with the bundled model,
stale jobs failed) and an empty Prometheus multiprocess directory before
forking; each worker then builds its own app with
:func:`service.app.create_app`. ``child_exit`` tells the metrics library
that a worker died, so its live gauges are dropped.

The metrics directory is a private temporary directory in memory
(``/dev/shm`` where there is one), removed when the server stops, not a
folder of the home directory: the library writes its files through
``mmap``, and a page that cannot be allocated on a full disk kills the
worker with SIGBUS.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from service.config import MULTIPROC_ENV, Settings

log = logging.getLogger(__name__)

METRICS_PREFIX = "headline-sieve-metrics-"
SHARED_MEMORY = Path("/dev/shm")
_NEWER_GUNICORN_OPTIONS = frozenset({"control_socket_disable"})


class _HiddenModule:
    """An import finder under which ``import NAME`` (or a submodule) fails."""

    def __init__(self, name: str):
        self.name = name

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ModuleNotFoundError(f"{self.name} is hidden in this process "
                                      "(service.server.hide_pandas)", name=fullname)
        return None


def hide_pandas() -> None:
    """Make ``import pandas`` fail in this process (and the workers it forks).

    scikit-learn imports pandas whenever it is installed (``sklearn.utils.fixes``,
    falling back cleanly without it), and score-archive's Dask needs it
    installed; the service never uses it, and with pyarrow it would add about
    90 MB to every worker. pandas stays out of ``sys.modules`` (scikit-learn
    looks there too), as if it were not installed. Call before anything
    imports scikit-learn.
    """
    if "sklearn" in sys.modules or "pandas" in sys.modules:
        log.debug("scikit-learn or pandas is imported already; pandas stays as it is")
        return
    if not any(isinstance(finder, _HiddenModule) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HiddenModule("pandas"))


def prepare_metrics_dir() -> Path:
    """A new, empty multiprocess metrics directory in memory (``/dev/shm`` if it
    is there and writable, else the temporary directory), exported in the
    environment before the metrics library is imported anywhere.

    Its name carries this process's id; directories left by servers that were
    killed (their process is gone) are removed first.
    """
    base = SHARED_MEMORY if os.access(SHARED_MEMORY, os.W_OK) else Path(tempfile.gettempdir())
    _remove_stale_metrics_dirs(base)
    directory = Path(tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-", dir=base))
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def _remove_stale_metrics_dirs(base: Path) -> None:
    from service.stores.storage import pid_alive

    for path in base.glob(f"{METRICS_PREFIX}*-*"):
        pid = path.name[len(METRICS_PREFIX):].partition("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


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
    hide_pandas()
    logging.getLogger("service").setLevel(settings.log_level.upper())
    settings.home.mkdir(parents=True, exist_ok=True)
    metrics_dir = prepare_metrics_dir()  # before anything imports the metrics library
    try:
        version = _prepare_home(settings)
        log.info("serving model %s from %s on http://%s:%d with %d worker(s)", version,
                 settings.home, settings.host, settings.port, settings.workers)
        _run_gunicorn(settings)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _prepare_home(settings: Settings) -> str:
    """Registry, database schemas and dead jobs, before any worker starts; the
    active version. A registry that cannot be written, a database that cannot
    be reached or migrated: one clear error, and no worker starts."""
    from service.state import open_stores, tolerating_storage
    from service.stores.registry import open_registry

    database = settings.open_database()  # checked first: a bad URL changes nothing
    jobs, _, _ = open_stores(settings, database, tolerate_unreachable=False)
    registry = open_registry(settings)
    registry.check_writable()
    version = registry.ensure_initialized().active
    log.info("database %s, model registry %s", database.describe(), registry.root)
    tolerating_storage(lambda: _report_reaped(jobs.reap()), True, "marking dead jobs failed")
    database.close()  # the workers open their own after the fork
    return version


def _run_gunicorn(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

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


def _report_reaped(count: int) -> None:
    if count:
        log.warning("%d retraining job(s) left running by a stopped server marked failed", count)
