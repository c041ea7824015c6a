"""``POST /v1/retrain`` starts a retraining job; ``GET /v1/jobs/<id>`` follows it."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, g, jsonify, url_for

from service.schemas import Job, JobStarted, RetrainRequest
from service.state import get_state
from service.stores.jobs import JobRunning, launch
from service.views.auth import token_required
from service.views.errors import ApiError
from service.views.spec import endpoint

bp = Blueprint("jobs", __name__)


@bp.post("/v1/retrain")
@token_required
@endpoint("Start a retraining job", operation_id="retrain", body=RetrainRequest,
          body_required=False, responses={202: JobStarted},
          errors={400: None, 409: "A job is running (job_running, error.job names it)",
                  422: None, 503: None, 507: None},
          description="Trains a candidate in the background; the quality gate promotes it "
                      "or rejects it. One job at a time.")
def start_retrain(body: RetrainRequest):
    """202 with the new job's id; 409 with the running job's id if one is running.

    Optional body: ``{"mode": "auto" | "corpora" | "labels"}`` (default: the
    ``retrain_mode`` setting).
    """
    state = get_state()
    mode = body.mode or state.settings.retrain_mode
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
@endpoint("A retraining job", operation_id="getJob", responses={200: Job}, errors=(404, 503))
def get_job(job_id: str):
    """State, progress, metrics, decision and reason of a job."""
    job = get_state().jobs.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no retraining job {job_id!r}; POST /v1/retrain "
                                         "answers with the id of the job it starts")
    return jsonify(job)
