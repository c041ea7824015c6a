"""``/healthz`` (the process answers) and ``/readyz`` (a model is loaded)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from service.active_model import ModelUnavailable
from service.views.errors import ApiError
from service.state import get_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the registry's active version and the one this worker has loaded."""
    state = get_state()
    loaded = state.models.loaded
    return jsonify({"status": "ok", "model": state.registry.read().active,
                    "loaded_model": loaded.version if loaded else None})


@bp.get("/readyz")
def readyz():
    """200 once this worker has a model to score with, else 503."""
    state = get_state()
    if state.models.loaded is None:
        raise ApiError(503, "not_ready", state.models.last_error or "the model is still loading")
    try:
        model = state.models.get()
    except ModelUnavailable as exc:
        raise ApiError(503, "not_ready", str(exc)) from None
    return jsonify({"status": "ready", "model": model.version})
