"""Per-application state: the stores and the active model of one Flask app.

Created by :func:`service.app.create_app` and kept in
``app.extensions["headline_sieve"]``, so two apps (two tests, or two
simulated workers) never share anything but the files in their home.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from service.active_model import ActiveModel
from service.config import Settings
from service.jobs import JobStore
from service.labels import LabelStore
from service.metrics import ServiceMetrics, StateCollector
from service.registry import Registry
from service.tokens import TokenStore

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

    @classmethod
    def open(cls, settings: Settings) -> "ServiceState":
        """Open (and on first use create) every store under ``settings.home``."""
        settings.home.mkdir(parents=True, exist_ok=True)
        registry = Registry(settings.home)
        registry.ensure_initialized()
        jobs = JobStore(settings.home)
        jobs.reap()
        labels = LabelStore(settings.home)
        metrics = ServiceMetrics(StateCollector(registry, labels, jobs))
        return cls(settings, registry, ActiveModel(registry), labels, jobs,
                   TokenStore(settings.home), metrics)


def get_state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions[EXTENSION]
