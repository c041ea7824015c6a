"""``GET /openapi.json``: the OpenAPI 3.1 description of the service, generated
from the views' declarations (:mod:`service.views.spec`) once per app."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from service.state import get_state
from service.views.spec import build_document, endpoint

bp = Blueprint("openapi", __name__)
_DOCUMENT = "headline_sieve_openapi"


@bp.get("/openapi.json")
@endpoint("This document", operation_id="openapi",
          responses={200: ("The OpenAPI 3.1 document", "application/json")})
def openapi_document():
    if _DOCUMENT not in current_app.extensions:
        current_app.extensions[_DOCUMENT] = build_document(current_app, get_state().settings)
    return jsonify(current_app.extensions[_DOCUMENT])
