"""``POST /v1/score``: score a batch of headlines with the active model."""

from __future__ import annotations

from flask import Blueprint, jsonify

from service.active_model import ModelUnavailable
from service.views.auth import token_required
from service.views.errors import ApiError
from service.state import get_state
from service.views.validation import (headline_text, item_list, json_body, optional_bool,
                                optional_probability)

bp = Blueprint("scoring", __name__)


def _headlines(body: dict, max_batch: int, max_chars: int) -> list[str]:
    if ("headline" in body) == ("headlines" in body):
        raise ApiError(400, "invalid_type", 'send either "headlines": [...] or "headline": "..."',
                       field="headlines")
    if "headline" in body:
        return [headline_text("headline", body["headline"], max_chars)]
    items = item_list("headlines", body["headlines"], max_batch)
    return [headline_text(f"headlines[{i}]", item, max_chars) for i, item in enumerate(items)]


@bp.post("/v1/score")
@token_required(setting="score_requires_token")
def score():
    """Scores in input order, all from one model version (held for the whole request)."""
    state = get_state()
    settings = state.settings
    body = json_body()
    headlines = _headlines(body, settings.max_batch, settings.max_headline_chars)
    explain = optional_bool(body, "explain")
    threshold = optional_probability(body, "threshold")
    try:
        model = state.models.get()
    except ModelUnavailable as exc:
        raise ApiError(503, "model_unavailable", f"no model loaded: {exc}",
                       headers={"Retry-After": "5"}) from None
    results = model.score(headlines, explain=explain, threshold=threshold)
    state.metrics.scored.inc(len(results))
    if settings.store_scored:  # the operator chose to keep them for the labelling page
        state.pools.add("scored", headlines)
    return jsonify({"model": model.version,
                    "threshold": model.threshold if threshold is None else threshold,
                    "results": [result.to_dict() for result in results]})
