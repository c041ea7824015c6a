"""``POST /v1/filter``: the portal sidebar filter over HTTP.

The page is the request body, as ``text/html`` (bytes in the page's own
encoding; a ``charset`` parameter of the Content-Type wins over the page's
``<meta>``) or as JSON ``{"html": "..."}`` (text; the page is then UTF-8).
``?mode=report|mark|remove`` (default ``report``) and ``?threshold=`` (or
``"threshold"`` in the JSON body) choose what comes back:

* ``report``: JSON, each block with its heading and each link with href,
  text, label and p_clickbait (markup characters in text escaped);
* ``mark`` / ``remove``: the page, ``text/html`` in its own encoding, sent
  with ``Content-Security-Policy: sandbox`` so that it cannot run scripts
  on the service's origin if someone opens the answer in a browser.

The service never fetches a URL (a ``"url"`` field is refused: 422), and the
service's body-size limit (``max_body_bytes``, 413 above it) applies to the
page like to any request. Scoring needs a token exactly when ``/v1/score``
does (``score_requires_token``).
"""

from __future__ import annotations


from flask import Blueprint, Response, request

from service.active_model import ModelUnavailable
from service.views.auth import token_required
from service.views.errors import ApiError
from service.state import get_state
from service.views.validation import (invalid_value, json_body, optional_probability,
                                query_probability, wrong_type)
from sidebar import MODES, filter_page
from sidebar.document import PageTooDeep

bp = Blueprint("sidebar_filter", __name__)

_JSON_TYPES = ("application/json",)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@bp.post("/v1/filter")
@token_required(setting="score_requires_token")
def filter_view() -> Response:
    """Filter the page in the body; see the module docstring."""
    state = get_state()
    mode = _mode()
    raw, declared, threshold = _page()
    try:
        model = state.models.get()
    except ModelUnavailable as exc:
        raise ApiError(503, "model_unavailable", f"no model loaded: {exc}",
                       headers={"Retry-After": "5"}) from None
    try:
        result = filter_page(raw, model, mode=mode, threshold=threshold,
                             declared_encoding=declared)
    except PageTooDeep as exc:
        raise ApiError(422, "page_too_deep", str(exc)) from None
    state.metrics.scored.inc(result.report["summary"]["links"])
    response = Response(result.body, content_type=result.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mode != "report":
        response.headers["Content-Security-Policy"] = "sandbox"
        response.headers["X-Sieve-Blocks"] = str(result.report["summary"]["blocks"])
        response.headers["X-Sieve-Clickbait"] = str(result.report["summary"]["clickbait"])
    return response


def _mode() -> str:
    mode = request.args.get("mode", "report")
    if mode not in MODES:
        raise invalid_value("mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _page() -> tuple[bytes, str | None, float | None]:
    """``(page bytes, charset declared by the transport, threshold)`` from the request."""
    threshold = query_probability("threshold")
    if request.mimetype in _JSON_TYPES:
        body = json_body()
        if "url" in body:
            raise invalid_value("url", "is not accepted: the service never fetches pages; "
                                       "send the page itself as \"html\"")
        html = body.get("html")
        if not isinstance(html, str):
            raise wrong_type("html", "a string", html)
        body_threshold = optional_probability(body, "threshold")
        raw, declared = html.encode("utf-8", errors="replace"), "utf-8"
        threshold = body_threshold if body_threshold is not None else threshold
    elif request.mimetype in _HTML_TYPES:
        raw, declared = request.get_data(cache=False), request.mimetype_params.get("charset")
    else:
        raise ApiError(415, "unsupported_media_type",
                       f"send the page as text/html or as JSON {{\"html\": \"...\"}}, "
                       f"not {request.mimetype or 'a body without Content-Type'}")
    if not raw.strip():
        raise invalid_value("html", "is empty; send the page")
    return raw, declared, threshold


def _error(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


_REPORT_SCHEMA = {
    "type": "object",
    "required": ["mode", "model", "threshold", "encoding", "blocks", "summary"],
    "properties": {
        "mode": {"type": "string", "enum": list(MODES)},
        "model": {"type": "string", "description": "Model version that scored the links."},
        "threshold": {"type": "number"},
        "encoding": {"type": "string", "description": "Charset of the page, e.g. utf-8, gbk."},
        "blocks": {"type": "array", "items": {
            "type": "object", "required": ["heading", "marked", "links"],
            "properties": {
                "heading": {"type": ["string", "null"]},
                "marked": {"type": "boolean",
                           "description": "The page marked the block with data-sieve-block."},
                "links": {"type": "array", "items": {
                    "type": "object", "required": ["href", "text", "label", "p_clickbait"],
                    "properties": {
                        "href": {"type": "string", "description": "As written in the page."},
                        "text": {"type": "string"},
                        "label": {"type": "string", "enum": ["substantive", "clickbait"]},
                        "p_clickbait": {"type": "number", "minimum": 0, "maximum": 1}}}}}}},
        "summary": {"type": "object", "properties": {
            "blocks": {"type": "integer"}, "links": {"type": "integer"},
            "clickbait": {"type": "integer"}}},
    },
}

# A page with something besides ASCII whitespace (what _page() checks with bytes.strip()).
_NOT_BLANK = r"[^ \t\n\r\x0b\x0c]"

# Merged into /openapi.json by service.views.openapi (see service/app.py).
OPENAPI_PATHS = {
    "/v1/filter": {
        "post": {
            "summary": "Filter the link blocks of a portal page",
            "operationId": "filterPage",
            "description": (
                "Finds the page's link blocks (推荐阅读, 热门点击 ...; not navigation, "
                "breadcrumbs, footers or the article body; elements marked data-sieve-block "
                "always), scores every link text in one batch and reports, marks "
                "(data-sieve=\"clickbait\" and class sieve-clickbait on the item) or removes "
                "the bait items; a block left empty goes with its heading. The page keeps its "
                "encoding (UTF-8, GBK, GB18030) and every byte outside the changed items. "
                "The service never fetches a URL: send the page itself. The body-size limit "
                "(max_body_bytes, 2 MiB by default) applies: 413 above it. Needs a token only "
                "when score_requires_token is set."),
            "parameters": [
                {"name": "mode", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(MODES), "default": "report"}},
                {"name": "threshold", "in": "query", "required": False,
                 "schema": {"type": "number", "minimum": 0, "maximum": 1},
                 "description": "p_clickbait cut (default: the model's)."},
            ],
            "requestBody": {"required": True, "content": {
                "text/html": {"schema": {"pattern": _NOT_BLANK},  # bytes: no JSON type
                              "description": "The page's bytes; a charset parameter wins "
                                             "over the page's <meta>."},
                "application/json": {"schema": {
                    "type": "object", "required": ["html"],
                    "properties": {"html": {"type": "string", "pattern": _NOT_BLANK},
                                   # the service never fetches a page: 422
                                   "url": {"not": {}, "description": "refused"},
                                   "threshold": {"type": ["number", "null"], "minimum": 0,
                                                 "maximum": 1}}}},
            }},
            "responses": {
                "200": {"description": "report: the JSON report; mark/remove: the page, in "
                                       "its own encoding (sent with CSP sandbox)",
                        "content": {"application/json": {"schema": _REPORT_SCHEMA},
                                    "text/html": {"schema": {"type": "string"}}}},
                "400": _error("BadRequest"), "401": _error("Unauthorized"),
                "413": _error("TooLarge"),
                "415": {"description": "Neither text/html nor JSON",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}},
                "422": _error("Unprocessable"), "503": _error("Unavailable"),
            },
        },
    },
}
