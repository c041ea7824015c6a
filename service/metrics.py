"""Prometheus metrics, with the official client library.

Per request (in each worker): ``headline_sieve_http_requests_total`` and
``headline_sieve_http_request_duration_seconds`` by endpoint (the URL rule,
so ids do not explode the label set), method and status;
``headline_sieve_headlines_scored_total``; ``headline_sieve_labels_received_total``.

Read from the shared state at scrape time, so every worker reports the same:
``headline_sieve_active_model_info{version}``, ``headline_sieve_labels_stored``,
``headline_sieve_labelled_headlines`` and
``headline_sieve_retrain_jobs_total{outcome}`` (promoted, rejected, failed).

Under ``headline-sieve serve`` (several gunicorn workers) the client runs in
multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` is set before any worker
starts, each worker writes its samples there, and ``/metrics`` aggregates
all workers with :class:`prometheus_client.multiprocess.MultiProcessCollector`.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from service.config import MULTIPROC_ENV
from service.views.spec import endpoint

log = logging.getLogger(__name__)
EXTENSION = "headline_sieve_metrics"  # app.extensions key of the app's ServiceMetrics

bp = Blueprint("metrics", __name__)


class StateCollector:
    """Collects the metrics that come from the shared state (registry, SQLite)."""

    def __init__(self, registry, labels, jobs):
        self.registry = registry
        self.labels = labels
        self.jobs = jobs

    def collect(self):
        try:
            active = self.registry.read().active
            info = InfoMetricFamily("headline_sieve_active_model",
                                    "Model version the registry marks active")
            info.add_metric([], {"version": active})
            yield info
            stored, distinct = self.labels.counts()
            yield GaugeMetricFamily("headline_sieve_labels_stored",
                                    "Labels stored (history included)", value=stored)
            yield GaugeMetricFamily("headline_sieve_labelled_headlines",
                                    "Distinct normalised headlines with a label", value=distinct)
            outcomes = CounterMetricFamily("headline_sieve_retrain_jobs",
                                           "Finished retraining jobs by outcome",
                                           labels=["outcome"])
            for outcome, count in sorted(self.jobs.outcome_counts().items()):
                outcomes.add_metric([outcome], count)
            yield outcomes
        except Exception:  # noqa: BLE001 - a scrape must not fail because of one source
            log.exception("collecting state metrics failed")


class ServiceMetrics:
    """The metric objects of one app, in their own (resettable) registry."""

    def __init__(self, state_collector: StateCollector):
        self.state_collector = state_collector
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("headline_sieve_http_requests", "HTTP requests handled",
                                ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram("headline_sieve_http_request_duration_seconds",
                                 "Time to handle a request", ["endpoint", "method"],
                                 registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.scored = Counter("headline_sieve_headlines_scored", "Headlines scored",
                              registry=self.registry)
        self.labels_received = Counter("headline_sieve_labels_received", "Labels received",
                                       registry=self.registry)
        if not self.multiprocess:
            self.registry.register(state_collector)

    @property
    def multiprocess(self) -> bool:
        return bool(os.environ.get(MULTIPROC_ENV))

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.state_collector)
        return generate_latest(registry)

    def install(self, app: Flask) -> None:
        """Time and count every request of ``app``; ``/metrics`` serves this object."""
        app.extensions[EXTENSION] = self
        app.before_request(_start_timer)
        app.after_request(self._record)

    def record(self, endpoint: str, method: str, status: int, seconds: float | None) -> None:
        """Count one request (``endpoint``: its URL rule) and its time, if measured."""
        self.requests.labels(endpoint, method, str(status)).inc()
        if seconds is not None:
            self.latency.labels(endpoint, method).observe(seconds)

    def _record(self, response: Response) -> Response:
        started = g.pop("request_started", None)
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        self.record(endpoint, request.method, response.status_code,
                    None if started is None else time.perf_counter() - started)
        return response


def _start_timer() -> None:
    g.request_started = time.perf_counter()


@bp.get("/metrics")
@endpoint("Prometheus metrics (text format)", operation_id="metrics",
          responses={200: ("Prometheus text exposition format", "text/plain")})
def metrics() -> Response:
    return Response(current_app.extensions[EXTENSION].exposition(),
                    mimetype=CONTENT_TYPE_LATEST)
