"""``/v1/labels``: take corrections, page through them, export them."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from model.normalize import normalize_many
from service.views.auth import token_required
from service.stores.labels import LABEL_VALUES, NewLabel
from service.state import get_state
from service.views.validation import (headline_text, invalid_value, item_list, json_body,
                                optional_string, query_bool, query_int, wrong_type)

bp = Blueprint("labels", __name__)

MAX_SOURCE_CHARS = 200
MAX_CLIENT_ID_CHARS = 64
PAGE_LIMIT_MAX = 1000


def _parse_labels(body: dict, max_batch: int, max_chars: int
                  ) -> list[tuple[str, str, str | None, str | None]]:
    if "labels" not in body:
        raise wrong_type("labels", "an array of {headline, label, source?} objects", None)
    parsed = []
    for i, item in enumerate(item_list("labels", body["labels"], max_batch)):
        field = f"labels[{i}]"
        if not isinstance(item, dict):
            raise wrong_type(field, "an object", item)
        headline = headline_text(f"{field}.headline", item.get("headline"), max_chars)
        label = item.get("label")
        if not isinstance(label, str):
            raise wrong_type(f"{field}.label", '"clickbait" or "substantive"', label)
        if label not in LABEL_VALUES:
            raise invalid_value(f"{field}.label", f'must be "clickbait" or "substantive", '
                                                  f"not {label!r}")
        source = optional_string(item, "source", MAX_SOURCE_CHARS)
        client_id = optional_string(item, "client_id", MAX_CLIENT_ID_CHARS)
        parsed.append((headline, label, source, client_id))
    return parsed


@bp.post("/v1/labels")
@token_required
def add_labels():
    """Store labels durably (committed and fsynced) before answering 201. A
    ``client_id`` seen before stores nothing new (a resent batch)."""
    state = get_state()
    parsed = _parse_labels(json_body(), state.settings.max_batch,
                           state.settings.max_headline_chars)
    normalized = normalize_many([headline for headline, _, _, _ in parsed])
    for i, text in enumerate(normalized):
        if not text:
            raise invalid_value(f"labels[{i}].headline", "is empty once normalised")
    items = [NewLabel(headline, norm, label, source, client_id)
             for (headline, label, source, client_id), norm in zip(parsed, normalized)]
    ids = state.labels.add(items, token=g.token_name)
    state.metrics.labels_received.inc(len(ids))
    return jsonify({"stored": len(ids), "ids": ids}), 201


@bp.get("/v1/labels")
@token_required(setting="labels_read_requires_token")
def list_labels():
    """Labels with ``id > since``, oldest first; ``next`` is the ``since`` of the next page."""
    since = query_int("since", 0, 0)
    limit = query_int("limit", 100, 1, PAGE_LIMIT_MAX)
    rows = get_state().labels.page(since, limit)
    return jsonify({"labels": rows, "next": rows[-1]["id"] if len(rows) == limit else None})


@bp.get("/v1/labels/export")
@token_required(setting="labels_read_requires_token")
def export_labels():
    """Every label as JSON lines (``current=true``: only the newest per headline)."""
    current_only = query_bool("current")
    store = get_state().labels

    def lines():
        for row in store.iter_all(current_only=current_only):
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="labels.jsonl"'})
