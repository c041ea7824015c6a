"""The Flask application factory of the headline-sieve HTTP service.

``create_app()`` is what gunicorn runs (``service.app:create_app()``); tests
call it with a temporary home. Each blueprint module below owns one concern
and exposes ``bp``; each of its views declares its operation with
:func:`service.views.spec.endpoint`, from which ``/openapi.json`` is
generated. Adding a concern is one line in :data:`BLUEPRINT_MODULES`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from flask import Flask, Response, request

from service import metrics
from service.active_model import ModelUnavailable
from service.config import Settings, load_settings
from service.json_io import OrjsonProvider
from service.state import EXTENSION, ServiceState, get_state
from service.views import (health, jobs, label_page, labels, models, openapi, page_filter,
                           queue, scoring)
from service.views.errors import ApiError, register_error_handlers

log = logging.getLogger(__name__)

BLUEPRINT_MODULES = [
    health,
    scoring,
    page_filter,
    labels,
    jobs,
    models,
    queue,
    label_page,
    metrics,
    openapi,
]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the WSGI app on ``settings`` (default: :func:`service.config.load_settings`).

    ``overrides`` replace single settings, e.g. ``create_app(home=tmp_path)``.
    Opens the stores under the home directory, registering the bundled model
    on first use, and (with ``warm_up``) loads the active model in the
    background; ``/readyz`` answers 200 once it is loaded.
    """
    if settings is None:
        settings = load_settings(overrides)
    elif overrides:
        settings = dataclasses.replace(settings, **overrides)
    logging.getLogger("service").setLevel(settings.log_level.upper())

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = OrjsonProvider(app)  # readable UTF-8 text, not "\\u592e..." escapes
    state = ServiceState.open(settings)
    app.extensions[EXTENSION] = state

    state.metrics.install(app)
    app.before_request(_reject_oversized_body)
    app.after_request(_cors_headers)
    register_error_handlers(app)
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.bp)
    app.wsgi_app = scoring.LeanScoring(app)  # the common POST /v1/score, without Flask

    if settings.warm_up:
        threading.Thread(target=_warm_up, args=(state,), daemon=True, name="warm-up").start()
    return app


def _warm_up(state: ServiceState) -> None:
    try:
        state.models.get()
    except ModelUnavailable as exc:
        log.error("no model to serve: %s", exc)


def _reject_oversized_body() -> None:
    """413 from the Content-Length alone, before any view reads the body (any content type).

    Bodies without a Content-Length (chunked) are cut off by Werkzeug at
    ``MAX_CONTENT_LENGTH`` while being read, also with 413.
    """
    limit = get_state().settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large",
                       f"the request body is {request.content_length} bytes; the limit is "
                       f"{limit}: send fewer or shorter items per request", limit=limit)


def _cors_headers(response: Response) -> Response:
    origins = get_state().settings.cors_origins
    origin = request.headers.get("Origin")
    if not origins or not origin:
        return response
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return response
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = response.headers.get(
            "Allow", "GET, POST, OPTIONS")
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response
