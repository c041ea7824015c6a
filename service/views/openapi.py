"""``GET /openapi.json``: the OpenAPI 3.1 description of the service.

The document is ``service/openapi.json`` with the configured limits filled
in, plus the ``OPENAPI_PATHS`` of any blueprint module that defines them.
tests/test_service_openapi.py checks it against the app's URL rules.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from service.state import get_state
from service.views.validation import readable_pattern

DOCUMENT = Path(__file__).resolve().parents[1] / "openapi.json"
bp = Blueprint("openapi", __name__)


@functools.lru_cache(maxsize=1)
def _base_document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def build_document(settings, blueprint_modules) -> dict:
    """The OpenAPI document for an app with ``settings`` and these blueprint modules."""
    doc = copy.deepcopy(_base_document())
    schemas = doc["components"]["schemas"]
    schemas["ScoreRequest"]["properties"]["headlines"]["maxItems"] = settings.max_batch
    schemas["LabelsRequest"]["properties"]["labels"]["maxItems"] = settings.max_batch
    schemas["Headline"]["maxLength"] = settings.max_headline_chars
    schemas["Headline"]["pattern"] = readable_pattern()
    if not settings.score_requires_token:
        doc["paths"]["/v1/score"]["post"].pop("security", None)
    else:
        doc["paths"]["/v1/score"]["post"]["security"] = [{"bearerAuth": []}]
    if not settings.labels_read_requires_token:
        doc["paths"]["/v1/labels"]["get"].pop("security", None)
        doc["paths"]["/v1/labels/export"]["get"].pop("security", None)
    for module in blueprint_modules:
        doc["paths"].update(copy.deepcopy(getattr(module, "OPENAPI_PATHS", {})))
    uploaded = doc["paths"].get("/v1/pools/uploaded")
    if uploaded is not None:
        body = uploaded["post"]["requestBody"]["content"]["application/json"]["schema"]
        body["properties"]["headlines"]["maxItems"] = settings.max_batch
    return doc


@bp.get("/openapi.json")
def openapi_document():
    modules = current_app.extensions.get("headline_sieve_blueprint_modules", [])
    return jsonify(build_document(get_state().settings, modules))
