"""``POST /v1/score``: score a batch of headlines with the active model."""

from __future__ import annotations

from flask import Blueprint, jsonify

from service.schemas import ScoreRequest, ScoreResponse
from service.state import get_state
from service.views.auth import token_required
from service.views.spec import endpoint

bp = Blueprint("scoring", __name__)


@bp.post("/v1/score")
@token_required(setting="score_requires_token")
@endpoint("Score headlines", operation_id="score", body=ScoreRequest,
          responses={200: ScoreResponse}, errors=(400, 413, 422, 503),
          description="All results come from one model version. Needs a token only when "
                      "score_requires_token is set.")
def score(body: ScoreRequest):
    """Scores in input order, all from one model version (held for the whole request)."""
    state = get_state()
    headlines = body.texts()
    model = state.models.get()
    results = model.score(headlines, explain=body.explain, threshold=body.threshold)
    state.metrics.scored.inc(len(results))
    if state.settings.store_scored:  # the operator chose to keep them for the labelling page
        state.pools.add("scored", headlines)
    return jsonify({"model": model.version,
                    "threshold": model.threshold if body.threshold is None else body.threshold,
                    "results": [result.to_dict() for result in results]})

