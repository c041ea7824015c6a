"""``POST /v1/retrain`` starts a retraining job; ``GET /v1/jobs/<id>`` follows it."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, g, jsonify, url_for

from service.views.auth import token_required
from service.config import RETRAIN_MODES
from service.views.errors import ApiError
from service.stores.jobs import JobRunning, launch
from service.state import get_state
from service.views.validation import invalid_value, json_body, wrong_type

bp = Blueprint("jobs", __name__)


@bp.post("/v1/retrain")
@token_required
def start_retrain():
    """202 with the new job's id; 409 with the running job's id if one is running.

    Optional body: ``{"mode": "auto" | "corpora" | "labels"}`` (default: the
    ``retrain_mode`` setting).
    """
    state = get_state()
    body = json_body(required=False)
    mode = body.get("mode", state.settings.retrain_mode)
    if not isinstance(mode, str):
        raise wrong_type("mode", "a string", mode)
    if mode not in RETRAIN_MODES:
        raise invalid_value("mode", f"must be one of {', '.join(RETRAIN_MODES)}, not {mode!r}")
    try:
        job_id = state.jobs.create(mode, g.token_name)
    except JobRunning as exc:
        raise ApiError(409, "job_running", f"retraining job {exc.job_id} is still running; "
                       f"follow it at /v1/jobs/{exc.job_id} and retry when it has finished",
                       job=exc.job_id) from None
    settings = state.settings
    if mode != settings.retrain_mode:
        settings = replace(settings, retrain_mode=mode)
    try:
        launch(settings, state.jobs, job_id)
    except OSError:
        raise ApiError(500, "internal_error", "could not start the retraining process; "
                       "the error is in the server log") from None
    location = url_for("jobs.get_job", job_id=job_id)
    return jsonify({"job": job_id, "state": "queued", "url": location}), 202, {
        "Location": location}


@bp.get("/v1/jobs/<job_id>")
def get_job(job_id: str):
    """State, progress, metrics, decision and reason of a job."""
    job = get_state().jobs.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no retraining job {job_id!r}; POST /v1/retrain "
                                         "answers with the id of the job it starts")
    return jsonify(job)
