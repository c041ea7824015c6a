"""``/v1/labels``: take corrections, page through them, export them."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, jsonify, stream_with_context

from model.normalize import normalize_many
from service.schemas import ExportQuery, LabelsPage, LabelsQuery, LabelsRequest, LabelsStored
from service.state import get_state
from service.stores.labels import NewLabel
from service.views.auth import token_required
from service.views.spec import endpoint
from service.views.validation import invalid_value

bp = Blueprint("labels", __name__)


@bp.post("/v1/labels")
@token_required
@endpoint("Store labels (corrections)", operation_id="addLabels", body=LabelsRequest,
          responses={201: LabelsStored}, errors=(400, 413, 422, 503, 507),
          description="Stored durably (committed and fsynced) before the 201; all or none "
                      "of a batch. A client_id seen before stores nothing new.")
def add_labels(body: LabelsRequest):
    """Store labels durably (committed and fsynced) before answering 201. A
    ``client_id`` seen before stores nothing new (a resent batch)."""
    state = get_state()
    normalized = normalize_many([item.headline for item in body.labels])
    for i, text in enumerate(normalized):
        if not text:
            raise invalid_value(f"labels[{i}].headline", "is empty once normalised")
    items = [NewLabel(item.headline, norm, item.label, item.source, item.client_id)
             for item, norm in zip(body.labels, normalized)]
    ids = state.labels.add(items, token=g.token_name)
    state.metrics.labels_received.inc(len(ids))
    return jsonify({"stored": len(ids), "ids": ids}), 201


@bp.get("/v1/labels")
@token_required(setting="labels_read_requires_token")
@endpoint("Labels, oldest first, one page", operation_id="listLabels", query=LabelsQuery,
          responses={200: LabelsPage}, errors=(400, 422, 503))
def list_labels(query: LabelsQuery):
    """Labels with ``id > since``, oldest first; ``next`` is the ``since`` of the next page."""
    rows = get_state().labels.page(query.since, query.limit)
    return jsonify({"labels": rows,
                    "next": rows[-1]["id"] if len(rows) == query.limit else None})


@bp.get("/v1/labels/export")
@token_required(setting="labels_read_requires_token")
@endpoint("Every label as JSON lines", operation_id="exportLabels", query=ExportQuery,
          responses={200: ("One label per line (fields of LabelsPage.labels)",
                           "application/x-ndjson")}, errors=(400, 503))
def export_labels(query: ExportQuery):
    """Every label as JSON lines (``current=true``: only the newest per headline)."""
    store = get_state().labels

    def lines():
        for row in store.iter_all(current_only=query.current):
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="labels.jsonl"'})
