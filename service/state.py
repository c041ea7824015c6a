"""Per-application state: the stores and the active model of one Flask app.

Created by :func:`service.app.create_app` and kept in
``app.extensions["headline_sieve"]``, so two apps (two tests, or two
simulated workers) never share anything but the files in their home.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from service.active_model import ActiveModel
from service.config import Settings
from service.stores.jobs import JobStore
from service.stores.labels import LabelStore
from service.metrics import ServiceMetrics, StateCollector
from service.stores.pools import PoolStore
from service.stores.registry import Registry
from service.stores.storage import storage_problem
from service.stores.tokens import TokenStore

log = logging.getLogger(__name__)
EXTENSION = "headline_sieve"


@dataclass
class ServiceState:
    settings: Settings
    registry: Registry
    models: ActiveModel
    labels: LabelStore
    jobs: JobStore
    tokens: TokenStore
    metrics: ServiceMetrics
    pools: PoolStore

    @classmethod
    def open(cls, settings: Settings) -> "ServiceState":
        """Open (and on first use create) every store under ``settings.home``.

        On a home directory that exists but is full or read-only now, the
        housekeeping writes (stale temporaries, dead jobs) are skipped with a
        warning, so that a worker started meanwhile still boots and scores.
        """
        settings.home.mkdir(parents=True, exist_ok=True)
        registry = Registry(settings.home, keep_versions=settings.keep_versions)
        tolerating_storage(registry.ensure_initialized, registry.index_path.exists(),
                           "model registry housekeeping")
        jobs = JobStore(settings.home)
        tolerating_storage(jobs.reap, True, "marking dead retraining jobs failed")
        labels = LabelStore(settings.home)
        metrics = ServiceMetrics(StateCollector(registry, labels, jobs))
        return cls(settings, registry, ActiveModel(registry), labels, jobs,
                   TokenStore(settings.home), metrics, PoolStore(settings.home))


def tolerating_storage(step: Callable[[], object], skippable: bool, what: str) -> None:
    """Run ``step``; if ``skippable`` and it fails because the disk is full or
    read-only, log a warning instead of failing."""
    try:
        step()
    except (sqlite3.OperationalError, OSError) as exc:
        if not skippable or storage_problem(exc) is None:
            raise
        log.warning("%s skipped: the home directory cannot be written now (%s)", what, exc)


def get_state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions[EXTENSION]
