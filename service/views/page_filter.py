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

from service.schemas import NOT_BLANK, FilterJsonRequest, FilterQuery, FilterReport
from service.state import get_state
from service.views.auth import token_required
from service.views.errors import ApiError
from service.views.spec import endpoint
from service.views.validation import invalid_value, json_body, request_body, validated
from sidebar import filter_page
from sidebar.document import PageTooDeep

bp = Blueprint("sidebar_filter", __name__)

_JSON_TYPES = ("application/json",)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@bp.post("/v1/filter")
@token_required(setting="score_requires_token")
@endpoint(
    "Filter the link blocks of a portal page", operation_id="filterPage", query=FilterQuery,
    content={"text/html": {"pattern": NOT_BLANK},  # the page's bytes: no JSON type
             "application/json": FilterJsonRequest},
    responses={200: ("report: the JSON report; mark/remove: the page, in its own encoding "
                     "(sent with CSP sandbox)", {"application/json": FilterReport,
                                                 "text/html": None})},
    errors={400: None, 413: None, 415: "Neither text/html nor JSON", 422: None, 503: None},
    description=(
        "Finds the page's link blocks (推荐阅读, 热门点击 ...; not navigation, breadcrumbs, "
        "footers or the article body; elements marked data-sieve-block always), scores every "
        "link text in one batch and reports, marks (data-sieve=\"clickbait\" and class "
        "sieve-clickbait on the item) or removes the bait items; a block left empty goes "
        "with its heading. The page keeps its encoding (UTF-8, GBK, GB18030) and every byte "
        "outside the changed items. The service never fetches a URL: send the page itself. "
        "The body-size limit (max_body_bytes, 2 MiB by default) applies: 413 above it. "
        "Needs a token only when score_requires_token is set."))
def filter_view(query: FilterQuery) -> Response:
    """Filter the page in the body; see the module docstring."""
    state = get_state()
    mode = query.mode
    raw, declared, threshold = _page(query.threshold)
    model = state.models.get()
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


def _page(threshold: float | None) -> tuple[bytes, str | None, float | None]:
    """``(page bytes, charset declared by the transport, threshold)`` from the request
    (``threshold``: the query's; the JSON body's wins)."""
    if request.mimetype in _JSON_TYPES:
        body = validated(FilterJsonRequest, json_body())
        raw, declared = body.html.encode("utf-8", errors="replace"), "utf-8"
        threshold = body.threshold if body.threshold is not None else threshold
    elif request.mimetype in _HTML_TYPES:
        raw, declared = request_body(), request.mimetype_params.get("charset")
    else:
        raise ApiError(415, "unsupported_media_type",
                       f"send the page as text/html or as JSON {{\"html\": \"...\"}}, "
                       f"not {request.mimetype or 'a body without Content-Type'}")
    if not raw.strip():
        raise invalid_value("html", "is empty; send the page")
    return raw, declared, threshold

