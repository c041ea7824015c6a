"""``/healthz`` (the process answers) and ``/readyz`` (a model is loaded)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from service.active_model import ModelUnavailable
from service.schemas import Health, Ready
from service.state import get_state
from service.views.errors import ApiError
from service.views.spec import endpoint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@endpoint("Liveness", operation_id="healthz", responses={200: Health})
def healthz():
    """200 with the registry's active version and the one this worker has loaded."""
    state = get_state()
    loaded = state.models.loaded
    return jsonify({"status": "ok", "model": state.registry.read().active,
                    "loaded_model": loaded.version if loaded else None})


@bp.get("/readyz")
@endpoint("Readiness: a model is loaded in this worker", operation_id="readyz",
          responses={200: Ready}, errors={503: "Not ready (not_ready)"})
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
