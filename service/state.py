"""Per-application state: the stores and the active model of one Flask app.

Created by :func:`service.app.create_app` and kept in
``app.extensions["headline_sieve"]``, so two apps (two tests, or two
simulated workers) never share anything but their database, registry and
home directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from service.active_model import ActiveModel
from service.config import Settings
from service.metrics import ServiceMetrics, StateCollector
from service.stores.database import Database, DatabaseUnreachable
from service.stores.jobs import JobStore
from service.stores.labels import LabelStore
from service.stores.pools import PoolStore
from service.stores.registry import Registry, open_registry
from service.stores.storage import storage_problem
from service.stores.tokens import TokenStore

log = logging.getLogger(__name__)
EXTENSION = "headline_sieve"


@dataclass
class ServiceState:
    settings: Settings
    database: Database
    registry: Registry
    models: ActiveModel
    labels: LabelStore
    jobs: JobStore
    tokens: TokenStore
    metrics: ServiceMetrics
    pools: PoolStore

    @classmethod
    def open(cls, settings: Settings) -> "ServiceState":
        """Open (and on first use create) the database, the registry and the
        pools of ``settings``.

        On a home directory or registry that exists but is full or read-only
        now, the housekeeping writes (stale temporaries, dead jobs) are
        skipped with a warning, so that a worker started meanwhile still boots
        and scores.
        """
        settings.home.mkdir(parents=True, exist_ok=True)
        registry = open_registry(settings)
        tolerating_storage(registry.ensure_initialized, registry.index_path.exists(),
                           "model registry housekeeping")
        database = settings.open_database()
        jobs, labels, tokens = open_stores(settings, database)
        tolerating_storage(jobs.reap, True, "marking dead retraining jobs failed")
        metrics = ServiceMetrics(StateCollector(registry, labels, jobs))
        return cls(settings, database, registry, ActiveModel(registry), labels, jobs,
                   tokens, metrics, PoolStore(settings.home))


def open_stores(settings: Settings, database: Database, tolerate_unreachable: bool = True):
    """The job, label and token stores, their tables created or migrated.

    With ``tolerate_unreachable``, a worker that starts while the database
    server is down (the master checked it at start) still boots: it scores,
    and answers 503 where it needs the database until the server is back.
    Without it (``serve`` at start), that is an error.
    """
    def stores(prepare: bool):
        return (JobStore(database, settings.job_heartbeat_timeout, prepare=prepare),
                LabelStore(database, prepare=prepare),
                TokenStore(database, settings.home, prepare=prepare))
    try:
        return stores(prepare=True)
    except DatabaseUnreachable as exc:
        if not tolerate_unreachable:
            raise
        log.error("%s; scoring goes on, what needs the database answers 503", exc)
        return stores(prepare=False)


def tolerating_storage(step: Callable[[], object], skippable: bool, what: str) -> None:
    """Run ``step``; if ``skippable`` and it fails because the disk is full or
    read-only, log a warning instead of failing."""
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - only storage failures are skipped
        if not skippable or storage_problem(exc) is None:
            raise
        log.warning("%s skipped: the home directory cannot be written now (%s)", what, exc)


def get_state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions[EXTENSION]
