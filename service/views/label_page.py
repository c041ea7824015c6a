"""``GET /label``: the editors' labelling page (service/static/label.*).

Everything it needs is served from here (no external assets); it talks to
the API with the bearer token the editor types in, kept in the tab's
sessionStorage, never in a URL. The page may only load this origin's
scripts and styles and cannot be framed.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from service.views.spec import endpoint

bp = Blueprint("label_page", __name__)

_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
           "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@bp.get("/label")
@endpoint("The editors' labelling page (HTML)", operation_id="labelPage",
          responses={200: ("The page", "text/html")})
def label_page() -> Response:
    response = current_app.send_static_file("label.html")
    response.headers["Content-Security-Policy"] = _POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response

