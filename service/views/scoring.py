"""``POST /v1/score``: score a batch of headlines with the active model.

Two paths answer it. The Flask view below is the reference: it validates,
authenticates, handles CORS and every error. :class:`LeanScoring` wraps the
app's WSGI callable and answers the common request itself — a body of
declared length within the limit, orjson-parsable, valid, from a client that
needs no token and sends no ``Origin`` to a service with CORS on — with the
same status, headers, body and metrics, without Flask's request context,
routing and hooks (in process, a one-headline request takes 82-88 us on it
against 280 us through Flask; under gunicorn, about half of the worker's
time per request). Any other request, and any request the lean path cannot
finish, is handed to Flask with its body replayed, so every error answer
comes from the one place. tests/test_service_lean_scoring.py holds the two paths to
byte-equal answers.
"""

from __future__ import annotations

import io
import logging
import time

import orjson
from flask import Blueprint, Flask, jsonify
from pydantic import ValidationError

from service.active_model import ModelUnavailable
from service.schemas import ScoreRequest, ScoreResponse
from service.state import EXTENSION, ServiceState, get_state
from service.views.auth import token_needed, token_required
from service.views.spec import endpoint

log = logging.getLogger(__name__)
bp = Blueprint("scoring", __name__)
RULE = "/v1/score"


@bp.post(RULE)
@token_required(setting="score_requires_token")
@endpoint("Score headlines", operation_id="score", body=ScoreRequest,
          responses={200: ScoreResponse}, errors=(400, 413, 422, 503),
          description="All results come from one model version. Needs a token only when "
                      "score_requires_token is set.")
def score(body: ScoreRequest):
    """Scores in input order, all from one model version (held for the whole request)."""
    return jsonify(answer(get_state(), body))


def answer(state: ServiceState, body: ScoreRequest) -> dict:
    """The answer to a valid request (the view's and the lean path's); counts the
    headlines scored and, with ``store_scored``, keeps them for the labelling page."""
    headlines = body.texts()
    model = state.models.get()
    results = model.score(headlines, explain=body.explain, threshold=body.threshold)
    if state.settings.store_scored:
        state.pools.add("scored", headlines)
    state.metrics.scored.inc(len(results))
    return {"model": model.version,
            "threshold": model.threshold if body.threshold is None else body.threshold,
            "results": [result.to_dict() for result in results]}


class LeanScoring:
    """WSGI middleware: answers a plain, valid ``POST /v1/score`` without Flask
    (see the module docstring); ``flask_app`` (the wrapped callable) answers
    everything else."""

    def __init__(self, app: Flask):
        self.flask_app = app.wsgi_app
        self.state: ServiceState = app.extensions[EXTENSION]
        self.json = app.json
        self.context = {"settings": self.state.settings}
        # the view's own rule; a request that needs a token is Flask's to check
        self.needs_token = token_needed(score, self.state.settings)

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO") != RULE or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_app(environ, start_response)
        started = time.perf_counter()
        data = self._body(environ)
        body = self._answer(data) if data is not None else None
        if body is None:
            return self.flask_app(environ, start_response)
        start_response("200 OK", [("Content-Type", self.json.mimetype),
                                  ("Content-Length", str(len(body)))])
        self.state.metrics.record(RULE, "POST", 200, time.perf_counter() - started)
        return [body]

    def _body(self, environ: dict) -> bytes | None:
        """The body, read and put back for Flask; None if Flask should read it."""
        settings = self.state.settings
        if self.needs_token or (settings.cors_origins and environ.get("HTTP_ORIGIN")):
            return None
        length = environ.get("CONTENT_LENGTH", "")
        if not (length.isascii() and length.isdigit()) or int(length) > settings.max_body_bytes:
            return None
        data = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(data)
        return data

    def _answer(self, data: bytes) -> bytes | None:
        """The 200 body for ``data``, or None: Flask answers (with the error)."""
        try:
            request = ScoreRequest.model_validate(orjson.loads(data), context=self.context)
            return self.json.body(answer(self.state, request))
        except (orjson.JSONDecodeError, ValidationError, ModelUnavailable):
            return None
        except Exception:  # noqa: BLE001 - Flask answers it again, with its error handlers
            log.debug("the lean scoring path handed a request to Flask", exc_info=True)
            return None
