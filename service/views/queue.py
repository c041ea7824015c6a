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
from flask import Blueprint, jsonify

from model.normalize import normalize_many
from service.schemas import PoolUpload, PoolUploaded, Pools, Queue, QueueQuery
from service.state import get_state
from service.stores.pools import POOLS, unlabeled_pool
from service.views.auth import token_required
from service.views.errors import ApiError
from service.views.spec import endpoint
from training.queue import most_useful

bp = Blueprint("queue", __name__)
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
@endpoint("Pools of headlines the labelling queue can draw from", operation_id="listPools",
          responses={200: Pools})
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
@endpoint("Add headlines to the uploaded pool", operation_id="uploadPool", body=PoolUpload,
          responses={201: PoolUploaded}, errors=(400, 413, 422, 503, 507))
def upload(body: PoolUpload):
    """Add headlines to the uploaded pool: ``{"headlines": [...]}``."""
    state = get_state()
    return jsonify({"added": state.pools.add("uploaded", body.headlines),
                    "count": state.pools.count("uploaded")}), 201


@bp.get("/v1/queue")
@token_required
@endpoint("The headlines most worth labelling next", operation_id="labellingQueue",
          query=QueueQuery, responses={200: Queue},
          errors={400: None, 409: "The pool is not available here", 422: None, 503: None},
          description="Uncertainty sampling around the threshold with diversity; labelled "
                      "headlines are never offered again.")
def queue(query: QueueQuery):
    """The ``n`` headlines of ``pool`` most worth labelling, with p_clickbait and
    the n-grams that weigh most in it."""
    state = get_state()
    name = query.pool
    headlines = _pool(state, name)
    if headlines is None:
        raise ApiError(409, "pool_unavailable", f"the {name} pool is not available here: "
                       + ("turn store_scored on to keep scored headlines" if name == "scored"
                          else "its files are not in the data directory"), field="pool")
    model = state.models.get()
    labelled = {row["normalized"] for row in state.labels.current()}
    normalized = normalize_many(headlines)
    open_rows = [i for i, text in enumerate(normalized) if text and text not in labelled]
    texts = [headlines[i] for i in open_rows]
    p = model.predict_proba(texts) if texts else np.zeros(0)
    chosen = most_useful([normalized[i] for i in open_rows], p, model.threshold, query.n)
    results = model.score([texts[i] for i in chosen], explain=True)
    return jsonify({"pool": name, "model": model.version, "threshold": model.threshold,
                    "open": len(texts), "labelled": len(labelled),
                    "items": [result.to_dict() for result in results]})

