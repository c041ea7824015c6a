"""The labelling queue: ``GET /v1/pools``, ``POST /v1/pools/uploaded``, ``GET /v1/queue``.

The editors' page (``/label``) asks for the headlines most worth labelling
(:func:`training.queue.most_useful`) from a pool the operator offers: the
corpora's unlabeled headlines, a file of headlines uploaded here, or, only
when ``store_scored`` is on, headlines recently sent to ``/v1/score``.
Headlines already labelled are never offered again.
"""

from __future__ import annotations

import threading

import numpy as np
from flask import Blueprint, jsonify, request

from model.normalize import normalize_many
from service.active_model import ModelUnavailable
from service.views.auth import token_required
from service.views.errors import ApiError
from service.stores.pools import POOLS, unlabeled_pool
from service.state import get_state
from service.views.validation import headline_text, invalid_value, item_list, json_body, query_int
from training.queue import most_useful

bp = Blueprint("queue", __name__)
QUEUE_MAX = 100
_CACHE_LOCK = threading.Lock()
_UNLABELED: dict[str, list[str] | None] = {}  # data dir -> its pool, read once per process


def _unlabeled(state) -> list[str] | None:
    key = str(state.settings.resolved_data_dir())
    with _CACHE_LOCK:
        if key not in _UNLABELED:
            _UNLABELED[key] = unlabeled_pool(state.settings.resolved_data_dir())
        return _UNLABELED[key]


def _pool(state, name: str) -> list[str] | None:
    if name == "unlabeled":
        return _unlabeled(state)
    if name == "scored" and not state.settings.store_scored:
        return None
    return state.pools.headlines(name)


@bp.get("/v1/pools")
@token_required
def list_pools():
    """Each pool: whether it can be used here, and how many headlines it holds."""
    state = get_state()
    answer = {}
    for name in POOLS:
        headlines = _pool(state, name)
        answer[name] = {"available": headlines is not None,
                        "count": 0 if headlines is None else len(headlines)}
    answer["scored"]["note"] = ("store_scored is on: recently scored headlines are kept"
                                if state.settings.store_scored else
                                "store_scored is off: scored headlines are not stored")
    return jsonify({"pools": answer})


@bp.post("/v1/pools/uploaded")
@token_required
def upload():
    """Add headlines to the uploaded pool: ``{"headlines": [...]}``."""
    state = get_state()
    body = json_body()
    items = item_list("headlines", body.get("headlines"), state.settings.max_batch)
    headlines = [headline_text(f"headlines[{i}]", item, state.settings.max_headline_chars)
                 for i, item in enumerate(items)]
    return jsonify({"added": state.pools.add("uploaded", headlines),
                    "count": state.pools.count("uploaded")}), 201


@bp.get("/v1/queue")
@token_required
def queue():
    """The ``n`` headlines of ``pool`` most worth labelling, with p_clickbait and
    the n-grams that weigh most in it."""
    state = get_state()
    name = request.args.get("pool", "unlabeled")
    if name not in POOLS:
        raise invalid_value("pool", f"must be one of {', '.join(POOLS)}, not {name!r}")
    n = query_int("n", 20, 1, QUEUE_MAX)
    headlines = _pool(state, name)
    if headlines is None:
        raise ApiError(409, "pool_unavailable", f"the {name} pool is not available here: "
                       + ("turn store_scored on to keep scored headlines" if name == "scored"
                          else "its files are not in the data directory"), field="pool")
    try:
        model = state.models.get()
    except ModelUnavailable as exc:
        raise ApiError(503, "model_unavailable", f"no model loaded: {exc}",
                       headers={"Retry-After": "5"}) from None
    labelled = {row["normalized"] for row in state.labels.current()}
    normalized = normalize_many(headlines)
    open_rows = [i for i, text in enumerate(normalized) if text and text not in labelled]
    texts = [headlines[i] for i in open_rows]
    p = model.predict_proba(texts) if texts else np.zeros(0)
    chosen = most_useful([normalized[i] for i in open_rows], p, model.threshold, n)
    results = model.score([texts[i] for i in chosen], explain=True)
    return jsonify({"pool": name, "model": model.version, "threshold": model.threshold,
                    "open": len(texts), "labelled": len(labelled),
                    "items": [result.to_dict() for result in results]})


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


_ITEM = {"type": "object", "properties": {
    "headline": {"type": "string"}, "label": {"type": "string"},
    "p_clickbait": {"type": "number"}, "model": {"type": "string"},
    "explanation": {"type": "array", "items": {"type": "object", "properties": {
        "feature": {"type": "string"}, "weight": {"type": "number"}}}}}}

# Merged into /openapi.json by service.views.openapi.
OPENAPI_PATHS = {
    "/v1/pools": {"get": {
        "summary": "Pools of headlines the labelling queue can draw from",
        "operationId": "listPools", "security": [{"bearerAuth": []}],
        "responses": {"200": {"description": "Each pool: available, count", "content": {
            "application/json": {"schema": {"type": "object"}}}},
            "401": _ref("Unauthorized")}}},
    "/v1/pools/uploaded": {"post": {
        "summary": "Add headlines to the uploaded pool",
        "operationId": "uploadPool", "security": [{"bearerAuth": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["headlines"],
            "properties": {"headlines": {"type": "array", "minItems": 1,
                                         "items": {"$ref": "#/components/schemas/Headline"}}}}}}},
        "responses": {"201": {"description": "added, count", "content": {
            "application/json": {"schema": {"type": "object"}}}},
            "400": _ref("BadRequest"), "401": _ref("Unauthorized"),
            "413": _ref("TooLarge"), "422": _ref("Unprocessable")}}},
    "/v1/queue": {"get": {
        "summary": "The headlines most worth labelling next",
        "description": "Uncertainty sampling around the threshold with diversity; "
                       "labelled headlines are never offered again.",
        "operationId": "labellingQueue", "security": [{"bearerAuth": []}],
        "parameters": [
            {"name": "pool", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(POOLS), "default": "unlabeled"}},
            {"name": "n", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": QUEUE_MAX, "default": 20}}],
        "responses": {"200": {"description": "The queue", "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                "pool": {"type": "string"}, "model": {"type": "string"},
                "threshold": {"type": "number"}, "open": {"type": "integer"},
                "labelled": {"type": "integer"},
                "items": {"type": "array", "items": _ITEM}}}}}},
            "400": _ref("BadRequest"), "401": _ref("Unauthorized"),
            "409": {"description": "The pool is not available here", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": _ref("Unprocessable"), "503": _ref("Unavailable")}}},
}
